import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

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
