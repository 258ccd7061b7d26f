import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { PlatformService, PlatformServiceProps, PrivateGateway, PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

/** A PlatformService used alone: the caller brings the cluster and the gateway. */
function standalone(overrides: Partial<PlatformServiceProps> = {}) {
  const stack = newTestStack();
  const network = new PrivateNetwork(stack, 'Network');
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc: network.vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    defaultCloudMapNamespace: { name: 'standalone', type: servicediscovery.NamespaceType.HTTP, useForServiceConnect: true },
  });
  const gateway = new PrivateGateway(stack, 'Gateway', { vpc: network.vpc });
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'reports');
  const make = () => new PlatformService(stack, 'Reports', {
    name: 'reports',
    image: ecs.ContainerImage.fromEcrRepository(repository, '1.0'),
    port: 8443,
    cluster,
    gateway,
    ...overrides,
  });
  return { stack, make };
}

describe('PlatformService used alone', () => {
  test('creates its own execution role, log group, route and Service Connect entry', () => {
    const { stack, make } = standalone();
    const service = make();
    const template = Template.fromStack(stack);
    expect(service.endpoint).toBe('http://reports:8443');
    expect(service.url).toBeDefined();
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReportsTaskDefExecutionRole'), 'Arn'] },
      ContainerDefinitions: [Match.objectLike({
        Name: 'reports',
        LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-stream-prefix': 'reports' }) }),
      })],
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({ Namespace: 'standalone' }),
    });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'reports' });
  });

  test('passes cdk-nag', () => {
    const { stack, make } = standalone();
    make();
    expectNoNagFindings(stack);
  });

  test.each<[string, Partial<PlatformServiceProps>, RegExp]>([
    ['name', { name: 'Reports!' }, /service name "Reports!" is not valid/],
    ['port', { port: 70000 }, /has port 70000; a port must be a whole number from 1 to 65535/],
    ['cpu/memory', { cpu: 512, memoryLimitMiB: 512 }, /memoryLimitMiB 512 does not go with cpu 512; Fargate accepts 1024 to 4096 in steps of 1024 MiB/],
    ['desiredCount', { desiredCount: -1, minCapacity: 0 }, /desiredCount -1; it must be a whole number of 0 or more/],
    ['targetCpuUtilizationPercent', { targetCpuUtilizationPercent: 150 }, /targetCpuUtilizationPercent 150/],
  ])('rejects a bad %s', (_what, overrides, message) => {
    const { make } = standalone(overrides);
    expect(make).toThrow(message);
  });
});

describe('singletons and services without a route', () => {
  test('apiRoute: false keeps the health-checked listener but adds no API resource or method', () => {
    const { stack, make } = standalone({ apiRoute: false });
    const service = make();
    // (API Gateway cannot deploy an API without methods: another service has a route.)
    new PlatformService(stack, 'Routed', {
      name: 'routed',
      image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Other', 'routed'), '1.0'),
      port: 8080,
      cluster: service.service.cluster,
      gateway: stack.node.findChild('Gateway') as PrivateGateway,
    });
    const template = Template.fromStack(stack);
    expect(service.route).toBeUndefined();
    expect(service.url).toBeUndefined();
    expect(service.apiPath).toBeUndefined();
    expect(template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'reports' } })).toEqual({});
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 8443 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8443, HealthCheckProtocol: 'HTTP' });
  });

  test('a listener port cannot be taken twice, route or not', () => {
    const { stack, make } = standalone({ apiRoute: false });
    const service = make();
    expect(() => new PlatformService(stack, 'Second', {
      name: 'other',
      image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Other', 'other'), '1.0'),
      port: 8443,
      cluster: service.service.cluster,
      gateway: (stack.node.findChild('Gateway') as PrivateGateway),
    })).toThrow(/port 8443 already has a listener/);
  });

  test('autoScaling: false, stop-before-start deployments and Service Connect timeouts', () => {
    const { stack, make } = standalone({
      autoScaling: false,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      serviceConnectIdleTimeout: Duration.minutes(15),
      serviceConnectPerRequestTimeout: Duration.minutes(10),
    });
    const service = make();
    const template = Template.fromStack(stack);
    expect(service.scaling).toBeUndefined();
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
      ServiceConnectConfiguration: Match.objectLike({
        Services: [Match.objectLike({ Timeout: { IdleTimeoutSeconds: 900, PerRequestTimeoutSeconds: 600 } })],
      }),
    });
  });

  test('by default: autoscaling from desiredCount to twice it, 100/200 % deployments, a 30 s per-request timeout above API Gateway\'s 29 s', () => {
    const { stack, make } = standalone({ desiredCount: 2 });
    make();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 4 });
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, MaximumPercent: 200 }),
      ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ Timeout: { PerRequestTimeoutSeconds: 30 } })] }),
    });
  });
});

describe('tokens pass through validation', () => {
  test.each<[string, (stack: import('aws-cdk-lib').Stack) => Partial<PlatformServiceProps>]>([
    ['desiredCount', s => ({ desiredCount: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber })],
    ['desiredCount with maxCapacity', s => ({ desiredCount: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber, maxCapacity: 3 })],
    ['minCapacity and maxCapacity', s => ({ minCapacity: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber, maxCapacity: new CfnParameter(s, 'Q', { type: 'Number' }).valueAsNumber })],
    ['healthCheckPath', s => ({ healthCheckPath: new CfnParameter(s, 'P').valueAsString })],
    ['cpu and memory', s => ({ cpu: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber, memoryLimitMiB: new CfnParameter(s, 'Q', { type: 'Number' }).valueAsNumber })],
    ['targetCpuUtilizationPercent', s => ({ targetCpuUtilizationPercent: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber })],
    ['deployment percents', s => ({ minHealthyPercent: new CfnParameter(s, 'P', { type: 'Number' }).valueAsNumber, maxHealthyPercent: new CfnParameter(s, 'Q', { type: 'Number' }).valueAsNumber })],
  ])('a token %s', (_what, props) => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const cluster = new ecs.Cluster(stack, 'Cluster', {
      vpc: network.vpc,
      defaultCloudMapNamespace: { name: 'tokens', type: servicediscovery.NamespaceType.HTTP, useForServiceConnect: true },
    });
    const gateway = new PrivateGateway(stack, 'Gateway', { vpc: network.vpc });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'reports');
    expect(() => new PlatformService(stack, 'Reports', {
      name: 'reports', image: ecs.ContainerImage.fromEcrRepository(repository, '1.0'), port: 8443, cluster, gateway, ...props(stack),
    })).not.toThrow();
  });
});

describe('metrics', () => {
  test('CPU and memory from AWS/ECS, healthy and unhealthy targets from AWS/NetworkELB', () => {
    const { make } = standalone();
    const service = make();
    expect([service.metricCpuUtilization(), service.metricMemoryUtilization()].map(m => [m.namespace, m.metricName]))
      .toEqual([['AWS/ECS', 'CPUUtilization'], ['AWS/ECS', 'MemoryUtilization']]);
    for (const [metric, name] of [[service.metricHealthyTargets(), 'HealthyHostCount'], [service.metricUnhealthyTargets(), 'UnHealthyHostCount']] as const) {
      expect([metric.namespace, metric.metricName]).toEqual(['AWS/NetworkELB', name]);
      expect(Object.keys(metric.dimensions ?? {}).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
    }
  });
});

describe('Terraform parity: environment files and Service Connect names', () => {
  test('environmentFiles reach the container, and the execution role may read them', () => {
    const { stack, make } = standalone({});
    const bucket = s3.Bucket.fromBucketName(stack, 'Config', 'orders-config');
    const service = new PlatformService(stack, 'WithFiles', {
      name: 'withfiles',
      image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'R2', 'r2'), '1'),
      port: 8081,
      cluster: make().service.cluster,
      gateway: stack.node.findChild('Gateway') as PrivateGateway,
      environmentFiles: [ecs.EnvironmentFile.fromBucket(bucket, 'orders.env')],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'withfiles', EnvironmentFiles: [{ Type: 's3', Value: Match.stringLikeRegexp('orders-config/orders\\.env$') }] })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(service.taskDefinition.executionRole!.node.defaultChild as any) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject', Resource: Match.stringLikeRegexp('orders-config/orders\\.env$') })]) },
    });
  });

  test('discoveryName and serviceConnectPort differ from the name and container port', () => {
    const { stack, make } = standalone({ discoveryName: 'reports-api', serviceConnectPort: 80 });
    const service = make();
    expect(service.endpoint).toBe('http://reports-api:80');
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({
        Services: [Match.objectLike({ DiscoveryName: 'reports-api', ClientAliases: [{ DnsName: 'reports-api', Port: 80 }], PortName: 'reports' })],
      }),
    });
  });

  test.each<[string, Partial<PlatformServiceProps>, RegExp]>([
    ['discoveryName', { discoveryName: 'Reports API' }, /discoveryName "Reports API", which is not valid/],
    ['serviceConnectPort', { serviceConnectPort: 0 }, /serviceConnectPort 0; a port must be a whole number from 1 to 65535/],
  ])('rejects a bad %s', (_what, overrides, message) => {
    const { make } = standalone(overrides);
    expect(make).toThrow(message);
  });
});
