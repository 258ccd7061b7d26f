import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { DatabaseUser } from './database/database-user';
import { PostgresDatabase } from './database/postgres-database';
import { PrivateGateway } from './gateway/private-gateway';
import { KafkaClientAuthentication, KafkaCluster } from './kafka/kafka-cluster';
import { PlatformMonitoring } from './monitoring/platform-monitoring';
import { PrivateNetwork } from './network/private-network';
import { DataflowPlatformProps, IDataflowPlatform } from './platform-api';
import { serviceDatabaseUsername } from './private/database-names';
import { addEcsEndpoints, unconditionalEndpoints } from './private/ecs-endpoints';
import { ImageResolver } from './private/images';
import { createLogEncryptionKey } from './private/kms';
import { acknowledge, acknowledgeControl, NAG_PACKS } from './private/nag';
import { pascalCase } from './private/names';
import { addPlatformOutputs } from './private/platform-outputs';
import { validateConnections, validateNewService, validatePlatformProps } from './private/platform-validation';
import { KAFKA_CONSOLE } from './private/scdf';
import { ServiceShards } from './private/service-shards';
import { tagWhereEveryRegionTakesTags } from './private/tags';
import { ContainerSettings, databaseSettings, kafkaSettings } from './private/wiring';
import { ImageSource } from './scdf/image-source';
import { KafkaConsoleOptions } from './scdf/kafka-console';
import { SpringCloudDataFlow } from './scdf/spring-cloud-data-flow';
import { PlatformService, PlatformServiceOptions } from './service/platform-service';
import { Stream, StreamOptions } from './streams/stream';

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
  private readonly shards: ServiceShards;
  private readonly images: ImageResolver;
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
    addEcsEndpoints(this, this.network);
    this.cluster = this.createCluster(props);
    this.namespace = this.cluster.defaultCloudMapNamespace!;
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS task execution role of the services of ${this.node.path}`,
    });
    this.imageSource = props.imageSource ?? ImageSource.copyToEcr();
    this.images = this.createImageResolver();
    this.shards = new ServiceShards(this, this.executionRole, props.maxServicesPerStack ?? 20, role => this.images.grantPull(role));
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
      addPlatformOutputs(this, {
        apiUrl: this.gateway.url,
        dataflowUrl: this.dataflowServer?.url,
        appArtifactBucketName: this.springCloudDataFlow?.appArtifacts?.bucket.bucketName,
        kafkaConsoleUrl: this.kafkaConsole?.url,
      });
    }
    this.acknowledgeFindings(props);
    this.node.addValidation({ validate: () => validateConnections(this.node.path, this.services) });
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
    validateNewService(name, options, this.services);
    this.images.checkServiceImage(name, options.image, options.cpuArchitecture ?? ecs.CpuArchitecture.X86_64, this.hasInternetRoute());
    const shard = this.shards.next();
    // A service that uses the database gets a user and a database of its own, created with it (in
    // its stack); the master secret stays with the platform.
    const user = options.useDatabase && this.database ? this.databaseUser(shard.scope, name, this.database) : undefined;
    // The user's function reads secrets through the Secrets Manager endpoint: the user is created
    // after the endpoints, and deleted before them.
    user?.node.addDependency(...unconditionalEndpoints(this.network));
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
    this.acknowledgeDevelopmentRetention(service.logGroup);
    this.shards.added(shard);
    const copy = this.images.dependencyOf(options.image);
    if (copy) {
      // The image is copied into ECR at deploy time: the service starts after the copy.
      service.service.node.addDependency(copy);
    }
    // Tasks in isolated subnets pull, log and read secrets only through the endpoints: the service
    // starts after them, or its first tasks fail and the circuit breaker rolls the stack back.
    // (Not on a conditional endpoint: CloudFormation refuses DependsOn a resource that may not exist.)
    service.service.node.addDependency(...unconditionalEndpoints(this.network));
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

  /** The service's own user, with a database of the same name (the master's database keeps its own). */
  private databaseUser(scope: Construct, name: string, database: PostgresDatabase): DatabaseUser {
    const username = serviceDatabaseUsername(name, database._userContext.masterUsername);
    return new DatabaseUser(scope, `DatabaseUser${pascalCase(name)}`, {
      database,
      username,
      databaseName: username === database.databaseName ? `${username}_app` : username,
    });
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

  private acknowledgeDevelopmentRetention(logGroup: logs.ILogGroup): void {
    if (this.retentionIsDevelopmentDefault) {
      acknowledgeControl(logGroup, 'cloudwatch_log_group_retention_period_check',
        'Development platform: logs are kept one month; production: true (or logRetention) keeps them a year or more.');
    }
  }
}

/** The options a platform hands to the construct it switches on: everything but `enabled`. */
function withoutEnabled<T extends { readonly enabled?: boolean }>(options: T | undefined): Omit<T, 'enabled'> {
  const { enabled: _enabled, ...rest } = options ?? ({} as T);
  return rest;
}
