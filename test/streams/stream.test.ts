import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataflowPlatform, DataflowPlatformProps, KafkaClientAuthentication, Stream, StreamOptions } from '../../src';
import { expectNoNagFindings, newTestStack, TEST_ENV } from '../helpers/gates';
import { newStrictApp } from '../helpers/strict';

const TICKTOCK = 'time --time.date-format=yyyy-MM-dd | transform --spel.function.expression=payload.toUpperCase() | log';

/**
 * A platform of the test's own, without Spring Cloud Data Flow (its own test file covers it). A
 * platform needs one API route (API Gateway deploys no API without methods), so it gets a `web`
 * stream whose http source has one, unless `withRoute` is false.
 */
function platformWith(props: DataflowPlatformProps = {}, withRoute = true, stack: Stack = newTestStack()) {
  const platform = new DataflowPlatform(stack, 'Dataflow', { springCloudDataFlow: { enabled: false }, ...props });
  if (withRoute) {
    platform.addService('web', { image: image(stack), port: 8080 });
  }
  return { stack, platform };
}

function image(stack: Stack, tag = 'v1'): ecs.ContainerImage {
  const repository = (stack.node.tryFindChild('Repo') as ecr.IRepository | undefined)
    ?? ecr.Repository.fromRepositoryName(stack, 'Repo', 'stream-apps');
  return ecs.ContainerImage.fromEcrRepository(repository, tag);
}

function withStream(name: string, options: StreamOptions, props: DataflowPlatformProps = {}) {
  const { stack, platform } = platformWith(props);
  const stream = platform.addStream(name, options);
  return { stack, platform, stream, template: Template.fromStack(stack) };
}

/** The container of service `name`. */
function containerOf(template: Template, name: string): Record<string, any> {
  const container = Object.values(template.findResources('AWS::ECS::TaskDefinition'))
    .map(t => t.Properties.ContainerDefinitions[0])
    .find(c => c.Name === name);
  expect(container).toBeDefined();
  return container;
}

/** The environment of the container of service `name`, as a name → value map. */
function environmentOf(template: Template, name: string): Record<string, any> {
  return Object.fromEntries((containerOf(template, name).Environment ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}

/** The Spring properties the app of service `name` gets in SPRING_APPLICATION_JSON. */
function propertiesOf(template: Template, name: string): Record<string, string> {
  const json = environmentOf(template, name).SPRING_APPLICATION_JSON;
  expect(typeof json).toBe('string');
  return JSON.parse(json);
}

/** Resources of `type` whose logical id starts with the service's construct id. */
function resourcesOfService(template: Template, type: string, serviceId: string): Array<Record<string, any>> {
  return Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(`Dataflow${serviceId}`)).map(([, r]) => r);
}

const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as any);

describe('the ticktock stream', () => {
  const { stack, platform, stream, template } = withStream('ticktock', { definition: TICKTOCK, apps: { log: { maxCapacity: 4 } } });

  test('one service per app, named <stream>-<label>, in pipeline order', () => {
    expect(stream).toBeInstanceOf(Stream);
    expect(stream.name).toBe('ticktock');
    expect(stream.definition).toBe(TICKTOCK);
    expect(stream.apps.map(app => app.name)).toEqual(['ticktock-time', 'ticktock-transform', 'ticktock-log']);
    expect(stream.findApp('transform')).toBe(stream.apps[1]);
    expect(stream.findApp('nope')).toBeUndefined();
    expect(platform.services.map(s => s.name)).toEqual(['web', 'ticktock-time', 'ticktock-transform', 'ticktock-log']);
    for (const name of ['ticktock-time', 'ticktock-transform', 'ticktock-log']) {
      template.hasResourceProperties('AWS::ECS::Service', {
        ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: name, DiscoveryName: name })] }),
      });
    }
  });

  test('topics between the apps are <stream>.<label>; the consumer group is the stream name', () => {
    expect(stream.destinations).toEqual(['ticktock.time', 'ticktock.transform']);
    expect(stream.consumerGroup).toBe('ticktock');
    expect(stream.inputDestination).toBeUndefined();
    expect(stream.outputDestination).toBeUndefined();
  });

  test('catalogue images for the Kafka binder, version 5.1.1, copied into ECR by the platform\'s image source', () => {
    const sources = Object.values(template.findResources('Custom::CDKECRDeployment')).map(c => c.Properties.SrcImage).sort();
    expect(sources).toEqual([
      'docker://springcloudstream/log-sink-kafka:5.1.1',
      'docker://springcloudstream/time-source-kafka:5.1.1',
      'docker://springcloudstream/transform-processor-kafka:5.1.1',
    ]);
    expect(stream.appVersion).toBe('5.1.1');
    // The task pulls the copy from the platform's ECR repository, tag 5.1.1.
    const imageOfTime = JSON.stringify(containerOf(template, 'ticktock-time').Image);
    expect(imageOfTime).toMatch(/DataflowImagesRepositorySpringcloudstreamTimeSourceKafka/);
    expect(imageOfTime).toContain(':5.1.1');
  });

  test('bindings exactly as Spring Cloud Data Flow sets them, with the DSL properties, in SPRING_APPLICATION_JSON', () => {
    // spring-cloud-dataflow v2.11.5, StreamApplicationDefinitionBuilder.build and AppDeploymentRequestCreator.
    expect(propertiesOf(template, 'ticktock-time')).toEqual({
      'spring.cloud.dataflow.stream.name': 'ticktock',
      'spring.cloud.dataflow.stream.app.label': 'time',
      'spring.cloud.dataflow.stream.app.type': 'source',
      'spring.cloud.stream.bindings.output.destination': 'ticktock.time',
      'spring.cloud.stream.bindings.output.producer.requiredGroups': 'ticktock',
      'time.date-format': 'yyyy-MM-dd',
      'spring.cloud.stream.kafka.binder.autoAddPartitions': 'true',
      'spring.cloud.stream.kafka.binder.minPartitionCount': '2',
      'server.port': '8100',
    });
    expect(propertiesOf(template, 'ticktock-transform')).toEqual({
      'spring.cloud.dataflow.stream.name': 'ticktock',
      'spring.cloud.dataflow.stream.app.label': 'transform',
      'spring.cloud.dataflow.stream.app.type': 'processor',
      'spring.cloud.stream.bindings.input.destination': 'ticktock.time',
      'spring.cloud.stream.bindings.input.group': 'ticktock',
      'spring.cloud.stream.bindings.output.destination': 'ticktock.transform',
      'spring.cloud.stream.bindings.output.producer.requiredGroups': 'ticktock',
      'spel.function.expression': 'payload.toUpperCase()',
      'spring.cloud.stream.kafka.binder.autoAddPartitions': 'true',
      'spring.cloud.stream.kafka.binder.minPartitionCount': '4',
      'server.port': '8101',
    });
    expect(propertiesOf(template, 'ticktock-log')).toEqual({
      'spring.cloud.dataflow.stream.name': 'ticktock',
      'spring.cloud.dataflow.stream.app.label': 'log',
      'spring.cloud.dataflow.stream.app.type': 'sink',
      'spring.cloud.stream.bindings.input.destination': 'ticktock.transform',
      'spring.cloud.stream.bindings.input.group': 'ticktock',
      'spring.cloud.stream.kafka.binder.autoAddPartitions': 'true',
      'spring.cloud.stream.kafka.binder.minPartitionCount': '4',
      'server.port': '8102',
    });
  });

  test('the topic a consumer reads gets at least its maxCapacity partitions, set on both ends', () => {
    // log reads ticktock.transform and scales to 4: transform (which writes it) and log both ask for 4.
    // transform reads ticktock.time and scales to 2 (its default): time asks for 2.
    const minPartitions = (name: string) => propertiesOf(template, name)['spring.cloud.stream.kafka.binder.minPartitionCount'];
    expect(['ticktock-time', 'ticktock-transform', 'ticktock-log'].map(minPartitions)).toEqual(['2', '4', '4']);
  });

  test('the platform\'s Kafka client settings (brokers, TLS), and one security group rule per app to the TLS port', () => {
    const kafka = platform.kafka!;
    for (const app of stream.apps) {
      const env = environmentOf(template, app.name);
      expect(env.SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS).toEqual(stack.resolve(kafka.bootstrapBrokers));
      expect(env.SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL).toBe('SSL');
      const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(r => r.Properties)
        .filter(p => JSON.stringify(p.SourceSecurityGroupId).includes(id(stack, app.securityGroup)))
        .filter(p => JSON.stringify(p.GroupId).includes(id(stack, kafka.connections.securityGroups[0] as ec2.SecurityGroup)));
      expect(rules).toEqual([expect.objectContaining({ FromPort: 9094, ToPort: 9094, IpProtocol: 'tcp' })]);
    }
    // TLS: no IAM grants at all.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('kafka-cluster:');
  });

  test('no API route; health on /actuator/health at each app\'s own port', () => {
    for (const [i, app] of stream.apps.entries()) {
      expect(app.apiPath).toBeUndefined();
      expect(app.url).toBeUndefined();
      expect(app.port).toBe(8100 + i);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8100 + i, HealthCheckPath: '/actuator/health' });
    }
    // Only the web service has a route: ANY on /web and /web/{proxy+}.
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
  });

  test('a polling source never overlaps itself in a deployment (0 %/100 %); consumers roll 100 %/200 %', () => {
    const deployment = (serviceId: string) => resourcesOfService(template, 'AWS::ECS::Service', serviceId)[0].Properties.DeploymentConfiguration;
    expect(deployment('ServiceTicktockTime')).toMatchObject({ MinimumHealthyPercent: 0, MaximumPercent: 100 });
    expect(deployment('ServiceTicktockLog')).toMatchObject({ MinimumHealthyPercent: 100, MaximumPercent: 200 });
  });

  test('catalogue apps (Paketo images) keep 10 % of the task memory out of the JVM: BPL_JVM_HEAD_ROOM', () => {
    for (const name of ['ticktock-time', 'ticktock-transform', 'ticktock-log']) {
      expect(environmentOf(template, name).BPL_JVM_HEAD_ROOM).toBe('10');
    }
  });

  test('the source runs one task without autoscaling; consumers scale from 1 to their maxCapacity', () => {
    const [time, transform, log] = stream.apps;
    expect(time.scaling).toBeUndefined();
    expect(transform.scaling).toBeDefined();
    expect(log.scaling).toBeDefined();
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: 'ticktock-time' })] }),
      DesiredCount: 1,
    });
    expect(resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceTicktockTime')).toEqual([]);
    expect(resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceTicktockTransform'))
      .toEqual([expect.objectContaining({ Properties: expect.objectContaining({ MinCapacity: 1, MaxCapacity: 2 }) })]);
    expect(resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceTicktockLog'))
      .toEqual([expect.objectContaining({ Properties: expect.objectContaining({ MinCapacity: 1, MaxCapacity: 4 }) })]);
  });

  test('consumers step-scale on MSK SumOffsetLag of their group and input topic', () => {
    // https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html: AWS/Kafka, dimensions
    // "Cluster Name", "Consumer Group", "Topic", at the DEFAULT monitoring level.
    const alarms = resourcesOfService(template, 'AWS::CloudWatch::Alarm', 'ServiceTicktockLog').map(a => a.Properties)
      .filter(p => p.MetricName === 'SumOffsetLag');
    const dimensions = [
      { Name: 'Cluster Name', Value: platform.kafka!.cluster.clusterName },
      { Name: 'Consumer Group', Value: 'ticktock' },
      { Name: 'Topic', Value: 'ticktock.transform' },
    ];
    expect(alarms).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Namespace: 'AWS/Kafka',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1000,
        Dimensions: expect.arrayContaining(dimensions),
      }),
      expect.objectContaining({ ComparisonOperator: 'LessThanOrEqualToThreshold', Threshold: 100, Dimensions: expect.arrayContaining(dimensions) }),
    ]));
    expect(alarms).toHaveLength(2);
    const steps = resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalingPolicy', 'ServiceTicktockLog').map(p => p.Properties)
      .filter(p => p.PolicyType === 'StepScaling').map(p => p.StepScalingPolicyConfiguration);
    expect(steps).toEqual(expect.arrayContaining([
      expect.objectContaining({ AdjustmentType: 'ChangeInCapacity', StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }] }),
      expect.objectContaining({
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 9000, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 9000, ScalingAdjustment: 2 },
        ],
      }),
    ]));
    // The source does not lag-scale.
    expect(resourcesOfService(template, 'AWS::CloudWatch::Alarm', 'ServiceTicktockTime').filter(a => a.Properties.MetricName === 'SumOffsetLag')).toEqual([]);
  });

  test('metricConsumerLag names the metric of a consumer, and refuses the source', () => {
    const metric = stream.metricConsumerLag('transform');
    expect(metric.namespace).toBe('AWS/Kafka');
    expect(metric.metricName).toBe('SumOffsetLag');
    expect(metric.dimensions).toEqual({ 'Cluster Name': platform.kafka!.cluster.clusterName, 'Consumer Group': 'ticktock', 'Topic': 'ticktock.time' });
    expect(() => stream.metricConsumerLag('time')).toThrow(/metricConsumerLag\('time'\): 'time' reads no topic .*use one of transform, log/);
    expect(() => stream.metricConsumerLag('nope')).toThrow(/'nope' is no label of the stream/);
  });
});

describe('the http source', () => {
  const { platform, stream, template } = (() => {
    const { stack, platform: p } = platformWith({}, false);
    const s = p.addStream('ingest', { definition: 'http | log' });
    return { platform: p, stream: s, template: Template.fromStack(stack) };
  })();

  test('the http source overlaps old and new tasks in a deployment: no ingest gap', () => {
    const deployment = resourcesOfService(template, 'AWS::ECS::Service', 'ServiceIngestHttp')[0].Properties.DeploymentConfiguration;
    expect(deployment).toMatchObject({ MinimumHealthyPercent: 100, MaximumPercent: 200 });
  });

  test('gets an API route to its port; the sink gets none', () => {
    const [http, log] = stream.apps;
    expect(http.apiPath).toBe('ingest-http');
    expect(http.url).toBeDefined();
    expect(log.apiPath).toBeUndefined();
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'ingest-http' });
    expect(template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'ingest-log' } })).toEqual({});
    // The route's root forwards to the source's root, the http source's default path-pattern '/'.
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: Match.objectLike({ Uri: { 'Fn::Join': ['', ['http://', Match.anyValue(), `:${http.port}/`]] } }),
    });
    expect(propertiesOf(template, 'ingest-http')['server.port']).toBe(`${http.port}`);
    expect(platform.services).toHaveLength(2);
  });

  test('apiRoute turns a route on or off per app', () => {
    const { stream: s } = withStream('s', { definition: 'http | log', apps: { http: { apiRoute: false }, log: { apiRoute: true } } });
    expect(s.apps.map(app => app.apiPath)).toEqual([undefined, 's-log']);
  });
});

describe('named destinations', () => {
  test.each([
    [':orders > log', ['orders'], 'orders', undefined, [{
      'spring.cloud.dataflow.stream.app.type': 'sink',
      'spring.cloud.stream.bindings.input.destination': 'orders',
      'spring.cloud.stream.bindings.input.group': 's',
      'spring.cloud.stream.kafka.binder.minPartitionCount': '2',
    }]],
    ['http > :orders', ['orders'], undefined, 'orders', [{
      'spring.cloud.dataflow.stream.app.type': 'source',
      'spring.cloud.stream.bindings.output.destination': 'orders',
      // SCDF sets no required groups on a named output destination; nothing in the stream reads it.
      'spring.cloud.stream.bindings.output.producer.requiredGroups': undefined,
      'spring.cloud.stream.kafka.binder.minPartitionCount': undefined,
      'spring.cloud.stream.kafka.binder.autoAddPartitions': undefined,
    }]],
    [':in > transform > :out', ['in', 'out'], 'in', 'out', [{
      'spring.cloud.dataflow.stream.app.type': 'processor',
      'spring.cloud.stream.bindings.input.destination': 'in',
      'spring.cloud.stream.bindings.input.group': 's',
      'spring.cloud.stream.bindings.output.destination': 'out',
      'spring.cloud.stream.bindings.output.producer.requiredGroups': undefined,
    }]],
    // A bridge: SCDF puts its bridge app between the two (StreamParser.java:141-154 at v2.11.5, test bridge01).
    [':in > :out', ['in', 'out'], 'in', 'out', [{
      'spring.cloud.dataflow.stream.app.type': 'processor',
      'spring.cloud.dataflow.stream.app.label': 'bridge',
      'spring.cloud.stream.bindings.input.destination': 'in',
      'spring.cloud.stream.bindings.input.group': 's',
      'spring.cloud.stream.bindings.output.destination': 'out',
    }]],
    [':ticktock.time > log', ['ticktock.time'], 'ticktock.time', undefined, [{
      'spring.cloud.stream.bindings.input.destination': 'ticktock.time',
      'spring.cloud.stream.bindings.input.group': 's',
    }]],
  ])('%s', (definition, destinations, input, output, expected) => {
    const { stream, template } = withStream('s', { definition });
    expect(stream.destinations).toEqual(destinations);
    expect(stream.inputDestination).toBe(input);
    expect(stream.outputDestination).toBe(output);
    stream.apps.forEach((app, i) => {
      const properties = propertiesOf(template, app.name);
      for (const [key, value] of Object.entries(expected[i])) {
        expect([key, properties[key]]).toEqual([key, value]);
      }
    });
  });
});

describe('definitions and options', () => {
  test('labels name the apps, their services and their topics', () => {
    const { stream, template } = withStream('s', { definition: 'http | t1: transform --a=1 | t2: transform --a=2 | log' });
    expect(stream.apps.map(app => app.name)).toEqual(['s-http', 's-t1', 's-t2', 's-log']);
    expect(stream.destinations).toEqual(['s.http', 's.t1', 's.t2']);
    expect(propertiesOf(template, 's-t2')).toMatchObject({
      'spring.cloud.dataflow.stream.app.label': 't2',
      'spring.cloud.stream.bindings.input.destination': 's.t1',
      'spring.cloud.stream.bindings.output.destination': 's.t2',
      'a': '2',
    });
  });

  test('inputType and outputType become the bindings\' content types, as in SCDF', () => {
    const { template } = withStream('s', { definition: 'time | transform --inputType=text/plain --OutputType=application/json | log' });
    expect(propertiesOf(template, 's-transform')).toMatchObject({
      'spring.cloud.stream.bindings.input.contentType': 'text/plain',
      'spring.cloud.stream.bindings.output.contentType': 'application/json',
    });
    expect(propertiesOf(template, 's-transform').inputType).toBeUndefined();
  });

  test('per-app properties, environment, sizing, port and image; appVersion for the catalogue images', () => {
    const { stack, platform } = platformWith();
    const stream = platform.addStream('s', {
      definition: 'time --time.date-format=HH | log',
      appVersion: '5.0.1',
      apps: {
        time: { properties: { 'time.date-format': 'mm', 'time.fixed-delay': '5' }, environment: { JAVA_TOOL_OPTIONS: '-Xss512k' }, port: 9100 },
        log: { image: image(stack, 'log-v2'), cpu: 1024, memoryLimitMiB: 2048, minCapacity: 2, maxCapacity: 3, desiredCount: 3, scaleOutLag: 50 },
      },
    });
    const template = Template.fromStack(stack);
    expect(propertiesOf(template, 's-time')).toMatchObject({ 'time.date-format': 'mm', 'time.fixed-delay': '5', 'server.port': '9100', 'spring.cloud.stream.kafka.binder.minPartitionCount': '3' });
    expect(environmentOf(template, 's-time').JAVA_TOOL_OPTIONS).toBe('-Xss512k');
    expect(stream.apps.map(app => app.port)).toEqual([9100, 8100]);
    const sources = Object.values(template.findResources('Custom::CDKECRDeployment')).map(c => c.Properties.SrcImage);
    expect(sources).toEqual(['docker://springcloudstream/time-source-kafka:5.0.1']);
    expect(JSON.stringify(containerOf(template, 's-log').Image)).toContain('stream-apps:log-v2');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048', ContainerDefinitions: [Match.objectLike({ Name: 's-log' })] });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: 's-log' })] }),
      DesiredCount: 3,
    });
    expect(resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceSLog'))
      .toEqual([expect.objectContaining({ Properties: expect.objectContaining({ MinCapacity: 2, MaxCapacity: 3 }) })]);
    expect(resourcesOfService(template, 'AWS::CloudWatch::Alarm', 'ServiceSLog').map(a => a.Properties)
      .filter(p => p.MetricName === 'SumOffsetLag').map(p => p.Threshold).sort((a, b) => a - b)).toEqual([5, 50]);
  });

  test('an app outside the catalogue runs with its image', () => {
    const { stack, platform } = platformWith();
    const stream = platform.addStream('s', { definition: 'time | enrich | log', apps: { enrich: { image: image(stack, 'enrich') } } });
    expect(stream.apps.map(app => app.name)).toEqual(['s-time', 's-enrich', 's-log']);
    // Not a Paketo image of the catalogue: no memory-calculator setting.
    expect(environmentOf(Template.fromStack(stack), 's-enrich').BPL_JVM_HEAD_ROOM).toBeUndefined();
  });

  test('ports skip those of the platform\'s services, and a second stream continues after the first', () => {
    const { stack, platform } = platformWith();
    platform.addService('api', { image: image(stack), port: 8101 });
    const first = platform.addStream('a', { definition: 'time | log' });
    const second = platform.addStream('b', { definition: 'time | log' });
    expect(first.apps.map(app => app.port)).toEqual([8100, 8102]);
    expect(second.apps.map(app => app.port)).toEqual([8103, 8104]);
  });

  test('on a production platform consumers scale from 2 to 4; the source still runs one task', () => {
    const { stream, template } = withStream('ticktock', { definition: 'time | log' }, { production: true });
    expect(resourcesOfService(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceTicktockLog'))
      .toEqual([expect.objectContaining({ Properties: expect.objectContaining({ MinCapacity: 2, MaxCapacity: 4 }) })]);
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({ Services: [Match.objectLike({ PortName: 'ticktock-time' })] }),
      DesiredCount: 1,
    });
    expect(propertiesOf(template, 'ticktock-time')['spring.cloud.stream.kafka.binder.minPartitionCount']).toBe('4');
    expect(stream.apps[1].minimumTasks).toBe(2);
    // A production maxCapacity below the default floor lowers the floor instead of failing.
    const small = withStream('t', { definition: 'time | log', apps: { log: { maxCapacity: 1 } } }, { production: true });
    expect(resourcesOfService(small.template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'ServiceTLog'))
      .toEqual([expect.objectContaining({ Properties: expect.objectContaining({ MinCapacity: 1, MaxCapacity: 1 }) })]);
  });

  test('streams run beside Spring Cloud Data Flow on the zero-argument platform', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow');
    const stream = platform.addStream('ticktock', { definition: TICKTOCK });
    expect(platform.services.map(s => s.name)).toEqual(['skipper', 'dataflow', 'ticktock-time', 'ticktock-transform', 'ticktock-log']);
    expect(stream.apps.map(app => app.port)).toEqual([8100, 8101, 8102]);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('tokens', () => {
  test('a token maxCapacity passes through to the topic it reads', () => {
    const { stack, platform } = platformWith();
    const max = new CfnParameter(stack, 'Max', { type: 'Number' }).valueAsNumber;
    expect(() => platform.addStream('s', { definition: 'time | log', apps: { log: { maxCapacity: max, minCapacity: 1 } } })).not.toThrow();
    const json = environmentOf(Template.fromStack(stack), 's-time').SPRING_APPLICATION_JSON;
    expect(JSON.stringify(json)).toContain('"Ref":"Max"');
  });

  test('a processor between two token capacities needs minPartitionCount set explicitly', () => {
    const { stack, platform } = platformWith();
    const a = new CfnParameter(stack, 'A', { type: 'Number' }).valueAsNumber;
    const b = new CfnParameter(stack, 'B', { type: 'Number' }).valueAsNumber;
    const apps = { transform: { maxCapacity: a, minCapacity: 1 }, log: { maxCapacity: b, minCapacity: 1 } };
    expect(() => platform.addStream('s', { definition: 'time | transform | log', apps }))
      .toThrow(/^addStream\('s'\): 'transform' reads and writes topics whose readers' maxCapacity is a token.*apps\.transform\.properties\['spring\.cloud\.stream\.kafka\.binder\.minPartitionCount'\]/);
    const other = platformWith();
    const c = new CfnParameter(other.stack, 'C', { type: 'Number' }).valueAsNumber;
    expect(() => other.platform.addStream('s', {
      definition: 'time | transform | log',
      apps: { transform: { maxCapacity: c, minCapacity: 1, properties: { 'spring.cloud.stream.kafka.binder.minPartitionCount': '8' } }, log: { maxCapacity: 8 } },
    })).not.toThrow();
  });

  test('a token appVersion and memoryLimitMiB are not checked', () => {
    const { stack, platform } = platformWith();
    const version = new CfnParameter(stack, 'Version').valueAsString;
    const memory = new CfnParameter(stack, 'Memory', { type: 'Number' }).valueAsNumber;
    expect(() => platform.addStream('s', { definition: 'time | log', appVersion: version, apps: { log: { memoryLimitMiB: memory } } })).not.toThrow();
  });

  test('a token property value is escaped into the JSON when resolved', () => {
    const { stack, platform } = platformWith();
    const format = new CfnParameter(stack, 'Format').valueAsString;
    platform.addStream('s', { definition: 'time | log', apps: { time: { properties: { 'time.date-format': format } } } });
    const json = environmentOf(Template.fromStack(stack), 's-time').SPRING_APPLICATION_JSON;
    expect(JSON.stringify(json)).toContain('"Ref":"Format"');
  });
});

describe('IAM client authentication', () => {
  const iam = { kafka: { clientAuthentication: KafkaClientAuthentication.IAM } };

  test('catalogue images are refused: they do not carry the MSK IAM auth library', () => {
    const { platform } = platformWith(iam);
    expect(() => platform.addStream('ticktock', { definition: TICKTOCK })).toThrow(
      /^addStream\('ticktock'\): the Kafka cluster uses IAM client authentication, but 'time', 'transform', 'log' would run catalogue images, .*aws-msk-iam-auth.*apps\.time\.image, apps\.transform\.image, apps\.log\.image.*or use kafka\.clientAuthentication TLS/);
    const other = platformWith(iam);
    expect(() => other.platform.addStream('s', { definition: 'time | log', apps: { time: { image: image(other.stack) } } }))
      .toThrow(/but 'log' would run catalogue images.*give it an image that includes it \(apps\.log\.image\)/);
  });

  test('with images of yours, each app gets only its topics and the group, on this cluster', () => {
    const { stack, platform } = platformWith(iam);
    const stream = platform.addStream('ticktock', {
      definition: 'time | transform | log',
      apps: { time: { image: image(stack, 'time') }, transform: { image: image(stack, 'transform') }, log: { image: image(stack, 'log') } },
    });
    const template = Template.fromStack(stack);
    const clusterArn = stack.resolve(platform.kafka!.clusterArn);
    const arn = (kind: string, name: string) => ({
      'Fn::Join': ['', [
        'arn:', { Ref: 'AWS::Partition' }, `:kafka:${TEST_ENV.region}:${TEST_ENV.account}:${kind}/`,
        { 'Fn::Select': [1, { 'Fn::Split': ['/', clusterArn] }] }, '/',
        { 'Fn::Select': [2, { 'Fn::Split': ['/', clusterArn] }] }, `/${name}`,
      ]],
    });
    /** What the app's task role may do, as 'action on resource' lines (however IAM minimization merged them). */
    const grantsOf = (index: number): string[] => {
      const role = id(stack, stream.apps[index].taskRole as any);
      const policy = Object.values(template.findResources('AWS::IAM::Policy'))
        .find(p => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]));
      const lines = (policy!.Properties.PolicyDocument.Statement as Array<{ Effect: string; Action: string | string[]; Resource: unknown }>)
        .flatMap(statement => {
          expect(statement.Effect).toBe('Allow');
          const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
          return [statement.Action].flat().flatMap(action => resources.map(resource => `${action} on ${JSON.stringify(resource)}`));
        });
      return lines.sort();
    };
    const on = (resource: unknown, ...actions: string[]) => actions.map(action => `kafka-cluster:${action} on ${JSON.stringify(resource)}`);
    const cluster = clusterArn;
    const connect = on(cluster, 'Connect', 'DescribeCluster');
    const group = on(arn('group', 'ticktock'), 'DescribeGroup', 'AlterGroup');
    const write = (topic: string) => [...on(arn('topic', topic), 'DescribeTopic', 'WriteData', 'CreateTopic', 'AlterTopic'), ...on(cluster, 'WriteDataIdempotently')];
    const read = (topic: string) => on(arn('topic', topic), 'DescribeTopic', 'ReadData', 'CreateTopic', 'AlterTopic');
    expect(grantsOf(0)).toEqual([...connect, ...write('ticktock.time')].sort());
    expect(grantsOf(1)).toEqual([...connect, ...read('ticktock.time'), ...group, ...write('ticktock.transform')].sort());
    // Exactly these: no other topic or group, no wildcard.
    expect(grantsOf(2)).toEqual([...connect, ...read('ticktock.transform'), ...group].sort());
    // The IAM listener and the SASL settings.
    expect(environmentOf(template, 'ticktock-log').SPRING_CLOUD_STREAM_KAFKA_BINDER_CONFIGURATION_SECURITY_PROTOCOL).toBe('SASL_SSL');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 9098, Description: 'Kafka from stream app ticktock-log' });
    expectNoNagFindings(stack);
  });
});

describe('errors name the stream, the prop, the value and the fix', () => {
  const attempt = (options: StreamOptions, props: DataflowPlatformProps = {}) => () => platformWith(props).platform.addStream('s', options);

  test.each<[string, StreamOptions, RegExp]>([
    ['an app outside the catalogue without image', { definition: 'time | enrich | log' },
      /^addStream\('s'\): app 'enrich' is not in the Spring Cloud Stream Applications catalogue \(processors: aggregator, bridge, filter, .*\); give its image as apps\.enrich\.image$/],
    ['a sink used as a source', { definition: 'log | transform | log2: log' },
      /^addStream\('s'\): 'log' is used as a source, but the catalogue's log app is a sink only \(springcloudstream\/log-sink-kafka:5\.1\.1\); move it where a sink goes, or give apps\.log\.image an image that is a source$/],
    ['a source used as a sink', { definition: 'http | time' }, /'time' is used as a sink, but the catalogue's time app is a source only/],
    ['options for a label the definition lacks', { definition: 'time | log', apps: { lg: {} } },
      /^addStream\('s'\): apps has 'lg', which is no label of the definition \(labels: time, log\); key apps by those labels$/],
    ['scaling options on a source', { definition: 'time | log', apps: { time: { maxCapacity: 3, scaleOutLag: 5 } } },
      /^addStream\('s'\): apps\.time sets maxCapacity, scaleOutLag, but 'time' is the stream's source, which runs desiredCount tasks \(default 1\) and does not autoscale; remove them, or set apps\.time\.desiredCount$/],
    ['a binding in the definition', { definition: 'time --spring.cloud.stream.bindings.output.destination=x | log' },
      /^addStream\('s'\): 'time' sets spring\.cloud\.stream\.bindings\.output\.destination, which the stream sets from the definition .*; remove it$/],
    ['server.port in properties', { definition: 'time | log', apps: { log: { properties: { 'server.port': '80' } } } },
      /'log' sets server\.port, which the stream sets .*; remove it, or set apps\.log\.port$/],
    ['a Kafka setting in environment', { definition: 'time | log', apps: { log: { environment: { SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS: 'x' } } } },
      /^addStream\('s'\): apps\.log\.environment sets SPRING_CLOUD_STREAM_KAFKA_BINDER_BROKERS, which the stream sets .*; remove it$/],
    ['SPRING_APPLICATION_JSON in environment', { definition: 'time | log', apps: { log: { environment: { SPRING_APPLICATION_JSON: '{}' } } } },
      /sets SPRING_APPLICATION_JSON, .*put Spring properties in apps\.log\.properties$/],
    ['an app version that is no version', { definition: 'time | log', appVersion: 'latest' },
      /^addStream\('s'\): appVersion "latest" is not an image version such as "5\.1\.1"$/],
    ['too little memory for a catalogue JVM', { definition: 'time | log', apps: { log: { cpu: 256, memoryLimitMiB: 512 } } },
      /^addStream\('s'\): apps\.log\.memoryLimitMiB 512 is too small for a catalogue app: .*give it at least 1024/],
    ['a scale-out lag of 0', { definition: 'time | log', apps: { log: { scaleOutLag: 0 } } },
      /apps\.log\.scaleOutLag 0 must be a whole number of 1 or more known at synth/],
    ['a label that makes no service name', { definition: 'time | Log_1: log' },
      /^addStream\('s'\): app 'Log_1' would run as service "s-Log_1", which is not a valid service name \(it must be a DNS label.*\); .*e\.g\. 'a1: log'$/],
    ['capacities the service refuses', { definition: 'time | log', apps: { log: { minCapacity: 3, maxCapacity: 2 } } },
      /^addStream\('s'\): app 'log' \(service "s-log"\): PlatformService: service "s-log" has maxCapacity 2 below minCapacity 3/],
    ['a port another service uses', { definition: 'time | log', apps: { log: { port: 8080 } } },
      /^addStream\('s'\): app 'log' \(service "s-log"\): DataflowPlatform: service "s-log" uses port 8080, already used by "web"/],
    ['a definition the parser refuses', { definition: 'time || log' }, /^addStream\('s'\): '\|\|' .*not supported/],
  ])('%s', (_name, options, message) => {
    expect(attempt(options)).toThrow(message);
  });

  test('a scale-out lag that is a token', () => {
    const { stack, platform } = platformWith();
    const lag = new CfnParameter(stack, 'Lag', { type: 'Number' }).valueAsNumber;
    expect(() => platform.addStream('s', { definition: 'time | log', apps: { log: { scaleOutLag: lag } } }))
      .toThrow(/apps\.log\.scaleOutLag \(a token\) must be a whole number of 1 or more known at synth/);
  });

  test('a long stream name makes service names longer than a DNS label', () => {
    const name = `s${'x'.repeat(60)}`;
    expect(() => platformWith().platform.addStream(name, { definition: 'time | log' }))
      .toThrow(/would run as service "sx+-time", which is not a valid service name \(it has 66 characters, more than the 63 of a DNS label\)/);
  });

  test('a platform without Kafka', () => {
    expect(attempt({ definition: 'time | log' }, { kafka: { enabled: false } }))
      .toThrow(/^addStream\('s'\): a stream's apps talk through Kafka, but the platform's Kafka cluster is turned off \(kafka\.enabled: false\); enable Kafka$/);
  });

  test('two streams of one name, or of one construct id', () => {
    const { platform } = platformWith();
    platform.addStream('a-b', { definition: 'time | log' });
    expect(() => platform.addStream('a-b', { definition: 'http | log' })).toThrow(/^addStream\('a-b'\): a stream named "a-b" already exists; give each stream its own name$/);
    expect(() => platform.addStream('a--b', { definition: 'http | log' }))
      .toThrow(/^addStream\('a--b'\): streams "a-b" and "a--b" would both get the construct id "StreamAB"; rename "a--b" so that it differs from "a-b" in more than hyphens$/);
  });
});

describe('gates', () => {
  test('cdk-nag: a platform with Spring Cloud Data Flow and streams has no unacknowledged finding', () => {
    const stack = newTestStack();
    const platform = new DataflowPlatform(stack, 'Dataflow');
    platform.addStream('ticktock', { definition: TICKTOCK, apps: { log: { maxCapacity: 4 } } });
    platform.addStream('ingest', { definition: 'http | filter --filter.function.expression=true > :orders' });
    expectNoNagFindings(stack);
  });

  test('strict CloudFormation validation and AWS Control Tower rules pass for a platform with a stream', () => {
    const app = newStrictApp();
    const stack = new Stack(app, 'Streams', { env: TEST_ENV });
    const platform = new DataflowPlatform(stack, 'Dataflow');
    platform.addStream('ticktock', { definition: TICKTOCK, apps: { log: { maxCapacity: 4 } } });
    expect(() => app.synth()).not.toThrow();
  });
});
