import { App, CfnResource, Duration, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ApiAuthorization, DatabaseUser, DataflowPlatform, DataflowPlatformProps, KafkaClientAuthentication, KafkaCluster, PlatformServiceOptions, PostgresDatabase, PrivateNetwork } from '../src';
import { expectNoNagFindings, nagFindings, newTestStack, testContext } from './helpers/gates';

function image(stack: Stack, tag = 'v1'): ecs.ContainerImage {
  const repository = (stack.node.tryFindChild('Repo') as ecr.IRepository | undefined)
    ?? ecr.Repository.fromRepositoryName(stack, 'Repo', 'services');
  return ecs.ContainerImage.fromEcrRepository(repository, tag);
}

/** A platform of the test's own services: Spring Cloud Data Flow has its own test file. */
function platformWith(props: DataflowPlatformProps = {}, stack = newTestStack()): { stack: Stack; platform: DataflowPlatform } {
  const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false }, ...props });
  return { stack, platform };
}

function twoServices(props: DataflowPlatformProps = {}) {
  const { stack, platform } = platformWith(props);
  const orders = platform.addService('orders', {
    image: image(stack),
    port: 8080,
    healthCheckPath: '/actuator/health',
    connectsTo: ['billing'],
    environment: { KEY: 'value' },
  });
  const billing = platform.addService('billing', { image: image(stack, 'v2'), port: 8081 });
  return { stack, platform, orders, billing, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

describe('DataflowPlatform with two services', () => {
  const { stack, platform, orders, billing, template } = twoServices();

  test('exposes its parts', () => {
    expect(platform.vpc).toBe(platform.network.vpc);
    expect(platform.services.map(s => s.name)).toEqual(['orders', 'billing']);
    expect(platform.findService('billing')).toBe(billing);
    expect(platform.gateway.api).toBeDefined();
    expect(platform.gateway.loadBalancer).toBeDefined();
    expect(platform.gateway.vpcLink).toBeDefined();
    expect(stack.resolve(platform.gateway.url)).toEqual(stack.resolve(platform.gateway.api.url));
    expect(orders.endpoint).toBe('http://orders:8080');
    expect(orders.discoveryName).toBe('orders');
    expect(orders.apiPath).toBe('orders');
    expect(orders.service).toBeInstanceOf(ecs.FargateService);
    expect(orders.container.containerName).toBe('orders');
    expect(orders.connections.securityGroups).toContain(orders.securityGroup);
  });

  test('cluster without Container Insights in development, and an HTTP namespace for Service Connect', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
    });
    for (const props of [{ production: true }, { containerInsights: true }]) {
      const { stack: other, platform: p } = platformWith(props);
      p.addService('orders', { image: image(other), port: 8080 });
      Template.fromStack(other).hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    }
    template.resourceCountIs('AWS::ServiceDiscovery::HttpNamespace', 1);
    template.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 0);
    template.resourceCountIs('AWS::Route53::HostedZone', 0);
  });

  test('every service has Service Connect with a named HTTP port mapping', () => {
    for (const [name, port] of [['orders', 8080], ['billing', 8081]] as const) {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({
          Name: name,
          PortMappings: [{ Name: name, ContainerPort: port, Protocol: 'tcp', AppProtocol: 'http' }],
        })],
      });
      template.hasResourceProperties('AWS::ECS::Service', {
        ServiceConnectConfiguration: {
          Enabled: true,
          Namespace: Match.anyValue(),
          Services: [{ PortName: name, DiscoveryName: name, ClientAliases: [{ DnsName: name, Port: port }] }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        },
      });
    }
  });

  test('one internal NLB with cross-zone load balancing in the isolated subnets', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
      EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'off',
      Subnets: platform.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
  });

  test('one TCP listener and one ip target group with an HTTP health check per service', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8080,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(stack, orders.targetGroup) } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckEnabled: true,
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: '/actuator/health',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8081, HealthCheckPath: '/' });
  });

  test('the task security group admits the service port only from the NLB and declared callers', () => {
    const nlbSg = logicalId(stack, platform.gateway.loadBalancerSecurityGroup);
    const ordersSg = logicalId(stack, orders.securityGroup);
    const billingSg = logicalId(stack, billing.securityGroup);
    const resources = template.toJSON().Resources;
    // The load balancer's rule is written inline in the task group: no extra resource per service.
    expect(resources[ordersSg].Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ FromPort: 8080, ToPort: 8080, IpProtocol: 'tcp', SourceSecurityGroupId: { 'Fn::GetAtt': [nlbSg, 'GroupId'] } }),
    ]);
    expect(resources[billingSg].Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ FromPort: 8081, ToPort: 8081, SourceSecurityGroupId: { 'Fn::GetAtt': [nlbSg, 'GroupId'] } }),
    ]);
    // Declared calls are rules of their own.
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(r => r.Properties);
    const toGroup = (sg: string) => ingress.filter(p => JSON.stringify(p.GroupId).includes(sg));
    expect(toGroup(ordersSg)).toEqual([]);
    expect(toGroup(billingSg)).toEqual([
      expect.objectContaining({ FromPort: 8081, ToPort: 8081, SourceSecurityGroupId: { 'Fn::GetAtt': [ordersSg, 'GroupId'] } }),
    ]);
  });

  test('the NLB admits traffic from the VPC link only; two rules serve every route', () => {
    const nlbSg = logicalId(stack, platform.gateway.loadBalancerSecurityGroup);
    const linkSg = logicalId(stack, platform.gateway.vpcLinkSecurityGroup);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(r => r.Properties)
      .filter(p => JSON.stringify(p.GroupId).includes(nlbSg));
    expect(ingress).toEqual([expect.objectContaining({
      SourceSecurityGroupId: { 'Fn::GetAtt': [linkSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535,
    })]);
    // The link's rule is written into its own group: a separate AWS::EC2::SecurityGroupEgress would
    // leave EC2's default allow-all egress rule in place.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
    const linkEgress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map(r => r.Properties)
      .filter(p => JSON.stringify(p.GroupId).includes(linkSg));
    expect(linkEgress).toEqual([]);
    expect(template.toJSON().Resources[linkSg].Properties.SecurityGroupEgress).toEqual([expect.objectContaining({
      DestinationSecurityGroupId: { 'Fn::GetAtt': [nlbSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535,
    })]);
    // The load balancers send only to addresses inside the VPC.
    expect(template.toJSON().Resources[nlbSg].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: { 'Fn::GetAtt': [logicalId(stack, platform.vpc as any), 'CidrBlock'] }, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535 }),
    ]);
    const linkGroup = template.toJSON().Resources[linkSg].Properties;
    expect(linkGroup.SecurityGroupIngress).toBeUndefined();
  });

  test('nothing admits 0.0.0.0/0 or ::/0', () => {
    for (const sg of Object.values(template.findResources('AWS::EC2::SecurityGroup'))) {
      for (const rule of sg.Properties.SecurityGroupIngress ?? []) {
        expect(rule.CidrIp).not.toBe('0.0.0.0/0');
        expect(rule.CidrIpv6).not.toBe('::/0');
      }
    }
    for (const rule of Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))) {
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
  });

  test('one REST API with one VPC link (v2) naming the NLB on every integration', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 1);
    template.resourceCountIs('AWS::ApiGateway::VpcLink', 0);
    const linkId = logicalId(stack, platform.gateway.vpcLink);
    const nlbId = logicalId(stack, platform.gateway.loadBalancer);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties.HttpMethod).toBe('ANY');
      expect(method.Properties.Integration).toMatchObject({
        Type: 'HTTP_PROXY',
        IntegrationHttpMethod: 'ANY',
        ConnectionType: 'VPC_LINK',
        ConnectionId: { Ref: linkId },
        IntegrationTarget: { Ref: nlbId },
      });
    }
  });

  test('routes /<path> and /<path>/{proxy+} to the service port, passing the proxy path', () => {
    const nlbId = logicalId(stack, platform.gateway.loadBalancer);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'orders' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^DataflowServiceOrdersApiProxyResource') },
      RequestParameters: { 'method.request.path.proxy': true },
      RequestValidatorId: Match.anyValue(),
      Integration: Match.objectLike({
        Uri: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [nlbId, 'DNSName'] }, ':8080/{proxy}']] },
        RequestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' },
      }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^DataflowServiceOrdersApiResource[0-9A-F]{8}$') },
      Integration: Match.objectLike({
        Uri: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [nlbId, 'DNSName'] }, ':8080/']] },
      }),
    });
    expect(orders.route!.path).toBe('orders');
    expect(stack.resolve(orders.url)).toEqual(stack.resolve(`${platform.gateway.api.url}orders`));
  });

  test('every method requires IAM authorization by default', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
    }
  });

  test('the stage writes JSON access logs, execution logs and traces, and throttles', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'api',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(stack, platform.gateway.accessLogGroup) }])] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [Match.objectLike({
        LoggingLevel: 'INFO',
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      })],
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true });
  });

  test('Fargate services roll back failed deployments and wait out a grace period', () => {
    template.allResourcesProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
      HealthCheckGracePeriodSeconds: 60,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  test('one log group per service, with retention and the platform key', () => {
    for (const service of [orders, billing]) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          RetentionInDays: 30,
          KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, platform.logEncryptionKey as any), 'Arn'] },
        },
        DeletionPolicy: 'Delete',
      });
      expect(stack.resolve(service.logGroup.logGroupName)).toEqual({ Ref: logicalId(stack, service.logGroup) });
    }
    // 2 services, VPC flow logs, API access logs, 2 PostgreSQL exports, MSK broker logs.
    // ... and what AWS would otherwise create implicitly: API execution logs, the default-security-group
    // function's logs and the bootstrap-broker lookup's logs.
    template.resourceCountIs('AWS::Logs::LogGroup', 10);
  });

  test('a task role per service and one shared execution role', () => {
    expect(orders.taskRole).not.toBe(billing.taskRole);
    const taskDefs = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const taskRoles = new Set(taskDefs.map(t => JSON.stringify(t.Properties.TaskRoleArn)));
    const executionRoles = new Set(taskDefs.map(t => JSON.stringify(t.Properties.ExecutionRoleArn)));
    expect(taskRoles.size).toBe(2);
    expect(executionRoles.size).toBe(1);
  });

  test('autoscaling on CPU between min and max capacity', () => {
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 2);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 2 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 70,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  test('every service starts after the endpoints its tasks pull, log and read secrets through', () => {
    const dependsOn = template.toJSON().Resources[logicalId(stack, billing.service)].DependsOn as string[];
    for (const endpoint of platform.network.interfaceEndpoints) {
      expect(dependsOn).toContain(logicalId(stack, endpoint));
    }
    expect(dependsOn).toContain(stack.getLogicalId((platform.network.s3Endpoint as ec2.GatewayVpcEndpoint).node.defaultChild as any));
  });

  test('a caller depends on the services it connects to', () => {
    const ordersService = template.toJSON().Resources[logicalId(stack, orders.service)];
    expect(ordersService.DependsOn).toEqual(expect.arrayContaining([logicalId(stack, billing.service)]));
    const billingService = template.toJSON().Resources[logicalId(stack, billing.service)];
    expect(billingService.DependsOn ?? []).not.toContain(logicalId(stack, orders.service));
  });

  test('development: the interface endpoints sit in one AZ (cost); production: in every AZ', () => {
    for (const endpoint of Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))) {
      expect(endpoint.Properties.SubnetIds).toHaveLength(1);
    }
    const { stack: prodStack, platform: prod } = platformWith({ production: true });
    prod.addService('orders', { image: image(prodStack), port: 8080 });
    for (const endpoint of Object.values(Template.fromStack(prodStack).findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))) {
      expect(endpoint.Properties.SubnetIds).toHaveLength(3);
    }
  });

  test('no ECS endpoints in a region where Fargate does not need them', () => {
    // "Tasks using the Fargate launch type don't require the interface VPC endpoints for Amazon ECS"
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
    const names = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map(e => JSON.stringify(e.Properties.ServiceName));
    expect(names.filter(n => /\.ecs(-agent|-telemetry)?"/.test(n))).toEqual([]);
  });

  test('outputs the API URL; no dashboard, bucket or console outputs without their parts', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs).map(k => k.replace(/[0-9A-F]{8}$/, ''))).toEqual(['DataflowApiUrl']);
    expect(Object.values(outputs)[0]).toMatchObject({ Value: stack.resolve(platform.gateway.url) });
    expect((Object.values(outputs)[0] as { Export?: unknown }).Export).toBeUndefined();
  });

  test('outputs: false adds none', () => {
    const { stack: quiet, platform: p } = platformWith({ outputs: false });
    p.addService('orders', { image: image(quiet), port: 8080 });
    expect(Template.fromStack(quiet).toJSON().Outputs).toBeUndefined();
  });

  test('tags resources with the environment name', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      Tags: Match.arrayWith([{ Key: 'cdk-dataflow-platform:environment', Value: 'dev' }]),
    });
  });

  test('no Tags where a region\'s CloudFormation schema has none: listeners, scalable targets, the dashboard', () => {
    // cfn-lint 1.51.0's per-region registry schemas: no Tags on Listener or ScalableTarget in any
    // region, none on Dashboard in us-east-1 (E3002 "Additional properties are not allowed").
    const untagged = ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::CloudWatch::Dashboard'];
    const resources = Object.values(template.toJSON().Resources) as Array<{ Type: string; Properties?: { Tags?: unknown } }>;
    for (const type of untagged) {
      const ofType = resources.filter(r => r.Type === type);
      expect(ofType.length).toBeGreaterThan(0);
      expect(ofType.filter(r => r.Properties?.Tags !== undefined).map(r => r.Type)).toEqual([]);
    }
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Tags: Match.arrayWith([{ Key: 'cdk-dataflow-platform:environment', Value: 'dev' }]),
    });
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(stack);
  });
});

describe('service order and connections', () => {
  test('connectsTo may name a service added later, and the rule and dependency are the same', () => {
    const { stack, platform } = platformWith();
    const caller = platform.addService('caller', { image: image(stack), port: 8080, connectsTo: ['callee'] });
    const callee = platform.addService('callee', { image: image(stack), port: 8081 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [logicalId(stack, callee.securityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(stack, caller.securityGroup), 'GroupId'] },
      FromPort: 8081,
    });
    expect(template.toJSON().Resources[logicalId(stack, caller.service)].DependsOn).toContain(logicalId(stack, callee.service));
  });

  test('peer rules grow with declared calls, not with the square of the services', () => {
    const { stack, platform } = platformWith();
    for (let i = 0; i < 10; i++) {
      platform.addService(`svc${i}`, { image: image(stack), port: 8000 + i, connectsTo: i > 0 ? [`svc${i - 1}`] : [] });
    }
    const template = Template.fromStack(stack);
    const peerRules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter(r => String(r.Properties.Description).startsWith('Service Connect'));
    expect(peerRules).toHaveLength(9);
  });

  test('connectsTo naming an unknown service fails at synth', () => {
    const { stack, platform } = platformWith();
    platform.addService('orders', { image: image(stack), port: 8080, connectsTo: ['nope'] });
    expect(() => Template.fromStack(stack)).toThrow(/DataflowPlatform Test\/Dataflow: service "orders" connectsTo "nope", which is not a service of this platform \(services: orders\); add a service named "nope" or remove it from connectsTo/);
  });

  test('connectsTo naming something that can never be a service fails at once', () => {
    const { stack, platform } = platformWith();
    expect(() => platform.addService('orders', { image: image(stack), port: 8080, connectsTo: ['Billing Service'] }))
      .toThrow(/service "orders" has connectsTo "Billing Service", which can never name a service \(it must be a DNS label/);
  });

  test('a platform without services fails at synth, naming the platform', () => {
    const { stack } = platformWith();
    expect(() => Template.fromStack(stack)).toThrow(/DataflowPlatform Test\/Dataflow has no service: call addService\(\), or leave springCloudDataFlow enabled/);
  });

  test.each<[string, DataflowPlatformProps, RegExp]>([
    ['database', { database: { enabled: false, allocatedStorage: 100 } }, /database\.enabled is false, but database also sets allocatedStorage, which would be ignored; remove it, or turn database on/],
    ['kafka', { kafka: { enabled: false, numberOfBrokerNodes: 4, volumeSizeGiB: 20 } }, /kafka\.enabled is false, but kafka also sets numberOfBrokerNodes, volumeSizeGiB, which would be ignored; remove them/],
    ['springCloudDataFlow', { springCloudDataFlow: { enabled: false, version: '2.11.4' } }, /springCloudDataFlow\.enabled is false, but springCloudDataFlow also sets version/],
    ['kafkaConsole', { kafkaConsole: { enabled: false, port: 9081 } }, /kafkaConsole\.enabled is false, but kafkaConsole also sets port/],
  ])('a switched-off %s rejects its options', (_what, props, message) => {
    expect(() => new DataflowPlatform(newTestStack(), 'Dataflow', props)).toThrow(message);
  });

  test('the standalone constructs have no enabled switch: only the platform decides whether they exist', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    // @ts-expect-error enabled belongs to the platform's option types only
    new PostgresDatabase(stack, 'Db', { vpc: network.vpc, enabled: false });
    Template.fromStack(stack).resourceCountIs('AWS::RDS::DBInstance', 1);
  });

  test('escape hatches: the database, gateway and services name their primary resource as defaultChild', () => {
    const { stack, platform } = platformWith();
    const orders = platform.addService('orders', { image: image(stack), port: 8080 });
    expect(platform.database!.node.defaultChild).toBe(platform.database!.instance.node.defaultChild);
    expect(platform.gateway.node.defaultChild).toBe(platform.gateway.api.node.defaultChild);
    expect(orders.node.defaultChild).toBe(orders.service.node.defaultChild);
    (platform.database!.node.defaultChild as CfnResource).addPropertyOverride('MonitoringInterval', 60);
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { MonitoringInterval: 60 });
  });

  test('a service is grantable (its task role) and allowTo takes anything connectable', () => {
    const { stack, platform } = platformWith();
    const orders = platform.addService('orders', { image: image(stack), port: 8080 });
    expect(orders.grantPrincipal).toBe(orders.taskRole);
    const bucket = new s3.Bucket(stack, 'Reports', { enforceSSL: true });
    bucket.grantRead(orders);
    orders.allowTo(platform.database!, 5432, 'ExtraDatabaseAccess', 'orders to the database, by IConnectable');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(orders.taskRole.node.defaultChild as any) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:GetObject*']) })]) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { Description: 'orders to the database, by IConnectable', FromPort: 5432 });
  });

  test('multi-AZ, deletion protection and the final snapshot are reachable on their own, not only through production', () => {
    const { stack, platform } = platformWith({ database: { multiAz: true, deletionProtection: true, removalPolicy: RemovalPolicy.SNAPSHOT } });
    platform.addService('orders', { image: image(stack), port: 8080 });
    Template.fromStack(stack).hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({ MultiAZ: true, DeletionProtection: true }),
    });
    expectNoNagFindings(stack);
  });

  test('two services with one Service Connect name are refused', () => {
    const { stack, platform } = platformWith();
    platform.addService('orders', { image: image(stack), port: 8080 });
    expect(() => platform.addService('orders-v2', { image: image(stack), port: 8081, discoveryName: 'orders' }))
      .toThrow(/service "orders-v2" would be called "orders" through Service Connect, the name of service "orders" already/);
  });

  test('two names that give one construct id are refused, naming both', () => {
    const { stack, platform } = platformWith();
    platform.addService('x1', { image: image(stack), port: 8080 });
    expect(() => platform.addService('x-1', { image: image(stack), port: 8081 }))
      .toThrow(/services "x1" and "x-1" would both get the construct id "ServiceX1"; rename "x-1"/);
  });
});

describe('authorization', () => {
  function methodsOf(props: DataflowPlatformProps, build?: (stack: Stack) => DataflowPlatformProps) {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false }, ...(build ? build(stack) : props) });
    platform.addService('orders', { image: image(stack), port: 8080 });
    return { stack, platform, template: Template.fromStack(stack) };
  }

  test('cognito: every method uses one user pool authorizer', () => {
    const { template } = methodsOf({}, stack => ({
      apiAuthorization: ApiAuthorization.cognito(new cognito.UserPool(stack, 'Pool'), ['orders/read']),
    }));
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
    template.allResourcesProperties('AWS::ApiGateway::Method', {
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: Match.anyValue(),
      AuthorizationScopes: ['orders/read'],
    });
  });

  test('apiKey: every method requires a key of the usage plan on this stage', () => {
    const { template, platform } = methodsOf({ apiAuthorization: ApiAuthorization.apiKey() });
    template.allResourcesProperties('AWS::ApiGateway::Method', { ApiKeyRequired: true });
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
      Throttle: { RateLimit: 100, BurstLimit: 200 },
    });
    expect(platform.gateway.usagePlan).toBeDefined();
    expect(platform.gateway.apiKey).toBeDefined();
  });

  test('none: only when chosen, with a synth warning, and cdk-nag still flags it', () => {
    const { stack, template } = methodsOf({ apiAuthorization: ApiAuthorization.none() });
    template.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'NONE' });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('open to anyone who knows the URL'));
    expect(warnings).toHaveLength(1);
    expect(nagFindings(stack).map(f => f.rule)).toContain('AwsSolutions-APIG4');
  });

  test('iam: no warning and grantInvoke scopes execute-api:Invoke to the stage', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false } });
    platform.addService('orders', { image: image(stack), port: 8080 });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    platform.gateway.grantInvoke(role);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('open to anyone'))).toHaveLength(0);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'execute-api:Invoke',
          Resource: {
            'Fn::Join': ['', [
              'arn:aws:execute-api:us-east-1:123456789012:',
              { Ref: logicalId(stack, platform.gateway.api) },
              '/',
              { Ref: logicalId(stack, platform.gateway.stage) },
              '/*/*',
            ]],
          },
        })],
      },
    });
  });

  test('a web ACL is associated with the stage when given', () => {
    const { template } = methodsOf({ webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/platform/abc' });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/platform/abc',
      ResourceArn: Match.anyValue(),
    });
  });
});

describe('service options', () => {
  test('ECS Exec, Spot, ARM64, sizes, capacities and commands', () => {
    const { stack, platform } = platformWith();
    platform.addService('worker', {
      image: image(stack),
      port: 9000,
      cpu: 1024,
      memoryLimitMiB: 4096,
      desiredCount: 3,
      minCapacity: 2,
      maxCapacity: 6,
      targetCpuUtilizationPercent: 55,
      enableExecuteCommand: true,
      spot: true,
      cpuArchitecture: ecs.CpuArchitecture.ARM64,
      command: ['java', '-jar', 'app.jar'],
      healthCheckGracePeriod: Duration.seconds(120),
      user: '1000',
      readonlyRootFilesystem: true,
      apiPath: '/team/worker/',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '4096',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({
        Command: ['java', '-jar', 'app.jar'],
        Memory: 4096,
        User: '1000',
        ReadonlyRootFilesystem: true,
      })],
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 3,
      EnableExecuteCommand: true,
      HealthCheckGracePeriodSeconds: 120,
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 55 }),
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: 'com.amazonaws.us-east-1.ssmmessages' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'team' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'worker' });
    expect(platform.findService('worker')!.apiPath).toBe('team/worker');
    expectNoNagFindings(stack);
  });

  test('secrets reach the container as ECS secrets, not environment', () => {
    const { stack, platform } = platformWith();
    const secret = new secretsmanager.Secret(stack, 'Token');
    platform.addService('orders', {
      image: image(stack),
      port: 8080,
      secrets: { TOKEN: ecs.Secret.fromSecretsManager(secret) },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Secrets: [{ Name: 'TOKEN', ValueFrom: { Ref: Match.stringLikeRegexp('^Token') } }],
        Environment: Match.absent(),
      })],
    });
  });
});

describe('production', () => {
  test('3 AZs, a year of retained logs, 2 tasks per service, deletion protection', () => {
    const { stack, platform } = platformWith({ production: true });
    const orders = platform.addService('orders', { image: image(stack), port: 8080 });
    const template = Template.fromStack(stack);
    expect(platform.vpc.isolatedSubnets).toHaveLength(3);
    template.allResources('AWS::Logs::LogGroup', {
      Properties: Match.objectLike({ RetentionInDays: 365 }),
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    expect(orders.scaling).toBeDefined();
    expectNoNagFindings(stack);
  });

  test('every production default is overridable', () => {
    const { stack, platform } = platformWith({
      production: true,
      maxAzs: 2,
      logRetention: logs.RetentionDays.TWO_YEARS,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    platform.addService('orders', { image: image(stack), port: 8080, desiredCount: 1, minCapacity: 1 });
    const template = Template.fromStack(stack);
    expect(platform.vpc.isolatedSubnets).toHaveLength(2);
    template.allResources('AWS::Logs::LogGroup', {
      Properties: Match.objectLike({ RetentionInDays: 731 }),
      DeletionPolicy: 'Delete',
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1 });
  });
});

describe('networks', () => {
  test('a supplied VPC is used as it is', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const platform = new DataflowPlatform(stack, 'Dataflow', { vpc, springCloudDataFlow: { enabled: false } });
    platform.addService('orders', { image: image(stack), port: 8080 });
    expect(platform.vpc).toBe(vpc);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test('the ecs, ecs-agent and ecs-telemetry endpoints where AWS requires them: regions from 2023-12-23 on', () => {
    // "Considerations for endpoints in Regions introduced starting on December 23, 2023"
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
    for (const [region, expected] of [['ca-west-1', true], ['eu-west-1', false], ['xx-future-1', true]] as const) {
      const app = new App({ context: testContext() });
      const stack = new Stack(app, 'Regional', { env: { account: '123456789012', region } });
      // (No data tier: db.t4g.micro, the database default, is not offered in ca-west-1.)
      const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false }, database: { enabled: false }, kafka: { enabled: false } });
      platform.addService('orders', { image: image(stack), port: 8080 });
      for (const id of ['Ecs', 'EcsAgent', 'EcsTelemetry']) {
        expect({ region, id, present: platform.network.findInterfaceEndpoint(id) !== undefined }).toEqual({ region, id, present: expected });
      }
      expect(Template.fromStack(stack).toJSON().Conditions).toBeUndefined();
    }
  });

  test('in a stack whose region is unknown, the ECS endpoints exist under a condition on the region', () => {
    const agnostic = new Stack(new App({ context: testContext() }), 'Agnostic');
    const platform = new DataflowPlatform(agnostic, 'Dataflow', { springCloudDataFlow: { enabled: false } });
    platform.addService('orders', { image: image(agnostic), port: 8080 });
    const template = Template.fromStack(agnostic);
    // True outside the closed set of regions launched before 2023-12-23 (new regions included).
    const condition = template.toJSON().Conditions.InRegionNeedingEcsEndpoints;
    const groups = condition['Fn::Not'][0]['Fn::Or'];
    const regions = groups.flatMap((g: any) => (g['Fn::Or'] ?? [g]).map((e: any) => e['Fn::Equals'][1]));
    expect(regions).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-4']));
    expect(regions).not.toContain('ca-west-1');
    for (const group of groups) {
      expect((group['Fn::Or'] ?? [group]).length).toBeLessThanOrEqual(10);
    }
    for (const id of ['Ecs', 'EcsAgent', 'EcsTelemetry']) {
      const endpoint = platform.network.findInterfaceEndpoint(id)!;
      expect(template.toJSON().Resources[logicalId(agnostic, endpoint)].Condition).toBe('InRegionNeedingEcsEndpoints');
    }
  });
});

describe('bad input fails at synth with a clear message', () => {
  const base = (stack: Stack): PlatformServiceOptions => ({ image: image(stack), port: 8080 });

  function expectAddServiceError(setup: (platform: DataflowPlatform, stack: Stack) => void, message: RegExp) {
    const { stack, platform } = platformWith();
    expect(() => setup(platform, stack)).toThrow(message);
  }

  test('duplicate service names', () => expectAddServiceError((p, s) => {
    p.addService('orders', base(s));
    p.addService('orders', { ...base(s), port: 8081 });
  }, /a service named "orders" already exists; give each service its own name/));

  test.each(['Orders', 'orders_1', '1orders', 'orders-', 'a'.repeat(64), ''])('a name that is not a DNS label: "%s"', name =>
    expectAddServiceError((p, s) => p.addService(name, base(s)), /service name ".*" is not valid: it (must be a DNS label|has 64 characters)/));

  test('two services on one port', () => expectAddServiceError((p, s) => {
    p.addService('dataflow', { ...base(s), port: 9393 });
    p.addService('skipper', { ...base(s), port: 9393 });
  }, /service "skipper" uses port 9393, already used by "dataflow"; give each service its own port/));

  test.each([0, 65536, -1, 80.5])('port %p outside 1-65535', port =>
    expectAddServiceError((p, s) => p.addService('orders', { ...base(s), port }), /has port .*; a port must be a whole number from 1 to 65535/));

  test('a port reserved by the platform', () => expectAddServiceError((p, s) => p.addService('orders', { ...base(s), port: 20001 }),
    /uses port 20001, reserved by the platform \(20000-20190: Spring Cloud Data Flow stream apps/));

  test('an API path that collides with another service', () => expectAddServiceError((p, s) => {
    p.addService('orders', base(s));
    p.addService('items', { ...base(s), port: 8081, apiPath: 'orders/items' });
  }, /service "items" would route API path "\/orders\/items", which overlaps "\/orders" of service "orders"/));

  test('an API path with braces', () => expectAddServiceError((p, s) => p.addService('orders', { ...base(s), apiPath: '{x}' }),
    /API path "\{x\}" is not valid/));

  test.each([[256, 4096, /memoryLimitMiB 4096 does not go with cpu 256; Fargate accepts 512, 1024, 2048 MiB/], [300, 1024, /cpu 300 is not a Fargate size/], [4096, 8000, /Fargate accepts 8192 to 30720 in steps of 1024 MiB for cpu 4096/]])(
    'cpu %p with memory %p', (cpu, memoryLimitMiB, message) =>
      expectAddServiceError((p, s) => p.addService('orders', { ...base(s), cpu, memoryLimitMiB }), message));

  test('desiredCount above maxCapacity names the props the user set', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), desiredCount: 5, maxCapacity: 3 }),
    /desiredCount 5 above maxCapacity 3; raise maxCapacity or lower desiredCount/));

  test('desiredCount below minCapacity', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), desiredCount: 1, minCapacity: 2 }),
    /desiredCount 1 below minCapacity 2/));

  test('scaling options on a service without autoscaling', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), autoScaling: false, maxCapacity: 3 }),
    /autoScaling: false but sets maxCapacity; remove it, or turn autoScaling on/));

  test('an apiPath on a service without an API route', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), apiRoute: false, apiPath: 'x' }),
    /apiRoute: false but sets apiPath "x"/));

  test.each<[number, number, RegExp]>([
    [101, 200, /minHealthyPercent 101; choose a whole number from 0 to 100/],
    [100, 100, /maxHealthyPercent 100 with minHealthyPercent 100; maxHealthyPercent must be a whole number above minHealthyPercent/],
  ])('deployment percents %p/%p', (minHealthyPercent, maxHealthyPercent, message) => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), minHealthyPercent, maxHealthyPercent }), message));

  test('maxCapacity below minCapacity', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), minCapacity: 4, maxCapacity: 2 }),
    /maxCapacity 2 below minCapacity 4/));

  test('an API path past the REST API resource quota', () => expectAddServiceError((p, s) => {
    for (let i = 0; i <= 150; i++) {
      p.addService(`svc${i}`, { ...base(s), port: 8000 + i });
    }
  }, /route "\/svc150" brings the REST API to 302 resources, over the quota of 300 per REST API/));

  test('an environment name that would not fit tags and names', () => {
    const stack = newTestStack();
    expect(() => new DataflowPlatform(stack, 'Dataflow', { environmentName: 'Production Environment' }))
      .toThrow(/environmentName "Production Environment" must be 1 to 32 lowercase letters/);
    expect(() => new DataflowPlatform(stack, 'Dataflow2', { environmentName: 'e'.repeat(33) }))
      .toThrow(/must be 1 to 32/);
  });

  test('a service that lists itself in connectsTo', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), connectsTo: ['orders'] }), /lists itself in connectsTo/));

  test('a health check path without a leading slash', () => expectAddServiceError(
    (p, s) => p.addService('orders', { ...base(s), healthCheckPath: 'health' }), /healthCheckPath "health"; it must start with "\/"/));
});

describe('data tier wiring', () => {
  function withData(props: DataflowPlatformProps = {}, options: Partial<PlatformServiceOptions> = {}) {
    const { stack, platform } = platformWith(props);
    const service = platform.addService('orders', { image: image(stack), port: 8080, useDatabase: true, useKafka: true, ...options });
    const other = platform.addService('web', { image: image(stack), port: 8081 });
    return { stack, platform, service, other, template: Template.fromStack(stack) };
  }

  test('a database and a Kafka cluster by default', () => {
    const { platform, template } = withData();
    expect(platform.database).toBeInstanceOf(PostgresDatabase);
    expect(platform.kafka).toBeInstanceOf(KafkaCluster);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::MSK::Cluster', 1);
  });

  test('useDatabase: a user and a database of the service\'s own; its URL and its credentials, never the master\'s', () => {
    const { stack, platform, template } = withData();
    const user = stack.node.findAll().find((c): c is DatabaseUser => c instanceof DatabaseUser && c.username === 'orders')!;
    expect(user.databaseName).toBe('orders');
    const secretRef = stack.resolve(user.secret.secretArn);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'orders',
        Environment: Match.arrayWith([
          { Name: 'SPRING_DATASOURCE_URL', Value: stack.resolve(user.jdbcUrl) },
          { Name: 'SPRING_DATASOURCE_DRIVER_CLASS_NAME', Value: 'org.postgresql.Driver' },
        ]),
        Secrets: Match.arrayWith([
          { Name: 'SPRING_DATASOURCE_USERNAME', ValueFrom: { 'Fn::Join': ['', [secretRef, ':username::']] } },
          { Name: 'SPRING_DATASOURCE_PASSWORD', ValueFrom: { 'Fn::Join': ['', [secretRef, ':password::']] } },
        ]),
      })],
    });
    expect(JSON.stringify(stack.resolve(user.jdbcUrl))).toContain('/orders?sslmode=require');
    // The user is created after the Secrets Manager endpoint its function reads through (and deleted before it).
    const userResource = template.toJSON().Resources[stack.getLogicalId(user.node.defaultChild as CfnResource)];
    expect(userResource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/NetworkSecretsManager/)]));
    // The service starts after its user exists.
    const serviceResource = Object.entries(template.findResources('AWS::ECS::Service')).find(([id]) => id.includes('ServiceOrders'))![1];
    expect(serviceResource.DependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(user.node.defaultChild as CfnResource)]));
    // No service's task or execution role may read the master secret; only the user function does.
    const master = JSON.stringify(stack.resolve(platform.database!.secret.secretArn));
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      if (JSON.stringify(policy.Properties.PolicyDocument).includes(master)) {
        expect(id).toMatch(/DatabaseUserProvider/);
      }
    }
    for (const taskDef of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      expect(JSON.stringify(taskDef)).not.toContain(master);
    }
  });

  test('each service that uses the database has its own user and secret; the servers too', () => {
    const { stack, platform } = platformWith({ springCloudDataFlow: {} });
    platform.addService('order-api', { image: image(stack), port: 8080, useDatabase: true });
    platform.addService('rds-sync', { image: image(stack), port: 8081, useDatabase: true });
    const users = stack.node.findAll().filter((c): c is DatabaseUser => c instanceof DatabaseUser);
    expect(users.map(u => u.username).sort()).toEqual(['app_rds_sync', 'dataflow', 'order_api', 'skipper']);
    expect(new Set(users.map(u => stack.resolve(u.secret.secretArn).Ref)).size).toBe(4);
  });

  test('passwords never appear in a plain environment variable', () => {
    const { template } = withData();
    for (const taskDef of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      for (const container of taskDef.Properties.ContainerDefinitions) {
        for (const variable of container.Environment ?? []) {
          expect(variable.Name).not.toMatch(/PASSWORD|SECRET|TOKEN/);
        }
      }
    }
  });

  test('useKafka: brokers from the lookup and the TLS setting for Spring Kafka and the binder', () => {
    const { stack, platform, template } = withData();
    const brokers = stack.resolve(platform.kafka!.bootstrapBrokersTls);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'orders',
        Environment: Match.arrayWith([
          { Name: 'SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS', Value: brokers },
          { Name: 'SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL', Value: 'SSL' },
          { Name: 'SPRING_KAFKA_BOOTSTRAP_SERVERS', Value: brokers },
          { Name: 'SPRING_KAFKA_PROPERTIES_SECURITY_PROTOCOL', Value: 'SSL' },
        ]),
      })],
    });
  });

  test('exactly one rule to each data service, from the service that uses it, on its one port', () => {
    const { stack, platform, service, template } = withData();
    const rulesInto = (group: ec2.ISecurityGroup) => Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map(r => r.Properties)
      .filter(p => JSON.stringify(p.GroupId).includes(logicalId(stack, group as ec2.SecurityGroup)));
    const serviceSg = { 'Fn::GetAtt': [logicalId(stack, service.securityGroup), 'GroupId'] };
    // The service's rule, and the database-user function's.
    expect(rulesInto(platform.database!.connections.securityGroups[0]).filter(r => r.Description !== 'Database-user function')).toEqual([
      expect.objectContaining({ FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: serviceSg }),
    ]);
    expect(rulesInto(platform.kafka!.connections.securityGroups[0])).toEqual([
      expect.objectContaining({ FromPort: 9094, ToPort: 9094, SourceSecurityGroupId: serviceSg }),
    ]);
  });

  test('a service that uses neither gets no data settings', () => {
    const { template } = withData();
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'web', Environment: Match.absent(), Secrets: Match.absent() })],
    });
  });

  test('IAM Kafka: SASL settings and topic grants on the task role', () => {
    const { template } = withData({ kafka: { clientAuthentication: KafkaClientAuthentication.IAM } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'orders',
        Environment: Match.arrayWith([
          { Name: 'SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL', Value: 'SASL_SSL' },
          { Name: 'SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SASL_MECHANISM', Value: 'AWS_MSK_IAM' },
        ]),
      })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ServiceOrdersTaskDefTaskRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'] })]) },
    });
  });

  test('database and Kafka options reach the constructs', () => {
    const { template } = withData({
      database: { databaseName: 'shop', allocatedStorage: 30 },
      kafka: { numberOfBrokerNodes: 4, kafkaVersion: '3.9.x' },
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBName: 'shop', AllocatedStorage: '30' });
    template.hasResourceProperties('AWS::MSK::Cluster', { NumberOfBrokerNodes: 4, KafkaVersion: '3.9.x' });
  });

  test('a platform without data services pays for neither', () => {
    const { stack, platform } = platformWith({ database: { enabled: false }, kafka: { enabled: false } });
    platform.addService('web', { image: image(stack), port: 8080 });
    const template = Template.fromStack(stack);
    expect(platform.database).toBeUndefined();
    expect(platform.kafka).toBeUndefined();
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::MSK::Cluster', 0);
    template.resourceCountIs('Custom::AWS', 0);
  });

  test('useDatabase on a platform whose database is off fails', () => {
    const { stack, platform } = platformWith({ database: { enabled: false } });
    expect(() => platform.addService('orders', { image: image(stack), port: 8080, useDatabase: true }))
      .toThrow(/service "orders" has useDatabase: true, but the platform's database is turned off \(database.enabled: false\)/);
  });

  test('useKafka on a platform whose Kafka is off fails', () => {
    const { stack, platform } = platformWith({ kafka: { enabled: false } });
    expect(() => platform.addService('orders', { image: image(stack), port: 8080, useKafka: true }))
      .toThrow(/service "orders" has useKafka: true, but the platform's Kafka cluster is turned off/);
  });

  test('a variable the wiring sets may not be set by hand too', () => {
    const { stack, platform } = platformWith();
    expect(() => platform.addService('orders', {
      image: image(stack), port: 8080, useDatabase: true, environment: { SPRING_DATASOURCE_URL: 'jdbc:postgresql://elsewhere/db' },
    })).toThrow(/service "orders" sets SPRING_DATASOURCE_URL, which useDatabase sets for it/);
  });

  test('bad data options fail at synth', () => {
    expect(() => platformWith({ database: { allocatedStorage: 5 } })).toThrow(/allocatedStorage 5 GiB/);
    expect(() => platformWith({ kafka: { numberOfBrokerNodes: 3 } })).toThrow(/numberOfBrokerNodes 3 is not a multiple of the 2 client subnets/);
  });

  test('passes cdk-nag with both wired', () => {
    const { stack } = withData();
    expectNoNagFindings(stack);
  });
});

describe('service placement', () => {
  test('past maxServicesPerStack, services go to nested stacks with their own execution role, in order', () => {
    const { stack, platform } = platformWith({ maxServicesPerStack: 2 });
    const services = [0, 1, 2, 3, 4].map(i => platform.addService(`svc${i}`, { image: image(stack), port: 8000 + i, useDatabase: true }));
    const stackOf = (i: number) => Stack.of(services[i]);
    expect(stackOf(0)).toBe(stack);
    expect(stackOf(1)).toBe(stack);
    expect(stackOf(2)).toBeInstanceOf(NestedStack);
    expect(stackOf(3)).toBe(stackOf(2));
    expect(stackOf(4)).not.toBe(stackOf(2));
    expect(stackOf(2).node.id).toBe('Services2');
    const nested = Template.fromStack(stackOf(2));
    nested.resourceCountIs('AWS::ECS::Service', 2);
    nested.resourceCountIs('AWS::IAM::Role', 3); // one execution role, two task roles
    // The rule to the database is created with the service, in its stack, before its tasks start.
    const rules = nested.findResources('AWS::EC2::SecurityGroupIngress');
    expect(Object.values(rules).map(r => r.Properties.FromPort)).toEqual([5432, 5432]);
    const ecsService = Object.entries(nested.findResources('AWS::ECS::Service'))[0][1];
    expect(ecsService.DependsOn.some((d: string) => d in rules)).toBe(true);
    expectNoNagFindings(stack);
  });

  test('a service in a nested stack gets its IAM Kafka topic grant acknowledged there too', () => {
    const { stack, platform } = platformWith({ maxServicesPerStack: 1, kafka: { clientAuthentication: KafkaClientAuthentication.IAM } });
    platform.addService('a', { image: image(stack), port: 8080, useKafka: true });
    const nested = platform.addService('b', { image: image(stack), port: 8081, useKafka: true });
    expect(Stack.of(nested)).toBeInstanceOf(NestedStack);
    Template.fromStack(Stack.of(nested)).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kafka-cluster:WriteData']) })]) },
    });
    expectNoNagFindings(stack);
  });

  test('maxServicesPerStack must fit a stack', () => {
    expect(() => platformWith({ maxServicesPerStack: 0 })).toThrow(/maxServicesPerStack 0 must be a whole number from 1 to 30/);
    expect(() => platformWith({ maxServicesPerStack: 40 })).toThrow(/maxServicesPerStack 40/);
  });
});
