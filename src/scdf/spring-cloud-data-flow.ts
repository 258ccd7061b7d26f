import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AppArtifactBucket } from './app-artifacts';
import { KafkaClientAuthentication } from '../kafka/kafka-cluster';
import type { IDataflowPlatform } from '../platform-api';
import { fargateSizeProblem } from '../private/fargate';
import { JVM_NON_HEAP_MIB, jvmBudgetProblem, largestHeapMiB, STREAM_APP_NON_HEAP_MIB } from '../private/jvm';
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
   * @default - dataflow 512 (1024 on a production platform); skipper 1024 (2048 on a production platform)
   */
  readonly cpu?: number;

  /**
   * Memory of the task in MiB.
   *
   * @default - 2048 for dataflow; 4096 for skipper, 8192 on a production platform (its stream apps run inside its task)
   */
  readonly memoryLimitMiB?: number;

  /**
   * The server's JVM heap in MiB, set through JAVA_TOOL_OPTIONS (which overrides the heap the
   * image's memory calculator would derive). The image's memory calculator adds about 700 MiB to it
   * (direct memory, code cache, 250 thread stacks, metaspace) and refuses to start the JVM when the
   * sum exceeds the task's memory: heap + 700 MiB must fit in 90 % of `memoryLimitMiB` (for
   * skipper, beside one stream app), or synthesis fails.
   *
   * @default - the largest heap that fits for dataflow (1088 MiB of 2048); 1024 for skipper (1536 on a production platform)
   */
  readonly heapMiB?: number;

  /**
   * How many tasks run: 1, or 0 to stop the server. The servers are singletons: skipper's local
   * deployer runs stream apps as processes inside its own task, and the dataflow server launches
   * tasks inside its own, so a second task would not see them (streams would flip to "unknown" and
   * undeploys would miss); more than 1 is an error. They never autoscale, and a deployment stops
   * the old task before it starts the new one, on a production platform too.
   *
   * @default 1
   */
  readonly desiredCount?: number;

  /**
   * How long after a task starts its load balancer health checks are ignored. The first start runs
   * the database migrations, and the JVM starts slowly on a small task.
   *
   * @default Duration.minutes(10)
   */
  readonly healthCheckGracePeriod?: Duration;

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

  /**
   * Whether skipper gets an API route (`/skipper/{proxy+}`). Skipper has no login of its own and
   * only the dataflow server calls it (through Service Connect), so it has none by default.
   *
   * @default false
   */
  readonly apiRoute?: boolean;

  /**
   * How long skipper may take to answer one request from the dataflow server (a stream deploy
   * resolves the stream apps' artifacts first), as the Service Connect proxy enforces it.
   *
   * @default Duration.minutes(10)
   */
  readonly requestTimeout?: Duration;
}

/**
 * What a user chooses about the platform's Spring Cloud Data Flow.
 */
export interface SpringCloudDataFlowOptions {
  /**
   * The version of the dataflow and skipper server images.
   *
   * @default '2.11.5'
   */
  readonly version?: string;

  /**
   * The dataflow server.
   *
   * @default - 0.5 vCPU (1 on a production platform), 2 GiB, heap 1088 MiB, one task
   */
  readonly dataflowServer?: ScdfServerOptions;

  /**
   * The skipper server.
   *
   * @default - 1 vCPU, 4 GiB, heap 1024 MiB (2 vCPU, 8 GiB, heap 1536 MiB on a production
   * platform), stream apps of 512 MiB heap, one task, no API route
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
  readonly platform: IDataflowPlatform;
}

/**
 * Spring Cloud Data Flow on a `DataflowPlatform`: the dataflow and skipper servers as platform
 * services, wired to the platform's database and Kafka cluster and to each other.
 *
 * - dataflow (9393, health `/management/health`, route `/dataflow/{proxy+}`) finds skipper through
 *   Service Connect (`SPRING_CLOUD_SKIPPER_CLIENT_SERVER_URI=http://skipper:7577/api`);
 * - skipper (7577, health `/actuator/health`, no API route) runs stream apps as processes in its
 *   own task (ports 20000–20190, their output in skipper's log), so it is sized for them;
 * - both are singletons: one task each, no autoscaling, the old task stopped before the new one
 *   starts, and a JVM sized so that the image's memory calculator lets it start;
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
    const streamAppHeap = skipperOptions.streamAppHeapMiB ?? 512;
    if (!Token.isUnresolved(streamAppHeap) && !(Number.isInteger(streamAppHeap) && streamAppHeap >= 64)) {
      throw new Error(`SpringCloudDataFlow: skipperServer.streamAppHeapMiB ${streamAppHeap} must be a whole number of 64 or more`);
    }
    // Skipper's own JVM and at least one stream app beside it.
    const oneStreamApp = streamAppHeap + STREAM_APP_NON_HEAP_MIB;
    // Development: room for a first stream of two apps beside skipper; production: about six.
    const skipperSize = serverSize('skipperServer', skipperOptions, platform.production
      ? { cpu: 2048, memoryLimitMiB: 8192, heapMiB: () => 1536 }
      : { cpu: 1024, memoryLimitMiB: 4096, heapMiB: () => 1024 }, oneStreamApp);
    // The dataflow server is mostly idle (it forwards stream work to skipper): half a vCPU in
    // development starts it within the grace period; production gives it a whole one.
    const dataflowSize = serverSize('dataflowServer', dataflowOptions, { cpu: platform.production ? 1024 : 512, memoryLimitMiB: 2048, heapMiB: largestHeapMiB }, 0);
    validateSingleton('skipperServer', skipperOptions);
    validateSingleton('dataflowServer', dataflowOptions);
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
    const singleton = {
      desiredCount: 1,
      autoScaling: false,
      // Stop the old task before the new one starts: never two servers at once.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      // With no overlap every deployment has a moment without a healthy task: alarms would roll
      // back every release. The circuit breaker still rolls back a server that fails to start.
      rollbackOnAlarm: false,
      dashboardSection: 'Spring Cloud Data Flow',
      useDatabase: true,
      useKafka: true,
    };

    this.skipperServer = platform.addService(SKIPPER.name, {
      image: this.image(platform, SKIPPER.image, skipperOptions.image),
      port: SKIPPER.port,
      healthCheckPath: SKIPPER.health,
      cpu: skipperSize.cpu,
      memoryLimitMiB: skipperSize.memoryLimitMiB,
      ...singleton,
      desiredCount: skipperOptions.desiredCount ?? 1,
      healthCheckGracePeriod: skipperOptions.healthCheckGracePeriod ?? SERVER_START_GRACE,
      apiRoute: skipperOptions.apiRoute ?? false,
      // The dataflow server's calls wait for skipper's answer; a stream deploy first resolves the
      // apps' artifacts. Service Connect's proxy otherwise ends a request after 15 s.
      serviceConnectPerRequestTimeout: skipperOptions.requestTimeout ?? Duration.minutes(10),
      serviceConnectIdleTimeout: maxDuration(skipperOptions.requestTimeout ?? Duration.minutes(10), Duration.minutes(15)),
      environment: {
        ...common,
        JAVA_TOOL_OPTIONS: javaToolOptions(skipperSize.heapMiB),
        // Stream apps write to skipper's output, so their logs reach CloudWatch with skipper's. The
        // form of the SCDF repository's own compose file (spring-cloud-dataflow v2.11.5,
        // spring-cloud-dataflow-server/src/test/resources/docker-compose-inherit-logging-stream.yml;
        // bound by LocalPlatformProperties, prefix spring.cloud.skipper.server.platform.local); the
        // per-deployment property spring.cloud.deployer.local.inheritLogging on the server would not apply.
        SPRING_CLOUD_SKIPPER_SERVER_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_INHERIT_LOGGING: 'true',
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
      ...singleton,
      desiredCount: dataflowOptions.desiredCount ?? 1,
      healthCheckGracePeriod: dataflowOptions.healthCheckGracePeriod ?? SERVER_START_GRACE,
      connectsTo: [SKIPPER.name],
      environment: {
        ...common,
        JAVA_TOOL_OPTIONS: javaToolOptions(dataflowSize.heapMiB),
        SPRING_CLOUD_SKIPPER_CLIENT_SERVER_URI: `${this.skipperServer.endpoint}/api`,
        // Tasks launched by the dataflow server's local deployer log to its output, like stream
        // apps in skipper (the same compose file sets the task platform's twin).
        SPRING_CLOUD_DATAFLOW_TASK_PLATFORM_LOCAL_ACCOUNTS_DEFAULT_INHERIT_LOGGING: 'true',
        ...dataflowOptions.environment,
      },
    });

    if (props.appArtifacts ?? true) {
      const endpoint = platform.network.s3Endpoint;
      if (!endpoint) {
        throw new Error('SpringCloudDataFlow: the app-artifact bucket is reachable only through the VPC\'s S3 gateway endpoint, but the network creates no endpoints (createEndpoints: false) and knows no existing one; give its id as s3GatewayEndpointId, set appArtifacts: false, or let the platform create the endpoints');
      }
      // Development stacks leave nothing behind; production keeps the uploaded apps.
      this.appArtifacts = new AppArtifactBucket(this, 'AppArtifacts', {
        endpoint,
        removalPolicy: platform.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        autoDeleteObjects: !platform.production,
        logEncryptionKey: platform.logEncryptionKey,
        logRetention: platform.logRetention,
      });
    }
  }

  private image(platform: IDataflowPlatform, repository: string, override?: ecs.ContainerImage): ecs.ContainerImage {
    return override ?? platform.publicImage(`${repository}:${this.version}`);
  }
}

/** The first start of a server runs the database migrations; a small task starts its JVM slowly. */
const SERVER_START_GRACE = Duration.minutes(10);

interface ServerSize { readonly cpu: number; readonly memoryLimitMiB: number; readonly heapMiB: number }

interface ServerDefaults {
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  /** The default heap for the task's memory. */
  readonly heapMiB: (memoryLimitMiB: number, reservedMiB: number) => number;
}

/**
 * The size of a server's task and heap, checked against Fargate's sizes and the memory budget of
 * the image's JVM memory calculator (see `jvmBudgetProblem`), with `reservedMiB` kept for other
 * processes in the task (skipper's stream apps). Skips what is a token.
 */
function serverSize(prop: string, options: ScdfServerOptions, defaults: ServerDefaults, reservedMiB: number): ServerSize {
  const cpu = options.cpu ?? defaults.cpu;
  const memoryLimitMiB = options.memoryLimitMiB ?? defaults.memoryLimitMiB;
  const known = !Token.isUnresolved(cpu) && !Token.isUnresolved(memoryLimitMiB);
  const problem = known ? fargateSizeProblem(cpu, memoryLimitMiB) : undefined;
  if (problem) {
    throw new Error(`SpringCloudDataFlow: ${prop}: ${problem}`);
  }
  if (options.heapMiB === undefined && Token.isUnresolved(memoryLimitMiB)) {
    throw new Error(`SpringCloudDataFlow: ${prop}.memoryLimitMiB is a token, so no heap can be derived from it; set ${prop}.heapMiB too`);
  }
  const heapMiB = options.heapMiB ?? defaults.heapMiB(memoryLimitMiB, reservedMiB);
  if (options.heapMiB === undefined && heapMiB < 256) {
    throw new Error(`SpringCloudDataFlow: ${prop}.memoryLimitMiB ${memoryLimitMiB} leaves room for a heap of ${Math.max(heapMiB, 0)} MiB only, beside the JVM's other memory (about ${JVM_NON_HEAP_MIB} MiB)${reservedMiB ? ` and one stream app (${reservedMiB} MiB)` : ''} with 10 % headroom; give the server at least ${minimumMemoryMiB(reservedMiB)} MiB`);
  }
  if (!Token.isUnresolved(heapMiB) && !(Number.isInteger(heapMiB) && heapMiB >= 256)) {
    throw new Error(`SpringCloudDataFlow: ${prop}.heapMiB ${heapMiB} must be a whole number of 256 or more`);
  }
  const budget = jvmBudgetProblem(heapMiB, memoryLimitMiB, reservedMiB);
  if (budget) {
    throw new Error(`SpringCloudDataFlow: ${prop} cannot start: ${budget}. Raise ${prop}.memoryLimitMiB (and cpu) or lower ${prop}.heapMiB${reservedMiB ? ' or skipperServer.streamAppHeapMiB' : ''}`);
  }
  return { cpu, memoryLimitMiB, heapMiB };
}

/** The smallest task memory, in whole GiB, that holds a 256 MiB heap and `reservedMiB`. */
function minimumMemoryMiB(reservedMiB: number): number {
  let memory = 1024;
  while (largestHeapMiB(memory, reservedMiB) < 256) {
    memory += 1024;
  }
  return memory;
}

/** The servers run one task (or none): see `ScdfServerOptions.desiredCount`. */
function validateSingleton(prop: string, options: ScdfServerOptions): void {
  const count = options.desiredCount;
  if (count !== undefined && !Token.isUnresolved(count) && count !== 0 && count !== 1) {
    throw new Error(`SpringCloudDataFlow: ${prop}.desiredCount ${count}: the server is a singleton (skipper runs stream apps inside its own task, the dataflow server launches tasks inside its own), so a second task would not see them; use 1 (or 0 to stop it), and scale with larger tasks`);
  }
}

function maxDuration(a: Duration, b: Duration): Duration {
  return a.toMilliseconds() >= b.toMilliseconds() ? a : b;
}

function javaToolOptions(heapMiB: number): string {
  return `-Xms${heapMiB}m -Xmx${heapMiB}m -XX:+ExitOnOutOfMemoryError`;
}
