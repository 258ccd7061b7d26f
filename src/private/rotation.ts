import * as logs from 'aws-cdk-lib/aws-logs';
import * as sam from 'aws-cdk-lib/aws-sam';
import { Construct } from 'constructs';
import { LogGroupSettings } from './kms';
import { acknowledgeControlLike } from './nag';

/**
 * The log group of a secret-rotation function that AWS's serverless application creates under the
 * name aws-cdk-lib passes it. Lambda would create /aws/lambda/<name> on the first rotation,
 * unencrypted and kept forever: this creates it first, encrypted and kept as `settings` say, and
 * the application after it.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
 *
 * @param scope where the log group is created (id 'RotationLogs')
 * @param application the rotation application
 * @param settings key, retention and removal policy
 * @param keptLike a log group whose retention decision this one shares (the database's exported
 * logs, on which a platform acknowledges its development retention)
 */
export function rotationLogGroup(scope: Construct, application: sam.CfnApplication, settings: LogGroupSettings,
  keptLike?: logs.ILogGroup): logs.LogGroup {
  const functionName = (application.parameters as Record<string, string>).functionName;
  const logGroup = new logs.LogGroup(scope, 'RotationLogs', {
    logGroupName: `/aws/lambda/${functionName}`,
    ...settings,
  });
  if (keptLike) {
    acknowledgeControlLike(logGroup, keptLike, 'cloudwatch_log_group_retention_period_check');
  }
  application.node.addDependency(logGroup);
  return logGroup;
}
