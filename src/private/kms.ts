import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';

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

/** How a log group the library creates is encrypted, kept and removed. */
export interface LogGroupSettings {
  readonly encryptionKey: kms.IKey;
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The function log groups set up so far. */
const configured = new WeakSet<logs.LogGroup>();

/**
 * The log group a Lambda function the library causes (but does not own) writes to by default,
 * `/aws/lambda/<function name>`, created by the library so that it is encrypted and kept for a
 * known time instead of being created by Lambda on the first invocation with neither.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
 *
 * The log group is the child 'LogGroup' of `owner` (the function's construct). aws-cdk-lib already
 * creates that child for a `lambda.Function` under the feature flag
 * `@aws-cdk/aws-lambda:useCdkManagedLogGroup` (what `cdk init` turns on), with no key: that one is
 * taken over, never doubled (two log groups of one name cannot both be created).
 *
 * @param owner the function's construct
 * @param functionName the function's name (a token is fine)
 * @param settings key, retention and removal policy; only the first call for a function applies them
 */
export function functionLogGroup(owner: IConstruct, functionName: string, settings: LogGroupSettings): logs.LogGroup {
  const existing = owner.node.tryFindChild('LogGroup');
  if (existing === undefined) {
    const logGroup = new logs.LogGroup(owner, 'LogGroup', {
      logGroupName: `/aws/lambda/${functionName}`,
      encryptionKey: settings.encryptionKey,
      retention: settings.retention,
      removalPolicy: settings.removalPolicy,
    });
    configured.add(logGroup);
    return logGroup;
  }
  if (!(existing instanceof logs.LogGroup)) {
    throw new Error(`cdk-dataflow-platform: ${owner.node.path} has a child 'LogGroup' that is not a log group; the function's log group cannot be set up (a bug of this library: please report it)`);
  }
  if (!configured.has(existing)) {
    // A stack-level singleton: the first construct that takes the log group over sets it up.
    configured.add(existing);
    const resource = existing.node.defaultChild as logs.CfnLogGroup;
    resource.kmsKeyId = settings.encryptionKey.keyArn;
    resource.retentionInDays = settings.retention === logs.RetentionDays.INFINITE ? undefined : settings.retention;
    resource.applyRemovalPolicy(settings.removalPolicy);
  }
  return existing;
}
