import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { KafkaClientAuthentication, KafkaCluster, KafkaClusterProps, KafkaEnhancedMonitoring, PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

function kafka(props: Partial<KafkaClusterProps> = {}, maxAzs = 2) {
  const stack = newTestStack();
  const network = new PrivateNetwork(stack, 'Network', { maxAzs });
  const cluster = new KafkaCluster(stack, 'Kafka', { vpc: network.vpc, ...props });
  return { stack, network, cluster };
}

const clusterId = (stack: Stack, cluster: KafkaCluster) => stack.getLogicalId(cluster.cluster as msk.CfnCluster);

describe('KafkaCluster (defaults)', () => {
  const { stack, network, cluster } = kafka();
  const template = Template.fromStack(stack);

  test('a supported Kafka version, one broker per AZ, encrypted at rest and in transit, logs in CloudWatch', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.8.x',
      NumberOfBrokerNodes: 2,
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.t3.small',
        ClientSubnets: network.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
        SecurityGroups: Match.anyValue(),
        // Development: 10 GiB per broker (production: 100).
        StorageInfo: { EBSStorageInfo: { VolumeSize: 10 } },
        ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } },
      },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
      ClientAuthentication: { Unauthenticated: { Enabled: true } },
      EnhancedMonitoring: 'DEFAULT',
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^KafkaBrokerLogs') } } } },
    });
    template.hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Delete' });
    expect(cluster.clientPort).toBe(9094);
    expect(cluster.connections.defaultPort?.toString()).toBe('9094');
  });

  test('no client is admitted until one is declared', () => {
    const group = template.toJSON().Resources[stack.getLogicalId(cluster.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup)];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('the bootstrap brokers come from a custom resource that may only call kafka:GetBootstrapBrokers on this cluster', () => {
    const id = clusterId(stack, cluster);
    const lookup = template.findResources('Custom::AWS');
    expect(Object.keys(lookup)).toHaveLength(1);
    const props = Object.values(lookup)[0].Properties;
    const create = JSON.stringify(props.Create);
    expect(create).toContain('"action\\":\\"getBootstrapBrokers\\"');
    expect(create).toContain(id);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: { 'Fn::GetAtt': [id, 'Arn'] } }],
      },
    });
    expect(stack.resolve(cluster.bootstrapBrokersTls)).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(cluster.bootstrapBrokersLookup.node.findChild('Resource').node.defaultChild as any), 'BootstrapBrokerStringTls'],
    });
    expect(cluster.bootstrapBrokers).toBe(cluster.bootstrapBrokersTls);
  });

  test('grants need IAM authentication', () => {
    const role = new iam.Role(newTestStack(), 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => cluster.grantReadWrite(role)).toThrow(/grantReadWrite\(\) grants IAM access control, but clientAuthentication is TLS/);
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(stack);
  });
});

describe('KafkaCluster options', () => {
  test('the broker string is read again when what changes it changes', () => {
    const lookupOf = (props: Partial<KafkaClusterProps>) => {
      const { stack } = kafka(props);
      return JSON.stringify(Object.values(Template.fromStack(stack).findResources('Custom::AWS'))[0].Properties.Update);
    };
    const base = lookupOf({});
    expect(lookupOf({})).toBe(base);
    expect(lookupOf({ numberOfBrokerNodes: 4 })).not.toBe(base);
    expect(lookupOf({ kafkaVersion: '3.9.x' })).not.toBe(base);
    expect(lookupOf({ clientAuthentication: KafkaClientAuthentication.IAM })).not.toBe(base);
  });

  test('IAM authentication: port 9098, SASL/IAM only, and topic grants scoped to this cluster', () => {
    const { stack, cluster } = kafka({ clientAuthentication: KafkaClientAuthentication.IAM });
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    cluster.grantReadWrite(role, 'orders.*', 'orders-consumers');
    const template = Template.fromStack(stack);
    expect(cluster.clientPort).toBe(9098);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
    });
    const id = clusterId(stack, cluster);
    const arnPart = (n: number) => ({ 'Fn::Select': [n, { 'Fn::Split': ['/', { 'Fn::GetAtt': [id, 'Arn'] }] }] });
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Client') }] } }))[0];
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: { 'Fn::GetAtt': [id, 'Arn'] } }),
      expect.objectContaining({
        Action: expect.arrayContaining(['kafka-cluster:ReadData', 'kafka-cluster:WriteData']),
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kafka:us-east-1:123456789012:topic/', arnPart(1), '/', arnPart(2), '/orders.*']] },
      }),
      expect.objectContaining({
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kafka:us-east-1:123456789012:group/', arnPart(1), '/', arnPart(2), '/orders-consumers']] },
      }),
    ]));
    expect(JSON.stringify(statements)).not.toContain('"Resource":"*"');
    expect(stack.resolve(cluster.bootstrapBrokers)['Fn::GetAtt'][1]).toBe('BootstrapBrokerStringSaslIam');
  });

  test('three AZs give three client subnets; brokers, storage, type, monitoring and production are options', () => {
    const { stack, network } = kafka({
      numberOfBrokerNodes: 6,
      volumeSizeGiB: 500,
      instanceType: 'kafka.m7g.xlarge',
      enhancedMonitoring: KafkaEnhancedMonitoring.PER_TOPIC_PER_BROKER,
      production: true,
    }, 3);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 6,
      EnhancedMonitoring: 'PER_TOPIC_PER_BROKER',
      BrokerNodeGroupInfo: Match.objectLike({
        InstanceType: 'kafka.m7g.xlarge',
        ClientSubnets: network.vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId)),
        StorageInfo: { EBSStorageInfo: { VolumeSize: 500 } },
      }),
    });
    template.hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Retain' });
  });

  test('a production cluster gets 100 GiB per broker by default', () => {
    const { stack } = kafka({ production: true });
    Template.fromStack(stack).hasResourceProperties('AWS::MSK::Cluster', {
      BrokerNodeGroupInfo: Match.objectLike({ StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } } }),
    });
  });

  test.each<[string, Partial<KafkaClusterProps>, RegExp]>([
    ['brokers not a multiple of the AZ count', { numberOfBrokerNodes: 3 }, /numberOfBrokerNodes 3 is not a multiple of the 2 client subnets \(one per AZ\); use 2, 4 or another multiple/],
    ['an end-of-life version', { kafkaVersion: '2.8.1' }, /kafkaVersion "2\.8\.1" is not a version Amazon MSK offers; Kafka 2\.8\.1 is past end of support/],
    ['a 4.x version without .kraft', { kafkaVersion: '4.0.x' }, /Kafka 4 versions carry a '\.kraft' suffix on Amazon MSK \(e\.g\. '4\.0\.x\.kraft'\)/],
    ['an unknown version', { kafkaVersion: 'latest' }, /kafkaVersion "latest" is not a version Amazon MSK offers; use one of 3\.6\.0/],
    ['a volume size out of range', { volumeSizeGiB: 0 }, /volumeSizeGiB 0 must be a whole number from 1 to 16384/],
    ['an instance type that is not MSK\'s', { instanceType: 'm5.large' }, /instanceType "m5\.large" is not an MSK broker type/],
  ])('rejects %s', (_what, props, message) => {
    expect(() => kafka(props)).toThrow(message);
  });

  test('rejects subnets in a single AZ', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(() => new KafkaCluster(stack, 'Kafka', { vpc, subnets: { subnets: [vpc.isolatedSubnets[0]] } }))
      .toThrow(/MSK needs client subnets in 2 or 3 distinct Availability Zones, but the selected subnets span 1/);
  });
});

describe('KafkaCluster: what AWS would create on its behalf is its own', () => {
  /**
   * EC2 gives a security group created without egress rules an allow-all rule.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
   */
  test('the broker security group has egress rules of its own and sends nothing', () => {
    const { stack, cluster } = kafka();
    const groupId = stack.getLogicalId(cluster.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup);
    const template = Template.fromStack(stack);
    expect(template.toJSON().Resources[groupId].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 },
    ]);
    const separate = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map(r => JSON.stringify(r.Properties.GroupId));
    expect(separate.filter(g => g.includes(groupId))).toEqual([]);
  });

  /**
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
   * https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
   */
  test('broker logs go to a log group under /aws/vendedlogs/, named per cluster', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const first = new KafkaCluster(stack, 'Kafka', { vpc: network.vpc });
    const second = new KafkaCluster(stack, 'Other', { vpc: network.vpc });
    const resources = Template.fromStack(stack).toJSON().Resources;
    const [firstLogs, secondLogs] = [first, second].map(c => resources[stack.getLogicalId(c.logGroup.node.defaultChild as CfnElement)].Properties);
    expect(firstLogs.LogGroupName).toMatch(/^\/aws\/vendedlogs\/msk\/Test-Kafka-[A-F0-9]{8}$/);
    expect(secondLogs.LogGroupName).toMatch(/^\/aws\/vendedlogs\/msk\/Test-Other-[A-F0-9]{8}$/);
    expect(firstLogs).toEqual(expect.objectContaining({ RetentionInDays: 30, KmsKeyId: expect.anything() }));
  });

  /** https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html */
  test('the bootstrap-broker lookup logs to a log group of its own, encrypted with retention, once per stack', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const first = new KafkaCluster(stack, 'Kafka', { vpc: network.vpc, logEncryptionKey: key, logRetention: logs.RetentionDays.ONE_YEAR });
    const second = new KafkaCluster(stack, 'Other', { vpc: network.vpc });
    expect(first.lookupLogGroup).toBeDefined();
    expect(second.lookupLogGroup).toBe(first.lookupLogGroup);
    const template = Template.fromStack(stack);
    const lookupLogs = stack.getLogicalId(first.lookupLogGroup!.node.defaultChild as CfnElement);
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { LoggingConfig: Match.anyValue() } });
    expect(Object.values(functions).map(f => f.Properties.LoggingConfig)).toEqual([{ LogGroup: { Ref: lookupLogs } }]);
    expect(template.toJSON().Resources[lookupLogs].Properties).toEqual(expect.objectContaining({
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
    }));
    // Never the broker log group: that one is MSK's.
    expect(lookupLogs).not.toBe(stack.getLogicalId(first.logGroup.node.defaultChild as CfnElement));
    expectNoNagFindings(stack);
  });

  test('a stack whose AwsCustomResource function came first keeps that function\'s logging', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    new cr.AwsCustomResource(stack, 'Earlier', {
      onCreate: { service: 'STS', action: 'getCallerIdentity', physicalResourceId: cr.PhysicalResourceId.of('id') },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    const cluster = new KafkaCluster(stack, 'Kafka', { vpc: network.vpc });
    expect(cluster.lookupLogGroup).toBeUndefined();
    expect(stack.node.tryFindChild('CdkDataflowPlatformAwsCustomResourceLogs')).toBeUndefined();
  });

  test('synthesizes in a stack without env (what cdk init generates)', () => {
    const stack = new Stack(new App(), 'S');
    const network = new PrivateNetwork(stack, 'Network');
    const cluster = new KafkaCluster(stack, 'Kafka', { vpc: network.vpc });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/msk/S-Kafka-') });
    expectNoNagFindings(cluster);
  });
});
