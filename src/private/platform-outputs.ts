/**
 * What a user opens after `cdk deploy`, as stack outputs of a platform (printed by the CLI, listed in
 * the CloudFormation console). No export names: outputs of two platforms in one account never collide.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The values the outputs show; each but the API's only when the platform has that part. */
export interface PlatformOutputValues {
  readonly apiUrl: string;
  readonly dataflowUrl?: string;
  readonly appArtifactBucketName?: string;
  readonly kafkaConsoleUrl?: string;
}

/** Adds the outputs to `platform`, under the ids users' scripts read. */
export function addPlatformOutputs(platform: Construct, values: PlatformOutputValues): void {
  new CfnOutput(platform, 'ApiUrl', {
    value: values.apiUrl,
    description: `The API of ${platform.node.path}: https://<api>/<stage>/<service>/... (IAM-signed requests unless authorization says otherwise)`,
  });
  if (values.dataflowUrl) {
    new CfnOutput(platform, 'DataflowDashboardUrl', {
      value: `${values.dataflowUrl}/dashboard/`,
      description: 'The Spring Cloud Data Flow dashboard, through the API (see the README: open it through a local signing proxy)',
    });
  }
  if (values.appArtifactBucketName) {
    new CfnOutput(platform, 'AppArtifactBucketName', {
      value: values.appArtifactBucketName,
      description: 'The bucket to upload stream and task app jars to; register them by https://<bucket>.s3.<region>.amazonaws.com/<key>',
    });
  }
  if (values.kafkaConsoleUrl) {
    new CfnOutput(platform, 'KafkaConsoleUrl', {
      value: `${values.kafkaConsoleUrl}/`,
      description: 'The Kafka console (Redpanda Console), through the API',
    });
  }
}
