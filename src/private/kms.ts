import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * A customer managed key for CloudWatch Logs in this account and region: rotation on,
 * CloudWatch Logs allowed to use it for this account's log groups only, and grants limited
 * to AWS services (AWS Control Tower control CT.KMS.PR.3).
 */
export function createLogEncryptionKey(scope: Construct, id: string, removalPolicy: RemovalPolicy): kms.Key {
  const key = new kms.Key(scope, id, {
    description: `Encrypts the CloudWatch Logs log groups of ${scope.node.path}`,
    enableKeyRotation: true,
    removalPolicy,
  });
  const region = Stack.of(scope).region;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${region}:${Aws.ACCOUNT_ID}:log-group:*` },
    },
  }));
  key.addToResourcePolicy(denyGrantsExceptToAwsServices());
  return key;
}

/** Key policy statement: nobody may create a grant on the key unless it is for an AWS service. */
export function denyGrantsExceptToAwsServices(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: {
      BoolIfExists: {
        'kms:GrantIsForAWSResource': 'false',
        'aws:PrincipalIsAWSService': 'false',
      },
    },
  });
}
