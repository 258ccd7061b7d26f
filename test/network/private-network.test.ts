import { App, CfnElement, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
