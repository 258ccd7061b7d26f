import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';

/**
 * The endpoints of one VPC. Endpoints belong to a VPC, not to a network construct or a platform:
 * two interface endpoints with private DNS for one service cannot coexist in a VPC ("conflicting
 * DNS domain"), so every `PrivateNetwork` on the VPC (and so every platform) shares one set, made
 * by whichever asked first.
 * @see https://docs.aws.amazon.com/vpc/latest/privatelink/manage-dns-names.html
 */
export interface VpcEndpointSet {
  /** The security group of the interface endpoints. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The S3 gateway endpoint. */
  readonly s3: ec2.IGatewayVpcEndpoint;
  /** Interface endpoints by AWS service name, e.g. 'com.amazonaws.us-east-1.ecr.api'. */
  readonly interfaces: Map<string, ec2.InterfaceVpcEndpoint>;
}

/** Sets by VPC object, and by literal VPC id within one app (two imports of one VPC). */
const byVpc = new WeakMap<ec2.IVpc, VpcEndpointSet>();
const byVpcId = new WeakMap<IConstruct, Map<string, VpcEndpointSet>>();

function appOf(vpc: ec2.IVpc): IConstruct {
  return Stack.of(vpc).node.root;
}

/** The endpoint set of `vpc` in this app, if something made one already. */
export function findEndpointSet(vpc: ec2.IVpc): VpcEndpointSet | undefined {
  const known = byVpc.get(vpc);
  if (known || Token.isUnresolved(vpc.vpcId)) {
    return known;
  }
  return byVpcId.get(appOf(vpc))?.get(vpc.vpcId);
}

/** Records the endpoint set of `vpc`. */
export function registerEndpointSet(vpc: ec2.IVpc, set: VpcEndpointSet): void {
  byVpc.set(vpc, set);
  if (!Token.isUnresolved(vpc.vpcId)) {
    const app = appOf(vpc);
    const ids = byVpcId.get(app) ?? new Map<string, VpcEndpointSet>();
    ids.set(vpc.vpcId, set);
    byVpcId.set(app, ids);
  }
}
