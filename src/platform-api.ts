/**
 * The platform's API that its add-ons build on: the props of a `DataflowPlatform`, the options of the
 * parts it switches on, and `IDataflowPlatform`, which `SpringCloudDataFlow` and `Stream` take
 * instead of the class (so that no room imports `platform.ts`, which composes them).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import type { PostgresDatabase, PostgresDatabaseOptions } from './database/postgres-database';
import type { ApiAuthorization } from './gateway/api-authorization';
import type { KafkaCluster, KafkaClusterOptions } from './kafka/kafka-cluster';
import type { MonitoringOptions } from './monitoring/platform-monitoring';
import type { PrivateNetwork } from './network/private-network';
import type { ImageSource } from './scdf/image-source';
import type { KafkaConsoleOptions } from './scdf/kafka-console';
import type { SpringCloudDataFlowOptions } from './scdf/spring-cloud-data-flow';
import type { PlatformService, PlatformServiceOptions } from './service/platform-service';

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
