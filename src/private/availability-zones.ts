import { Aws, CfnCondition, Fn, ICfnConditionExpression, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The AZ IDs in which API Gateway VPC links V2 (`AWS::ApiGatewayV2::VpcLink`) are available, by
 * region, in the order of the page. A region absent here is absent from the page.
 *
 * "Set up VPC links V2 in API Gateway", section "Availability by Region", read 2026-11-28:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html
 * The older address, .../developerguide/http-api-vpc-links.html ("Set up VPC links for HTTP APIs"),
 * carries the same table (checked for its first ten rows).
 */
export const VPC_LINK_V2_AZ_IDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['us-east-2', ['use2-az1', 'use2-az2', 'use2-az3']],
  ['us-east-1', ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az5', 'use1-az6']],
  ['us-west-1', ['usw1-az1', 'usw1-az3']],
  ['us-west-2', ['usw2-az1', 'usw2-az2', 'usw2-az3', 'usw2-az4']],
  ['ap-east-1', ['ape1-az2', 'ape1-az3']],
  ['ap-south-1', ['aps1-az1', 'aps1-az2', 'aps1-az3']],
  ['ap-northeast-2', ['apne2-az1', 'apne2-az2', 'apne2-az3']],
  ['ap-southeast-1', ['apse1-az1', 'apse1-az2', 'apse1-az3']],
  ['ap-southeast-2', ['apse2-az1', 'apse2-az2', 'apse2-az3']],
  ['ap-northeast-1', ['apne1-az1', 'apne1-az2', 'apne1-az4']],
  ['ca-central-1', ['cac1-az1', 'cac1-az2']],
  ['eu-central-1', ['euc1-az1', 'euc1-az2', 'euc1-az3']],
  ['eu-west-1', ['euw1-az1', 'euw1-az2', 'euw1-az3']],
  ['eu-west-2', ['euw2-az1', 'euw2-az2', 'euw2-az3']],
  ['eu-west-3', ['euw3-az1', 'euw3-az3']],
  ['eu-south-2', ['eus2-az1', 'eus2-az2', 'eus2-az3']],
  ['eu-north-1', ['eun1-az1', 'eun1-az2', 'eun1-az3']],
  ['me-south-1', ['mes1-az1', 'mes1-az2', 'mes1-az3']],
  ['sa-east-1', ['sae1-az1', 'sae1-az2', 'sae1-az3']],
  ['us-gov-west-1', ['usgw1-az1', 'usgw1-az2', 'usgw1-az3']],
];

/**
 * The AZ IDs in which Amazon MSK client subnets (`BrokerNodeGroupInfo.ClientSubnets`) cannot be.
 *
 * "Client subnets can't occupy the Availability Zone with ID use1-az3.", read 2026-11-28 in
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-msk-cluster-brokernodegroupinfo.html
 * and the MSK API reference (BrokerNodeGroupInfo, VpcConfig):
 * https://docs.aws.amazon.com/msk/1.0/apireference/clusters.html
 * Neither page, nor the MSK developer guide's "Create an MSK Provisioned cluster"
 * (https://docs.aws.amazon.com/msk/latest/developerguide/msk-create-cluster.html), names another.
 */
export const MSK_EXCLUDED_AZ_IDS: readonly string[] = ['use1-az3'];

/** The AZ IDs where both VPC links V2 and MSK client subnets work, by region, in the VPC links page's order. */
const SUPPORTED_AZ_IDS: ReadonlyMap<string, readonly string[]> = new Map(
  VPC_LINK_V2_AZ_IDS.map(([region, ids]) => [region, ids.filter(id => !MSK_EXCLUDED_AZ_IDS.includes(id))]),
);

/**
 * The AZ IDs where API Gateway VPC links V2 and Amazon MSK client subnets both work in `region`,
 * or undefined for a region the tables do not list (or a token).
 */
export function supportedAzIds(region: string): readonly string[] | undefined {
  if (Token.isUnresolved(region)) {
    return undefined;
  }
  return SUPPORTED_AZ_IDS.get(region);
}

/**
 * Where the subnets of a new VPC go in a stack whose region is a token: CloudFormation picks the
 * AZ ID of subnet `i` from the deployment's region.
 */
export interface AzIdChoice {
  /**
   * True where the region has at least as many supported AZ IDs as the VPC has subnets: the
   * subnets then take `azIdOf(i)` and no AZ name; elsewhere they keep their AZ names.
   */
  readonly regionKnown: CfnCondition;
  /** The regions the condition covers. */
  readonly regions: readonly string[];
  /** `Fn::If` over the covered regions: the `i`-th supported AZ ID of the deployment's region, else `AWS::NoValue`. */
  azIdOf(i: number): string;
}

/**
 * The conditions that choose the AZ IDs of `subnetCount` subnets at deploy time, created once per
 * stack: one `SupportedAzIds<Region>` per region with enough AZ IDs, and `RegionHas<n>SupportedAzIds`.
 * Undefined when no region has `subnetCount` supported AZ IDs.
 *
 * No `Fn::FindInMap`: without the `AWS::LanguageExtensions` transform it fails the deployment on a
 * region missing from its mapping, and users report that failure even from the branch of an
 * `Fn::If` not taken (aws-cloudformation/aws-cloudformation-templates#271), so a region the table
 * does not know could fail where it works today. `Fn::Equals` on `AWS::Region` cannot fail.
 */
export function azIdChoice(scope: Construct, subnetCount: number): AzIdChoice | undefined {
  const stack = Stack.of(scope);
  const covered = VPC_LINK_V2_AZ_IDS
    .map(([region]) => [region, SUPPORTED_AZ_IDS.get(region)!] as const)
    .filter(([, ids]) => ids.length >= subnetCount);
  if (covered.length === 0) {
    return undefined;
  }
  const byRegion = covered.map(([region, ids]) => ({ ids, condition: regionCondition(stack, region) }));
  const knownId = `RegionHas${subnetCount}SupportedAzIds`;
  const regionKnown = (stack.node.tryFindChild(knownId) as CfnCondition | undefined)
    ?? new CfnCondition(stack, knownId, { expression: anyOf(byRegion.map(r => r.condition)) });
  return {
    regionKnown,
    regions: covered.map(([region]) => region),
    azIdOf: (i: number) => byRegion.reduceRight<string>(
      (otherwise, { ids, condition }) => Token.asString(Fn.conditionIf(condition.logicalId, ids[i], otherwise)),
      Aws.NO_VALUE),
  };
}

/** `SupportedAzIdsUsEast1`: true when the stack deploys to `region`; once per stack. */
function regionCondition(stack: Stack, region: string): CfnCondition {
  const id = `SupportedAzIds${region.split('-').map(p => p.charAt(0).toUpperCase() + p.slice(1)).join('')}`;
  return (stack.node.tryFindChild(id) as CfnCondition | undefined)
    ?? new CfnCondition(stack, id, { expression: Fn.conditionEquals(stack.region, region) });
}

/** `Fn::Or` of the conditions; Fn::Or takes 2 to 10 of them, so an Or of Ors in groups of at most 10. */
function anyOf(conditions: readonly ICfnConditionExpression[]): ICfnConditionExpression {
  if (conditions.length === 1) {
    return conditions[0];
  }
  if (conditions.length <= 10) {
    return Fn.conditionOr(...conditions);
  }
  const groups: ICfnConditionExpression[] = [];
  for (let i = 0; i < conditions.length; i += 10) {
    groups.push(anyOf(conditions.slice(i, i + 10)));
  }
  return anyOf(groups);
}
