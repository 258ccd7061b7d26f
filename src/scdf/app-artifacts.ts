import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { createLogEncryptionKey, functionLogGroup } from '../private/kms';
import { acknowledge, acknowledgeControl, acknowledgeDeploymentFunction, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';

/**
 * Properties of an `AppArtifactBucket`.
 */
export interface AppArtifactBucketProps {
  /** The S3 gateway endpoint of the VPC whose tasks download the artifacts. */
  readonly endpoint: ec2.IGatewayVpcEndpoint;

  /**
   * What happens to the bucket when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether deleting the stack empties the buckets first (a function of aws-cdk-lib's deletes the
   * objects), so that a development stack leaves nothing behind. Needs `removalPolicy: DESTROY`.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;

  /**
   * The KMS key of the log group of the function that empties the buckets (`autoDeleteObjects`).
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * How long the logs of the function that empties the buckets are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * How long non-current versions of an artifact are kept.
   *
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;
}

/**
 * Where stream and task app jars live for a Spring Cloud Data Flow that cannot reach Maven Central:
 * an S3 bucket whose objects can be downloaded over plain HTTPS **only through the VPC's S3
 * gateway endpoint**, so that SCDF registers them by `https://` URL and skipper fetches them from
 * an isolated subnet.
 *
 * Versioned, encrypted (SSE-S3: objects read without SigV4 cannot be SSE-KMS), TLS only, ACLs
 * off, public access blocked (a policy conditioned on `aws:SourceVpce` is not public), server
 * access logs in a second bucket. Upload with your own IAM credentials (`grantUpload`).
 */
export class AppArtifactBucket extends Construct {
  /** The bucket. */
  public readonly bucket: s3.Bucket;

  /** The bucket of the server access logs. */
  public readonly accessLogsBucket: s3.Bucket;

  /**
   * The log group of the stack's function that empties buckets (`autoDeleteObjects`); undefined
   * without it, or when another construct of the stack set that function up first.
   */
  public readonly autoDeleteLogGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: AppArtifactBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = props.autoDeleteObjects ?? false;
    if (autoDeleteObjects && removalPolicy !== RemovalPolicy.DESTROY) {
      throw new Error(`AppArtifactBucket: autoDeleteObjects empties the buckets before they are deleted, but removalPolicy is ${removalPolicy}; set removalPolicy: RemovalPolicy.DESTROY, or drop autoDeleteObjects`);
    }

    // S3 delivers the access logs with the permission of a bucket policy for logging.s3.amazonaws.com,
    // whatever the app's feature flags: without @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy,
    // aws-cdk-lib grants it with the LogDeliveryWrite ACL instead, which S3 calls the legacy way
    // ("we recommend the bucket policy", https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)
    // and cfn-lint flags (W3045). Context set here reaches only this construct's children.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      removalPolicy,
      autoDeleteObjects,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    const logsReason = 'The server access log bucket of the artifact bucket: logging it again would loop.';
    acknowledge(this.accessLogsBucket, 'S1', [NAG_PACKS.awsSolutions], logsReason);
    acknowledge(this.accessLogsBucket, 'S3BucketLoggingEnabled', COMPLIANCE_PACKS, logsReason);
    acknowledgeControl(this.accessLogsBucket, 's3_bucket_logging_enabled_check', logsReason);
    acknowledgeBucketControls(this.accessLogsBucket, logsReason);

    this.bucket = new s3.Bucket(this, 'Resource', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy,
      autoDeleteObjects,
      lifecycleRules: [{ noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90) }],
    });
    // Downloads without credentials, but only through this VPC's S3 gateway endpoint.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ReadThroughTheVpcEndpointOnly',
      effect: iam.Effect.ALLOW,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [this.bucket.arnForObjects('*')],
      conditions: { StringEquals: { 'aws:SourceVpce': props.endpoint.vpcEndpointId } },
    }));
    const reason = 'App jars are fetched by skipper over plain HTTPS (no SigV4) through the VPC endpoint; SSE-KMS objects cannot be read that way.';
    acknowledge(this.bucket, 'S3DefaultEncryptionKMS', COMPLIANCE_PACKS, reason);
    acknowledgeBucketControls(this.bucket, reason);
    acknowledgeControl(this.bucket, 's3_bucket_default_encryption_kms_check', reason);
    acknowledge(this.bucket, 'S3BucketReplicationEnabled', COMPLIANCE_PACKS,
      'App jars are build outputs that can be uploaded again; versioning keeps earlier uploads.');
    acknowledge(this.accessLogsBucket, 'S3BucketReplicationEnabled', COMPLIANCE_PACKS,
      'Access logs of a bucket of rebuildable build outputs.');
    acknowledge(this.accessLogsBucket, 'S3DefaultEncryptionKMS', COMPLIANCE_PACKS,
      'S3 server access logging writes only to buckets encrypted with SSE-S3.');
    acknowledgeControl(this.accessLogsBucket, 's3_bucket_default_encryption_kms_check',
      'S3 server access logging writes only to buckets encrypted with SSE-S3.');
    if (autoDeleteObjects) {
      this.autoDeleteLogGroup = this.setUpAutoDeleteFunction(props);
    }
  }

  /**
   * aws-cdk-lib's object-deleting function is a stack-level singleton: its log group is created
   * here (encrypted, with retention) before the deletes can run, and its findings are acknowledged
   * on that singleton.
   */
  private setUpAutoDeleteFunction(props: AppArtifactBucketProps): logs.ILogGroup | undefined {
    const stack = Stack.of(this);
    const provider = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
    if (!provider || !handler) {
      return undefined;
    }
    const logGroup = functionLogGroup(provider, handler.ref, {
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'AutoDeleteLogKey', RemovalPolicy.DESTROY),
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const bucket of [this.bucket, this.accessLogsBucket]) {
      bucket.node.findChild('AutoDeleteObjectsCustomResource').node.addDependency(logGroup);
    }
    const reason = 'aws-cdk-lib\'s function that empties a development stack\'s buckets when the stack is deleted; it runs only then, against the S3 API, outside the VPC.';
    acknowledgeDeploymentFunction(provider, reason);
    acknowledge(provider, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', [NAG_PACKS.awsSolutions], reason);
    return logGroup;
  }

  /** The HTTPS URL of an object, as SCDF registers it: `https://BUCKET.s3.REGION.amazonaws.com/KEY`. */
  public urlForObject(key: string): string {
    return this.bucket.virtualHostedUrlForObject(key, { regional: true });
  }

  /** Lets `grantee` upload and overwrite artifacts. */
  public grantUpload(grantee: iam.IGrantable): iam.Grant {
    return this.bucket.grantPut(grantee);
  }
}

function acknowledgeBucketControls(bucket: s3.Bucket, reason: string): void {
  acknowledgeControl(bucket, 's3_bucket_object_lock_enabled_check',
    `Object Lock would forbid replacing or deleting artifacts; versioning keeps earlier uploads. ${reason}`);
  acknowledgeControl(bucket, 's3_event_notifications_enabled_check',
    'Nothing reacts to uploads: SCDF reads artifacts when an app is deployed.');
}
