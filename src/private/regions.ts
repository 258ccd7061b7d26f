import { Token } from 'aws-cdk-lib';

/**
 * Regions launched from 2023-12-23 on, where Fargate tasks in a VPC without internet access need
 * the `ecs`, `ecs-agent` and `ecs-telemetry` endpoints (else traffic goes to the public endpoints).
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

/**
 * Whether a region needs the regional `ecs` endpoint; true when the region is unknown at synth
 * (an environment-agnostic stack may deploy to any region).
 */
export function needsRegionalEcsEndpoints(region: string): boolean {
  return Token.isUnresolved(region) || REGIONS_NEEDING_ECS_ENDPOINTS.includes(region);
}
