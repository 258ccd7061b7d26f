import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DataflowPlatform, DataflowPlatformProps } from '../../src';
import { estimatedMaxConnections } from '../../src/monitoring/metrics';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

function image(stack: Stack): ecs.ContainerImage {
  const repository = (stack.node.tryFindChild('Repo') as ecr.IRepository | undefined)
    ?? ecr.Repository.fromRepositoryName(stack, 'Repo', 'services');
  return ecs.ContainerImage.fromEcrRepository(repository, 'v1');
}

function platformWith(props: DataflowPlatformProps = {}, stack = newTestStack()) {
  const platform = new DataflowPlatform(stack, 'Dataflow', props);
  const orders = platform.addService('orders', { image: image(stack), port: 8080, healthCheckPath: '/actuator/health' });
  return { stack, platform, orders, template: Template.fromStack(stack) };
}

function alarmsOf(template: Template): Record<string, any> {
  return template.findResources('AWS::CloudWatch::Alarm');
}

function alarm(template: Template, idPart: string): any {
  const matches = Object.entries(alarmsOf(template)).filter(([id]) => id.includes(idPart));
  expect(matches.map(([id]) => id)).toHaveLength(1);
  return matches[0][1].Properties;
}

/** The dashboard body as a string with every token left as the JSON of its intrinsic. */
function dashboardBody(template: Template): string {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody;
  return (body['Fn::Join'][1] as unknown[]).map(part => typeof part === 'string' ? part : JSON.stringify(part)).join('');
}

/** Widget titles in dashboard order (markdown headings included). */
function widgetTitles(template: Template): string[] {
  const body = dashboardBody(template);
  return [...body.matchAll(/"(?:title|markdown)":"([^"]*)"/g)].map(m => m[1]);
}

describe('monitoring of a zero-argument platform', () => {
  const { stack, template } = platformWith();

  test('the API alarms: 5XX rate and p99 latency of the stage', () => {
    const errors = alarm(template, 'ApiServerErrorsAlarm');
    expect(errors).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 5, TreatMissingData: 'notBreaching' });
    const [expression, inner] = errors.Metrics;
    expect(expression.Expression).toBe('100 * errors');
    expect(inner.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Dimensions: [{ Name: 'ApiName' }, { Name: 'Stage', Value: 'api' }] },
      Stat: 'Average',
      Period: 60,
    });
    const latency = alarm(template, 'ApiLatencyAlarm');
    expect(latency).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 5000, Period: 60 });
    expect(latency.Dimensions.map((d: any) => d.Name)).toEqual(['ApiName', 'Stage']);
  });

  test('each service has its alarms: unhealthy targets, tasks below its minimum, 5XX through its route', () => {
    const unhealthy = alarm(template, 'ServiceOrdersUnhealthyTargetsAlarm');
    expect(unhealthy).toMatchObject({ Namespace: 'AWS/NetworkELB', MetricName: 'UnHealthyHostCount', Statistic: 'Minimum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(unhealthy.Dimensions.map((d: any) => d.Name)).toEqual(['LoadBalancer', 'TargetGroup']);
    expect(unhealthy.AlarmDescription).toMatch(/Service orders.*\/actuator\/health.*rolls the deployment back/);

    // Development has no Container Insights: healthy targets below the minimum stand in.
    const tasks = alarm(template, 'ServiceOrdersTasksBelowDesiredAlarm');
    expect(tasks).toMatchObject({ MetricName: 'HealthyHostCount', Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', EvaluationPeriods: 6 });

    const errors = alarm(template, 'ServiceOrdersServerErrorsAlarm');
    expect(errors.Threshold).toBe(0.1);
    const query = JSON.stringify(errors.Metrics[0].Expression);
    // Label keys quoted: METHOD and RESOURCE are reserved words of Metrics Insights.
    expect(query).toContain('SELECT AVG(\\"5XXError\\") FROM SCHEMA(\\"AWS/ApiGateway\\", \\"ApiName\\", \\"Method\\", \\"Resource\\", \\"Stage\\")');
    expect(query).toContain('\\"Resource\\" = \'/orders/{proxy+}\'');
    expect(errors.Metrics[0].Period).toBe(60);
  });

  test('the service\'s alarms are its ECS deployment alarms, with rollback', () => {
    const services = template.findResources('AWS::ECS::Service');
    const orders = Object.entries(services).find(([id]) => id.includes('ServiceOrders'))![1];
    expect(orders.Properties.DeploymentConfiguration.Alarms).toEqual({
      AlarmNames: [alarm(template, 'ServiceOrdersUnhealthyTargetsAlarm').AlarmName, alarm(template, 'ServiceOrdersServerErrorsAlarm').AlarmName],
      Enable: true,
      Rollback: true,
    });
    expect(orders.Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    // Literal, unique names, and the service is created after its alarms.
    expect(alarm(template, 'ServiceOrdersUnhealthyTargetsAlarm').AlarmName).toMatch(/^Test-Dataflow-ServiceOrders-[0-9A-F]{8}-UnhealthyTargetsAlarm$/);
    expect(orders.DependsOn).toEqual(expect.arrayContaining(Object.keys(alarmsOf(template)).filter(id => /ServiceOrders(UnhealthyTargets|ServerErrors)Alarm/.test(id))));
    expect(Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('circular dependency'))).toEqual([]);
  });

  test('Spring Cloud Data Flow\'s singletons keep the circuit breaker and no deployment alarms', () => {
    const services = template.findResources('AWS::ECS::Service');
    for (const name of ['Skipper', 'Dataflow']) {
      const service = Object.entries(services).find(([id]) => id.includes(`Service${name}Service`))![1];
      expect(service.Properties.DeploymentConfiguration.Alarms?.Enable ?? false).toBe(false);
      expect(service.Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    }
    // Their task alarms wait out the 10-minute start grace period.
    expect(alarm(template, 'ServiceDataflowTasksBelowDesiredAlarm').EvaluationPeriods).toBe(15);
  });

  test('the database alarms: CPU, free storage (bytes of the allocated GiB), connections', () => {
    expect(alarm(template, 'DatabaseCpuAlarm')).toMatchObject({ Namespace: 'AWS/RDS', MetricName: 'CPUUtilization', Threshold: 90, Dimensions: [{ Name: 'DBInstanceIdentifier' }] });
    // 5 % of 20 GiB: below the 10 % at which storage autoscaling acts.
    expect(alarm(template, 'DatabaseFreeStorageAlarm')).toMatchObject({ MetricName: 'FreeStorageSpace', Statistic: 'Minimum', Threshold: 1073741824, ComparisonOperator: 'LessThanThreshold' });
    // db.t4g.micro: 1 GiB / 9531392 = 112 connections at most; 70 % of it.
    expect(alarm(template, 'DatabaseConnectionsAlarm')).toMatchObject({ MetricName: 'DatabaseConnections', Statistic: 'Maximum', Threshold: 78 });
  });

  test('the Kafka alarms: the fullest broker\'s disk and offline partitions', () => {
    const disk = alarm(template, 'KafkaDiskUsedAlarm');
    expect(disk.Threshold).toBe(85);
    expect(disk.Metrics[0].Expression).toBe('MAX([b1, b2])');
    for (const [i, metric] of disk.Metrics.slice(1).entries()) {
      expect(metric.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/Kafka', MetricName: 'KafkaDataLogsDiskUsed' });
      expect(metric.MetricStat.Metric.Dimensions).toEqual([
        { Name: 'Broker ID', Value: String(i + 1) },
        { Name: 'Cluster Name', Value: expect.any(String) },
      ]);
    }
    const offline = alarm(template, 'KafkaOfflinePartitionsAlarm');
    expect(offline).toMatchObject({ Namespace: 'AWS/Kafka', MetricName: 'OfflinePartitionsCount', Threshold: 0, Dimensions: [{ Name: 'Cluster Name' }] });
  });

  test('a rule matches the platform\'s failed deployments, and an alarm counts them', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        'detail': { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
        'resources': [{ prefix: Match.objectLike({ 'Fn::Join': Match.anyValue() }) }],
      },
    });
    const rolledBack = alarm(template, 'DeploymentRolledBackAlarm');
    expect(rolledBack).toMatchObject({ Threshold: 0, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' });
    expect(rolledBack.Metrics[0].MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/Events', MetricName: 'MatchedEvents', Dimensions: [{ Name: 'RuleName', Value: { Ref: expect.stringMatching(/DeploymentFailureRule/) } }] },
      Stat: 'Sum',
      Period: 60,
    });
  });

  test('without a topic the alarms notify no one', () => {
    for (const [id, resource] of Object.entries(alarmsOf(template))) {
      expect({ id, actions: resource.Properties.AlarmActions }).toEqual({ id, actions: undefined });
    }
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  test('the dashboard lists the parts in the order of the request path', () => {
    const titles = widgetTitles(template);
    const headings = titles.filter(t => t.startsWith('## '));
    expect(headings).toEqual(['## API Gateway', '## Services', '## Database', '## Kafka', '## Spring Cloud Data Flow', '## Deployments']);
    // Development: no Container Insights, so three widgets per service.
    expect(titles.filter(t => t.startsWith('orders:'))).toEqual(['orders: targets', 'orders: CPU and memory (%)', 'orders: Service Connect']);
    expect(titles.indexOf('orders: targets')).toBeLessThan(titles.indexOf('## Database'));
    expect(titles.indexOf('dataflow: targets')).toBeGreaterThan(titles.indexOf('## Spring Cloud Data Flow'));
    const body = dashboardBody(template);
    const unescaped = body.replace(/\\/g, '');
    expect(unescaped).toContain('SELECT SUM(RequestCount) FROM SCHEMA("AWS/ECS", "ClusterName", "DiscoveryName", "ServiceName")');
    expect(unescaped).toContain('AND "DiscoveryName" = \'orders\'');
    expect(unescaped).toContain('SELECT SUM(HTTPCode_Target_5XX_Count) FROM SCHEMA("AWS/ECS", "ClusterName", "TargetDiscoveryName", "ServiceName")');
    expect(unescaped).toContain('AND "TargetDiscoveryName" = \'orders\'');
    expect(body).toContain('"AWS/Kafka","ActiveControllerCount"');
  });

  test('passes cdk-nag, each alarm acknowledging its missing action on itself', () => {
    expectNoNagFindings(stack);
  });
});

describe('monitoring options', () => {
  test('an alarm topic receives every alarm, back-to-OK and the rolled-back deployments; its key admits CloudWatch and EventBridge', () => {
    const stack = newTestStack();
    const key = new kms.Key(stack, 'AlarmKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Alarms', { masterKey: key, enforceSSL: true });
    const { template } = platformWith({ monitoring: { alarmTopic: topic } }, stack);
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    for (const [id, resource] of Object.entries(alarmsOf(template))) {
      // The rule sends rollbacks itself: their counting alarm stays quiet.
      const expected = id.includes('DeploymentRolledBackAlarm') ? undefined : [topicRef];
      expect({ id, alarm: resource.Properties.AlarmActions, ok: resource.Properties.OKActions }).toEqual({ id, alarm: expected, ok: expected });
    }
    // The rule's target replaces the topic's default policy: CloudWatch alarms of the account keep their right to publish.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowCloudWatchAlarmsToPublish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
        })]),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: topicRef, InputTransformer: Match.objectLike({ InputPathsMap: { 'detail-reason': '$.detail.reason', 'resources-0-': '$.resources[0]' } }) })],
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublishToTheTopic',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
          Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    expectNoNagFindings(stack);
  });

  test('production: stricter thresholds, Container Insights task counts, four widgets per service', () => {
    const { template } = platformWith({ production: true });
    expect(alarm(template, 'ApiServerErrorsAlarm')).toMatchObject({ Threshold: 1, EvaluationPeriods: 3 });
    expect(alarm(template, 'ApiLatencyAlarm').Threshold).toBe(2000);
    expect(alarm(template, 'ServiceOrdersServerErrorsAlarm').Threshold).toBe(0.05);
    expect(alarm(template, 'DatabaseCpuAlarm').Threshold).toBe(80);
    expect(alarm(template, 'KafkaDiskUsedAlarm').Threshold).toBe(70);
    const tasks = alarm(template, 'ServiceOrdersTasksBelowDesiredAlarm');
    expect(tasks.Metrics[0].Expression).toBe('desired - FILL(running, 0)');
    const metricOf = (m: any) => m.MetricStat.Metric;
    const described = tasks.Metrics.slice(1)
      .map((m: any) => [metricOf(m).Namespace, metricOf(m).MetricName, metricOf(m).Dimensions.map((d: any) => d.Name)]);
    expect(described).toEqual([
      ['ECS/ContainerInsights', 'DesiredTaskCount', ['ClusterName', 'ServiceName']],
      ['ECS/ContainerInsights', 'RunningTaskCount', ['ClusterName', 'ServiceName']],
    ]);
    expect(widgetTitles(template).filter(t => t.startsWith('orders:'))).toEqual(['orders: targets', 'orders: tasks', 'orders: CPU and memory (%)', 'orders: Service Connect']);
  });

  test('thresholds are overridable', () => {
    const { template } = platformWith({
      monitoring: {
        thresholds: {
          apiServerErrorRatePercent: 2, apiLatencyP99: Duration.seconds(3), databaseConnections: 40, evaluationPeriods: 2, kafkaDiskUsedPercent: 60,
        },
      },
    });
    expect(alarm(template, 'ApiServerErrorsAlarm')).toMatchObject({ Threshold: 2, EvaluationPeriods: 2 });
    expect(alarm(template, 'ApiLatencyAlarm').Threshold).toBe(3000);
    expect(alarm(template, 'DatabaseConnectionsAlarm').Threshold).toBe(40);
    expect(alarm(template, 'KafkaDiskUsedAlarm').Threshold).toBe(60);
  });

  test('routeErrorAlarms: false leaves the route alarms out (Metrics Insights alarm quota)', () => {
    const { template, platform } = platformWith({ monitoring: { routeErrorAlarms: false } });
    expect(Object.keys(alarmsOf(template)).filter(id => /Service\w+ServerErrorsAlarm/.test(id))).toEqual([]);
    expect(platform.monitoring!.alarmsOf('orders')!.serverErrors).toBeUndefined();
    const orders = Object.entries(template.findResources('AWS::ECS::Service')).find(([id]) => id.includes('ServiceOrders'))![1];
    expect(orders.Properties.DeploymentConfiguration.Alarms.AlarmNames).toHaveLength(1);
  });

  test('more than 10 brokers: the disk alarm reads a Metrics Insights query (a math alarm reads 10 metrics at most)', () => {
    const { template } = platformWith({ kafka: { numberOfBrokerNodes: 12 } });
    const disk = alarm(template, 'KafkaDiskUsedAlarm');
    expect(disk.Metrics).toHaveLength(1);
    expect(disk.Metrics[0].Expression).toMatch(/^SELECT MAX\(KafkaDataLogsDiskUsed\) FROM SCHEMA\("AWS\/Kafka", "Broker ID", "Cluster Name"\) WHERE "Cluster Name" = '.+'$/);
  });

  test('a service may opt out of rollback on alarm, or into it with no overlap', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false } });
    platform.addService('a', { image: image(stack), port: 8080, rollbackOnAlarm: false });
    platform.addService('b', { image: image(stack), port: 8081, minHealthyPercent: 0, maxHealthyPercent: 100 });
    platform.addService('c', { image: image(stack), port: 8082, minHealthyPercent: 0, maxHealthyPercent: 100, rollbackOnAlarm: true });
    const services = Template.fromStack(stack).findResources('AWS::ECS::Service');
    const enabled = (name: string) => Object.entries(services).find(([id]) => id.includes(`Service${name}Service`))![1].Properties.DeploymentConfiguration.Alarms?.Enable ?? false;
    expect([enabled('A'), enabled('B'), enabled('C')]).toEqual([false, false, true]);
  });

  test('a service on its own dashboard section', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false } });
    platform.addService('a', { image: image(stack), port: 8080, dashboardSection: 'Batch' });
    const headings = widgetTitles(Template.fromStack(stack)).filter(t => t.startsWith('## '));
    expect(headings).toEqual(['## API Gateway', '## Database', '## Kafka', '## Deployments', '## Batch']);
  });

  test('enabled: false: no dashboard, no alarm, no rule, no deployment alarms', () => {
    const { platform, template } = platformWith({ monitoring: { enabled: false } });
    expect(platform.monitoring).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    for (const service of Object.values(template.findResources('AWS::ECS::Service'))) {
      expect(service.Properties.DeploymentConfiguration.Alarms?.Enable ?? false).toBe(false);
    }
  });

  test('enabled: false with other options is an error', () => {
    const stack = newTestStack();
    const topic = new sns.Topic(stack, 'Alarms');
    expect(() => new DataflowPlatform(stack, 'Dataflow', { monitoring: { enabled: false, alarmTopic: topic } }))
      .toThrow(/monitoring.enabled is false, but monitoring also sets alarmTopic/);
  });

  test.each([
    [{ apiServerErrorRatePercent: 0 }, /thresholds.apiServerErrorRatePercent is 0; it is a percentage/],
    [{ databaseCpuPercent: 120 }, /thresholds.databaseCpuPercent is 120/],
    [{ evaluationPeriods: 1.5 }, /thresholds.evaluationPeriods is 1.5; .*whole number from 1 to 60/],
    [{ databaseConnections: 0 }, /thresholds.databaseConnections is 0/],
    [{ apiLatencyP99: Duration.seconds(0) }, /thresholds.apiLatencyP99 is 0 seconds; it must be above 0/],
  ])('bad thresholds are refused: %j', (thresholds, message) => {
    expect(() => new DataflowPlatform(newTestStack(), 'Dataflow', { monitoring: { thresholds } })).toThrow(message);
  });

  test('thresholds may be tokens', () => {
    const stack = newTestStack();
    const percent = new CfnParameter(stack, 'Percent', { type: 'Number' }).valueAsNumber;
    expect(() => new DataflowPlatform(stack, 'Dataflow', { monitoring: { thresholds: { apiServerErrorRatePercent: percent, evaluationPeriods: percent } } })).not.toThrow();
  });

  test('a service is watched once', () => {
    const { platform, orders } = platformWith();
    expect(() => platform.monitoring!.addService(orders)).toThrow(/service "orders" is watched already/);
    expect(platform.monitoring!.alarmsOf('orders')!.serverErrors).toBeDefined();
    expect(platform.monitoring!.alarms.length).toBeGreaterThanOrEqual(7 + 3 * 3);
  });
});

describe('estimated max_connections (LEAST(DBInstanceClassMemory/9531392, 5000))', () => {
  test.each([
    ['db.t4g.micro', 112],
    ['db.t3.medium', 450],
    ['db.m7g.large', 901],
    ['db.m6i.24xlarge', 5000],
    ['db.r7g.large', undefined],
    ['db.m7g.unknown', undefined],
  ])('%s: %s', (instanceClass, expected) => {
    expect(estimatedMaxConnections(instanceClass)).toBe(expected);
  });
});
