/**
 * 100 services in one DataflowPlatform: every CloudFormation stack stays under AWS's quotas
 * (500 resources, 1 MB template), every load balancer under 50 listeners, the REST API under
 * 300 resources. Quotas come from src/private/quotas.ts, where each names its documentation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataflowPlatform } from '../src';
import { expectNoNagFindings, newTestStack } from './helpers/gates';
import { QUOTAS } from '../src/private/quotas';

const SERVICES = 100;

describe.each([false, true])(`a platform of ${SERVICES} services, production: %s`, (production) => {
  let stack: Stack;
  let platform: DataflowPlatform;
  let templates: Array<{ name: string; template: Record<string, any>; bytes: number }>;

  beforeAll(() => {
    stack = newTestStack();
    platform = new DataflowPlatform(stack, 'Dataflow', { production });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'services');
    for (let i = 0; i < SERVICES; i++) {
      platform.addService(`svc${i}`, {
        image: ecs.ContainerImage.fromEcrRepository(repository, 'v1'),
        port: 8000 + i,
        healthCheckPath: '/health',
        useDatabase: i % 2 === 0,
        useKafka: i % 3 === 0,
        connectsTo: i > 0 ? [`svc${i - 1}`] : [],
      });
    }
    const assembly = stack.node.root.node.tryFindChild('Test') ? (stack.node.root as any).synth() : undefined;
    const stacks: Stack[] = [stack, ...stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack)];
    templates = stacks.map(s => {
      const file = path.join(assembly.directory, s.templateFile);
      return { name: s.node.path, template: Template.fromStack(s).toJSON(), bytes: fs.statSync(file).size };
    });
  });

  test('the services are spread over nested stacks', () => {
    expect(platform.services).toHaveLength(SERVICES + 2);
    expect(templates.length).toBeGreaterThanOrEqual(Math.ceil((SERVICES + 2) / 20));
  });

  test(`no stack holds more than ${QUOTAS.resourcesPerStack} resources or ${QUOTAS.templateBytes} bytes`, () => {
    for (const { name, template, bytes } of templates) {
      const resources = Object.keys(template.Resources ?? {}).length;
      expect({ name, resources: resources <= QUOTAS.resourcesPerStack }).toEqual({ name, resources: true });
      expect({ name, bytes: bytes <= QUOTAS.templateBytes }).toEqual({ name, bytes: true });
    }
  });

  test(`no load balancer has more than ${QUOTAS.listenersPerNetworkLoadBalancer} listeners, and one VPC link serves them all`, () => {
    const perBalancer = new Map<string, number>();
    for (const { template } of templates) {
      for (const listener of Object.values(template.Resources ?? {}) as any[]) {
        if (listener.Type === 'AWS::ElasticLoadBalancingV2::Listener') {
          const key = JSON.stringify(listener.Properties.LoadBalancerArn);
          perBalancer.set(key, (perBalancer.get(key) ?? 0) + 1);
        }
      }
    }
    const counts = [...perBalancer.values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(SERVICES + 2);
    expect(Math.max(...counts)).toBeLessThanOrEqual(QUOTAS.listenersPerNetworkLoadBalancer);
    expect(platform.gateway.loadBalancers).toHaveLength(Math.ceil((SERVICES + 2) / QUOTAS.listenersPerNetworkLoadBalancer));
    const links = templates.flatMap(t => Object.values(t.template.Resources ?? {}) as any[]).filter(r => r.Type === 'AWS::ApiGatewayV2::VpcLink');
    expect(links).toHaveLength(1);
  });

  test(`the REST API holds at most ${QUOTAS.resourcesPerRestApi} resources`, () => {
    const resources = templates.flatMap(t => Object.values(t.template.Resources ?? {}) as any[]).filter(r => r.Type === 'AWS::ApiGateway::Resource');
    // Two per routed service: the user's, and dataflow (skipper has no route, only a listener).
    expect(resources).toHaveLength(2 * (SERVICES + 1));
    expect(resources.length).toBeLessThanOrEqual(QUOTAS.resourcesPerRestApi);
  });

  test('every route is still /<name>/{proxy+}', () => {
    expect(platform.findService('svc99')!.apiPath).toBe('svc99');
    expect(platform.findService('svc99')!.route!.loadBalancer).toBe(platform.gateway.loadBalancers[2]);
  });

  test(`the dashboard stays within CloudWatch's ${QUOTAS.widgetsPerDashboard} widgets and ${QUOTAS.metricsPerDashboard} metrics`, () => {
    const dashboards = templates.flatMap(t => Object.values(t.template.Resources ?? {}) as any[]).filter(r => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = (dashboards[0].Properties.DashboardBody['Fn::Join'][1] as unknown[]).map(p => typeof p === 'string' ? p : 'x').join('');
    const widgets: any[] = JSON.parse(body).widgets;
    const metrics = widgets.reduce((n, w) => n + (w.properties?.metrics?.length ?? 0), 0);
    // Per service: targets, CPU and memory, Service Connect; production adds the task counts.
    expect(widgets.filter(w => /^svc\d+: /.test(w.properties?.title ?? ''))).toHaveLength(SERVICES * (production ? 4 : 3));
    expect(widgets.length).toBeLessThanOrEqual(QUOTAS.widgetsPerDashboard);
    expect(metrics).toBeLessThanOrEqual(QUOTAS.metricsPerDashboard);
  });

  test('each service\'s alarms live in the service\'s own stack', () => {
    for (const name of ['svc0', 'svc99']) {
      const service = platform.findService(name)!;
      const alarms = platform.monitoring!.alarmsOf(name)!;
      for (const alarm of [alarms.unhealthyTargets, alarms.tasksBelowDesired, alarms.serverErrors!]) {
        expect(Stack.of(alarm)).toBe(Stack.of(service));
      }
    }
    expect(Stack.of(platform.findService('svc99')!)).toBeInstanceOf(NestedStack);
  });

  test('passes cdk-nag in every stack', () => {
    expectNoNagFindings(stack);
  });
});

describe('a stack takes no more services once it holds 420 resources', () => {
  test('30 services that all use the database and Kafka, maxServicesPerStack 30: no stack reaches 500 resources', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false }, maxServicesPerStack: 30 });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'services');
    for (let i = 0; i < 30; i++) {
      platform.addService(`svc${i}`, { image: ecs.ContainerImage.fromEcrRepository(repository, 'v1'), port: 8000 + i, useDatabase: true, useKafka: true });
    }
    const inRoot = platform.services.filter(s => Stack.of(s) === stack).length;
    // About 21 resources a service: the budget, not maxServicesPerStack, ends the first stack.
    expect(inRoot).toBeLessThan(30);
    expect(Stack.of(platform.findService('svc29')!)).toBeInstanceOf(NestedStack);
    for (const s of [stack, Stack.of(platform.findService('svc29')!)]) {
      const resources = Object.keys(Template.fromStack(s).toJSON().Resources).length;
      expect(resources).toBeLessThanOrEqual(QUOTAS.resourcesPerStack - 50);
    }
  });
});
