import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Resource types that aws-cdk-lib tags (its spec, @aws-cdk/aws-service-spec, gives them `Tags`) but
 * whose CloudFormation registry schema lacks `Tags` in regions we deploy to, so CloudFormation's
 * schema validation, and AWS's linter (cfn-lint E3002), reject the property there. Read from the
 * per-region provider schemas that cfn-lint 1.51.0 bundles (CloudFormation publishes them per region:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-type-schemas.html):
 * - `AWS::ElasticLoadBalancingV2::Listener`: no `Tags` in any of the 46 regions;
 * - `AWS::ApplicationAutoScaling::ScalableTarget`: no `Tags` in any region;
 * - `AWS::CloudWatch::Dashboard`: `Tags` in 34 regions, not in us-east-1, me-central-1, me-south-1,
 *   cn-northwest-1 and the isolated partitions.
 * A property not certain in every region is not emitted anywhere; test/platform.test.ts and the
 * cfn-lint gate (scripts/cfn-lint.js) fail when one comes back.
 */
export const TYPES_WITHOUT_TAGS_IN_SOME_REGIONS: readonly string[] = [
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::CloudWatch::Dashboard',
  'AWS::ElasticLoadBalancingV2::Listener',
];

/** Tags every resource below `scope` whose type takes tags in every region. */
export function tagWhereEveryRegionTakesTags(scope: IConstruct, key: string, value: string): void {
  Tags.of(scope).add(key, value, { excludeResourceTypes: [...TYPES_WITHOUT_TAGS_IN_SOME_REGIONS] });
}
