import { Annotations, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AppArtifactBucket } from './app-artifacts';
import { KafkaClientAuthentication } from '../kafka/kafka-cluster';
import type { DataflowPlatform } from '../platform';
import { fargateSizeProblem } from '../private/fargate';
import { DATAFLOW, SCDF_DEFAULT_VERSION, SKIPPER, SKIPPER_STREAM_APP_PORTS } from '../private/scdf';
import { kafkaClientSettings } from '../private/wiring';
import type { PlatformService } from '../service/platform-service';

/**
 * Sizing and settings of one Spring Cloud Data Flow server.
 */
export interface ScdfServerOptions {
  /**
   * CPU units of the task.
   *
   * @default - 1024 for dataflow, 2048 for skipper
   */
  readonly cpu?: number;

  /**
   * Memory of the task in MiB.
   *
   * @default - 2048 for dataflow, 8192 for skipper (its stream apps run inside its task)
   */
  readonly memoryLimitMiB?: number;

  /**
   * The server's JVM heap in MiB, set through JAVA_TOOL_OPTIONS (which overrides the heap the
   * image's memory calculator would derive).
   *
   * @default - 75 % of the memory for dataflow; 1536 for skipper
   */
  readonly heapMiB?: number;

  /**
   * How many tasks run.
   *
   * @default - 1, or 2 on a production platform
   */
  readonly desiredCount?: number;

  /**
   * Extra environment variables (Spring properties in their environment form).
   *
   * @default - none
   */
  readonly environment?: { [key: string]: string };

  /**
   * An image to run instead of the public one through the platform's image source.
   *
   * @default - the public image of `version`, through the platform's image source
   */
  readonly image?: ecs.ContainerImage;
}

/**
 * Options of the skipper server.
 */
export interface SkipperServerOptions extends ScdfServerOptions {
  /**
   * The JVM heap of each stream app that skipper's local deployer starts inside its task, in MiB.
   *
   * @default 512
   */
  readonly streamAppHeapMiB?: number;
}

/**
 * What a user chooses about the platform's Spring Cloud Data Flow.
 */
export interface SpringCloudDataFlowOptions {
  /**
   * Whether the platform runs Spring Cloud Data Flow. Turn it off for a platform of your own services only.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The version of the dataflow and skipper server images.
   *
   * @default '2.11.5'
   */
  readonly version?: string;

  /**
   * The dataflow server.
   *
   * @default - 1 vCPU, 2 GiB
   */
  readonly dataflowServer?: ScdfServerOptions;

  /**
   * The skipper server.
   *
   * @default - 2 vCPU, 8 GiB
   */
  readonly skipperServer?: SkipperServerOptions;

  /**
   * Whether to create the app-artifact bucket that stream apps are registered from
   * (reachable only through the VPC's S3 gateway endpoint).
   *
   * @default true
   */
  readonly appArtifacts?: boolean;
}

/**
 * Properties of a `SpringCloudDataFlow`.
 */
export interface SpringCloudDataFlowProps extends SpringCloudDataFlowOptions {
  /** The platform to run on; it needs its database and Kafka cluster. */
  readonly platform: DataflowPlatform;
}

/**
 * Spring Cloud Data Flow on a `DataflowPlatform`: the dataflow and skipper servers as platform
 * services, wired to the platform's database and Kafka cluster and to each other.
 *
 * - dataflow (9393, health `/management/health`, route `/dataflow/{proxy+}`) finds skipper through
 *   Service Connect (`SPRING_CLOUD_SKIPPER_CLIENT_SERVER_URI=http://skipper:7577/api`);
 * - skipper (7577, health `/actuator/health`, route `/skipper/{proxy+}`) runs stream apps as
 *   processes in its own task (ports 20000–20190), so it is sized for them;
 * - both share the database (datasource URL with TLS, credentials as ECS secrets) and hand every
 *   stream app the Kafka binder brokers and TLS setting;
 * - both honour the `X-Forwarded-*` headers the gateway sends, so links in their REST answers
 *   point back through the API stage and path.
 */
export class SpringCloudDataFlow extends Construct {
  /** The dataflow server. */
  public readonly dataflowServer: PlatformService;

  /** The skipper server. */
  public readonly skipperServer: PlatformService;

  /** The version of the servers. */
  public readonly version: string;

  /** The bucket stream apps are registered from, unless `appArtifacts` is false. */
  public readonly appArtifacts?: AppArtifactBucket;

  constructor(scope: Construct, id: string, props: SpringCloudDataFlowProps) {
    super(scope, id);
    const platform = props.platform;
    this.version = props.version ?? SCDF_DEFAULT_VERSION;
    if (!Token.isUnresolved(this.version) && !/^\d+\.\d+\.\d+([.-][A-Za-z0-9.-]+)?$/.test(this.version)) {
      throw new Error(`SpringCloudDataFlow: version "${this.version}" is not an image version such as "${SCDF_DEFAULT_VERSION}"`);
    }
    const database = platform.database;
    const kafka = platform.kafka;
    if (!database || !kafka) {
      throw new Error(`SpringCloudDataFlow: the servers need the platform's database and Kafka cluster, but ${!database ? 'database' : 'kafka'}.enabled is false; enable it, or set springCloudDataFlow: { enabled: false }`);
    }

    const skipperOptions = props.skipperServer ?? {};
    const dataflowOptions = props.dataflowServer ?? {};
    const skipperSize = serverSize('skipperServer', skipperOptions, 2048, 8192, () => 1536);
    const dataflowSize = serverSize('dataflowServer', dataflowOptions, 1024, 2048, memory => Math.floor(memory * 0.75));
    const streamAppHeap = skipperOptions.streamAppHeapMiB ?? 512;
    if (skipperSize.memoryLimitMiB - skipperSize.heapMiB < streamAppHeap + 256) {
      throw new Error(`SpringCloudDataFlow: skipperServer leaves ${skipperSize.memoryLimitMiB - skipperSize.heapMiB} MiB beside its ${skipperSize.heapMiB} MiB heap, too little for one stream app of ${streamAppHeap} MiB heap; raise memoryLimitMiB or lower heapMiB/streamAppHeapMiB`);
    }
    if (kafka.clientAuthentication === KafkaClientAuthentication.IAM && (!skipperOptions.image || !dataflowOptions.image)) {
      Annotations.of(this).addWarningV2('cdk-dataflow-platform:scdfKafkaIam',
        'The Kafka cluster uses IAM authentication, but the stock SCDF images and stream apps do not carry the MSK IAM auth library; use images and apps that do, or KafkaClientAuthentication.TLS');
    }

    // What every stream app gets from the servers: the binder brokers and the TLS (or IAM) settings.
    const streamAppProperties = {
      ...kafkaClientSettings(kafka,
        'SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS',
        'SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_'),
      ...kafkaClientSettings(kafka,
        'SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_STREAMS_BINDER_BROKERS',
        'SPRING_CLOUD_DATAFLOW_APPLICATIONPROPERTIES_STREAM_SPRING_CLOUD_STREAM_KAFKA_STREAMS_BINDER_CONFIGURATION_'),
    };
    const common = {
      // Links in REST answers are built from the X-Forwarded-* headers the gateway sends.
      SERVER_FORWARD_HEADERS_STRATEGY: 'framework',
      ...streamAppProperties,
    };

    this.skipperServer = platform.addService(SKIPPER.name, {
      image: this.image(platform, SKIPPER.image, skipperOptions.image),
      port: SKIPPER.port,
      healthCheckPath: SKIPPER.health,
      cpu: skipperSize.cpu,
      memoryLimitMiB: skipperSize.memoryLimitMiB,
      desiredCount: skipperOptions.desiredCount,
      useDatabase: true,
      useKafka: true,
      environment: {
        ...common,
        JAVA_TOOL_OPTIONS: javaToolOptions(skipperSize.heapMiB),
        SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_PORTRANGE_LOW: `${SKIPPER_STREAM_APP_PORTS.low}`,
        SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_PORTRANGE_HIGH: `${SKIPPER_STREAM_APP_PORTS.high}`,
        SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_JAVAOPTS: `-Xmx${streamAppHeap}m`,
        ...skipperOptions.environment,
      },
    });
    this.dataflowServer = platform.addService(DATAFLOW.name, {
      image: this.image(platform, DATAFLOW.image, dataflowOptions.image),
      port: DATAFLOW.port,
      healthCheckPath: DATAFLOW.health,
      cpu: dataflowSize.cpu,
      memoryLimitMiB: dataflowSize.memoryLimitMiB,
      desiredCount: dataflowOptions.desiredCount,
      useDatabase: true,
      useKafka: true,
      connectsTo: [SKIPPER.name],
      environment: {
        ...common,
        JAVA_TOOL_OPTIONS: javaToolOptions(dataflowSize.heapMiB),
        SPRING_CLOUD_SKIPPER_CLIENT_SERVER_URI: `${this.skipperServer.endpoint}/api`,
        ...dataflowOptions.environment,
      },
    });

    if (props.appArtifacts ?? true) {
      const endpoint = platform.network.s3Endpoint;
      if (!endpoint) {
        throw new Error('SpringCloudDataFlow: the app-artifact bucket is reachable only through the VPC\'s S3 gateway endpoint, but the network creates no endpoints (createEndpoints: false); set appArtifacts: false, or let the platform create the endpoints');
      }
      this.appArtifacts = new AppArtifactBucket(this, 'AppArtifacts', {
        endpoint,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
  }

  private image(platform: DataflowPlatform, repository: string, override?: ecs.ContainerImage): ecs.ContainerImage {
    return override ?? platform.publicImage(`${repository}:${this.version}`);
  }
}

interface ServerSize { readonly cpu: number; readonly memoryLimitMiB: number; readonly heapMiB: number }

function serverSize(prop: string, options: ScdfServerOptions, cpu: number, memory: number, heap: (memory: number) => number): ServerSize {
  const size = {
    cpu: options.cpu ?? cpu,
    memoryLimitMiB: options.memoryLimitMiB ?? memory,
  };
  const heapMiB = options.heapMiB ?? heap(size.memoryLimitMiB);
  const problem = fargateSizeProblem(size.cpu, size.memoryLimitMiB);
  if (problem) {
    throw new Error(`SpringCloudDataFlow: ${prop}: ${problem}`);
  }
  if (!(Number.isInteger(heapMiB) && heapMiB >= 256 && heapMiB <= size.memoryLimitMiB - 256)) {
    throw new Error(`SpringCloudDataFlow: ${prop}.heapMiB ${heapMiB} must be a whole number from 256 to ${size.memoryLimitMiB - 256} (the task's ${size.memoryLimitMiB} MiB less 256 for the JVM's other memory)`);
  }
  return { ...size, heapMiB };
}

function javaToolOptions(heapMiB: number): string {
  return `-Xms${heapMiB}m -Xmx${heapMiB}m -XX:+ExitOnOutOfMemoryError`;
}
