import { CfnCondition, Fn, ICfnConditionExpression, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Regions launched before 2023-12-23. Fargate tasks there "don't require the interface VPC
 * endpoints for Amazon ECS"; every region launched from 2023-12-23 on (the page's example is
 * Canada West, ca-west-1) needs the `ecs`, `ecs-agent` and `ecs-telemetry` endpoints, or the traffic
 * goes to the public endpoints, which an isolated VPC cannot reach. The older set is closed, so a
 * region missing from it (a new one) gets the endpoints: the safe side.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
 */
export const REGIONS_BEFORE_2023_12_23: readonly string[] = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'af-south-1',
  'ap-east-1', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ca-central-1',
  'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1',
  'il-central-1', 'me-south-1', 'me-central-1',
  'sa-east-1',
  'cn-north-1', 'cn-northwest-1',
  'us-gov-east-1', 'us-gov-west-1',
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
  return REGIONS_BEFORE_2023_12_23.includes(region) ? EndpointNeed.NEVER : EndpointNeed.ALWAYS;
}

/**
 * A condition, true when the stack deploys to a region not in `REGIONS_BEFORE_2023_12_23`;
 * created once per stack under `id`.
 */
export function newRegionCondition(scope: Construct, id: string): CfnCondition {
  return regionCondition(scope, id, stack => Fn.conditionNot(regionIsOneOf(stack, REGIONS_BEFORE_2023_12_23)));
}

/** A condition, true when the stack deploys to one of `regions`; created once per stack under `id`. */
export function newRegionInCondition(scope: Construct, id: string, regions: readonly string[]): CfnCondition {
  return regionCondition(scope, id, stack => regionIsOneOf(stack, regions));
}

function regionCondition(scope: Construct, id: string, expression: (stack: Stack) => ICfnConditionExpression): CfnCondition {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(id);
  if (existing) {
    return existing as CfnCondition;
  }
  return new CfnCondition(stack, id, { expression: expression(stack) });
}

/** Whether the stack's region is one of `regions`: Fn::Or takes 2 to 10 conditions, so an Or of Ors of at most 10. */
function regionIsOneOf(stack: Stack, regions: readonly string[]): ICfnConditionExpression {
  const equals = regions.map(r => Fn.conditionEquals(stack.region, r));
  const groups = [];
  for (let i = 0; i < equals.length; i += 10) {
    const group = equals.slice(i, i + 10);
    groups.push(group.length === 1 ? group[0] : Fn.conditionOr(...group));
  }
  return groups.length === 1 ? groups[0] : Fn.conditionOr(...groups);
}
