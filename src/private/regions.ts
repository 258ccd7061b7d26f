import { CfnCondition, Fn, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Regions launched from 2023-12-23 on, where Fargate tasks in a VPC without internet access need
 * the `ecs`, `ecs-agent` and `ecs-telemetry` endpoints (else traffic goes to the public endpoints).
 * The page names Canada West (Calgary) as its example; the others are the regions AWS opened since.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
 */
export const REGIONS_NEEDING_ECS_ENDPOINTS: readonly string[] = [
  'ca-west-1',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-east-2',
  'mx-central-1',
];

/** Whether a stack needs the ECS endpoints. */
export enum EndpointNeed {
  /** The region is known and needs them. */
  ALWAYS = 'ALWAYS',
  /** The region is known and does not need them. */
  NEVER = 'NEVER',
  /** The region is unknown at synth: decided by a CloudFormation condition at deploy time. */
  BY_REGION = 'BY_REGION',
}

/** Whether a stack in `region` (possibly a token) needs the `ecs`, `ecs-agent` and `ecs-telemetry` endpoints. */
export function regionalEcsEndpointsNeed(region: string): EndpointNeed {
  if (Token.isUnresolved(region)) {
    return EndpointNeed.BY_REGION;
  }
  return REGIONS_NEEDING_ECS_ENDPOINTS.includes(region) ? EndpointNeed.ALWAYS : EndpointNeed.NEVER;
}

/**
 * A condition, true when the stack deploys to one of `REGIONS_NEEDING_ECS_ENDPOINTS`; created once
 * per stack under `id`.
 */
export function newRegionCondition(scope: Construct, id: string): CfnCondition {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(id);
  if (existing) {
    return existing as CfnCondition;
  }
  return new CfnCondition(stack, id, {
    // Fn::Or takes 2 to 10 conditions.
    expression: Fn.conditionOr(...REGIONS_NEEDING_ECS_ENDPOINTS.map(r => Fn.conditionEquals(stack.region, r))),
  });
}
