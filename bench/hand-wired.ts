/**
 * The hand-wired variant of the benchmark: the platform's architecture written directly with
 * aws-cdk-lib constructs, as lean as a competent CDK user would write it (CDK defaults wherever
 * they fit, no cdk-nag, no acknowledgements). One stack with:
 *
 * - an ec2.Vpc over 2 AZs with PRIVATE_ISOLATED subnets only (no NAT gateway) and a flow log to
 *   CloudWatch Logs;
 * - interface endpoints for ECR api, ECR dkr, CloudWatch Logs, Secrets Manager, ecs-agent and
 *   ecs-telemetry (CDK's default security group per endpoint), and an S3 gateway endpoint;
 * - an ECS cluster with Container Insights (v2, enabled) and an HTTP Cloud Map namespace for
 *   Service Connect, and one task execution role shared by every service;
 * - one internal Network Load Balancer with a security group (PrivateLink inbound-rule
 *   enforcement off, since REST VPC-link traffic arrives over PrivateLink);
 * - one API Gateway REST API (IAM authorization on every method) with one VPC link (v1) to the NLB;
 * - RDS for PostgreSQL (rds.DatabaseInstance, isolated subnets, generated secret, encrypted storage);
 * - Amazon MSK (msk.CfnCluster: 2 kafka.t3.small brokers, TLS) with a security group, and an
 *   AwsCustomResource that reads the TLS bootstrap brokers (Kafka getBootstrapBrokers);
 * - per service: a log group, a Fargate task definition whose container has a named port mapping
 *   (appProtocol http), the awslogs driver, the datasource and Kafka variables and the database
 *   credentials as ECS secrets; a Fargate service with Service Connect; an NLB TCP listener with
 *   an ip target group and an HTTP health check; ingress rules from the NLB to the service and from
 *   the service to the database and Kafka; the API resources /svcN and /svcN/{proxy+}, each with
 *   an ANY method and an HTTP_PROXY integration through the VPC link.
 *
 * Not built (the platform adds these): KMS-encrypted log groups, API access logs and stage
 * settings, a VPC link v2, CPU autoscaling, a database parameter group with forced TLS and log
 * exports, MSK broker logs, Fargate capacity providers.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as cr from 'aws-cdk-lib/custom-resources';
import { BENCH_ENV, templateStacks } from './common';

const ISOLATED: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
const KAFKA_TLS_PORT = 9094;

/** Builds the hand-wired equivalent with n services; returns every stack that holds a template. */
export function buildHandWired(app: App, n: number): Stack[] {
  const stack = new Stack(app, 'BenchHandWired', { env: BENCH_ENV });

  // --- Network: isolated subnets only, flow log, the endpoints Fargate and Service Connect need ---
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    flowLogs: { FlowLog: {} },
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
  });
  const interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
    EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
    EcrDkr: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
    EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
  };
  for (const [id, service] of Object.entries(interfaceEndpoints)) {
    vpc.addInterfaceEndpoint(id, { service, subnets: ISOLATED });
  }

  // --- Cluster with a Service Connect namespace, one execution role for every task ---
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    defaultCloudMapNamespace: { name: 'bench', type: servicediscovery.NamespaceType.HTTP, useForServiceConnect: true },
  });
  const executionRole = new iam.Role(stack, 'ExecutionRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
  });

  // --- Entry: REST API (IAM auth) -> VPC link -> internal NLB ---
  const nlbSecurityGroup = new ec2.SecurityGroup(stack, 'NlbSecurityGroup', { vpc, description: 'Internal NLB' });
  const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', {
    vpc,
    vpcSubnets: ISOLATED,
    internetFacing: false,
    securityGroups: [nlbSecurityGroup],
    enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: false,
  });
  const vpcLink = new apigateway.VpcLink(stack, 'VpcLink', { targets: [nlb] });
  const api = new apigateway.RestApi(stack, 'Api', {
    deployOptions: { stageName: 'api' },
    defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
  });

  // --- Database: PostgreSQL with a generated secret ---
  const database = new rds.DatabaseInstance(stack, 'Database', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_6 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc,
    vpcSubnets: ISOLATED,
    credentials: rds.Credentials.fromGeneratedSecret('dataflow'),
    databaseName: 'dataflow',
    storageEncrypted: true,
  });
  const databaseSecret = database.secret!;
  const jdbcUrl = `jdbc:postgresql://${database.dbInstanceEndpointAddress}:${database.dbInstanceEndpointPort}/dataflow?sslmode=require`;

  // --- Kafka: MSK L1 cluster (TLS) and a lookup of its bootstrap brokers ---
  const kafkaSecurityGroup = new ec2.SecurityGroup(stack, 'KafkaSecurityGroup', { vpc, description: 'MSK brokers' });
  const kafka = new msk.CfnCluster(stack, 'Kafka', {
    clusterName: 'bench-kafka',
    kafkaVersion: '3.8.x',
    numberOfBrokerNodes: 2,
    brokerNodeGroupInfo: {
      instanceType: 'kafka.t3.small',
      clientSubnets: vpc.isolatedSubnets.map(subnet => subnet.subnetId),
      securityGroups: [kafkaSecurityGroup.securityGroupId],
      storageInfo: { ebsStorageInfo: { volumeSize: 20 } },
    },
    encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
  });
  const brokerLookup = new cr.AwsCustomResource(stack, 'KafkaBrokers', {
    onUpdate: {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: kafka.attrArn },
      physicalResourceId: cr.PhysicalResourceId.of(kafka.attrArn),
    },
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [kafka.attrArn] }),
    installLatestAwsSdk: false,
  });
  const brokers = brokerLookup.getResponseField('BootstrapBrokerStringTls');

  // --- Services ---
  const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'bench');
  for (let i = 0; i < n; i++) {
    const name = `svc${i}`;
    const port = 8000 + i;

    const logGroup = new logs.LogGroup(stack, `Logs${i}`, { retention: logs.RetentionDays.ONE_MONTH });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, `TaskDef${i}`, {
      cpu: 512,
      memoryLimitMiB: 1024,
      executionRole,
    });
    taskDefinition.addContainer('Container', {
      containerName: name,
      image: ecs.ContainerImage.fromEcrRepository(repo, 'v1'),
      portMappings: [{ name, containerPort: port, appProtocol: ecs.AppProtocol.http }],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: name }),
      environment: {
        SPRING_DATASOURCE_URL: jdbcUrl,
        SPRING_DATASOURCE_DRIVER_CLASS_NAME: 'org.postgresql.Driver',
        SPRING_KAFKA_BOOTSTRAP_SERVERS: brokers,
        SPRING_KAFKA_PROPERTIES_SECURITY_PROTOCOL: 'SSL',
        SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS: brokers,
        SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL: 'SSL',
      },
      secrets: {
        SPRING_DATASOURCE_USERNAME: ecs.Secret.fromSecretsManager(databaseSecret, 'username'),
        SPRING_DATASOURCE_PASSWORD: ecs.Secret.fromSecretsManager(databaseSecret, 'password'),
      },
    });
    const service = new ecs.FargateService(stack, `Service${i}`, {
      cluster,
      taskDefinition,
      desiredCount: 1,
      vpcSubnets: ISOLATED,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      serviceConnectConfiguration: { services: [{ portMappingName: name, port }] },
    });

    // NLB listener + ip target group with an HTTP health check.
    nlb.addListener(`Listener${i}`, { port, protocol: elbv2.Protocol.TCP }).addTargets(`Targets${i}`, {
      port,
      protocol: elbv2.Protocol.TCP,
      targets: [service.loadBalancerTarget({ containerName: name, containerPort: port })],
      healthCheck: { protocol: elbv2.Protocol.HTTP, path: '/health' },
    });

    // Security groups: NLB -> service, service -> database and Kafka.
    service.connections.allowFrom(nlbSecurityGroup, ec2.Port.tcp(port), `NLB to ${name}`);
    database.connections.allowDefaultPortFrom(service, `${name} to PostgreSQL`);
    kafkaSecurityGroup.connections.allowFrom(service, ec2.Port.tcp(KAFKA_TLS_PORT), `${name} to Kafka`);

    // API routes /svcN and /svcN/{proxy+}, ANY, HTTP_PROXY through the VPC link.
    const base = `http://${nlb.loadBalancerDnsName}:${port}`;
    const linkOptions: apigateway.IntegrationOptions = { connectionType: apigateway.ConnectionType.VPC_LINK, vpcLink };
    const resource = api.root.addResource(name);
    resource.addMethod('ANY', new apigateway.HttpIntegration(`${base}/`, { httpMethod: 'ANY', options: linkOptions }));
    resource.addResource('{proxy+}').addMethod('ANY', new apigateway.HttpIntegration(`${base}/{proxy}`, {
      httpMethod: 'ANY',
      options: { ...linkOptions, requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' } },
    }), { requestParameters: { 'method.request.path.proxy': true } });
  }

  return templateStacks(app);
}
