import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
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
