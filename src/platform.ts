import { CfnOutput, CfnResource, Names, NestedStack, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct, IConstruct, IDependable } from 'constructs';
import { DatabaseUser } from './database/database-user';
import { PostgresDatabase, PostgresDatabaseOptions } from './database/postgres-database';
import { ApiAuthorization } from './gateway/api-authorization';
import { PrivateGateway } from './gateway/private-gateway';
import { KafkaClientAuthentication, KafkaCluster, KafkaClusterOptions } from './kafka/kafka-cluster';
import { MonitoringOptions, PlatformMonitoring } from './monitoring/platform-monitoring';
import { PrivateNetwork } from './network/private-network';
import { ImageResolver, publicRegistryImageName } from './private/images';
import { createLogEncryptionKey } from './private/kms';
import { acknowledge, acknowledgeControl, acknowledgeExecutionRolePolicy, NAG_PACKS } from './private/nag';
import { apiPathsOverlap, normalizeApiPath, pascalCase, serviceNameProblem } from './private/names';
import { QUOTAS } from './private/quotas';
import { EndpointNeed, newRegionCondition, regionalEcsEndpointsNeed } from './private/regions';
import { KAFKA_CONSOLE, SKIPPER_STREAM_APP_PORTS } from './private/scdf';
import { tagWhereEveryRegionTakesTags } from './private/tags';
import { ContainerSettings, databaseSettings, kafkaSettings } from './private/wiring';
import { ImageSource } from './scdf/image-source';
import { KafkaConsoleOptions } from './scdf/kafka-console';
import { SpringCloudDataFlow, SpringCloudDataFlowOptions } from './scdf/spring-cloud-data-flow';
import { PlatformService, PlatformServiceOptions } from './service/platform-service';
import { Stream, StreamOptions } from './streams/stream';

/**
 * Properties of a `DataflowPlatform`.
 */
export interface DataflowPlatformProps {
  /**
   * The environment this platform serves, e.g. 'dev' or 'prod'. Used in tags and descriptions,
   * never as a physical name: two platforms with the same environment name do not collide.
   *
   * The tag `cdk-dataflow-platform:environment` goes on every resource whose CloudFormation schema
   * takes `Tags` in every region: not on NLB listeners, scalable targets and the dashboard (their
   * schemas lack `Tags` in some or all regions, and CloudFormation would reject the property there).
   *
   * @default 'dev'
   */
  readonly environmentName?: string;

  /**
   * Whether this is a production platform. Turns on what production needs: 3 AZs where the region
   * has them, logs kept a year and retained (with their key) when the stack goes, at least 2 tasks
   * per service, load balancer deletion protection. Each of these stays overridable.
   *
   * @default false
   */
  readonly production?: boolean;

  /**
   * Whether the cluster publishes CloudWatch Container Insights (per-task CPU, memory, network and
   * storage metrics; billed as custom metrics, about 19 USD a month for a development platform).
   * The services' own CPU and memory metrics (AWS/ECS) exist either way.
   *
   * @default - true on a production platform, false otherwise
   */
  readonly containerInsights?: boolean;

  /**
   * The network to run in: a `PrivateNetwork` built beforehand, for example in a network stack
   * shared by several platforms. Its VPC, subnets and endpoints are used as they are.
   * Cannot be combined with `vpc`, `cidr`, `maxAzs`, `createEndpoints` or `s3GatewayEndpointId`.
   *
   * @default - a new `PrivateNetwork` of the platform's own (in `vpc` when given)
   */
  readonly network?: PrivateNetwork;

  /**
   * Whether the interface endpoints the platform creates sit in one AZ only (about 29 USD a month
   * less with 2 AZs). Tasks in the other AZ reach them across AZs; if that AZ fails, the platform
   * cannot pull images, write logs or read secrets until it is back.
   *
   * @default - true, or false on a production platform
   */
  readonly endpointsInOneAz?: boolean;

  /**
   * The id of the VPC's existing S3 gateway endpoint, for `createEndpoints: false`: the
   * app-artifact bucket admits downloads through it.
   *
   * @default - none
   */
  readonly s3GatewayEndpointId?: string;

  /**
   * An existing VPC to run in; its isolated subnets are used (see `PrivateNetwork`). The
   * endpoints its tasks need are added once per VPC: a second platform on it, or a
   * `PrivateNetwork` built on it beforehand, shares them.
   *
   * @default - a new `PrivateNetwork`
   */
  readonly vpc?: ec2.IVpc;

  /**
   * How many AZs a new VPC spans.
   *
   * @default - 2, or 3 on a production platform
   */
  readonly maxAzs?: number;

  /**
   * The address range of a new VPC (a private range).
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Whether to add the VPC endpoints the platform needs to a supplied VPC. A new VPC always gets them.
   *
   * @default true
   */
  readonly createEndpoints?: boolean;

  /**
   * The authorization every API method requires.
   *
   * @default ApiAuthorization.iam()
   */
  readonly apiAuthorization?: ApiAuthorization;

  /**
   * Whether the platform sets up API Gateway's account-level CloudWatch role (one per account and
   * region, which execution logs need). The first platform of an app makes it, the others share
   * it; turn it off when the account already has it from another app.
   *
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;

  /**
   * The API stage name, the first segment of every URL path.
   *
   * @default 'api'
   */
  readonly stageName?: string;

  /**
   * Steady-state requests per second the API admits before throttling.
   *
   * @default 100
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the API admits before throttling.
   *
   * @default 200
   */
  readonly throttlingBurstLimit?: number;

  /**
   * ARN of a regional AWS WAFv2 web ACL to associate with the API stage.
   *
   * @default - no web ACL
   */
  readonly webAclArn?: string;

  /**
   * How long the logs of the services, the API and the VPC are kept.
   *
   * @default - one month, or one year on a production platform
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups and their KMS key when they leave the stack.
   *
   * @default - DESTROY, or RETAIN on a production platform
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The KMS key for every log group of the platform; its policy must admit CloudWatch Logs.
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * The PostgreSQL database; `enabled: false` for a platform whose services need none.
   *
   * @default - a PostgresDatabase with its defaults
   */
  readonly database?: PlatformDatabaseOptions;

  /**
   * The Kafka cluster; `enabled: false` for a platform whose services need none.
   *
   * @default - a KafkaCluster with its defaults
   */
  readonly kafka?: PlatformKafkaOptions;

  /**
   * The dashboard and alarms; `enabled: false` for none.
   *
   * @default - a dashboard and alarms with no alarm topic
   */
  readonly monitoring?: PlatformMonitoringOptions;

  /**
   * Spring Cloud Data Flow (dataflow and skipper servers); `enabled: false` for a platform of your
   * own services only.
   *
   * @default - Spring Cloud Data Flow 2.11.5 with its defaults
   */
  readonly springCloudDataFlow?: PlatformSpringCloudDataFlowOptions;

  /**
   * Where tasks pull public images from (Spring Cloud Data Flow, the Kafka console and
   * `publicImage()`): tasks in isolated subnets reach ECR only.
   *
   * @default ImageSource.copyToEcr() - copied into platform-owned ECR repositories at deploy time
   */
  readonly imageSource?: ImageSource;

  /**
   * The optional Kafka web console (Redpanda Console) behind the gateway.
   *
   * @default - no console
   */
  readonly kafkaConsole?: KafkaConsoleOptions;

  /**
   * Whether the platform adds stack outputs for what you open after a deployment: `ApiUrl`, and
   * with their parts `DataflowDashboardUrl`, `AppArtifactBucketName` and `KafkaConsoleUrl`.
   *
   * @default true
   */
  readonly outputs?: boolean;

  /**
   * How many services a CloudFormation stack holds at most. The platform's own stack holds the
   * first ones (Spring Cloud Data Flow's servers first); each further group gets a nested stack
   * with its own execution role. A stack also takes no more services once it holds 420 resources,
   * so that none reaches CloudFormation's 500 whatever the services use. Services are placed
   * in the order they are added: add new services at the end, and remove old ones from the end,
   * or a service changes stack (and is replaced).
   *
   * @default 20
   */
  readonly maxServicesPerStack?: number;
}

/**
 * The platform's PostgreSQL database: a `PostgresDatabase`'s options, and whether there is one.
 */
export interface PlatformDatabaseOptions extends PostgresDatabaseOptions {
  /**
   * Whether the platform has a database. A platform whose services need none turns it off and
   * pays for none; no other option may be set then.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The platform's Kafka cluster: a `KafkaCluster`'s options, and whether there is one.
 */
export interface PlatformKafkaOptions extends KafkaClusterOptions {
  /**
   * Whether the platform has a Kafka cluster. A platform whose services need none turns it off
   * and pays for none; no other option may be set then.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The platform's monitoring: where alarms go, their thresholds, and whether the platform has any.
 */
export interface PlatformMonitoringOptions extends MonitoringOptions {
  /**
   * Whether the platform has a dashboard and alarms (and its services deployment alarms). No other
   * option may be set when it is false.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The platform's Spring Cloud Data Flow: its options, and whether the platform runs it.
 */
export interface PlatformSpringCloudDataFlowOptions extends SpringCloudDataFlowOptions {
  /**
   * Whether the platform runs Spring Cloud Data Flow. Turn it off for a platform of your own
   * services only; no other option may be set then.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * What add-ons of a platform (such as `SpringCloudDataFlow`) build on: its network, data services,
 * log settings, services and images.
 */
export interface IDataflowPlatform extends IConstruct {
  /** Whether this is a production platform. */
  readonly production: boolean;

  /** The network: the VPC, its subnets and endpoints (the S3 gateway endpoint among them). */
  readonly network: PrivateNetwork;

  /** The PostgreSQL database; undefined when the platform has none. */
  readonly database?: PostgresDatabase;

  /** The Kafka cluster; undefined when the platform has none. */
  readonly kafka?: KafkaCluster;

  /** The KMS key that encrypts every log group of the platform. */
  readonly logEncryptionKey: kms.IKey;

  /** How long the platform's logs are kept. */
  readonly logRetention: logs.RetentionDays;

  /**
   * Adds an HTTP service to the platform.
   *
   * @param name the service name: a DNS label, unique in the platform
   * @param options what the service runs and how
   */
  addService(name: string, options: PlatformServiceOptions): PlatformService;

  /**
   * An image tasks can pull for a public image name, through the platform's image source.
   *
   * @param name the public image, e.g. 'nginx:1.27'
   * @param cpuArchitecture the architecture of the tasks that run it
   */
  publicImage(name: string, cpuArchitecture?: ecs.CpuArchitecture): ecs.ContainerImage;
}

/** A stack that holds services, and the execution role its services share. */
interface ServiceShard {
  readonly scope: Construct;
  readonly executionRole: iam.Role;
  services: number;
  policyAcknowledged: boolean;
}

/** Ports no service may use, with the reason. */
const RESERVED_PORTS: ReadonlyArray<{ from: number; to: number; reason: string }> = [
  { from: SKIPPER_STREAM_APP_PORTS.low, to: SKIPPER_STREAM_APP_PORTS.high, reason: 'Spring Cloud Data Flow stream apps launched by skipper\'s local deployer' },
];

/**
 * The resources past which a stack takes no more services: CloudFormation's 500 per stack, less
 * room for two more services of about 35 resources each and for what the app adds itself.
 */
const SHARD_RESOURCE_BUDGET = QUOTAS.resourcesPerStack - 80;

/** The resources (L1 constructs) of `stack` itself, not of its nested stacks. */
function resourcesIn(stack: Stack): number {
  return stack.node.findAll().filter(c => c instanceof CfnResource && Stack.of(c) === stack).length;
}

/** The environment name appears in tags and descriptions: keep it short and plain. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Spring Cloud Data Flow, or any set of HTTP services, on ECS Fargate in a private VPC, reachable
 * only through API Gateway.
 *
 * Composes a `PrivateNetwork` (or uses your VPC), an ECS cluster (Container Insights in production) and a
 * Service Connect namespace, and a `PrivateGateway` (REST API → VPC link → internal NLB). Each
 * `addService()` adds a `PlatformService` with its own route, listener and Service Connect name.
 *
 * @example
 * declare const repository: ecr.IRepository;
 * const platform = new DataflowPlatform(this, 'Dataflow', { environmentName: 'dev' });
 * platform.addService('orders', {
 *   image: ecs.ContainerImage.fromEcrRepository(repository, 'v1'),
 *   port: 8080,
 *   healthCheckPath: '/actuator/health',
 * });
 */
export class DataflowPlatform extends Construct implements IDataflowPlatform {
  /** The environment name. */
  public readonly environmentName: string;

  /** Whether this is a production platform. */
  public readonly production: boolean;

  /** The network: the VPC, its subnets and endpoints. */
  public readonly network: PrivateNetwork;

  /** The VPC. */
  public readonly vpc: ec2.IVpc;

  /** The ECS cluster. */
  public readonly cluster: ecs.Cluster;

  /** The Cloud Map namespace (HTTP) that Service Connect uses. */
  public readonly namespace: servicediscovery.INamespace;

  /** API Gateway, VPC link and internal load balancer. */
  public readonly gateway: PrivateGateway;

  /** The role ECS uses to pull images, write logs and read secrets for the services in the platform's own stack (each nested service stack has its own). */
  public readonly executionRole: iam.Role;

  /** The KMS key that encrypts every log group of the platform. */
  public readonly logEncryptionKey: kms.IKey;

  /** How long the platform's logs are kept. */
  public readonly logRetention: logs.RetentionDays;

  /** The PostgreSQL database; undefined when `database.enabled` is false. */
  public readonly database?: PostgresDatabase;

  /** The Kafka cluster; undefined when `kafka.enabled` is false. */
  public readonly kafka?: KafkaCluster;

  /** Where tasks pull public images from. */
  public readonly imageSource: ImageSource;

  /** Spring Cloud Data Flow; undefined when `springCloudDataFlow.enabled` is false. */
  public readonly springCloudDataFlow?: SpringCloudDataFlow;

  /** The Spring Cloud Data Flow dataflow server; undefined without Spring Cloud Data Flow. */
  public readonly dataflowServer?: PlatformService;

  /** The Spring Cloud Data Flow skipper server; undefined without Spring Cloud Data Flow. */
  public readonly skipperServer?: PlatformService;

  /** The dashboard and alarms; undefined when `monitoring.enabled` is false. */
  public readonly monitoring?: PlatformMonitoring;

  /** The Kafka web console; undefined unless `kafkaConsole.enabled`. */
  public readonly kafkaConsole?: PlatformService;

  private readonly logRemovalPolicy: RemovalPolicy;
  private readonly retentionIsDevelopmentDefault: boolean;
  private readonly _services = new Map<string, PlatformService>();
  private readonly _streams = new Map<string, Stream>();
  private readonly maxServicesPerStack: number;
  private readonly shards: ServiceShard[];
  private readonly images: ImageResolver;
  /** Images made by `publicImage()` and what must exist before a task pulls them. */
  private readonly imageDependencies = new Map<ecs.ContainerImage, IDependable>();
  /** Images made by `publicImage()` that hold one CPU architecture only (copies). */
  private readonly imageArchitectures = new Map<ecs.ContainerImage, { name: string; cpuArchitecture: ecs.CpuArchitecture }>();
  /** Log groups created on demand whose development retention is acknowledged already. */
  private readonly acknowledgedLogGroups = new Set<logs.ILogGroup>();

  constructor(scope: Construct, id: string, props: DataflowPlatformProps = {}) {
    super(scope, id);
    this.environmentName = props.environmentName ?? 'dev';
    this.production = props.production ?? false;
    validatePlatformProps(this.environmentName, props);
    tagWhereEveryRegionTakesTags(this, 'cdk-dataflow-platform:environment', this.environmentName);

    this.logRetention = props.logRetention ?? (this.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH);
    this.retentionIsDevelopmentDefault = props.logRetention === undefined && !this.production;
    this.logRemovalPolicy = props.logRemovalPolicy ?? (this.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    this.logEncryptionKey = props.logEncryptionKey ?? createLogEncryptionKey(this, 'LogKey', this.logRemovalPolicy);

    this.network = this.createNetwork(props);
    this.vpc = this.network.vpc;
    this.addEcsEndpoints();
    this.cluster = this.createCluster(props);
    this.namespace = this.cluster.defaultCloudMapNamespace!;
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS task execution role of the services of ${this.node.path}`,
    });
    this.maxServicesPerStack = props.maxServicesPerStack ?? 20;
    this.shards = [{ scope: this, executionRole: this.executionRole, services: 0, policyAcknowledged: false }];
    this.imageSource = props.imageSource ?? ImageSource.copyToEcr();
    this.images = this.createImageResolver();
    this.gateway = this.createGateway(props);
    this.database = this.createDatabase(props);
    this.kafka = this.createKafka(props);
    this.monitoring = this.createMonitoring(props);
    this.springCloudDataFlow = this.createSpringCloudDataFlow(props);
    this.dataflowServer = this.springCloudDataFlow?.dataflowServer;
    this.skipperServer = this.springCloudDataFlow?.skipperServer;
    if (props.kafkaConsole?.enabled ?? false) {
      this.kafkaConsole = this.addKafkaConsole(props.kafkaConsole!);
    }
    if (props.outputs ?? true) {
      this.addOutputs();
    }
    this.acknowledgeFindings(props);
    this.node.addValidation({ validate: () => this.validateConnections() });
  }

  private createNetwork(props: DataflowPlatformProps): PrivateNetwork {
    return props.network ?? new PrivateNetwork(this, 'Network', {
      vpc: props.vpc,
      cidr: props.cidr,
      maxAzs: props.vpc ? undefined : (props.maxAzs ?? (this.production ? 3 : 2)),
      createEndpoints: props.createEndpoints,
      s3GatewayEndpointId: props.s3GatewayEndpointId,
      endpointsInOneAz: props.endpointsInOneAz ?? !this.production,
      flowLogRetention: props.vpc ? undefined : this.logRetention,
      logEncryptionKey: props.vpc ? undefined : this.logEncryptionKey,
      logRemovalPolicy: props.vpc ? undefined : this.logRemovalPolicy,
    });
  }

  /** The cluster, with a Service Connect namespace of type HTTP (no Route 53 zone). */
  private createCluster(props: DataflowPlatformProps): ecs.Cluster {
    return new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: this.containerInsights(props) ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
      enableFargateCapacityProviders: true,
      defaultCloudMapNamespace: {
        name: `${this.environmentName}-${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}`.toLowerCase(),
        type: servicediscovery.NamespaceType.HTTP,
        useForServiceConnect: true,
      },
    });
  }

  private containerInsights(props: DataflowPlatformProps): boolean {
    return props.containerInsights ?? this.production;
  }

  private createImageResolver(): ImageResolver {
    return new ImageResolver(this, 'Images', {
      source: this.imageSource,
      executionRole: this.executionRole,
      removalPolicy: this.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      logEncryptionKey: this.logEncryptionKey,
      logRetention: this.logRetention,
      logRemovalPolicy: this.logRemovalPolicy,
    });
  }

  private createGateway(props: DataflowPlatformProps): PrivateGateway {
    return new PrivateGateway(this, 'Gateway', {
      vpc: this.vpc,
      subnets: this.network.subnets,
      authorization: props.apiAuthorization,
      stageName: props.stageName,
      apiName: `${this.environmentName}-${Names.uniqueResourceName(this, { maxLength: 64, separator: '-' })}`,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
      webAclArn: props.webAclArn,
      accessLogRetention: this.logRetention,
      logEncryptionKey: this.logEncryptionKey,
      logRemovalPolicy: this.logRemovalPolicy,
      deletionProtection: this.production,
      cloudWatchRole: props.apiGatewayCloudWatchRole,
    });
  }

  /** Where the data services live and how their logs are kept: the platform's choices. */
  private dataPlacement() {
    return {
      vpc: this.vpc,
      subnets: this.network.subnets,
      production: this.production,
      logRetention: this.logRetention,
      logEncryptionKey: this.logEncryptionKey,
      logRemovalPolicy: this.logRemovalPolicy,
    };
  }

  private createDatabase(props: DataflowPlatformProps): PostgresDatabase | undefined {
    return (props.database?.enabled ?? true)
      ? new PostgresDatabase(this, 'Database', { ...withoutEnabled(props.database), ...this.dataPlacement() })
      : undefined;
  }

  private createKafka(props: DataflowPlatformProps): KafkaCluster | undefined {
    return (props.kafka?.enabled ?? true)
      ? new KafkaCluster(this, 'Kafka', { ...withoutEnabled(props.kafka), ...this.dataPlacement() })
      : undefined;
  }

  private createMonitoring(props: DataflowPlatformProps): PlatformMonitoring | undefined {
    return (props.monitoring?.enabled ?? true)
      ? new PlatformMonitoring(this, 'Monitoring', {
        ...withoutEnabled(props.monitoring),
        gateway: this.gateway,
        cluster: this.cluster,
        database: this.database,
        kafka: this.kafka,
        containerInsights: this.containerInsights(props),
        production: this.production,
      })
      : undefined;
  }

  private createSpringCloudDataFlow(props: DataflowPlatformProps): SpringCloudDataFlow | undefined {
    return (props.springCloudDataFlow?.enabled ?? true)
      ? new SpringCloudDataFlow(this, 'SpringCloudDataFlow', { ...withoutEnabled(props.springCloudDataFlow), platform: this })
      : undefined;
  }

  /** The findings the platform's own parts accept (services acknowledge theirs when added). */
  private acknowledgeFindings(props: DataflowPlatformProps): void {
    const logGroups = [
      this.network.flowLogGroup,
      this.gateway.accessLogGroup,
      ...(this.database?.logGroups ?? []),
      this.kafka?.logGroup,
      this.springCloudDataFlow?.appArtifacts?.autoDeleteLogGroup,
    ];
    for (const logGroup of logGroups) {
      if (logGroup) {
        this.acknowledgeDevelopmentRetention(logGroup);
      }
    }
    if (!this.containerInsights(props)) {
      const reason = 'Development platform: Container Insights is a cost (custom metrics), not a control; the AWS/ECS service metrics remain. production: true (or containerInsights: true) turns it on.';
      acknowledge(this.cluster, 'ECS4', [NAG_PACKS.awsSolutions], reason);
      acknowledgeControl(this.cluster, 'ecs_container_insights_enabled_check', reason);
    }
  }

  /**
   * An image tasks can pull for a public image name such as 'nginx:1.27', through the platform's
   * `imageSource` (copied into ECR, a pull-through cache, or your ECR mirror). Use it for any public
   * image: tasks in isolated subnets cannot reach public registries.
   *
   * With `ImageSource.copyToEcr()` (the default) one CPU architecture is copied per call: pass the
   * `cpuArchitecture` of the service that runs it (an ARM64 service given an X86_64 copy fails at
   * synth). A pull-through cache or a mirror keeps the upstream image with all its architectures.
   *
   * @param name the public image, e.g. 'nginx:1.27' or 'springcloud/spring-cloud-dataflow-server:2.11.5'
   * @param cpuArchitecture the architecture of the tasks that run it
   */
  public publicImage(name: string, cpuArchitecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64): ecs.ContainerImage {
    const resolved = this.images.resolve(name, cpuArchitecture);
    if (resolved.dependable) {
      this.imageDependencies.set(resolved.image, resolved.dependable);
    }
    if (resolved.cpuArchitecture) {
      this.imageArchitectures.set(resolved.image, { name, cpuArchitecture: resolved.cpuArchitecture });
    }
    const copyLogs = this.images.copyFunctionLogGroup;
    if (copyLogs && !this.acknowledgedLogGroups.has(copyLogs)) {
      this.acknowledgedLogGroups.add(copyLogs);
      this.acknowledgeDevelopmentRetention(copyLogs);
    }
    return resolved.image;
  }

  /** The services, in the order they were added. */
  public get services(): PlatformService[] {
    return [...this._services.values()];
  }

  /** The service with this name, if any. */
  public findService(name: string): PlatformService | undefined {
    return this._services.get(name);
  }

  /**
   * Adds an HTTP service: Fargate tasks in the isolated subnets, a route `/<apiPath>/{proxy+}` on
   * the API, a listener on the internal load balancer and a Service Connect name
   * (`http://<name>:<port>`). Services may be added in any order; `connectsTo` may name services
   * added later.
   *
   * @param name the service name: a DNS label, unique in the platform
   * @param options what the service runs and how
   */
  public addService(name: string, options: PlatformServiceOptions): PlatformService {
    this.validateNewService(name, options);
    this.validateImage(name, options.image, options.cpuArchitecture);
    const shard = this.shardForNextService();
    // A service that uses the database gets a user and a database of its own, created with it (in
    // its stack); the master secret stays with the platform.
    const user = options.useDatabase && this.database ? this.databaseUser(shard.scope, name, this.database) : undefined;
    // The user's function reads secrets through the Secrets Manager endpoint: the user is created
    // after the endpoints, and deleted before them.
    user?.node.addDependency(...this.unconditionalEndpoints());
    const settings = this.dataSettings(name, options, user);

    const service = new PlatformService(shard.scope, `Service${pascalCase(name)}`, {
      ...options,
      environment: { ...options.environment, ...settings.environment },
      secrets: { ...options.secrets, ...settings.secrets },
      name,
      desiredCount: options.desiredCount ?? (this.production ? Math.max(2, options.minCapacity ?? 0) : undefined),
      cluster: this.cluster,
      gateway: this.gateway,
      subnets: this.network.subnets,
      executionRole: shard.executionRole,
      logRetention: this.logRetention,
      logEncryptionKey: this.logEncryptionKey,
      logRemovalPolicy: this.logRemovalPolicy,
    });
    shard.services += 1;
    this.acknowledgeDevelopmentRetention(service.logGroup);
    this.acknowledgeExecutionRolePolicy(shard);
    const copy = this.imageDependencies.get(options.image);
    if (copy) {
      // The image is copied into ECR at deploy time: the service starts after the copy.
      service.service.node.addDependency(copy);
    }
    // Tasks in isolated subnets pull, log and read secrets only through the endpoints: the service
    // starts after them, or its first tasks fail and the circuit breaker rolls the stack back.
    // (Not on a conditional endpoint: CloudFormation refuses DependsOn a resource that may not exist.)
    service.service.node.addDependency(...this.unconditionalEndpoints());
    if (this.network.s3Endpoint instanceof ec2.GatewayVpcEndpoint) {
      service.service.node.addDependency(this.network.s3Endpoint);
    }
    if (options.useDatabase && this.database) {
      service.allowTo(this.database, this.database.port, 'DatabaseAccess', `PostgreSQL from service ${name}`);
      // Tasks start once their user and database exist.
      service.service.node.addDependency(user!);
    }
    if (options.useKafka && this.kafka) {
      service.allowTo(this.kafka, this.kafka.clientPort, 'KafkaAccess', `Kafka from service ${name}`);
      if (this.kafka.clientAuthentication === KafkaClientAuthentication.IAM) {
        this.kafka.grantReadWrite(service);
      }
    }
    this.monitoring?.addService(service, {
      rollbackOnAlarm: options.rollbackOnAlarm,
      section: options.dashboardSection,
      startPeriod: options.healthCheckGracePeriod,
    });
    if (options.enableExecuteCommand) {
      this.network.requireEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
    }

    // Wire the declared calls in both directions, whichever service came first.
    for (const other of this._services.values()) {
      if (service.connectsTo.includes(other.name)) {
        other.allowCallsFrom(service);
      }
      if (other.connectsTo.includes(name)) {
        service.allowCallsFrom(other);
      }
    }
    this._services.set(name, service);
    return service;
  }

  /**
   * Adds a Spring Cloud Data Flow stream whose apps run as services of the platform, one per app
   * (`<name>-<label>`), bound to Kafka topics as Spring Cloud Data Flow binds them: see `Stream`.
   *
   * @param name the stream name: letters, digits and '-', starting with a letter
   * @param options the definition and the options of its apps
   */
  public addStream(name: string, options: StreamOptions): Stream {
    const id = `Stream${pascalCase(name)}`;
    const same = [...this._streams.keys()].find(other => other === name || `Stream${pascalCase(other)}` === id);
    if (same !== undefined) {
      throw new Error(same === name
        ? `addStream('${name}'): a stream named "${name}" already exists; give each stream its own name`
        : `addStream('${name}'): streams "${same}" and "${name}" would both get the construct id "${id}"; rename "${name}" so that it differs from "${same}" in more than hyphens`);
    }
    const stream = new Stream(this, id, { ...options, name, platform: this });
    this._streams.set(name, stream);
    return stream;
  }

  /** The interface endpoints that always exist (CloudFormation refuses DependsOn a conditional one). */
  private unconditionalEndpoints(): IConstruct[] {
    return this.network.interfaceEndpoints.filter(e => !(e.node.defaultChild as CfnResource).cfnOptions.condition);
  }

  /** The service's own user, with a database of the same name (the master's database keeps its own). */
  private databaseUser(scope: Construct, name: string, database: PostgresDatabase): DatabaseUser {
    const username = databaseUsername(name, database._userContext.masterUsername);
    return new DatabaseUser(scope, `DatabaseUser${pascalCase(name)}`, {
      database,
      username,
      databaseName: username === database.databaseName ? `${username}_app` : username,
    });
  }

  private validateNewService(name: string, options: PlatformServiceOptions): void {
    if (this._services.has(name)) {
      throw new Error(`DataflowPlatform: a service named "${name}" already exists; give each service its own name`);
    }
    const port = options.port;
    if (!Token.isUnresolved(port)) {
      const reserved = RESERVED_PORTS.find(r => port >= r.from && port <= r.to);
      if (reserved) {
        throw new Error(`DataflowPlatform: service "${name}" uses port ${port}, reserved by the platform (${reserved.from}-${reserved.to}: ${reserved.reason}); choose a port outside that range`);
      }
      const sameport = this.services.find(s => s.port === port);
      if (sameport) {
        throw new Error(`DataflowPlatform: service "${name}" uses port ${port}, already used by "${sameport.name}"; give each service its own port`);
      }
    }
    // Service Connect names are unique in the namespace: other services call this one by it.
    const discoveryName = options.discoveryName ?? name;
    const sameDiscoveryName = this.services.find(s => s.discoveryName === discoveryName);
    if (sameDiscoveryName && !Token.isUnresolved(discoveryName)) {
      throw new Error(`DataflowPlatform: service "${name}" would be called "${discoveryName}" through Service Connect, the name of service "${sameDiscoveryName.name}" already; give it another discoveryName`);
    }
    const path = options.apiRoute === false ? undefined : normalizeApiPath(options.apiPath ?? name);
    const samePath = path === undefined ? undefined : this.services.find(s => s.apiPath !== undefined && apiPathsOverlap(s.apiPath, path));
    if (samePath) {
      throw new Error(`DataflowPlatform: service "${name}" would route API path "/${path}", which overlaps "/${samePath.apiPath}" of service "${samePath.name}"; set apiPath so that no path is a prefix of another`);
    }
    for (const target of options.connectsTo ?? []) {
      if (target === name) {
        throw new Error(`DataflowPlatform: service "${name}" lists itself in connectsTo; a service reaches itself without it`);
      }
      // A name that no service can have is wrong now, not only at the end of synthesis.
      const problem = serviceNameProblem(target);
      if (problem) {
        throw new Error(`DataflowPlatform: service "${name}" has connectsTo "${target}", which can never name a service (${problem}); list the names of services of this platform`);
      }
    }
    // Construct ids come from the name (ServiceX1 for both "x-1" and "x1"); ids stay as they are,
    // because renaming one would replace a deployed service.
    const id = `Service${pascalCase(name)}`;
    const sameId = this.services.find(s => `Service${pascalCase(s.name)}` === id);
    if (sameId) {
      throw new Error(`DataflowPlatform: services "${sameId.name}" and "${name}" would both get the construct id "${id}"; rename "${name}" so that it differs from "${sameId.name}" in more than hyphens`);
    }
  }

  /**
   * Refuses an image from a public registry when the tasks have no route to the internet (the
   * service would hang in PENDING), and a copied image of another CPU architecture than the tasks
   * (they would fail with "exec format error").
   */
  private validateImage(name: string, image: ecs.ContainerImage, cpuArchitecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64): void {
    const copied = this.imageArchitectures.get(image);
    if (copied && copied.cpuArchitecture._cpuArchitecture !== cpuArchitecture._cpuArchitecture) {
      throw new Error(`DataflowPlatform: service "${name}" runs on ${cpuArchitecture._cpuArchitecture}, but its image "${copied.name}" was copied for ${copied.cpuArchitecture._cpuArchitecture} and would not run; use platform.publicImage('${copied.name}', ecs.CpuArchitecture.${cpuArchitecture._cpuArchitecture}), or set cpuArchitecture to ${copied.cpuArchitecture._cpuArchitecture}`);
    }
    const publicName = publicRegistryImageName(image);
    if (!publicName || this.hasInternetRoute()) {
      return;
    }
    throw new Error([
      `DataflowPlatform: service "${name}" uses the image "${publicName}" from a public registry, but its tasks run in isolated subnets with no route to the internet, so the image could not be pulled and the service would never start. Ways out:`,
      `(1) image: platform.publicImage('${publicName}') pulls it through the platform's imageSource (now ${this.imageSource.type});`,
      '(2) mirror it into your ECR and use ecs.ContainerImage.fromEcrRepository(repository, tag);',
      '(3) build it with ecs.ContainerImage.fromAsset(directory) (pushed to the CDK assets repository in ECR);',
      '(4) set imageSource: ImageSource.pullThroughCache(secret) and use platform.publicImage().',
    ].join(' '));
  }

  /** Whether the tasks' subnets route to the internet (a supplied VPC with NAT). */
  private hasInternetRoute(): boolean {
    const selected = this.vpc.selectSubnets(this.network.subnets).subnets;
    return selected.length > 0 && selected.every(s => this.vpc.privateSubnets.includes(s) || this.vpc.publicSubnets.includes(s));
  }

  private addKafkaConsole(options: KafkaConsoleOptions): PlatformService {
    if (!this.kafka) {
      throw new Error('DataflowPlatform: kafkaConsole needs the platform\'s Kafka cluster, but kafka.enabled is false; enable Kafka or the console, not one without the other');
    }
    if (this.kafka.clientAuthentication !== KafkaClientAuthentication.TLS) {
      // The console is wired to the TLS listener (9094), which an IAM-only cluster does not open.
      throw new Error(`DataflowPlatform: kafkaConsole connects over TLS without client authentication, but the Kafka cluster uses ${this.kafka.clientAuthentication} authentication; use kafka.clientAuthentication TLS, or run a console of your own configured for IAM (SASL/OAUTHBEARER) with addService`);
    }
    const port = options.port ?? KAFKA_CONSOLE.port;
    const consoleService = this.addService(KAFKA_CONSOLE.name, {
      image: options.image ?? this.publicImage(`${KAFKA_CONSOLE.image}:${options.version ?? KAFKA_CONSOLE.version}`),
      port,
      healthCheckPath: KAFKA_CONSOLE.health,
      cpu: 256,
      memoryLimitMiB: 512,
      environment: {
        KAFKA_BROKERS: this.kafka.bootstrapBrokersTls,
        KAFKA_TLS_ENABLED: 'true',
        SERVER_LISTENPORT: `${port}`,
      },
    });
    consoleService.allowTo(this.kafka, this.kafka.clientPort, 'KafkaAccess', `Kafka from service ${KAFKA_CONSOLE.name}`);
    return consoleService;
  }

  /** The container settings of the data services `options` asks for; throws on a conflict. */
  private dataSettings(name: string, options: PlatformServiceOptions, user: DatabaseUser | undefined): ContainerSettings {
    const parts: Array<[string, ContainerSettings]> = [];
    if (options.useDatabase) {
      if (!this.database) {
        throw new Error(`DataflowPlatform: service "${name}" has useDatabase: true, but the platform's database is turned off (database.enabled: false); enable the database or remove useDatabase`);
      }
      parts.push(['useDatabase', databaseSettings(user!)]);
    }
    if (options.useKafka) {
      if (!this.kafka) {
        throw new Error(`DataflowPlatform: service "${name}" has useKafka: true, but the platform's Kafka cluster is turned off (kafka.enabled: false); enable Kafka or remove useKafka`);
      }
      parts.push(['useKafka', kafkaSettings(this.kafka)]);
    }
    const own = new Set([...Object.keys(options.environment ?? {}), ...Object.keys(options.secrets ?? {})]);
    const environment: { [key: string]: string } = {};
    const secrets: { [key: string]: ecs.Secret } = {};
    for (const [option, part] of parts) {
      const clash = [...Object.keys(part.environment), ...Object.keys(part.secrets)].find(key => own.has(key));
      if (clash) {
        throw new Error(`DataflowPlatform: service "${name}" sets ${clash}, which ${option} sets for it; remove ${clash} from environment/secrets, or wire that data service yourself without ${option}`);
      }
      Object.assign(environment, part.environment);
      Object.assign(secrets, part.secrets);
    }
    return { environment, secrets };
  }

  /**
   * What a user opens after `cdk deploy`, as stack outputs (printed by the CLI, listed in the
   * CloudFormation console). No export names: outputs of two platforms in one account never collide.
   */
  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      value: this.gateway.url,
      description: `The API of ${this.node.path}: https://<api>/<stage>/<service>/... (IAM-signed requests unless authorization says otherwise)`,
    });
    if (this.dataflowServer?.url) {
      new CfnOutput(this, 'DataflowDashboardUrl', {
        value: `${this.dataflowServer.url}/dashboard/`,
        description: 'The Spring Cloud Data Flow dashboard, through the API (see the README: open it through a local signing proxy)',
      });
    }
    const artifacts = this.springCloudDataFlow?.appArtifacts;
    if (artifacts) {
      new CfnOutput(this, 'AppArtifactBucketName', {
        value: artifacts.bucket.bucketName,
        description: 'The bucket to upload stream and task app jars to; register them by https://<bucket>.s3.<region>.amazonaws.com/<key>',
      });
    }
    if (this.kafkaConsole?.url) {
      new CfnOutput(this, 'KafkaConsoleUrl', {
        value: `${this.kafkaConsole.url}/`,
        description: 'The Kafka console (Redpanda Console), through the API',
      });
    }
  }

  /** Checks that can only run once every service is added (services may name later ones). */
  private validateConnections(): string[] {
    if (this._services.size === 0) {
      return [`DataflowPlatform ${this.node.path} has no service: call addService(), or leave springCloudDataFlow enabled (API Gateway cannot deploy an API without methods)`];
    }
    const errors: string[] = [];
    for (const service of this._services.values()) {
      for (const target of service.connectsTo) {
        if (!this._services.has(target)) {
          errors.push(`DataflowPlatform ${this.node.path}: service "${service.name}" connectsTo "${target}", which is not a service of this platform (services: ${[...this._services.keys()].join(', ')}); add a service named "${target}" or remove it from connectsTo`);
        }
      }
    }
    return errors;
  }

  /** Acknowledges the findings on a shard's execution role policy, once it exists. */
  private acknowledgeExecutionRolePolicy(shard: ServiceShard): void {
    if (!shard.policyAcknowledged && shard.executionRole.node.tryFindChild('DefaultPolicy')) {
      shard.policyAcknowledged = true;
      acknowledgeExecutionRolePolicy(shard.executionRole);
    }
  }

  /**
   * Where the next service goes: the platform's own stack holds the first services, each further
   * group gets a nested stack with its own execution role. A stack takes no more services once it
   * holds `maxServicesPerStack` of them, or once it holds more resources than `SHARD_RESOURCE_BUDGET`
   * (a service with a database user, Kafka, alarms and secret rotation brings about 35; the rest is
   * room for what the app adds to the stack itself). Placement follows the order of `addService()`
   * calls, so adding services never moves others.
   */
  private shardForNextService(): ServiceShard {
    const last = this.shards[this.shards.length - 1];
    if (last.services < this.maxServicesPerStack && resourcesIn(Stack.of(last.scope)) <= SHARD_RESOURCE_BUDGET) {
      return last;
    }
    const index = this.shards.length + 1;
    const stack = new NestedStack(this, `Services${index}`, {
      description: `Services of ${this.node.path}, group ${index} (cdk-dataflow-platform)`,
    });
    const executionRole = new iam.Role(stack, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS task execution role of the services in ${stack.node.path}`,
    });
    this.images.grantPull(executionRole);
    const shard: ServiceShard = { scope: stack, executionRole, services: 0, policyAcknowledged: false };
    this.shards.push(shard);
    return shard;
  }

  /**
   * The ECS endpoints, where AWS requires them for Fargate. Elsewhere they are not needed: "Tasks
   * using the Fargate launch type don't require the interface VPC endpoints for Amazon ECS" (ECS
   * developer guide, VPC endpoints; the ECR guide says the same), and no Service Connect page asks
   * for them. In regions launched from 2023-12-23 on, ecs, ecs-agent and ecs-telemetry are
   * required ("If you do not configure all of the endpoints, your traffic will go over the public
   * endpoints"), so in a stack whose region is unknown at synth they exist only under a
   * CloudFormation condition on the region.
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
   * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
   */
  private addEcsEndpoints(): void {
    const region = Stack.of(this).region;
    const need = regionalEcsEndpointsNeed(region);
    if (need === EndpointNeed.NEVER) {
      return;
    }
    for (const [id, service] of [
      ['Ecs', ec2.InterfaceVpcEndpointAwsService.ECS],
      ['EcsAgent', ec2.InterfaceVpcEndpointAwsService.ECS_AGENT],
      ['EcsTelemetry', ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY],
    ] as const) {
      const endpoint = this.network.requireEndpoint(id, service);
      const resource = endpoint?.node.defaultChild as CfnResource | undefined;
      if (resource && need === EndpointNeed.BY_REGION && !resource.cfnOptions.condition) {
        // In the endpoint's own stack: a shared endpoint may live in a network stack.
        resource.cfnOptions.condition = newRegionCondition(resource, 'InRegionNeedingEcsEndpoints');
      }
    }
  }

  private acknowledgeDevelopmentRetention(logGroup: logs.ILogGroup): void {
    if (this.retentionIsDevelopmentDefault) {
      acknowledgeControl(logGroup, 'cloudwatch_log_group_retention_period_check',
        'Development platform: logs are kept one month; production: true (or logRetention) keeps them a year or more.');
    }
  }
}

/** Checks the props before anything is built; messages name the prop, the value and the fix. */
function validatePlatformProps(environmentName: string, props: DataflowPlatformProps): void {
  if (!Token.isUnresolved(environmentName) && !ENVIRONMENT_NAME.test(environmentName)) {
    throw new Error(`DataflowPlatform: environmentName "${environmentName}" must be 1 to 32 lowercase letters, digits or hyphens, starting with a letter; for example "dev" or "prod"`);
  }
  for (const [prop, options] of [['database', props.database], ['kafka', props.kafka], ['springCloudDataFlow', props.springCloudDataFlow], ['kafkaConsole', props.kafkaConsole], ['monitoring', props.monitoring]] as const) {
    // A switched-off feature rejects its options, rather than ignoring them.
    const set = options && options.enabled === false ? Object.keys(options).filter(k => k !== 'enabled' && (options as Record<string, unknown>)[k] !== undefined) : [];
    if (set.length > 0) {
      throw new Error(`DataflowPlatform: ${prop}.enabled is false, but ${prop} also sets ${set.join(', ')}, which would be ignored; remove ${set.length > 1 ? 'them' : 'it'}, or turn ${prop} on`);
    }
  }
  if (props.network) {
    const clash = (['vpc', 'cidr', 'maxAzs', 'createEndpoints', 's3GatewayEndpointId', 'endpointsInOneAz'] as const).filter(p => props[p] !== undefined);
    if (clash.length > 0) {
      throw new Error(`DataflowPlatform: network is given, so ${clash.join(', ')} cannot be set too (the network's VPC and endpoints are used as they are); set ${clash.length > 1 ? 'them' : 'it'} on the PrivateNetwork, or drop network`);
    }
  }
  const perStack = props.maxServicesPerStack;
  if (perStack !== undefined && !Token.isUnresolved(perStack) && !(Number.isInteger(perStack) && perStack >= 1 && perStack <= 30)) {
    throw new Error(`DataflowPlatform: maxServicesPerStack ${perStack} must be a whole number from 1 to 30 (about 15 resources a service, 500 per stack)`);
  }
}

/**
 * The PostgreSQL user of a service: its name with '_' for '-' (service names are DNS labels, so
 * lowercase already), prefixed with 'app_' where PostgreSQL or RDS reserve the name.
 */
function databaseUsername(serviceName: string, masterUsername: string): string {
  const username = serviceName.replace(/-/g, '_');
  const reserved = /^(rds|pg_)|^(postgres|public|template[01]|current_user|session_user|current_role|user|all|none|default)$/.test(username);
  return reserved || username === masterUsername ? `app_${username}` : username;
}

/** The options a platform hands to the construct it switches on: everything but `enabled`. */
function withoutEnabled<T extends { readonly enabled?: boolean }>(options: T | undefined): Omit<T, 'enabled'> {
  const { enabled: _enabled, ...rest } = options ?? ({} as T);
  return rest;
}
