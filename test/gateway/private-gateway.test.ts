import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ApiAuthorization, ApiAuthorizationType, PrivateGateway, PrivateNetwork } from '../../src';
import { expectNoNagFindings, newTestStack } from '../helpers/gates';

/** A gateway used alone, with a listener per route as PlatformService would add. */
function gateway(props: Partial<ConstructorParameters<typeof PrivateGateway>[2]> = {}) {
  const stack = newTestStack();
  const network = new PrivateNetwork(stack, 'Network');
  const gw = new PrivateGateway(stack, 'Gateway', { vpc: network.vpc, ...props });
  return { stack, network, gw };
}

function addRouteWithListener(stack: Stack, gw: PrivateGateway, path: string, port: number) {
  const route = gw.addRoute({ path, port });
  const targetGroup = new elbv2.NetworkTargetGroup(stack, `Tg${port}`, {
    vpc: gw.loadBalancer.vpc!, port, protocol: elbv2.Protocol.TCP, targetType: elbv2.TargetType.IP,
  });
  const listener = new elbv2.NetworkListener(stack, `Listener${port}`, {
    loadBalancer: route.loadBalancer, port, defaultTargetGroups: [targetGroup],
  });
  return { listener, route };
}

describe('PrivateGateway used alone', () => {
  test('routes, stage options and security groups', () => {
    const { stack, gw } = gateway({
      stageName: 'v1',
      throttlingRateLimit: 50,
      throttlingBurstLimit: 80,
      accessLogRetention: logs.RetentionDays.TWO_YEARS,
    });
    const { route } = addRouteWithListener(stack, gw, '/reports/', 9000);
    expect(route.path).toBe('reports');
    expect(gw.routes).toHaveLength(1);
    expect(gw.authorization.type).toBe(ApiAuthorizationType.IAM);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 })],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 731, KmsKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::ApiGatewayV2::VpcLink', {
      SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(gw.vpcLinkSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }],
      SubnetIds: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    expectNoNagFindings(gw);
  });

  test('deletion protection on request', () => {
    const { stack, gw } = gateway({ deletionProtection: true });
    addRouteWithListener(stack, gw, 'a', 8080);
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
  });

  test('nested paths share their parent resources', () => {
    const { stack, gw } = gateway();
    addRouteWithListener(stack, gw, 'team/a', 8080);
    addRouteWithListener(stack, gw, 'team/b', 8081);
    const template = Template.fromStack(stack);
    const parts = Object.values(template.findResources('AWS::ApiGateway::Resource')).map(r => r.Properties.PathPart);
    expect(parts.sort()).toEqual(['a', 'b', 'team', '{proxy+}', '{proxy+}']);
  });

  test.each([
    ['stageName', { stageName: 'my stage' }, /stageName "my stage" may only contain letters, digits, "-" and "_"/],
    ['throttlingRateLimit', { throttlingRateLimit: -1 }, /throttlingRateLimit must be zero or more, got -1/],
  ])('rejects a bad %s', (_prop, props, message) => {
    expect(() => gateway(props as any)).toThrow(message);
  });

  test('rejects overlapping paths, a second route on one port, and bad paths', () => {
    const { stack, gw } = gateway();
    addRouteWithListener(stack, gw, 'orders', 8080);
    expect(() => gw.addRoute({ path: 'orders/x', port: 8081 })).toThrow(/API path "\/orders\/x" overlaps the route "\/orders"/);
    expect(() => gw.addRoute({ path: 'billing', port: 8080 })).toThrow(/port 8080 already has a listener/);
    expect(() => gw.addRoute({ path: 'a b', port: 8082 })).toThrow(/API path "a b" is not valid/);
  });

  test('a 51st route goes to a second load balancer behind the same VPC link: at most 50 listeners each', () => {
    const { stack, gw } = gateway();
    const routes = [];
    for (let i = 0; i < 51; i++) {
      routes.push(addRouteWithListener(stack, gw, `r${i}`, 8000 + i).route);
    }
    expect(gw.loadBalancers).toHaveLength(2);
    expect(routes[49].loadBalancer).toBe(gw.loadBalancers[0]);
    expect(routes[50].loadBalancer).toBe(gw.loadBalancers[1]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 2);
    template.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 1);
    const second = stack.getLogicalId(gw.loadBalancers[1].node.defaultChild as any);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^GatewayRouteR50ApiProxyResource') },
      Integration: Match.objectLike({ IntegrationTarget: { Ref: second } }),
    });
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'));
    const perBalancer = new Map<string, number>();
    for (const l of listeners) {
      const key = JSON.stringify(l.Properties.LoadBalancerArn);
      perBalancer.set(key, (perBalancer.get(key) ?? 0) + 1);
    }
    expect([...perBalancer.values()].sort()).toEqual([1, 50]);
  });

  test('apiKey authorization creates the usage plan', () => {
    const { stack, gw } = gateway({ authorization: ApiAuthorization.apiKey() });
    addRouteWithListener(stack, gw, 'a', 8080);
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });
});
