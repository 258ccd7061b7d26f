import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/**
 * The security group of a function in the VPC that calls AWS APIs through the VPC's interface
 * endpoints (Secrets Manager) and, with rules added by the caller, the database: no outbound
 * traffic but HTTPS within the VPC. The egress rule is written into the group itself, because a
 * group created without egress rules gets EC2's allow-all rule.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
 *
 * @param description what the group is for, e.g. 'Secret rotation function'
 */
export function endpointsOnlySecurityGroup(scope: Construct, id: string, vpc: ec2.IVpc, description: string): ec2.SecurityGroup {
  const securityGroup = new ec2.SecurityGroup(scope, id, {
    vpc,
    description: `${description} - HTTPS to the Secrets Manager endpoint in the VPC and the database only`,
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443), 'Secrets Manager through its interface endpoint in the VPC');
  return securityGroup;
}
