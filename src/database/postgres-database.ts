import { Annotations, Duration, Names, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatabaseUser, DatabaseUserOptions } from './database-user';
import {
  DEFAULT_LOG_EXPORTS, DEFAULT_MASTER_USERNAME, DEFAULT_STORAGE_TYPE, FORCE_SSL_PARAMETER, logGroupId, validateDatabaseOptions,
} from '../private/database';
import { chooseByRegion, defaultInstanceType, DEVELOPMENT_INSTANCE_CLASS, PRODUCTION_INSTANCE_CLASS } from '../private/instance-classes';
import { createLogEncryptionKey, LogGroupSettings } from '../private/kms';
import { acknowledge, acknowledgeControl, COMPLIANCE_PACKS, NAG_PACKS } from '../private/nag';
import { rotationLogGroup } from '../private/rotation';
import { endpointsOnlySecurityGroup } from '../private/security-groups';

/**
 * What a user chooses about the platform's PostgreSQL database.
 */
export interface PostgresDatabaseOptions {
  /**
   * The instance class.
   *
   * @default - db.t4g.micro, or db.m7g.large on a production platform; where RDS for PostgreSQL
   * does not offer them, db.t3.micro (ca-west-1) or db.m6g.large (af-south-1, ap-east-1, ca-west-1,
   * eu-south-1, us-gov-west-1), chosen at deploy time by a condition on the region when the stack's
   * region is unknown at synth
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Storage at creation, in GiB: 20 to 65536 (gp2, gp3), 100 to 65536 (io1, io2), 20 to 3072 (standard).
   *
   * A database restored from `snapshotIdentifier` needs at least the snapshot's allocated storage.
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
   * The name of the database the services use (`jdbcUrl`).
   *
   * A new instance creates it. An instance restored from `snapshotIdentifier` creates none
   * (CloudFormation takes the databases from the snapshot): name the snapshot's database here.
   *
   * @default 'dataflow'
   */
  readonly databaseName?: string;

  /**
   * The PostgreSQL engine version, major 16, 17 or 18.
   *
   * A database restored from `snapshotIdentifier` runs the snapshot's engine: set the snapshot's
   * version here (and upgrade the old database to a supported major before taking the snapshot).
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
   * How long automated backups are kept (the Terraform module's `backup_retention_period`).
   *
   * @default - 7 days, or 30 days on a production platform
   */
  readonly backupRetention?: Duration;

  /**
   * A customer managed KMS key for the storage.
   *
   * Not with `snapshotIdentifier`: a restored database keeps the snapshot's encryption and key.
   *
   * @default - the AWS managed key for RDS
   */
  readonly storageEncryptionKey?: kms.IKey;

  /**
   * The storage type (the Terraform module's `storage_type`).
   *
   * io1 and io2 provision IOPS: they need `iops` and at least 100 GiB of `allocatedStorage`.
   * gp2 and standard (magnetic, kept by RDS for backward compatibility) take no `iops`.
   *
   * @default rds.StorageType.GP3
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html
   */
  readonly storageType?: rds.StorageType;

  /**
   * Provisioned IOPS: at least 1000, with at least 100 GiB of `allocatedStorage`.
   *
   * Required with io1 (0.5 to 50 times `allocatedStorage`) and io2; on gp3 RDS accepts it only for
   * volumes large enough to provision IOPS above gp3's baseline (see the RDS storage guide).
   *
   * @default - none: the storage type's baseline performance
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html
   */
  readonly iops?: number;

  /**
   * Database parameters of your choice, merged into the construct's own parameter group (the
   * Terraform module's `parameter_group_name`, `parameter_group_family` and `param_log_statement`:
   * the family follows `engineVersion`), for example `{ log_statement: 'ddl' }`.
   *
   * The construct sets `rds.force_ssl` = 1, `log_connections` = 1 and `log_disconnections` = 1; your
   * parameters override the logging ones, but `rds.force_ssl` may only be '1': TLS cannot be turned
   * off. Names are PostgreSQL parameter names as RDS lists them; a change to a static parameter
   * takes effect at the instance's next reboot.
   *
   * @default - the construct's own parameters only
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Parameters.html
   */
  readonly parameters?: { [name: string]: string };

  /**
   * The logs the instance exports to CloudWatch Logs (the Terraform module's
   * `enabled_cloudwatch_logs_exports`): any of 'postgresql', 'upgrade' and 'iam-db-auth-error'.
   *
   * Each exported type gets a log group of this construct, created before the instance, encrypted
   * with `logEncryptionKey` and kept for `logRetention`. cdk-nag's RDS logging rules expect
   * 'postgresql' and 'upgrade'.
   *
   * @default ['postgresql', 'upgrade']
   */
  readonly cloudwatchLogsExports?: string[];

  /**
   * The master user name (the Terraform module's `db_username`); its password is generated into
   * `secret`, never given.
   *
   * For a database restored from `snapshotIdentifier`, the master user name of the snapshot: RDS
   * keeps the snapshot's master user and sets the generated password on it, and the services read
   * the user name from the secret.
   *
   * @default 'dataflow_admin'
   */
  readonly masterUsername?: string;

  /**
   * Starts the database from a DB snapshot: the migration path from an existing database (snapshot
   * it, then restore it here). The snapshot's name, or its ARN for a snapshot shared from another
   * account.
   *
   * Everything the construct sets up is as for a new database (TLS parameter group, subnets,
   * security group, exported logs, generated secret and rotation, backups, multi-AZ, deletion
   * protection). The snapshot decides its master user (set `masterUsername` to it), its databases
   * (set `databaseName` to the one the services use), its engine version (set `engineVersion` to
   * it) and its encryption: CloudFormation takes StorageEncrypted and KmsKeyId from the snapshot, so
   * restore an encrypted snapshot (copy an unencrypted one with a KMS key first).
   * `allocatedStorage` must be at least the snapshot's.
   *
   * Set it on the database's first deployment and keep it: CloudFormation restores a new instance
   * when it changes and creates an empty one when it is removed, deleting the one before.
   *
   * @default - a new, empty database
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbsnapshotidentifier
   */
  readonly snapshotIdentifier?: string;

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

  /**
   * Whether the instance runs in two AZs (the Terraform module's `multi_az`), whatever `production` says.
   *
   * @default - the value of production
   */
  readonly multiAz?: boolean;

  /**
   * Whether the instance refuses to be deleted, whatever `production` says.
   *
   * @default - the value of production
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the instance when it leaves the stack, whatever `production` says: SNAPSHOT
   * takes a final snapshot (the Terraform module's `skip_final_snapshot = false`), DESTROY does not.
   *
   * @default - RemovalPolicy.SNAPSHOT on a production database, else RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
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

/**
 * Amazon RDS for PostgreSQL in isolated subnets, for the platform's services or on its own.
 *
 * Storage encrypted, TLS required (`rds.force_ssl` = 1 in its own parameter group), IAM database
 * authentication on, credentials generated into Secrets Manager, automated backups, PostgreSQL and
 * upgrade logs exported to CloudWatch Logs (by default), storage autoscaling. No public access and
 * no rule from a CIDR: callers are admitted by security group (`connections.allowDefaultPortFrom`).
 * A new database, or one restored from a snapshot of an existing one (`snapshotIdentifier`).
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * const database = new PostgresDatabase(this, 'Database', { vpc, databaseName: 'orders' });
 */
export class PostgresDatabase extends Construct implements ec2.IConnectable {
  /**
   * The RDS instance: an `rds.DatabaseInstance`, or an `rds.DatabaseInstanceFromSnapshot` when
   * `snapshotIdentifier` is set.
   */
  public readonly instance: rds.DatabaseInstanceBase;

  /** The generated credentials: `username`, `password`, `host`, `port` and more. */
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

  /** The parameter group that enforces TLS, with the `parameters` of your choice. */
  public readonly parameterGroup: rds.ParameterGroup;

  /** The log groups the instance exports to, one per exported log type, in the order of `cloudwatchLogsExports`. */
  public readonly logGroups: logs.LogGroup[];

  /** The security group of the rotation function, when `rotationInterval` is set. */
  public readonly rotationSecurityGroup?: ec2.ISecurityGroup;

  /** The log group of the rotation function, when `rotationInterval` is set. */
  public readonly rotationLogGroup?: logs.ILogGroup;

  /**
   * What the database's users (`addUser`) are set up from.
   *
   * @internal
   */
  public readonly _userContext: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly logSettings: LogGroupSettings;
    readonly removalPolicy: RemovalPolicy;
    readonly rotationInterval?: Duration;
    readonly masterUsername: string;
  };

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    validateDatabaseOptions('PostgresDatabase', props);
    const production = props.production ?? false;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: props.engineVersion ?? rds.PostgresEngineVersion.VER_17_6 });
    this.databaseName = props.databaseName ?? 'dataflow';
    this.port = props.port ?? 5432;
    const multiAz = props.multiAz ?? production;
    const deletionProtection = props.deletionProtection ?? production;

    this.parameterGroup = this.createParameterGroup(engine, props.parameters);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'PostgreSQL - admits declared callers by security group only',
      allowAllOutbound: false,
    });

    // The exported logs go to log groups the construct owns (encrypted, with retention), which needs
    // a known instance identifier: unique per construct path, stable across deployments.
    const instanceIdentifier = Names.uniqueResourceName(this, { maxLength: 63, separator: '-' }).toLowerCase();
    const logRemovalPolicy = props.logRemovalPolicy ?? (production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const logSettings: LogGroupSettings = {
      encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(this, 'LogKey', logRemovalPolicy),
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy,
    };
    const logExports = props.cloudwatchLogsExports ?? [...DEFAULT_LOG_EXPORTS];
    this.logGroups = logExports.map(logType => new logs.LogGroup(this, logGroupId(logType), {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/${logType}`,
      ...logSettings,
    }));

    const removalPolicy = props.removalPolicy ?? (production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY);
    const instance = this.createInstance(props, {
      engine,
      instanceIdentifier,
      securityGroup,
      logExports,
      multiAz,
      deletionProtection,
      removalPolicy,
    });
    this.instance = instance;
    // Escape hatches reach the one resource this construct wraps, as in aws-cdk.
    this.node.defaultChild = instance.node.defaultChild;
    for (const logGroup of this.logGroups) {
      instance.node.addDependency(logGroup);
    }
    this.secret = instance.secret!;
    // The port is known at synth: rules name it literally (the endpoint's port is a token).
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(this.port) });
    this.hostname = instance.dbInstanceEndpointAddress;
    this.jdbcUrl = `jdbc:postgresql://${instance.dbInstanceEndpointAddress}:${instance.dbInstanceEndpointPort}/${this.databaseName}?sslmode=require`;

    const secret = instance.node.findChild('Secret');
    if (removalPolicy !== RemovalPolicy.DESTROY) {
      // The data outlives the stack (a final snapshot, or the instance itself), and so does the
      // master password: it lives in the database, and a restore brings "the same configuration as
      // the original source database" (RDS API, RestoreDBInstanceFromDBSnapshot:
      // https://docs.aws.amazon.com/cli/latest/reference/rds/restore-db-instance-from-db-snapshot.html).
      // The secret that holds it is kept too; deleting it would leave the snapshot without its key.
      (secret as secretsmanager.Secret).applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
    acknowledge(secret, 'SecretsManagerUsingKMSKey', COMPLIANCE_PACKS,
      'The secret is encrypted with the AWS managed key for Secrets Manager; IAM limits reading it to the execution role of the services that use the database.');
    if (props.rotationInterval) {
      const rotation = this.addRotation(instance, props, props.rotationInterval, securityGroup, logSettings);
      this.rotationSecurityGroup = rotation.securityGroup;
      this.rotationLogGroup = rotation.logGroup;
    } else {
      const reason = 'Rotation is opt-in (rotationInterval): a rotated password breaks new connections of tasks started before it until the services are redeployed.';
      acknowledge(secret, 'SMG4', [NAG_PACKS.awsSolutions], reason);
      acknowledge(secret, 'SecretsManagerRotationEnabled', COMPLIANCE_PACKS, reason);
    }
    this._userContext = {
      vpc: props.vpc,
      subnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      logSettings,
      removalPolicy,
      rotationInterval: props.rotationInterval,
      masterUsername: props.masterUsername ?? DEFAULT_MASTER_USERNAME,
    };
    this.acknowledgeFindings(multiAz, deletionProtection, props.storageEncryptionKey !== undefined, props.snapshotIdentifier);
  }

  /**
   * Adds a PostgreSQL user with a database of its own and a generated secret of its own, created
   * at deploy time by a function in the database's VPC: what a service reads instead of the
   * master's secret.
   *
   * @param id the user's construct id, under this database
   * @param options the user name and how the user is kept
   */
  public addUser(id: string, options: DatabaseUserOptions): DatabaseUser {
    return new DatabaseUser(this, id, { ...options, database: this });
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

  /** The construct's own parameter group: TLS required and connections logged, merged with the user's parameters. */
  private createParameterGroup(engine: rds.IInstanceEngine, parameters: { [name: string]: string } | undefined): rds.ParameterGroup {
    const merged: { [name: string]: string } = {
      [FORCE_SSL_PARAMETER]: '1',
      log_connections: '1',
      log_disconnections: '1',
      ...parameters,
    };
    // The user may repeat rds.force_ssl (validated), never change it.
    merged[FORCE_SSL_PARAMETER] = '1';
    return new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `TLS required for ${this.node.path}`,
      parameters: merged,
    });
  }

  /**
   * The instance, new or restored from a snapshot, with the same settings either way. Its id stays
   * 'Instance' for both, so that logical ids do not depend on how the database started.
   */
  private createInstance(props: PostgresDatabaseProps, settings: InstanceSettings): SourceInstance {
    const production = props.production ?? false;
    const allocatedStorage = props.allocatedStorage ?? 20;
    const username = props.masterUsername ?? DEFAULT_MASTER_USERNAME;
    // The default class where RDS offers it, chosen by region (src/private/instance-classes.ts).
    const defaultClass = production ? PRODUCTION_INSTANCE_CLASS : DEVELOPMENT_INSTANCE_CLASS;
    const common: rds.DatabaseInstanceSourceProps = {
      instanceIdentifier: settings.instanceIdentifier,
      engine: settings.engine,
      instanceType: props.instanceType ?? defaultInstanceType(this, defaultClass),
      vpc: props.vpc,
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [settings.securityGroup],
      publiclyAccessible: false,
      port: this.port,
      parameterGroup: this.parameterGroup,
      storageType: props.storageType ?? DEFAULT_STORAGE_TYPE,
      iops: props.iops,
      allocatedStorage,
      maxAllocatedStorage: props.maxAllocatedStorage ?? allocatedStorage * 5,
      iamAuthentication: true,
      multiAz: settings.multiAz,
      deletionProtection: settings.deletionProtection,
      backupRetention: props.backupRetention ?? Duration.days(production ? 30 : 7),
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: settings.logExports,
      enablePerformanceInsights: false,
      removalPolicy: settings.removalPolicy,
    };
    const instance = props.snapshotIdentifier !== undefined
      // CloudFormation takes DBName, MasterUsername, StorageEncrypted and KmsKeyId from the snapshot
      // and says not to set them on a restore; the generated password replaces the snapshot's.
      ? new rds.DatabaseInstanceFromSnapshot(this, 'Instance', {
        ...common,
        snapshotIdentifier: props.snapshotIdentifier,
        credentials: rds.SnapshotCredentials.fromGeneratedSecret(username),
      })
      : new rds.DatabaseInstance(this, 'Instance', {
        ...common,
        databaseName: this.databaseName,
        credentials: rds.Credentials.fromGeneratedSecret(username),
        storageEncrypted: true,
        storageEncryptionKey: props.storageEncryptionKey,
      });
    if (props.instanceType === undefined) {
      chooseByRegion(instance.node.defaultChild as rds.CfnDBInstance, defaultClass);
    }
    return instance;
  }

  /**
   * Single-user rotation by the function AWS publishes in the Serverless Application Repository,
   * in the VPC, behind a security group of its own and writing to a log group of this construct.
   */
  private addRotation(instance: SourceInstance, props: PostgresDatabaseProps, interval: Duration,
    databaseSecurityGroup: ec2.SecurityGroup, logSettings: LogGroupSettings): { securityGroup: ec2.SecurityGroup; logGroup: logs.LogGroup } {
    // aws-cdk-lib's default group for the function would allow all outbound traffic.
    const securityGroup = endpointsOnlySecurityGroup(this, 'RotationSecurityGroup', props.vpc, 'Secret rotation function');
    const rulesBefore = new Set(databaseSecurityGroup.node.children);
    instance.addRotationSingleUser({
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

    const application = instance.node.findChild('RotationSingleUser').node.defaultChild as sam.CfnApplication;
    const logGroup = rotationLogGroup(this, application, logSettings, this.logGroups[0]);
    return { securityGroup, logGroup };
  }

  private acknowledgeFindings(multiAz: boolean, deletionProtection: boolean, customerKey: boolean, snapshotIdentifier: string | undefined): void {
    const instance = this.instance;
    const portReason = 'The port only matters to clients admitted by security group; Spring and JDBC defaults expect 5432 (set port to change it).';
    acknowledge(instance, 'RDS11', [NAG_PACKS.awsSolutions], portReason);
    acknowledgeControl(instance, 'rds_instance_no_default_ports_check', portReason);
    acknowledgeControl(instance, 'rds_instance_enhanced_monitoring_enabled_check',
      'Enhanced monitoring needs its own IAM role and costs per instance; CloudWatch metrics and exported PostgreSQL logs cover operations.');
    if (snapshotIdentifier !== undefined) {
      this.acknowledgeRestore(snapshotIdentifier);
    } else if (!customerKey) {
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

  /**
   * What a restored instance takes from its snapshot, where the template cannot show it: the
   * encryption and the master user. Checked by the user (a warning says how), not by the rules.
   */
  private acknowledgeRestore(snapshotIdentifier: string): void {
    const instance = this.instance;
    const encryption = 'Restored from a snapshot, whose encryption and key the instance keeps (CloudFormation takes StorageEncrypted and KmsKeyId from the snapshot '
      + 'and says not to set them on a restore); the construct warns to restore an encrypted snapshot, copying an unencrypted one with a KMS key first.';
    acknowledge(instance, 'RDS2', [NAG_PACKS.awsSolutions], encryption);
    acknowledge(instance, 'RDSStorageEncrypted', COMPLIANCE_PACKS, encryption);
    acknowledgeControl(instance, 'rds_instance_storage_encrypted_check', encryption);
    acknowledgeControl(instance, 'rds_storage_encrypted_kms_key_check', encryption);
    acknowledgeControl(instance, 'rds_instance_default_admin_check',
      'Restored from a snapshot, whose master user the instance keeps (CloudFormation takes MasterUsername from the snapshot); its password is generated into the secret.');
    const snapshot = Token.isUnresolved(snapshotIdentifier) ? 'the snapshot' : `snapshot "${snapshotIdentifier}"`;
    Annotations.of(this).addWarningV2('cdk-dataflow-platform:snapshotEncryption',
      `${this.node.path}: the database restored from ${snapshot} is encrypted only if the snapshot is (CloudFormation takes the encryption from the snapshot). `
      + 'Check it with aws rds describe-db-snapshots --db-snapshot-identifier <snapshot> --query "DBSnapshots[0].Encrypted"; if it is not encrypted, '
      + 'copy it with a KMS key (aws rds copy-db-snapshot --kms-key-id <key>) and restore the copy. Once checked, acknowledge this warning '
      + '(Annotations.of(database).acknowledgeWarning(\'cdk-dataflow-platform:snapshotEncryption\')).');
  }
}

/** The settings the new and the restored instance share, decided in the constructor. */
interface InstanceSettings {
  readonly engine: rds.IInstanceEngine;
  readonly instanceIdentifier: string;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logExports: string[];
  readonly multiAz: boolean;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
}

/** The instance classes that can be created (and so rotated): aws-cdk-lib does not export their common base. */
type SourceInstance = rds.DatabaseInstance | rds.DatabaseInstanceFromSnapshot;
