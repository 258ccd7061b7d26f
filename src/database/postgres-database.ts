import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { validateDatabaseOptions } from '../private/database';
import { createLogEncryptionKey, LogGroupSettings } from '../private/kms';
import { acknowledge, acknowledgeControl, acknowledgeControlLike, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';

/**
 * What a user chooses about the platform's PostgreSQL database.
 */
export interface PostgresDatabaseOptions {
  /**
   * The instance class.
   *
   * @default - db.t4g.micro, or db.m7g.large on a production platform
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Storage at creation, in GiB (gp3). At least 20, the engine's minimum.
   *
   * @default 20
   */
  readonly allocatedStorage?: number;

  /**
   * The most storage autoscaling may grow to, in GiB. Must be above `allocatedStorage`.
   *
   * @default - 5 times allocatedStorage
   */
  readonly maxAllocatedStorage?: number;

  /**
   * The name of the database created in the instance.
   *
   * @default 'dataflow'
   */
  readonly databaseName?: string;

  /**
   * The PostgreSQL engine version, major 16, 17 or 18.
   *
   * @default rds.PostgresEngineVersion.VER_17_6
   */
  readonly engineVersion?: rds.PostgresEngineVersion;

  /**
   * The port PostgreSQL listens on.
   *
   * @default 5432
   */
  readonly port?: number;

  /**
   * How long automated backups are kept.
   *
   * @default - 7 days, or 30 days on a production platform
   */
  readonly backupRetention?: Duration;

  /**
   * A customer managed KMS key for the storage.
   *
   * @default - the AWS managed key for RDS
   */
  readonly storageEncryptionKey?: kms.IKey;

  /**
   * How often Secrets Manager rotates the password (single-user rotation, hosted Lambda in the VPC).
   *
   * Rotation changes the password the services read when their tasks start: connections they open
   * after a rotation fail until the services are redeployed (see README, "Secret rotation").
   * The rotation function may reach the database and, on HTTPS, the VPC's own range only: Secrets
   * Manager must be reachable through an interface endpoint in the VPC (as `PrivateNetwork` adds).
   * Its logs go to a log group of this construct (`logEncryptionKey`, `logRetention`).
   *
   * @default - no rotation
   */
  readonly rotationInterval?: Duration;
}

/**
 * Properties of a `PostgresDatabase`.
 */
export interface PostgresDatabaseProps extends PostgresDatabaseOptions {
  /** The VPC to place the instance in. */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets of the instance (at least two AZs).
   *
   * @default - the VPC's PRIVATE_ISOLATED subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Whether this is a production database: multi-AZ, deletion protection, 30 days of backups,
   * a final snapshot on removal.
   *
   * @default false
   */
  readonly production?: boolean;

  /**
   * Whether the instance runs in two AZs.
   *
   * @default - the value of production
   */
  readonly multiAz?: boolean;

  /**
   * Whether the instance refuses to be deleted.
   *
   * @default - the value of production
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the instance when it leaves the stack.
   *
   * @default - RemovalPolicy.SNAPSHOT on a production database, else RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How long the exported PostgreSQL logs are kept in CloudWatch Logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups (and a key created for them) when they leave the stack.
   *
   * @default - RETAIN on a production database, else DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The KMS key that encrypts the exported logs.
   *
   * @default - a new customer managed key with rotation
   */
  readonly logEncryptionKey?: kms.IKey;
}

/** The logs the instance exports to CloudWatch Logs. */
const LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

/**
 * Amazon RDS for PostgreSQL in isolated subnets, for the platform's services or on its own.
 *
 * Storage encrypted, TLS required (`rds.force_ssl` = 1 in its own parameter group), IAM database
 * authentication on, credentials generated into Secrets Manager, automated backups, PostgreSQL and
 * upgrade logs exported to CloudWatch Logs, storage autoscaling. No public access and no rule from
 * a CIDR: callers are admitted by security group (`connections.allowDefaultPortFrom`).
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * const database = new PostgresDatabase(this, 'Database', { vpc, databaseName: 'orders' });
 */
export class PostgresDatabase extends Construct implements ec2.IConnectable {
  /** The RDS instance. */
  public readonly instance: rds.DatabaseInstance;

  /** The generated credentials: `username`, `password`, `host`, `port`, `dbname`. */
  public readonly secret: secretsmanager.ISecret;

  /** The network connections of the instance; its default port is the PostgreSQL port. */
  public readonly connections: ec2.Connections;

  /** The database name. */
  public readonly databaseName: string;

  /** The port PostgreSQL listens on. */
  public readonly port: number;

  /** The JDBC URL with TLS required: `jdbc:postgresql://HOST:PORT/DB?sslmode=require`. */
  public readonly jdbcUrl: string;

  /** The instance endpoint's host name. */
  public readonly hostname: string;

  /** The parameter group that enforces TLS. */
  public readonly parameterGroup: rds.ParameterGroup;

  /** The log groups the instance exports to, by log type ('postgresql', 'upgrade'). */
  public readonly logGroups: logs.LogGroup[];

  /** The security group of the rotation function, when `rotationInterval` is set. */
  public readonly rotationSecurityGroup?: ec2.ISecurityGroup;

  /** The log group of the rotation function, when `rotationInterval` is set. */
  public readonly rotationLogGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    validateDatabaseOptions('PostgresDatabase', props);
    const production = props.production ?? false;
    const engineVersion = props.engineVersion ?? rds.PostgresEngineVersion.VER_17_6;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: engineVersion });
    const allocatedStorage = props.allocatedStorage ?? 20;
    this.databaseName = props.databaseName ?? 'dataflow';
    this.port = props.port ?? 5432;
    const multiAz = props.multiAz ?? production;
    const deletionProtection = props.deletionProtection ?? production;

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `TLS required for ${this.node.path}`,
      parameters: {
        'rds.force_ssl': '1',
        'log_connections': '1',
        'log_disconnections': '1',
      },
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'PostgreSQL - admits declared callers by security group only',
      allowAllOutbound: false,
    });

    // The exported logs go to log groups the construct owns (encrypted, with retention), which needs
    // a known instance identifier: unique per construct path, stable across deployments.
    const instanceIdentifier = Names.uniqueResourceName(this, { maxLength: 63, separator: '-' }).toLowerCase();
    const removalPolicy = props.removalPolicy ?? (production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY);
    const logRemovalPolicy = props.logRemovalPolicy ?? (production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const logSettings: LogGroupSettings = {
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'LogKey', logRemovalPolicy),
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy,
    };
    this.logGroups = LOG_EXPORTS.map(logType => new logs.LogGroup(this, `${logType.charAt(0).toUpperCase()}${logType.slice(1)}Logs`, {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/${logType}`,
      ...logSettings,
    }));

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      instanceIdentifier,
      engine,
      instanceType: props.instanceType ?? (production
        ? ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE)
        : ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO)),
      vpc: props.vpc,
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      publiclyAccessible: false,
      port: this.port,
      databaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('dataflow_admin'),
      parameterGroup: this.parameterGroup,
      storageType: rds.StorageType.GP3,
      allocatedStorage,
      maxAllocatedStorage: props.maxAllocatedStorage ?? allocatedStorage * 5,
      storageEncrypted: true,
      storageEncryptionKey: props.storageEncryptionKey,
      iamAuthentication: true,
      multiAz,
      deletionProtection,
      backupRetention: props.backupRetention ?? Duration.days(production ? 30 : 7),
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: [...LOG_EXPORTS],
      enablePerformanceInsights: false,
      removalPolicy,
    });
    // Escape hatches reach the one resource this construct wraps, as in aws-cdk.
    this.node.defaultChild = this.instance.node.defaultChild;
    for (const logGroup of this.logGroups) {
      this.instance.node.addDependency(logGroup);
    }
    this.secret = this.instance.secret!;
    // The port is known at synth: rules name it literally (the endpoint's port is a token).
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(this.port) });
    this.hostname = this.instance.dbInstanceEndpointAddress;
    this.jdbcUrl = `jdbc:postgresql://${this.instance.dbInstanceEndpointAddress}:${this.instance.dbInstanceEndpointPort}/${this.databaseName}?sslmode=require`;

    const secret = this.instance.node.findChild('Secret');
    acknowledge(secret, 'SecretsManagerUsingKMSKey', COMPLIANCE_PACKS,
      'The secret is encrypted with the AWS managed key for Secrets Manager; IAM limits reading it to the execution role of the services that use the database.');
    if (props.rotationInterval) {
      const rotation = this.addRotation(props, props.rotationInterval, securityGroup, logSettings);
      this.rotationSecurityGroup = rotation.securityGroup;
      this.rotationLogGroup = rotation.logGroup;
    } else {
      const reason = 'Rotation is opt-in (rotationInterval): a rotated password breaks new connections of tasks started before it until the services are redeployed.';
      acknowledge(secret, 'SMG4', [NAG_PACKS.awsSolutions], reason);
      acknowledge(secret, 'SecretsManagerRotationEnabled', COMPLIANCE_PACKS, reason);
    }
    this.acknowledgeFindings(multiAz, deletionProtection, props.storageEncryptionKey !== undefined);
  }

  /**
   * Lets `grantee` connect with IAM database authentication (`rds-db:connect`) as `dbUser`.
   *
   * @param grantee the role that connects
   * @param dbUser the database user, created in PostgreSQL with `GRANT rds_iam`
   * @default dbUser - the generated admin user
   */
  public grantConnect(grantee: iam.IGrantable, dbUser?: string): iam.Grant {
    return this.instance.grantConnect(grantee, dbUser);
  }

  /** Lets `grantee` read the generated credentials. */
  public grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /**
   * Single-user rotation by the function AWS publishes in the Serverless Application Repository,
   * in the VPC, behind a security group of its own and writing to a log group of this construct.
   */
  private addRotation(props: PostgresDatabaseProps, interval: Duration, databaseSecurityGroup: ec2.SecurityGroup,
    logSettings: LogGroupSettings): { securityGroup: ec2.SecurityGroup; logGroup: logs.LogGroup } {
    // aws-cdk-lib's default group for the function would allow all outbound traffic.
    const securityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc: props.vpc,
      description: 'Secret rotation function - HTTPS to the Secrets Manager endpoint in the VPC and the database only',
      allowAllOutbound: false,
    });
    // Written into the group itself: a group created without egress rules gets EC2's allow-all rule.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html
    securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443),
      'Secrets Manager through its interface endpoint in the VPC');
    const rulesBefore = new Set(databaseSecurityGroup.node.children);
    this.instance.addRotationSingleUser({
      automaticallyAfter: interval,
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroup,
    });
    // aws-cdk-lib admits the rotation function on the endpoint's port, a token at synth time.
    for (const rotationRule of databaseSecurityGroup.node.children.filter(c => !rulesBefore.has(c))) {
      acknowledge(rotationRule, 'EC2RestrictedCommonPorts', COMPLIANCE_PACKS,
        'Admits only the rotation function\'s security group, on the database port.');
      acknowledge(rotationRule, 'EC2RestrictedSSH', COMPLIANCE_PACKS,
        'Admits only the rotation function\'s security group, on the database port.');
    }

    // The application creates the function under the name aws-cdk-lib passes it, and Lambda would
    // create /aws/lambda/<name> on the first rotation, unencrypted and kept forever: create it first.
    // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
    const application = this.instance.node.findChild('RotationSingleUser').node.defaultChild as sam.CfnApplication;
    const functionName = (application.parameters as Record<string, string>).functionName;
    const logGroup = new logs.LogGroup(this, 'RotationLogs', {
      logGroupName: `/aws/lambda/${functionName}`,
      ...logSettings,
    });
    acknowledgeControlLike(logGroup, this.logGroups[0], 'cloudwatch_log_group_retention_period_check');
    application.node.addDependency(logGroup);
    return { securityGroup, logGroup };
  }

  private acknowledgeFindings(multiAz: boolean, deletionProtection: boolean, customerKey: boolean): void {
    const instance = this.instance;
    const portReason = 'The port only matters to clients admitted by security group; Spring and JDBC defaults expect 5432 (set port to change it).';
    acknowledge(instance, 'RDS11', [NAG_PACKS.awsSolutions], portReason);
    acknowledgeControl(instance, 'rds_instance_no_default_ports_check', portReason);
    acknowledgeControl(instance, 'rds_instance_enhanced_monitoring_enabled_check',
      'Enhanced monitoring needs its own IAM role and costs per instance; CloudWatch metrics and exported PostgreSQL logs cover operations.');
    if (!customerKey) {
      acknowledgeControl(instance, 'rds_storage_encrypted_kms_key_check',
        'Storage is encrypted with the AWS managed key for RDS; pass storageEncryptionKey for a customer managed key.');
    }
    acknowledge(instance, 'RDSInBackupPlan', [NAG_PACKS.nist, NAG_PACKS.hipaa],
      'Automated RDS backups with point-in-time recovery (7 days, 30 in production) protect the instance; add it to an AWS Backup plan for longer retention.');
    acknowledge(instance, 'RDSEnhancedMonitoringEnabled', [NAG_PACKS.nist, NAG_PACKS.hipaa],
      'Enhanced monitoring needs its own IAM role and costs per instance; CloudWatch metrics and exported PostgreSQL logs cover operations.');
    if (!multiAz) {
      acknowledge(instance, 'RDS3', [NAG_PACKS.awsSolutions], 'Development database: production: true (or multiAz) runs it in two AZs.');
      acknowledge(instance, 'RDSMultiAZSupport', COMPLIANCE_PACKS, 'Development database: production: true (or multiAz) runs it in two AZs.');
      acknowledgeControl(instance, 'rds_instance_multi_az_support_check', 'Development database: production: true (or multiAz) runs it in two AZs.');
    }
    if (!deletionProtection) {
      acknowledge(instance, 'RDS10', [NAG_PACKS.awsSolutions], 'Development database: production: true (or deletionProtection) protects it.');
      acknowledge(instance, 'RDSInstanceDeletionProtectionEnabled', COMPLIANCE_PACKS, 'Development database: production: true (or deletionProtection) protects it.');
      acknowledgeControl(instance, 'rds_instance_deletion_protection_enabled_check', 'Development database: production: true (or deletionProtection) protects it.');
    }
  }
}
