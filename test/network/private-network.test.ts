import { App, Aws, CfnCondition, CfnElement, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { KafkaCluster, PrivateNetwork } from '../../src';
import { MSK_EXCLUDED_AZ_IDS, supportedAzIds, VPC_LINK_V2_AZ_IDS } from '../../src/private/availability-zones';
import { expectNoNagFindings, newTestStack, TEST_ENV, testContext } from '../helpers/gates';
import { newStrictApp } from '../helpers/strict';

function synth(build: (stack: Stack) => void): Template {
  const stack = newTestStack();
  build(stack);
  return Template.fromStack(stack);
}

describe('PrivateNetwork with a new VPC', () => {
  let stack: Stack;
  let network: PrivateNetwork;
  let template: Template;

  beforeAll(() => {
    stack = newTestStack();
    network = new PrivateNetwork(stack, 'Network');
    template = Template.fromStack(stack);
  });

  test('has only isolated subnets in two AZs and no route to the internet', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::EgressOnlyInternetGateway', 0);
    const routes = template.findResources('AWS::EC2::Route');
    expect(Object.keys(routes)).toEqual([]);
    expect(network.vpc.isolatedSubnets).toHaveLength(2);
    expect(network.vpc.publicSubnets).toHaveLength(0);
  });

  test('sends all traffic to flow logs in a retained log group with one year retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('has the interface endpoints Fargate needs, with private DNS, behind one security group', () => {
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.us-east-1.${service}`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(network.endpointSecurityGroup!.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }],
      });
    }
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 5);
    expect(network.interfaceEndpoints).toHaveLength(4);
  });

  test('has an S3 gateway endpoint on the isolated route tables', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      VpcEndpointType: 'Gateway',
      RouteTableIds: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('Isolated') })]),
    });
  });

  test('endpoint security group admits HTTPS from the VPC range only and nothing from 0.0.0.0/0', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{
        CidrIp: '10.0.0.0/16',
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
      }],
    });
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('0.0.0.0/0');
  });

  test('restricts the default security group', () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });

  test('passes cdk-nag (AwsSolutions, NIST 800-53 R5, HIPAA, PCI DSS 3.2.1)', () => {
    expectNoNagFindings(stack);
  });
});

describe('PrivateNetwork options', () => {
  test('spans maxAzs with a custom private CIDR and subnet mask', () => {
    const template = synth(stack => new PrivateNetwork(stack, 'Network', { cidr: '172.20.0.0/20', maxAzs: 3, subnetCidrMask: 24 }));
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '172.20.0.0/20' });
    template.resourceCountIs('AWS::EC2::Subnet', 3);
    template.allResourcesProperties('AWS::EC2::Subnet', { CidrBlock: Match.stringLikeRegexp('^172\\.20\\.\\d+\\.0/24$') });
  });

  test('flow log retention, KMS key and removal policy are configurable', () => {
    const stack = newTestStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new PrivateNetwork(stack, 'Network', {
      flowLogRetention: logs.RetentionDays.TEN_YEARS,
      logEncryptionKey: key,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 3653, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
      DeletionPolicy: 'Delete',
    });
  });

  test('uses a supplied VPC without creating one, selecting its isolated subnets', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', {
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
      natGateways: 0,
    });
    const network = new PrivateNetwork(stack, 'Network', { vpc });
    const template = Template.fromStack(stack);
    expect(network.vpc).toBe(vpc);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    expect(network.flowLog).toBeUndefined();
    const endpoints = template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
    expect(Object.keys(endpoints)).toHaveLength(4);
    const isolatedIds = vpc.isolatedSubnets.map(s => stack.resolve(s.subnetId));
    for (const endpoint of Object.values(endpoints)) {
      expect(endpoint.Properties.SubnetIds).toEqual(isolatedIds);
    }
    // The endpoint group admits the supplied VPC's own range, whatever it is.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Own'), 'CidrBlock'] }, FromPort: 443 })],
    });
    expectNoNagFindings(network);
  });

  test('falls back to private subnets with egress in a supplied VPC without isolated ones', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { natGateways: 1 });
    const network = new PrivateNetwork(stack, 'Network', { vpc });
    expect(network.subnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  });

  test('createEndpoints: false adds no endpoints and refuses addInterfaceEndpoint', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const network = new PrivateNetwork(stack, 'Network', { vpc, createEndpoints: false });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(network.endpointSecurityGroup).toBeUndefined();
    expect(() => network.addInterfaceEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES))
      .toThrow(/cannot add the interface endpoint "SsmMessages" because createEndpoints is false/);
  });

  test('addInterfaceEndpoint adds one endpoint per id behind the shared security group', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const first = network.addInterfaceEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
    const again = network.addInterfaceEndpoint('SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
    expect(again).toBe(first);
    expect(network.findInterfaceEndpoint('SsmMessages')).toBe(first);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 6);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.us-east-1.ssmmessages',
      PrivateDnsEnabled: true,
    });
  });
});

describe('PrivateNetwork rejects bad input', () => {
  const cases: Array<[string, ConstructorParameters<typeof PrivateNetwork>[2], RegExp]> = [
    ['a public range', { cidr: '11.0.0.0/16' }, /cidr "11\.0\.0\.0\/16" is not a private address range; choose a block inside 10\.0\.0\.0\/8/],
    ['a range straddling a private block', { cidr: '172.0.0.0/8' }, /cidr "172\.0\.0\.0\/8" is not a private address range/],
    ['text that is not a CIDR', { cidr: '10.0.0.0' }, /cidr "10\.0\.0\.0" is not an IPv4 CIDR block/],
    ['host bits set', { cidr: '10.0.1.0/16' }, /cidr "10\.0\.1\.0\/16" has host bits set/],
    ['a prefix shorter than /16', { cidr: '10.0.0.0/12' }, /has a \/12 prefix, but a VPC range must be between \/16 and \/28/],
    ['maxAzs below 2', { maxAzs: 1 }, /maxAzs must be a whole number of at least 2.*got 1/],
    ['a range too small for the subnets', { cidr: '10.0.0.0/28', maxAzs: 2 }, /cidr "10\.0\.0\.0\/28" is too small for 2 subnets of at least \/28/],
    ['a subnet mask that does not fit the AZs', { cidr: '10.0.0.0/24', maxAzs: 3, subnetCidrMask: 25 }, /subnetCidrMask \/25 does not fit 3 subnets into "10\.0\.0\.0\/24"; choose a value from \/26 to \/28/],
    ['a subnet mask smaller than AWS allows', { subnetCidrMask: 29 }, /subnetCidrMask \/29/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    const stack = newTestStack();
    expect(() => new PrivateNetwork(stack, 'Network', props)).toThrow(message);
  });

  test('both vpc and cidr', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own');
    expect(() => new PrivateNetwork(stack, 'Network', { vpc, cidr: '10.1.0.0/16' }))
      .toThrow(/cidr \(10\.1\.0\.0\/16\) only applies to a new VPC, but vpc was also given/);
  });

  test('a supplied VPC with only public subnets', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    expect(() => new PrivateNetwork(stack, 'Network', { vpc })).toThrow(/has no PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS subnets/);
  });
});

describe('PrivateNetwork: what AWS would create on its behalf is its own', () => {
  /**
   * EC2 gives a security group created without egress rules an allow-all rule, and separate
   * AWS::EC2::SecurityGroupEgress resources do not take it away.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
   */
  test('the endpoint security group has egress rules of its own and sends nothing', () => {
    const stack = newTestStack();
    const network = new PrivateNetwork(stack, 'Network');
    const template = Template.fromStack(stack);
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(groups)).toEqual([stack.getLogicalId(network.endpointSecurityGroup!.node.defaultChild as ec2.CfnSecurityGroup)]);
    // CDK's rule that matches no traffic: the group exists to be reached, never to send.
    expect(Object.values(groups)[0].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  /** https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms */
  test('the S3 gateway endpoint admits ECR image layers and buckets of the stack\'s own account, nothing else', () => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network');
    const endpoint = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    const bucketArn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${suffix}`]] });
    expect(endpoint.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EcrImageLayers',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 's3:GetObject',
          Resource: bucketArn('prod-us-east-1-starport-layer-bucket/*'),
        },
        {
          Sid: 'BucketsOfThisAccount',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: [bucketArn('*'), bucketArn('*/*')],
          Condition: { StringEquals: { 'aws:ResourceAccount': '123456789012' } },
        },
      ],
    });
  });

  test('a bucket of another account is not admitted: every statement but ECR\'s layers is bound to the stack\'s account', () => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network');
    const endpoint = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    const statements: any[] = endpoint.Properties.PolicyDocument.Statement;
    expect(statements.every(s => s.Effect === 'Allow')).toBe(true);
    const unbound = statements.filter(s => s.Condition?.StringEquals?.['aws:ResourceAccount'] !== '123456789012');
    expect(unbound).toEqual([expect.objectContaining({
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', expect.arrayContaining([':s3:::prod-us-east-1-starport-layer-bucket/*'])] },
    })]);
  });

  test('in a stack without env, region and account come from the deployment', () => {
    const stack = new Stack(new App(), 'S');
    const network = new PrivateNetwork(stack, 'Network');
    const template = Template.fromStack(stack);
    const endpoint = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    expect(endpoint.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::prod-', { Ref: 'AWS::Region' }, '-starport-layer-bucket/*']] },
      }),
      expect.objectContaining({ Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } } }),
    ]);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: Match.stringLikeRegexp('^CustomVpcRestrictDefaultSGCustomResourceProviderHandler') }]] },
    });
    expectNoNagFindings(network);
  });

  /** https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html */
  test('the default-security-group function logs to a log group of the network, encrypted and kept like the flow logs, once per stack', () => {
    const stack = newTestStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const first = new PrivateNetwork(stack, 'Network', {
      flowLogRetention: logs.RetentionDays.TWO_YEARS,
      logEncryptionKey: key,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    const second = new PrivateNetwork(stack, 'Second', { cidr: '10.1.0.0/16' });
    const template = Template.fromStack(stack);
    const handlerLogs = template.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: Match.stringLikeRegexp('^CustomVpcRestrictDefaultSGCustomResourceProviderHandler') }]] } },
    });
    expect(Object.keys(handlerLogs)).toHaveLength(1);
    const [logGroupId, logGroup] = Object.entries(handlerLogs)[0];
    expect(logGroup.Properties).toEqual(expect.objectContaining({
      RetentionInDays: 731,
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
    }));
    expect(logGroup.DeletionPolicy).toBe('Delete');
    // Each VPC's custom resource runs the function only once the log group exists.
    const restrictions = template.findResources('Custom::VpcRestrictDefaultSG');
    expect(Object.keys(restrictions)).toHaveLength(2);
    for (const restriction of Object.values(restrictions)) {
      expect(restriction.DependsOn).toEqual(expect.arrayContaining([logGroupId]));
    }
    expectNoNagFindings(first);
    expectNoNagFindings(second);
  });

  test('every security group in a supplied VPC has egress rules of its own', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const network = new PrivateNetwork(stack, 'Network', { vpc });
    const groupId = stack.getLogicalId(network.endpointSecurityGroup!.node.defaultChild as ec2.CfnSecurityGroup);
    const group = Template.fromStack(stack).toJSON().Resources[groupId];
    expect(group.Properties.SecurityGroupEgress).toHaveLength(1);
    expect(JSON.stringify(group.Properties.SecurityGroupEgress)).not.toContain('0.0.0.0/0');
  });
});

/**
 * API Gateway VPC links V2 work in listed AZ IDs only ("Availability by Region",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html#apigateway-vpc-links-v2-availability),
 * and MSK client subnets "can't occupy the Availability Zone with ID use1-az3"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-msk-cluster-brokernodegroupinfo.html).
 * AZ names map to different AZ IDs in each account: a subnet placed by name can land in use1-az3.
 */
describe('PrivateNetwork puts a new VPC in AZ IDs that VPC links V2 and MSK support', () => {
  /** us-east-1 from the VPC links page, in its order; use1-az3 is missing there and excluded by MSK. */
  const US_EAST_1 = ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az5', 'use1-az6'];

  function subnetsOf(stack: Stack): Array<Record<string, any>> {
    return Object.values(Template.fromStack(stack).findResources('AWS::EC2::Subnet')).map(r => r.Properties);
  }

  function warnings(stack: Stack, id: string): unknown[] {
    return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: cdk-dataflow-platform:${id}\\]`));
  }

  /** A stack in `region` with the AZ names a context lookup would return for it. */
  function stackIn(region: string, names: string[]): Stack {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { ...testContext(), [`availability-zones:account=${TEST_ENV.account}:region=${region}`]: names },
    });
    return new Stack(app, 'Regional', { env: { account: TEST_ENV.account, region } });
  }

  test('the tables are the pages\' (spot checks), and no supported AZ ID is one MSK excludes', () => {
    expect(supportedAzIds('us-east-1')).toEqual(US_EAST_1);
    expect(supportedAzIds('us-west-1')).toEqual(['usw1-az1', 'usw1-az3']);
    expect(supportedAzIds('eu-west-3')).toEqual(['euw3-az1', 'euw3-az3']);
    expect(supportedAzIds('ap-northeast-1')).toEqual(['apne1-az1', 'apne1-az2', 'apne1-az4']);
    expect(supportedAzIds('ca-west-1')).toBeUndefined();
    expect(supportedAzIds('constructor')).toBeUndefined();
    expect(MSK_EXCLUDED_AZ_IDS).toEqual(['use1-az3']);
    for (const [region] of VPC_LINK_V2_AZ_IDS) {
      const ids = supportedAzIds(region)!;
      expect({ region, enough: ids.length >= 2, excluded: ids.filter(id => MSK_EXCLUDED_AZ_IDS.includes(id)) })
        .toEqual({ region, enough: true, excluded: [] });
    }
  });

  test('in us-east-1 every subnet has a supported AvailabilityZoneId, never use1-az3, and no AvailabilityZone', () => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network');
    const subnets = subnetsOf(stack);
    expect(subnets).toHaveLength(2);
    expect(subnets.map(p => p.AvailabilityZoneId)).toEqual(['use1-az1', 'use1-az2']);
    for (const properties of subnets) {
      expect(properties.AvailabilityZone).toBeUndefined();
      expect(US_EAST_1).toContain(properties.AvailabilityZoneId);
    }
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('use1-az3');
  });

  test.each([3, 5])('maxAzs %d in us-east-1: as many subnets, each in its own supported AZ ID', (maxAzs) => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network', { maxAzs });
    const ids = subnetsOf(stack).map(p => p.AvailabilityZoneId);
    expect(ids).toEqual(US_EAST_1.slice(0, maxAzs));
    expect(new Set(ids).size).toBe(maxAzs);
    expect(ids).not.toContain('use1-az3');
  });

  test('logical ids and CIDR blocks of the subnets are what ec2.Vpc makes (no resource is replaced but for the AZ)', () => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network');
    const subnets = Template.fromStack(stack).findResources('AWS::EC2::Subnet');
    expect(Object.keys(subnets)).toEqual([
      expect.stringMatching(/^NetworkVpcIsolatedSubnet1Subnet/),
      expect.stringMatching(/^NetworkVpcIsolatedSubnet2Subnet/),
    ]);
    expect(Object.values(subnets).map(r => r.Properties.CidrBlock)).toEqual(['10.0.0.0/17', '10.0.128.0/17']);
  });

  test('maxAzs above the region\'s supported AZ IDs: the VPC spans those, with a warning', () => {
    const stack = stackIn('eu-west-3', ['eu-west-3a', 'eu-west-3b', 'eu-west-3c']);
    const network = new PrivateNetwork(stack, 'Network', { maxAzs: 3 });
    expect(subnetsOf(stack).map(p => p.AvailabilityZoneId)).toEqual(['euw3-az1', 'euw3-az3']);
    expect(network.vpc.isolatedSubnets).toHaveLength(2);
    expect(Annotations.fromStack(stack).findWarning('*',
      Match.stringLikeRegexp('maxAzs is 3, but in eu-west-3 API Gateway VPC links V2 and Amazon MSK both work in 2 AZ IDs only \\(euw3-az1, euw3-az3\\), so the VPC spans 2'))).toHaveLength(1);
  });

  test('a region-only stack (no account) gets literal AZ IDs of its region', () => {
    const stack = new Stack(new App({ context: testContext() }), 'RegionOnly', { env: { region: 'us-west-1' } });
    new PrivateNetwork(stack, 'Network');
    const subnets = subnetsOf(stack);
    expect(subnets.map(p => p.AvailabilityZoneId)).toEqual(['usw1-az1', 'usw1-az3']);
    expect(subnets.map(p => p.AvailabilityZone)).toEqual([undefined, undefined]);
    expect(Template.fromStack(stack).toJSON().Conditions).toBeUndefined();
  });

  test('a concrete region the table does not know keeps the AZ names and warns', () => {
    const stack = stackIn('xx-future-1', ['xx-future-1a', 'xx-future-1b']);
    new PrivateNetwork(stack, 'Network');
    const subnets = subnetsOf(stack);
    expect(subnets.map(p => p.AvailabilityZone)).toEqual(['xx-future-1a', 'xx-future-1b']);
    expect(subnets.map(p => p.AvailabilityZoneId)).toEqual([undefined, undefined]);
    expect(warnings(stack, 'azIdsUnknown')).toHaveLength(1);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('in xx-future-1 are not known to this library, so the subnets keep CDK\'s AZ names \\(xx-future-1a, xx-future-1b\\)'))).toHaveLength(1);
  });

  test('a known region does not warn', () => {
    const stack = newTestStack();
    new PrivateNetwork(stack, 'Network', { maxAzs: 3 });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AZ IDs|AZ names'))).toEqual([]);
  });

  test('a supplied VPC\'s subnets are left as they are', () => {
    const stack = newTestStack();
    const vpc = new ec2.Vpc(stack, 'Own', { subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    new PrivateNetwork(stack, 'Network', { vpc });
    const subnets = subnetsOf(stack);
    expect(subnets.map(p => p.AvailabilityZone)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(subnets.map(p => p.AvailabilityZoneId)).toEqual([undefined, undefined, undefined]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AZ IDs|AZ names'))).toEqual([]);
  });

  describe('in a stack without env (cdk init), conditions on AWS::Region choose at deploy time', () => {
    type Json = any;

    /** Evaluates the conditions and Fn::If of a template for `region`, as CloudFormation would. */
    function evaluator(template: Json, region: string) {
      const condition = (expression: Json): boolean => {
        if (typeof expression.Condition === 'string') return condition(template.Conditions[expression.Condition]);
        if (expression['Fn::Equals']) {
          const [a, b] = expression['Fn::Equals'].map((v: Json) => (v?.Ref === 'AWS::Region' ? region : v));
          return a === b;
        }
        if (expression['Fn::Or']) {
          expect(expression['Fn::Or'].length).toBeGreaterThanOrEqual(2);
          expect(expression['Fn::Or'].length).toBeLessThanOrEqual(10);
          return expression['Fn::Or'].some(condition);
        }
        throw new Error(`unexpected condition ${JSON.stringify(expression)}`);
      };
      const value = (v: Json): Json => {
        if (v && v['Fn::If']) {
          const [name, yes, no] = v['Fn::If'];
          return value(condition(template.Conditions[name]) ? yes : no);
        }
        return v?.Ref === 'AWS::NoValue' ? undefined : v;
      };
      return value;
    }

    function agnostic(build: (stack: Stack) => void = stack => new PrivateNetwork(stack, 'Network'), context: Record<string, unknown> = {}): Stack {
      const stack = new Stack(new App({ builtinCloudFormationValidation: false, context: { ...testContext(), ...context } }), 'Agnostic');
      build(stack);
      return stack;
    }

    let stack: Stack;
    let template: Json;
    beforeAll(() => {
      stack = agnostic();
      template = Template.fromStack(stack).toJSON();
    });

    test('each subnet: AvailabilityZone unless the region is covered, else AvailabilityZoneId from the region\'s conditions', () => {
      const subnets = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::EC2::Subnet') as Json[];
      expect(subnets).toHaveLength(2);
      subnets.forEach((subnet, i) => {
        expect(subnet.Properties.AvailabilityZone).toEqual({
          'Fn::If': ['RegionHas2SupportedAzIds', { Ref: 'AWS::NoValue' }, { 'Fn::Select': [i, { 'Fn::GetAZs': '' }] }],
        });
        // An Fn::If per region, innermost AWS::NoValue; never Fn::FindInMap (fails on a region missing from the mapping).
        expect(subnet.Properties.AvailabilityZoneId['Fn::If'][0]).toBe('SupportedAzIdsUsEast2');
      });
      expect(template.Mappings).toBeUndefined();
      expect(JSON.stringify(template)).not.toContain('Fn::FindInMap');
      expect(template.Conditions.SupportedAzIdsUsEast1).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] });
    });

    test.each([
      ['us-east-1', ['use1-az1', 'use1-az2']],
      ['us-west-1', ['usw1-az1', 'usw1-az3']],
      ['eu-west-3', ['euw3-az1', 'euw3-az3']],
      ['ap-northeast-1', ['apne1-az1', 'apne1-az2']],
      ['us-gov-west-1', ['usgw1-az1', 'usgw1-az2']],
    ])('deployed to %s, the subnets are in %j and have no AZ name', (region, expected) => {
      const value = evaluator(template, region);
      const subnets = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::EC2::Subnet') as Json[];
      expect(subnets.map(s => value(s.Properties.AvailabilityZoneId))).toEqual(expected);
      expect(subnets.map(s => value(s.Properties.AvailabilityZone))).toEqual([undefined, undefined]);
    });

    test.each(['ca-west-1', 'cn-north-1', 'xx-future-1'])('deployed to %s (not in the table), the subnets keep today\'s AZ names', (region) => {
      const value = evaluator(template, region);
      const subnets = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::EC2::Subnet') as Json[];
      expect(subnets.map(s => value(s.Properties.AvailabilityZoneId))).toEqual([undefined, undefined]);
      expect(subnets.map(s => value(s.Properties.AvailabilityZone))).toEqual([0, 1].map(i => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] })));
    });

    test('every region of the table, deployed: exactly one of the two properties, distinct supported AZ IDs, never use1-az3', () => {
      const subnets = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::EC2::Subnet') as Json[];
      for (const [region, ids] of VPC_LINK_V2_AZ_IDS) {
        const value = evaluator(template, region);
        const chosen = subnets.map(s => value(s.Properties.AvailabilityZoneId));
        expect({ region, chosen, names: subnets.map(s => value(s.Properties.AvailabilityZone)) })
          .toEqual({ region, chosen: ids.slice(0, 2), names: [undefined, undefined] });
        expect(chosen).not.toContain('use1-az3');
      }
    });

    test('passes cdk-nag', () => {
      expectNoNagFindings(stack);
    });

    test('passes the strict CloudFormation validator, told per subnet that it cannot evaluate Fn::If', () => {
      const app = newStrictApp();
      new PrivateNetwork(new Stack(app, 'Agnostic'), 'Network');
      expect(() => app.synth()).not.toThrow();
    });

    test('the strict validator fails a subnet with both properties under Fn::If when nothing tells it otherwise', () => {
      const app = newStrictApp();
      const bare = new Stack(app, 'Bare');
      const vpc = new ec2.CfnVPC(bare, 'Vpc', { cidrBlock: '10.0.0.0/16' });
      const known = new CfnCondition(bare, 'Known', { expression: Fn.conditionEquals(bare.region, 'us-east-1') });
      new ec2.CfnSubnet(bare, 'Subnet', {
        vpcId: vpc.ref,
        cidrBlock: '10.0.0.0/24',
        availabilityZone: Token.asString(Fn.conditionIf(known.logicalId, Aws.NO_VALUE, Fn.select(0, Fn.getAzs()))),
        availabilityZoneId: Token.asString(Fn.conditionIf(known.logicalId, 'use1-az1', Aws.NO_VALUE)),
      });
      expect(() => app.synth()).toThrow(/F3020|should not be included with/);
    });

    test('two networks in one stack share the conditions', () => {
      const two = agnostic(s => {
        new PrivateNetwork(s, 'First');
        new PrivateNetwork(s, 'Second', { cidr: '10.1.0.0/16' });
      });
      const conditions = Template.fromStack(two).toJSON().Conditions;
      expect(Object.keys(conditions)).toHaveLength(VPC_LINK_V2_AZ_IDS.length + 1);
    });

    test('MSK still finds one client subnet per AZ: the two subnets, whose AZ IDs differ', () => {
      const withKafka = agnostic(s => {
        const network = new PrivateNetwork(s, 'Network');
        new KafkaCluster(s, 'Kafka', { vpc: network.vpc });
      });
      const t = Template.fromStack(withKafka);
      const subnetIds = Object.keys(t.findResources('AWS::EC2::Subnet')).map(id => ({ Ref: id }));
      t.hasResourceProperties('AWS::MSK::Cluster', { BrokerNodeGroupInfo: Match.objectLike({ ClientSubnets: subnetIds }) });
    });

    test('with more AZs (availability-zone fallback context), regions with fewer supported AZ IDs keep names, with a warning', () => {
      const three = agnostic(s => new PrivateNetwork(s, 'Network', { maxAzs: 3 }),
        { [cxapi.AVAILABILITY_ZONE_FALLBACK_CONTEXT_KEY]: ['x-1a', 'x-1b', 'x-1c'] });
      const json = Template.fromStack(three).toJSON();
      const subnets = Object.values(json.Resources).filter((r: Json) => r.Type === 'AWS::EC2::Subnet') as Json[];
      expect(subnets).toHaveLength(3);
      expect(subnets.map(s => evaluator(json, 'us-east-1')(s.Properties.AvailabilityZoneId))).toEqual(['use1-az1', 'use1-az2', 'use1-az4']);
      expect(subnets.map(s => evaluator(json, 'us-west-1')(s.Properties.AvailabilityZone))).toEqual(['x-1a', 'x-1b', 'x-1c']);
      expect(subnets.map(s => evaluator(json, 'us-west-1')(s.Properties.AvailabilityZoneId))).toEqual([undefined, undefined, undefined]);
      expect(Annotations.fromStack(three).findWarning('*',
        Match.stringLikeRegexp('share fewer AZ IDs in us-west-1, ap-east-1, ca-central-1, eu-west-3'))).toHaveLength(1);
    });
  });
});

describe('endpoints in one AZ', () => {
  test('endpointsInOneAz puts each interface endpoint in the first subnet only; by default they span every AZ', () => {
    for (const [endpointsInOneAz, count] of [[true, 1], [undefined, 2]] as const) {
      const stack = newTestStack();
      new PrivateNetwork(stack, 'Network', { endpointsInOneAz });
      const endpoints = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
      expect(endpoints.length).toBeGreaterThan(0);
      for (const endpoint of endpoints) {
        expect(endpoint.Properties.SubnetIds).toHaveLength(count);
      }
    }
  });
});
