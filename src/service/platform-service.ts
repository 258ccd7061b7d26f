import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GatewayRoute } from '../gateway/gateway-route';
import { PrivateGateway } from '../gateway/private-gateway';
import { acknowledge, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';
import { normalizeApiPath, pascalCase } from '../private/names';
import { acknowledgeTaskFindings, addServiceContainer, createServiceLogGroup, createTaskDefinition } from '../private/service-task';
import { defaultMaxCapacity, desiredCountOf, validateServiceProps } from '../private/service-validation';

/**
 * What a user declares about one HTTP service of the platform.
 */
export interface PlatformServiceOptions {
  /**
   * The container image. Tasks run in isolated subnets: use an image in Amazon ECR.
   */
  readonly image: ecs.ContainerImage;

  /**
   * The port the container serves HTTP on; also its load balancer listener port and its
   * Service Connect port (`http://<name>:<port>`). Unique within the platform.
   */
  readonly port: number;

  /**
   * The path under the API stage that routes to this service: `/<apiPath>` and `/<apiPath>/{proxy+}`.
   *
   * @default - the service name
   */
  readonly apiPath?: string;

  /**
   * Whether the service has an API route. Without one it is reached only through Service Connect
   * by the services that declare `connectsTo` it; it keeps its load balancer listener and target
   * group, so that its deployments still roll back on failing health checks, but no API method
   * forwards to them.
   *
   * @default true
   */
  readonly apiRoute?: boolean;

  /**
   * The HTTP path the load balancer checks; any 200–399 answer counts as healthy.
   *
   * @default '/'
   */
  readonly healthCheckPath?: string;

  /**
   * Whether the service's alarms (unhealthy targets, 5XX through its route) roll back a deployment
   * they fire during, as ECS deployment alarms, in addition to the circuit breaker. Needs the
   * platform's monitoring.
   *
   * @default - true, unless maxHealthyPercent is 100 or less (no overlap of old and new tasks)
   */
  readonly rollbackOnAlarm?: boolean;

  /**
   * The section of the platform's dashboard the service's row appears in.
   *
   * @default 'Services'
   */
  readonly dashboardSection?: string;

  /**
   * How long after a task starts its health checks are ignored.
   *
   * @default Duration.seconds(60)
   */
  readonly healthCheckGracePeriod?: Duration;

  /**
   * CPU units of the task (256 = 0.25 vCPU). Must pair with `memoryLimitMiB` as Fargate allows.
   *
   * @default 512
   */
  readonly cpu?: number;

  /**
   * Memory of the task in MiB.
   *
   * @default 1024
   */
  readonly memoryLimitMiB?: number;

  /**
   * How many tasks run.
   *
   * @default - 1, or 2 on a production platform
   */
  readonly desiredCount?: number;

  /**
   * Whether the task count scales on CPU between `minCapacity` and `maxCapacity`. Turn it off for a
   * service that must run an exact number of tasks (a singleton); `minCapacity`, `maxCapacity` and
   * `targetCpuUtilizationPercent` are then errors.
   *
   * @default true
   */
  readonly autoScaling?: boolean;

  /**
   * The fewest tasks autoscaling keeps.
   *
   * @default - desiredCount
   */
  readonly minCapacity?: number;

  /**
   * The most tasks autoscaling starts.
   *
   * @default - twice desiredCount
   */
  readonly maxCapacity?: number;

  /**
   * Average CPU utilization that autoscaling aims for.
   *
   * @default 70
   */
  readonly targetCpuUtilizationPercent?: number;

  /**
   * The lower limit, as a percentage of `desiredCount`, of running healthy tasks during a
   * deployment. 0 with `maxHealthyPercent: 100` stops the old task before the new one starts (for a
   * singleton that must never run twice).
   *
   * @default 100
   */
  readonly minHealthyPercent?: number;

  /**
   * The upper limit, as a percentage of `desiredCount`, of running tasks during a deployment.
   *
   * @default 200
   */
  readonly maxHealthyPercent?: number;

  /**
   * How long the Service Connect proxy lets a connection to this service stay idle. Applies to
   * every caller of this service.
   *
   * @default - Service Connect's default (5 minutes for HTTP)
   */
  readonly serviceConnectIdleTimeout?: Duration;

  /**
   * How long the Service Connect proxy waits for this service to answer one request. Applies to
   * every caller of this service; set it above the slowest request the service serves. On Fargate
   * the proxy listens on the container port ("In awsvpc mode and Fargate, the default value is the
   * container port number"), so requests from the load balancer may pass through it too.
   *
   * @default - 30 seconds with an API route (above API Gateway's 29-second integration timeout,
   * so the proxy never ends a request the API still waits for); else Service Connect's default
   * (the proxy's 15 seconds for HTTP)
   * @see https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
   */
  readonly serviceConnectPerRequestTimeout?: Duration;

  /**
   * Plain environment variables. Never put credentials here: use `secrets`.
   *
   * @default - none
   */
  readonly environment?: { [key: string]: string };

  /**
   * Environment variables read from Secrets Manager or SSM Parameter Store when the task starts.
   *
   * @default - none
   */
  readonly secrets?: { [key: string]: ecs.Secret };

  /**
   * Files of environment variables the container reads at start (ECS `environmentFiles`, the
   * Terraform original's `env_file`), e.g. `ecs.EnvironmentFile.fromBucket(bucket, 'orders.env')`.
   * The execution role is granted read on each file; the tasks fetch them through the S3 gateway
   * endpoint, whose policy admits the buckets of the stack's own account.
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html
   *
   * @default - none
   */
  readonly environmentFiles?: ecs.EnvironmentFile[];

  /**
   * The name other services call this one by through Service Connect (its Cloud Map discovery
   * name and client alias DNS name), when it should differ from the service name (the Terraform
   * original's `dns_name`). A DNS label, unique in the platform.
   *
   * @default - the service name
   */
  readonly discoveryName?: string;

  /**
   * The port other services call this one on through Service Connect (the client alias port, the
   * Terraform original's `service_connect_port`), when it should differ from the container port.
   *
   * @default - `port`
   */
  readonly serviceConnectPort?: number;

  /**
   * The command the container runs.
   *
   * @default - the image's
   */
  readonly command?: string[];

  /**
   * Names of the platform services this service calls through Service Connect.
   *
   * Each one admits this service on its port (one security group rule) and is created before
   * this service, so that its Service Connect endpoint exists when this service's tasks start.
   *
   * @default - calls no other service
   */
  readonly connectsTo?: string[];

  /**
   * Whether the service uses the platform's PostgreSQL database. It then gets one security group
   * rule to the database port and, as container settings, `SPRING_DATASOURCE_URL` (TLS required)
   * and `SPRING_DATASOURCE_DRIVER_CLASS_NAME`, with `SPRING_DATASOURCE_USERNAME` and
   * `SPRING_DATASOURCE_PASSWORD` as ECS secrets from the generated secret.
   *
   * @default false
   */
  readonly useDatabase?: boolean;

  /**
   * Whether the service uses the platform's Kafka cluster. It then gets one security group rule to
   * the client port and the Spring Kafka and Spring Cloud Stream Kafka binder settings (brokers and
   * the TLS or IAM security settings); with IAM authentication, its task role may read and write topics.
   *
   * @default false
   */
  readonly useKafka?: boolean;

  /**
   * Whether operators may open a shell in the containers with ECS Exec (adds the ssmmessages endpoint).
   *
   * @default false
   */
  readonly enableExecuteCommand?: boolean;

  /**
   * Whether to run the tasks on Fargate Spot (cheaper, may be interrupted).
   *
   * @default false
   */
  readonly spot?: boolean;

  /**
   * The user (name, uid or uid:gid) the container runs as.
   *
   * @default - the image's user
   */
  readonly user?: string;

  /**
   * Whether the container's root filesystem is read-only.
   *
   * @default false
   */
  readonly readonlyRootFilesystem?: boolean;

  /**
   * The CPU architecture of the image.
   *
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
}

/**
 * Properties of a `PlatformService`: the options plus what the platform provides.
 */
export interface PlatformServiceProps extends PlatformServiceOptions {
  /** The service name: a DNS label, its Service Connect discovery name and container name. */
  readonly name: string;

  /** The cluster to run in; it must have a default Cloud Map namespace for Service Connect. */
  readonly cluster: ecs.ICluster;

  /** The gateway that routes to this service. */
  readonly gateway: PrivateGateway;

  /**
   * The subnets of the tasks.
   *
   * @default - the VPC's PRIVATE_ISOLATED subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * The role ECS uses to pull the image, write logs and read `secrets`.
   *
   * @default - a new role for this service
   */
  readonly executionRole?: iam.IRole;

  /**
   * How long the service's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the log group; its policy must admit CloudWatch Logs.
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * One HTTP service on Fargate, reachable through the platform's gateway and, by name, from other
 * services through ECS Service Connect.
 *
 * Owns its task definition (with a task role of its own), log group, Fargate service with
 * circuit-breaker rollback, security group, Service Connect entry, NLB target group and listener,
 * API route and CPU autoscaling.
 */
export class PlatformService extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The service name. */
  public readonly name: string;

  /** The container port, listener port and Service Connect port. */
  public readonly port: number;

  /** The Fargate service. */
  public readonly service: ecs.FargateService;

  /** The task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;

  /** The application container. */
  public readonly container: ecs.ContainerDefinition;

  /** The log group of the container and its Service Connect proxy. */
  public readonly logGroup: logs.LogGroup;

  /** The load balancer target group (type ip) with its HTTP health check. */
  public readonly targetGroup: elbv2.NetworkTargetGroup;

  /** The load balancer listener on `port`. */
  public readonly listener: elbv2.NetworkListener;

  /** The security group of the tasks. */
  public readonly securityGroup: ec2.SecurityGroup;

  /** The network connections of the tasks. */
  public readonly connections: ec2.Connections;

  /** The role the application assumes; grant it what the service needs. */
  public readonly taskRole: iam.IRole;

  /**
   * The principal grants go to: the task role, so `bucket.grantRead(service)` and
   * `kafka.grantReadWrite(service)` give the application what it needs.
   */
  public readonly grantPrincipal: iam.IPrincipal;

  /** The autoscaling of the task count; undefined when `autoScaling` is false. */
  public readonly scaling?: ecs.ScalableTaskCount;

  /** The Service Connect discovery name, the host other services call. */
  public readonly discoveryName: string;

  /** The Service Connect endpoint other services call, e.g. `http://orders:8080`. */
  public readonly endpoint: string;

  /** The path of the service under the API stage, without leading slash; undefined without an API route. */
  public readonly apiPath?: string;

  /** The API route; undefined when `apiRoute` is false. */
  public readonly route?: GatewayRoute;

  /**
   * The URL of the service through the API, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/api/orders`;
   * undefined when `apiRoute` is false.
   */
  public readonly url?: string;

  /** The names of the services this one calls. */
  public readonly connectsTo: string[];

  /** The path the load balancer's health check requests. */
  public readonly healthCheckPath: string;

  /**
   * The fewest tasks the service should run: `minCapacity` with autoscaling, otherwise its
   * desired count (may be a token).
   */
  public readonly minimumTasks: number;

  constructor(scope: Construct, id: string, props: PlatformServiceProps) {
    super(scope, id);
    validateServiceProps(props);

    this.name = props.name;
    this.port = props.port;
    this.discoveryName = props.discoveryName ?? props.name;
    this.endpoint = `http://${this.discoveryName}:${props.serviceConnectPort ?? props.port}`;
    this.apiPath = (props.apiRoute ?? true) ? normalizeApiPath(props.apiPath ?? props.name) : undefined;
    this.connectsTo = [...(props.connectsTo ?? [])];
    this.healthCheckPath = props.healthCheckPath ?? '/';
    this.minimumTasks = (props.autoScaling ?? true) ? (props.minCapacity ?? desiredCountOf(props)) : desiredCountOf(props);

    this.logGroup = createServiceLogGroup(this, props);
    this.taskDefinition = createTaskDefinition(this, props);
    this.taskRole = this.taskDefinition.taskRole;
    this.grantPrincipal = this.taskRole;
    this.container = addServiceContainer(this, this.taskDefinition, this.logGroup, props);
    this.securityGroup = this.createSecurityGroup(props);
    this.service = this.createService(props);
    this.node.defaultChild = this.service.node.defaultChild;
    this.connections = this.service.connections;

    this.targetGroup = this.createTargetGroup(props);
    const attachment = this.attachToGateway(props);
    this.route = attachment.route;
    this.url = this.route?.url;
    this.listener = attachment.listener;

    this.scaling = this.createScaling(props);
    this.acknowledgeFindings(props);
  }

  /** Average CPU utilization of the service's tasks (AWS/ECS `CPUUtilization`, percent). */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricCpuUtilization(props);
  }

  /** Average memory utilization of the service's tasks (AWS/ECS `MemoryUtilization`, percent). */
  public metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricMemoryUtilization(props);
  }

  /**
   * Targets the load balancer counts healthy (AWS/NetworkELB `HealthyHostCount`, dimensions
   * LoadBalancer and TargetGroup). The load balancer's name is read from the load balancer itself,
   * not parsed out of the listener's ARN as aws-cdk-lib does: one reference instead of three.
   * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
   */
  public metricHealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroupMetric('HealthyHostCount', props);
  }

  /** Targets the load balancer counts unhealthy (AWS/NetworkELB `UnHealthyHostCount`). */
  public metricUnhealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroupMetric('UnHealthyHostCount', props);
  }

  private targetGroupMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const loadBalancer = this.listener.loadBalancer as elbv2.NetworkLoadBalancer;
    return new cloudwatch.Metric({
      namespace: 'AWS/NetworkELB',
      metricName,
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(5),
      ...props,
      dimensionsMap: { LoadBalancer: loadBalancer.loadBalancerFullName, TargetGroup: this.targetGroup.targetGroupFullName },
    });
  }

  /**
   * Lets `caller` reach this service on its port, and creates this service before the caller so
   * that the caller's tasks find this service's Service Connect endpoint when they start.
   */
  public allowCallsFrom(caller: PlatformService): void {
    caller.allowTo(this, this.port, `CallsTo${pascalCase(this.name)}`, `Service Connect: ${caller.name} calls ${this.name}`);
    caller.service.node.addDependency(this.service);
  }

  /**
   * Admits this service's tasks into `target` on `port` with one rule, created with this service
   * (in its stack) and before its tasks start, so that they never start without the access.
   *
   * @param target what the service calls (a database, a cluster, a service: anything with connections)
   * @param port the one port
   * @param id construct id of the rule, unique within this service
   * @param description rule description
   */
  public allowTo(target: ec2.IConnectable, port: number, id: string, description: string): void {
    for (const [index, group] of target.connections.securityGroups.entries()) {
      const rule = new ec2.CfnSecurityGroupIngress(this, index === 0 ? id : `${id}${index + 1}`, {
        groupId: group.securityGroupId,
        sourceSecurityGroupId: this.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description,
      });
      this.service.node.addDependency(rule);
    }
  }

  private createSecurityGroup(props: PlatformServiceProps): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: `Tasks of service ${props.name} - its port from the platform load balancer and declared callers only`,
      allowAllOutbound: true,
    });
  }

  private createService(props: PlatformServiceProps): ecs.FargateService {
    return new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: desiredCountOf(props),
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: props.minHealthyPercent ?? 100,
      maxHealthyPercent: props.maxHealthyPercent ?? 200,
      healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.seconds(60),
      enableExecuteCommand: props.enableExecuteCommand ?? false,
      capacityProviderStrategies: props.spot ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] : undefined,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      serviceConnectConfiguration: {
        services: [{
          portMappingName: props.name,
          discoveryName: this.discoveryName,
          dnsName: this.discoveryName,
          port: props.serviceConnectPort ?? props.port,
          idleTimeout: props.serviceConnectIdleTimeout,
          perRequestTimeout: props.serviceConnectPerRequestTimeout ?? (this.apiPath !== undefined ? API_REQUEST_TIMEOUT : undefined),
        }],
        logDriver: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'service-connect' }),
      },
    });
  }

  private createTargetGroup(props: PlatformServiceProps): elbv2.NetworkTargetGroup {
    const targetGroup = new elbv2.NetworkTargetGroup(this, 'TargetGroup', {
      vpc: props.cluster.vpc,
      port: props.port,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        enabled: true,
        protocol: elbv2.Protocol.HTTP,
        path: this.healthCheckPath,
        port: 'traffic-port',
        healthyHttpCodes: '200-399',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 3,
        unhealthyThresholdCount: 3,
      },
    });
    targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: props.name, containerPort: props.port }));
    return targetGroup;
  }

  /**
   * The gateway's side in one call: the API route (unless `apiRoute` is false), the listener to the
   * target group on a load balancer with room, and the rule that admits the load balancers.
   */
  private attachToGateway(props: PlatformServiceProps): { route?: GatewayRoute; listener: elbv2.NetworkListener } {
    // The route's API resources and the listener live with the service; the gateway picks a load balancer with room.
    const attachment = props.gateway.addRoute({
      path: this.apiPath,
      port: props.port,
      targetGroup: this.targetGroup,
      target: this,
      targetRuleDescription: `Load balancer to service ${props.name}`,
      scope: this,
    });
    // Given a target group, the gateway creates the listener (at `<service>/Listener`).
    const listener = attachment.listener!;
    // The target group must belong to the listener before the service registers targets in it.
    this.service.node.addDependency(listener);
    return { route: attachment.route, listener };
  }

  /** CPU autoscaling of the task count, or undefined when `autoScaling` is false. */
  private createScaling(props: PlatformServiceProps): ecs.ScalableTaskCount | undefined {
    if (!(props.autoScaling ?? true)) {
      return undefined;
    }
    const desiredCount = desiredCountOf(props);
    const minCapacity = props.minCapacity ?? desiredCount;
    const scaling = this.service.autoScaleTaskCount({
      minCapacity,
      maxCapacity: props.maxCapacity ?? defaultMaxCapacity(desiredCount, minCapacity),
    });
    scaling.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: props.targetCpuUtilizationPercent ?? 70,
    });
    return scaling;
  }

  /** The cdk-nag and AWS Control Tower findings this service accepts, each with its reason. */
  private acknowledgeFindings(props: PlatformServiceProps): void {
    acknowledgeTaskFindings(this.taskDefinition, props);
    if (props.enableExecuteCommand) {
      const policy = this.taskRole.node.tryFindChild('DefaultPolicy');
      if (policy) {
        acknowledge(policy, 'IAM5[Resource::*]', [NAG_PACKS.awsSolutions],
          'ECS Exec: the ssmmessages channel actions do not support resource-level permissions.');
      }
    }
    // On the role, so that it also covers grants added after construction (e.g. by the platform).
    acknowledge(this.taskRole, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
      `The task role's only policy, generated from the grants service ${this.name} was given.`);
  }
}

/**
 * The longest a request through the API can take: API Gateway's integration timeout is at most
 * 29 seconds for REST APIs (the gateway sets 29), so the proxy in front of the container allows 30.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
const API_REQUEST_TIMEOUT = Duration.seconds(30);
