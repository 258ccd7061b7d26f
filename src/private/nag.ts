import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** cdk-nag pack prefixes, as they appear in rule ids. */
export const NAG_PACKS = {
  awsSolutions: 'AwsSolutions',
  nist: 'NIST.800.53.R5',
  hipaa: 'HIPAA.Security',
  pci: 'PCI.DSS.321',
} as const;

/** The three compliance packs share many rule names (e.g. `CloudWatchLogGroupEncrypted`). */
export const COMPLIANCE_PACKS = [NAG_PACKS.nist, NAG_PACKS.hipaa, NAG_PACKS.pci];

/**
 * Acknowledges one finding on one construct, for each named pack, with a reason.
 *
 * Uses aws-cdk-lib's `Validations` acknowledgement, which cdk-nag 3 reads; the library itself
 * does not depend on cdk-nag.
 *
 * @param construct the one resource (or its L2 wrapper) the finding concerns
 * @param rule the rule name without pack prefix, e.g. 'IAMNoInlinePolicy' or 'IAM5[Resource::*]'
 * @param packs the pack prefixes the rule appears in
 * @param reason why the finding is accepted, for a security reviewer
 */
export function acknowledge(construct: IConstruct, rule: string, packs: readonly string[], reason: string): void {
  for (const pack of packs) {
    Validations.of(construct).acknowledge({ id: `${pack}-${rule}`, reason });
  }
}

/**
 * Acknowledges one AWS Control Tower proactive control (as `@cdklabs/cdk-validator-cfnguard` names
 * it) on one construct, with a reason.
 *
 * @param rule the cfn-guard rule name, e.g. 'elbv2_logging_enabled_check'
 */
export function acknowledgeControl(construct: IConstruct, rule: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `cdk-validator-cfnguard::${rule}`, reason });
}
