/**
 * The ECS interface endpoints a platform's Fargate tasks need in some regions, and the endpoints a
 * service may depend on.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';
import { EndpointNeed, newRegionCondition, regionalEcsEndpointsNeed } from './regions';

/** What these functions read of the platform's network (a `PrivateNetwork`). */
export interface EndpointNetwork extends IConstruct {
  readonly interfaceEndpoints: IConstruct[];
  requireEndpoint(id: string, service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint | undefined;
}

/**
 * The ECS endpoints, where AWS requires them for Fargate. Elsewhere they are not needed: "Tasks
 * using the Fargate launch type don't require the interface VPC endpoints for Amazon ECS" (ECS
 * developer guide, VPC endpoints; the ECR guide says the same), and no Service Connect page asks
 * for them. In regions launched from 2023-12-23 on, ecs, ecs-agent and ecs-telemetry are
 * required ("If you do not configure all of the endpoints, your traffic will go over the public
 * endpoints"), so in a stack whose region is unknown at synth they exist only under a
 * CloudFormation condition on the region.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
 *
 * @param platform the construct whose stack's region decides
 */
export function addEcsEndpoints(platform: IConstruct, network: EndpointNetwork): void {
  const need = regionalEcsEndpointsNeed(Stack.of(platform).region);
  if (need === EndpointNeed.NEVER) {
    return;
  }
  for (const [id, service] of [
    ['Ecs', ec2.InterfaceVpcEndpointAwsService.ECS],
    ['EcsAgent', ec2.InterfaceVpcEndpointAwsService.ECS_AGENT],
    ['EcsTelemetry', ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY],
  ] as const) {
    const endpoint = network.requireEndpoint(id, service);
    const resource = endpoint?.node.defaultChild as CfnResource | undefined;
    if (resource && need === EndpointNeed.BY_REGION && !resource.cfnOptions.condition) {
      // In the endpoint's own stack: a shared endpoint may live in a network stack.
      resource.cfnOptions.condition = newRegionCondition(resource, 'InRegionNeedingEcsEndpoints');
    }
  }
}

/** The interface endpoints that always exist (CloudFormation refuses DependsOn a conditional one). */
export function unconditionalEndpoints(network: EndpointNetwork): IConstruct[] {
  return network.interfaceEndpoints.filter(e => !(e.node.defaultChild as CfnResource).cfnOptions.condition);
}
