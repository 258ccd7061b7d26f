/**
 * The app layouts teams use in their first week: a shared network, several platforms on one VPC,
 * separate stacks that reference the platform, production beside development. Each synthesizes
 * as a whole app through the strict gates (CloudFormation validator, Control Tower rules) and cdk-nag.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ApiAuthorization, DataflowPlatform, DataflowPlatformProps, PrivateNetwork } from '../src';
import { expectNoNagFindings, TEST_ENV, testContext } from './helpers/gates';
import { newStrictApp } from './helpers/strict';

function image(stack: Stack): ecs.ContainerImage {
  const repository = (stack.node.tryFindChild('Repo') as ecr.IRepository | undefined)
    ?? ecr.Repository.fromRepositoryName(stack, 'Repo', 'services');
  return ecs.ContainerImage.fromEcrRepository(repository, 'v1');
}

/** A platform of one service (Spring Cloud Data Flow off unless asked). */
function platformIn(stack: Stack, id: string, props: DataflowPlatformProps = {}, port = 8080): DataflowPlatform {
  const platform = new DataflowPlatform(stack, id, { springCloudDataFlow: { enabled: false }, ...props });
  platform.addService('orders', { image: image(stack), port });
  return platform;
}

/** The short service name of a VPC endpoint's ServiceName ('ecr.api' of 'com.amazonaws.us-east-1.ecr.api'). */
function shortServiceName(serviceName: unknown): string {
  if (typeof serviceName === 'string') {
    return serviceName.split('.').slice(3).join('.');
  }
  const parts = (serviceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return String(parts[parts.length - 1]).replace(/^\./, '');
}

/** Every VPC endpoint of the stacks, as '<stack>: <service>'. */
function endpointsOf(...stacks: Stack[]): string[] {
  const found: string[] = [];
  for (const stack of stacks) {
    for (const endpoint of Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint'))) {
      found.push(`${stack.stackName}: ${shortServiceName(endpoint.Properties.ServiceName)}`);
    }
  }
  return found.sort();
}

/** The services of every endpoint, whatever stack holds it. */
function serviceCounts(...stacks: Stack[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of endpointsOf(...stacks)) {
    const service = entry.split(': ')[1];
    counts[service] = (counts[service] ?? 0) + 1;
  }
  return counts;
}

const ONE_EACH = { 'ecr.api': 1, 'ecr.dkr': 1, 'logs': 1, 'secretsmanager': 1, 's3': 1 };

describe('a network is shared', () => {
  test('a PrivateNetwork in a network stack, and a platform in its own stack that runs in it', () => {
    const app = newStrictApp();
    const networkStack = new Stack(app, 'Network', { env: TEST_ENV });
    const platformStack = new Stack(app, 'Platform', { env: TEST_ENV });
    const network = new PrivateNetwork(networkStack, 'Network');
    const platform = platformIn(platformStack, 'Dataflow', { network });
    app.synth();
    expect(platform.network).toBe(network);
    expect(serviceCounts(networkStack, platformStack)).toEqual(ONE_EACH);
    Template.fromStack(platformStack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    Template.fromStack(platformStack).resourceCountIs('AWS::EC2::VPC', 0);
    expectNoNagFindings(networkStack);
    expectNoNagFindings(platformStack);
  });

  test('a platform given the network\'s VPC reuses the network\'s endpoints', () => {
    const app = newStrictApp();
    const networkStack = new Stack(app, 'Network', { env: TEST_ENV });
    const platformStack = new Stack(app, 'Platform', { env: TEST_ENV });
    const network = new PrivateNetwork(networkStack, 'Network');
    const platform = platformIn(platformStack, 'Dataflow', { vpc: network.vpc });
    app.synth();
    expect(platform.network.s3Endpoint).toBe(network.s3Endpoint);
    expect(platform.network.endpointSecurityGroup).toBe(network.endpointSecurityGroup);
    expect(serviceCounts(networkStack, platformStack)).toEqual(ONE_EACH);
    expectNoNagFindings(platformStack);
  });

  test('two platforms (dev and uat) on one VPC in one stack', () => {
    const app = newStrictApp();
    const stack = new Stack(app, 'Shared', { env: TEST_ENV });
    const network = new PrivateNetwork(stack, 'Network');
    platformIn(stack, 'Dev', { environmentName: 'dev', vpc: network.vpc });
    platformIn(stack, 'Uat', { environmentName: 'uat', vpc: network.vpc }, 8081);
    app.synth();
    expect(serviceCounts(stack)).toEqual(ONE_EACH);
    expectNoNagFindings(stack);
  });

  test('two platforms on a plain ec2.Vpc with isolated subnets in another stack: endpoints once, in the first platform\'s stack', () => {
    const app = newStrictApp();
    const vpcStack = new Stack(app, 'Vpc', { env: TEST_ENV });
    const devStack = new Stack(app, 'Dev', { env: TEST_ENV });
    const uatStack = new Stack(app, 'Uat', { env: TEST_ENV });
    const vpc = new ec2.Vpc(vpcStack, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      // (The user's VPC: its default-security-group cleanup function is the user's to set up.)
      restrictDefaultSecurityGroup: false,
    });
    platformIn(devStack, 'Dataflow', { environmentName: 'dev', vpc });
    platformIn(uatStack, 'Dataflow', { environmentName: 'uat', vpc });
    app.synth();
    expect(serviceCounts(vpcStack, devStack, uatStack)).toEqual(ONE_EACH);
    // Nothing of the platform lands in the stack that defines the VPC.
    Template.fromStack(vpcStack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    Template.fromStack(uatStack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expectNoNagFindings(devStack);
    expectNoNagFindings(uatStack);
  });

  test('createEndpoints: false says which endpoints the tasks assume, and the artifact bucket uses the given S3 endpoint', () => {
    // (Not the strict app: it fails on warnings, and these warnings are the point.)
    const app = new App({ context: testContext() });
    const stack = new Stack(app, 'Platform', { env: TEST_ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      isolatedSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      isolatedSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
      vpcCidrBlock: '10.1.0.0/16',
    });
    const platform = new DataflowPlatform(stack, 'Dataflow', { vpc, createEndpoints: false, s3GatewayEndpointId: 'vpce-0123456789abcdef0' });
    platform.addService('shell', { image: image(stack), port: 8080, enableExecuteCommand: true });
    app.synth();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' } } })]) },
    });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('createEndpoints is false')).map(w => String(w.entry.data));
    expect(warnings.join('\n')).toMatch(/assume the VPC already has interface endpoints with private DNS for ecr\.api, ecr\.dkr, logs, secretsmanager .* the S3 gateway endpoint vpce-0123456789abcdef0/);
    expect(warnings.join('\n')).toMatch(/an interface endpoint with private DNS for ssmmessages/);
  });

  test('createEndpoints: false without an S3 endpoint id refuses the artifact bucket, naming the ways out', () => {
    const stack = new Stack(new App(), 'Platform', { env: TEST_ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'I', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(() => new DataflowPlatform(stack, 'Dataflow', { vpc, createEndpoints: false }))
      .toThrow(/app-artifact bucket is reachable only through the VPC's S3 gateway endpoint.*s3GatewayEndpointId/);
  });

  test('an imported VPC gets the endpoints with a warning that says how to use existing ones', () => {
    const stack = new Stack(new App(), 'Platform', { env: TEST_ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      isolatedSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
    expect(() => platformIn(stack, 'Dataflow', { vpc })).toThrow(/the supplied VPC "vpc-0123456789abcdef0" has no vpcCidrBlock.*give vpcCidrBlock to Vpc\.fromVpcAttributes, or set createEndpoints: false/);
    const withRange = ec2.Vpc.fromVpcAttributes(stack, 'WithRange', {
      vpcId: 'vpc-0123456789abcdef1',
      vpcCidrBlock: '10.1.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      isolatedSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      isolatedSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    });
    platformIn(stack, 'Other', { vpc: withRange });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('If the VPC already has endpoints for these services.*createEndpoints: false'))).toHaveLength(1);
  });

  test('network together with vpc is refused', () => {
    const stack = new Stack(new App(), 'Platform', { env: TEST_ENV });
    const network = new PrivateNetwork(stack, 'Network');
    expect(() => platformIn(stack, 'Dataflow', { network, vpc: network.vpc, createEndpoints: false }))
      .toThrow(/network is given, so vpc, createEndpoints cannot be set too/);
  });
});

describe('account-wide settings are created once', () => {
  test('one AWS::ApiGateway::Account for two platforms in two stacks; the second waits for it', () => {
    const app = newStrictApp();
    const dev = new Stack(app, 'Dev', { env: TEST_ENV });
    const uat = new Stack(app, 'Uat', { env: TEST_ENV });
    platformIn(dev, 'Dataflow', { environmentName: 'dev' });
    platformIn(uat, 'Dataflow', { environmentName: 'uat' });
    app.synth();
    Template.fromStack(dev).resourceCountIs('AWS::ApiGateway::Account', 1);
    Template.fromStack(uat).resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(uat.dependencies).toContain(dev);
    expectNoNagFindings(uat);
  });

  test('apiGatewayCloudWatchRole: false creates none', () => {
    const stack = new Stack(new App(), 'Dev', { env: TEST_ENV });
    platformIn(stack, 'Dataflow', { apiGatewayCloudWatchRole: false });
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Template.fromStack(stack).findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] } },
    })).toEqual({});
  });
});

describe('stacks as teams split them', () => {
  test('a stack of the user\'s references service.url, gateway.grantInvoke, the database and Kafka', () => {
    const app = newStrictApp();
    const platformStack = new Stack(app, 'Platform', { env: TEST_ENV });
    const consumerStack = new Stack(app, 'Consumer', { env: TEST_ENV });
    const platform = platformIn(platformStack, 'Dataflow');
    const role = new iam.Role(consumerStack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    platform.gateway.grantInvoke(role);
    platform.database!.secret.grantRead(role);
    new ssm.StringParameter(consumerStack, 'Brokers', { stringValue: platform.kafka!.bootstrapBrokers });
    new ssm.StringParameter(consumerStack, 'Database', { stringValue: platform.database!.jdbcUrl });
    new ssm.StringParameter(consumerStack, 'OrdersUrl', { stringValue: platform.findService('orders')!.url! });
    app.synth();
    expect(consumerStack.dependencies).toContain(platformStack);
    const consumer = Template.fromStack(consumerStack);
    consumer.hasResourceProperties('AWS::SSM::Parameter', { Value: Match.objectLike({}) });
    consumer.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'execute-api:Invoke' })]) },
    });
    expectNoNagFindings(platformStack);
  });

  test('production and development platforms side by side in one app', () => {
    const app = newStrictApp();
    const dev = new Stack(app, 'Dev', { env: TEST_ENV });
    const prod = new Stack(app, 'Prod', { env: TEST_ENV });
    platformIn(dev, 'Dataflow', { environmentName: 'dev' });
    platformIn(prod, 'Dataflow', { environmentName: 'prod', production: true });
    app.synth();
    Template.fromStack(prod).hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
    Template.fromStack(dev).hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
    expectNoNagFindings(dev);
    expectNoNagFindings(prod);
  });
});

describe('smaller things a week-one user trips over', () => {
  test('ApiAuthorization.apiKey() warns at synth, like .none(), and says what cdk-nag will report', () => {
    const stack = new Stack(new App(), 'Keys', { env: TEST_ENV });
    platformIn(stack, 'Dataflow', { apiAuthorization: ApiAuthorization.apiKey() });
    expect(Annotations.fromStack(stack).findWarning('*',
      Match.stringLikeRegexp('anyone who holds the API key.*AwsSolutions-APIG4 and AwsSolutions-COG4 on every method'))).toHaveLength(1);
  });

  test('maxAzs: 3 in a stack without env warns that the VPC gets 2', () => {
    const stack = new Stack(new App(), 'Agnostic');
    platformIn(stack, 'Dataflow', { maxAzs: 3 });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('maxAzs is 3, but the stack has no concrete account and region, so the VPC gets 2 AZs'))).toHaveLength(1);
  });
});
