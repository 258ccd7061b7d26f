import { ArnFormat, CustomResource, Duration, Names, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { DatabaseUserFunction } from './database-user-function';
import type { PostgresDatabase } from './postgres-database';
import { DATABASE_USER_NAME, describeReservedDatabaseUserNames, isReservedDatabaseUserName } from '../private/database-names';
import { denyGrantsExceptToAwsServices } from '../private/kms';
import {
  acknowledge, acknowledgeControlLike, acknowledgeDeploymentFunction, COMPLIANCE_PACKS, NAG_PACKS, wildcardResourceFinding,
} from '../private/nag';
import { rotationLogGroup } from '../private/rotation';
import { endpointsOnlySecurityGroup } from '../private/security-groups';

/**
 * What a user chooses about a database user of its own (`PostgresDatabase.addUser`).
 */
export interface DatabaseUserOptions {
  /**
   * The PostgreSQL user name: a lowercase letter, then up to 62 lowercase letters, digits or
   * underscores. Not the master user, nor a name PostgreSQL or RDS reserves (`postgres`, `public`,
   * `none`, `rdsadmin`, `template0`, `template1`, `current_user`, `session_user`, `current_role`,
   * `user`, `all`, `default`, names starting with `rds` or `pg_`; the function that creates the user
   * checks the same list), nor an existing role the function did not create.
   *
   * Changing it later creates a new user (and, with the default `databaseName`, a new database) and
   * keeps the old one with its data: nothing is dropped on an update.
   */
  readonly username: string;

  /**
   * The user's own database, created for it and owned by it; no other user may connect to it.
   *
   * Not the database's own database (`PostgresDatabase.databaseName`, the master's), nor a reserved
   * name (as for `username`). A database that already exists is not taken over: its owner, its data
   * and `PUBLIC`'s access stay, and the user is granted `CONNECT`, `CREATE` and `TEMPORARY` on it
   * (the master user must be its owner or a member of its owner). Changing it later creates a new
   * database and keeps the old one.
   *
   * The user can also connect to `postgres` and to the database's own database, as every role can
   * (PostgreSQL grants `CONNECT` and `TEMPORARY` on every database to `PUBLIC`), but creates nothing
   * there other than temporary tables and reads no table it was not granted (PostgreSQL 15 and
   * later); see the README, "Who can read what".
   *
   * @default - the username
   */
  readonly databaseName?: string;

  /**
   * How often Secrets Manager rotates the user's password (single-user rotation, the function AWS
   * publishes, in the VPC), as the master's (`PostgresDatabaseOptions.rotationInterval`).
   *
   * @default - the database's rotationInterval: the user is rotated when the master is
   */
  readonly rotationInterval?: Duration;

  /**
   * The KMS key that encrypts the user's secret.
   *
   * @default - a customer managed key of the database for its users' secrets, with rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the user, its database and its secret when the user leaves the stack (or the
   * stack is deleted): RETAIN keeps all three, data included; DESTROY drops the user, every database
   * it owns (those of earlier `databaseName`s too) and what it created in other databases, and
   * deletes the secret. Privileges on other databases that someone else granted the user by hand,
   * which the master user cannot revoke, keep the role, without login or password (the function's
   * log says what to revoke); the deletion itself succeeds.
   *
   * @default - RETAIN when the database is kept or snapshotted on removal (production), else DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of a `DatabaseUser`.
 */
export interface DatabaseUserProps extends DatabaseUserOptions {
  /** The database the user is created in. */
  readonly database: PostgresDatabase;
}

/**
 * A PostgreSQL user and its own database, created at deploy time by a function in the database's
 * VPC, with a generated secret of its own (JSON like the master's: `username`, `password`, `host`,
 * `port`, `dbname`, `engine`), encrypted with a customer managed key and rotated like the master's.
 *
 * Services read this secret, not the master's. Idempotent: updates never drop anything, and in
 * production (see `removalPolicy`) neither does deleting it.
 *
 * @example
 * declare const database: PostgresDatabase;
 * const orders = database.addUser('Orders', { username: 'orders' });
 */
export class DatabaseUser extends Construct {
  /** The PostgreSQL user name. */
  public readonly username: string;

  /** The user's database. */
  public readonly databaseName: string;

  /** The user's credentials: `username`, `password`, `host`, `port`, `dbname`, `engine`. */
  public readonly secret: secretsmanager.ISecret;

  /** The JDBC URL of the user's database with TLS required: `jdbc:postgresql://HOST:PORT/DB?sslmode=require`. */
  public readonly jdbcUrl: string;

  /** The security group of the user's rotation function, when the user's secret is rotated. */
  public readonly rotationSecurityGroup?: ec2.ISecurityGroup;

  /** The log group of the user's rotation function, when the user's secret is rotated. */
  public readonly rotationLogGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: DatabaseUserProps) {
    super(scope, id);
    const database = props.database;
    const context = database._userContext;
    validateUser(props);
    this.username = props.username;
    this.databaseName = props.databaseName ?? props.username;
    const removalPolicy = props.removalPolicy ?? (keeps(context.removalPolicy) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const provider = UserProvider.of(database);
    provider.register(this);

    const secret = new rds.DatabaseSecret(this, 'Secret', {
      username: this.username,
      dbname: this.databaseName,
      encryptionKey: props.encryptionKey ?? provider.secretKey(this),
    });
    // The function reads the secrets of its database's users by this tag (see UserProvider).
    Tags.of(secret).add(USER_SECRET_TAG, provider.tagValue);
    secret.applyRemovalPolicy(keeps(removalPolicy) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    // The attachment fills in host, port and engine; its ARN is the secret's.
    const attachment = secret.attach(database.instance);
    this.secret = attachment;
    this.jdbcUrl = `jdbc:postgresql://${database.instance.dbInstanceEndpointAddress}:${database.instance.dbInstanceEndpointPort}/${this.databaseName}?sslmode=require`;

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DatabaseUser',
      properties: {
        Host: database.instance.dbInstanceEndpointAddress,
        Port: database.instance.dbInstanceEndpointPort,
        MasterSecretArn: database.secret.secretArn,
        UserSecretArn: attachment.secretArn,
        Username: this.username,
        DatabaseName: this.databaseName,
        // The instance's own database, which the function refuses to hand to a user (as validateUser does).
        InstanceDatabaseName: database.databaseName,
        // Read by the function on delete: true keeps the user and its database (see removalPolicy).
        RetainOnDelete: keeps(removalPolicy) ? 'true' : 'false',
      },
    });
    this.node.defaultChild = resource.node.defaultChild;
    // The function's network path and permissions exist before the user is created, and until it
    // is deleted.
    resource.node.addDependency(...provider.connectivity);

    const rotationInterval = props.rotationInterval ?? context.rotationInterval;
    if (rotationInterval) {
      const rotation = this.addRotation(props.database, attachment, rotationInterval, resource);
      this.rotationSecurityGroup = rotation.securityGroup;
      this.rotationLogGroup = rotation.logGroup;
    } else {
      const reason = 'Rotation follows the database\'s (rotationInterval): a rotated password breaks new connections of tasks started before it until the services are redeployed.';
      acknowledge(secret, 'SMG4', [NAG_PACKS.awsSolutions], reason);
      acknowledge(secret, 'SecretsManagerRotationEnabled', COMPLIANCE_PACKS, reason);
    }
  }

  /** Lets `grantee` read the user's credentials. */
  public grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /**
   * Single-user rotation as for the master (`PostgresDatabase`): the function AWS publishes, in the
   * database's subnets, behind a security group of its own, logging to a log group of this
   * construct. The first rotation runs once the user exists.
   */
  private addRotation(database: PostgresDatabase, secret: secretsmanager.ISecret, interval: Duration,
    resource: CustomResource): { securityGroup: ec2.SecurityGroup; logGroup: logs.LogGroup } {
    const context = database._userContext;
    const securityGroup = endpointsOnlySecurityGroup(this, 'RotationSecurityGroup', context.vpc, 'Secret rotation function');
    // The rotation function's rules into the database's group are created here, in the user's stack
    // (through an imported reference to the group), not in the database's: from there, a user in a
    // service's nested stack would get them only after its stack completed, after the first rotation.
    const databaseGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup',
      database.connections.securityGroups[0].securityGroupId);
    const target: ec2.IConnectable = {
      connections: new ec2.Connections({ securityGroups: [databaseGroup], defaultPort: ec2.Port.tcp(database.port) }),
    };
    const rotation = new secretsmanager.SecretRotation(this, 'Rotation', {
      application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
      secret,
      // The port literally (the instance's own connections would carry it as a token).
      target,
      vpc: context.vpc,
      vpcSubnets: context.subnets,
      securityGroup,
      automaticallyAfter: interval,
      excludeCharacters: RDS_EXCLUDE_CHARACTERS,
    });
    // The first rotation runs at once: it waits for the user (a password the database does not know
    // yet cannot be rotated) and for the function's way to the database.
    secret.node.findChild('RotationSchedule').node.addDependency(resource, databaseGroup, securityGroup);

    const logGroup = rotationLogGroup(this, rotation.node.defaultChild as sam.CfnApplication, context.logSettings, database.logGroups[0]);
    return { securityGroup, logGroup };
  }
}

/**
 * The characters RDS leaves out of generated passwords (aws-cdk-lib's default for database
 * secrets), so that the rotation generates the same kind of password as the first one.
 */
/** The tag that marks the secrets (and their keys) of a database's users, valued with the database's id. */
const USER_SECRET_TAG = 'cdk-dataflow-platform:database-user-of';

const RDS_EXCLUDE_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';

/** Whether a removal policy keeps what it applies to. */
function keeps(policy: RemovalPolicy): boolean {
  return policy !== RemovalPolicy.DESTROY;
}

function validateUser(props: DatabaseUserProps): void {
  const context = props.database._userContext;
  const { username, databaseName } = props;
  if (!Token.isUnresolved(username)) {
    if (!DATABASE_USER_NAME.test(username)) {
      throw new Error(`DatabaseUser: username "${username}" is not a user name the construct creates: a lowercase letter, then up to 62 lowercase letters, digits or underscores; for example "${suggestName(username)}"`);
    }
    if (isReservedDatabaseUserName(username)) {
      throw new Error(`DatabaseUser: username "${username}" is reserved by PostgreSQL or RDS (${describeReservedDatabaseUserNames()}); choose another, for example "app_${username.replace(/^(rds|pg_)_?/, '')}"`);
    }
    if (!Token.isUnresolved(context.masterUsername) && username === context.masterUsername.toLowerCase()) {
      throw new Error(`DatabaseUser: username "${username}" is the database's master user, whose credentials stay with the platform; choose a username of the user's own, for example "app"`);
    }
  }
  if (databaseName !== undefined && !Token.isUnresolved(databaseName)) {
    if (!DATABASE_USER_NAME.test(databaseName)) {
      throw new Error(`DatabaseUser: databaseName "${databaseName}" is not a database name the construct creates: a lowercase letter, then up to 62 lowercase letters, digits or underscores; for example "${suggestName(databaseName)}", or leave it out for the username`);
    }
    if (isReservedDatabaseUserName(databaseName)) {
      throw new Error(`DatabaseUser: databaseName "${databaseName}" is reserved by PostgreSQL or RDS (${describeReservedDatabaseUserNames()}); choose another, or leave it out for the username`);
    }
  }
  const effectiveDatabase = databaseName ?? username;
  const ownDatabase = props.database.databaseName;
  if (!Token.isUnresolved(effectiveDatabase) && !Token.isUnresolved(ownDatabase) && effectiveDatabase === ownDatabase) {
    throw new Error(`DatabaseUser: databaseName "${effectiveDatabase}" is the database's own database, owned by the master user; give the user a database of its own (set databaseName, for example "${effectiveDatabase}_${username === effectiveDatabase ? 'app' : username}")`);
  }
  const policy = props.removalPolicy;
  if (policy !== undefined && policy !== RemovalPolicy.RETAIN && policy !== RemovalPolicy.DESTROY) {
    throw new Error(`DatabaseUser: removalPolicy ${policy} does not apply to a database user; use RemovalPolicy.RETAIN (keep the user, its database and its secret) or RemovalPolicy.DESTROY (drop them with the stack)`);
  }
}

/** A lowercase name PostgreSQL accepts, close to what the user wrote. */
function suggestName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '').slice(0, 63);
  return cleaned === '' ? 'app' : cleaned;
}

/**
 * The function that creates a database's users, one per database and shared by its users, in the
 * database's VPC, behind the CDK provider framework (whose own function, outside the VPC, answers
 * CloudFormation). Also the key of the users' secrets, created with the first user that needs it.
 */
class UserProvider extends Construct {
  /** The provider of `database`, created with its first user. */
  public static of(database: PostgresDatabase): UserProvider {
    const existing = database.node.tryFindChild(UserProvider.ID);
    return existing instanceof UserProvider ? existing : new UserProvider(database, UserProvider.ID);
  }

  private static readonly ID = 'UserProvider';

  /** The in-VPC function that runs the SQL. */
  public readonly function: lambda.Function;

  /** What the custom resources depend on: the function's security-group rules and permissions. */
  public readonly connectivity: IConstruct[];

  /** The provider framework's service token. */
  public readonly serviceToken: string;

  /** The value of `USER_SECRET_TAG` on this database's users' secrets and keys. */
  public readonly tagValue: string;

  private readonly database: PostgresDatabase;
  private readonly usernames = new Map<string, string>();
  private readonly databaseNames = new Map<string, string>();

  private constructor(database: PostgresDatabase, id: string) {
    super(database, id);
    this.database = database;
    const context = database._userContext;
    const securityGroup = endpointsOnlySecurityGroup(this, 'SecurityGroup', context.vpc, 'Database-user function');
    const databaseGroup = database.connections.securityGroups[0];
    const rulesBefore = new Set(databaseGroup.node.children);
    database.connections.allowDefaultPortFrom(securityGroup, 'Database-user function');
    const ingress = databaseGroup.node.children.filter(c => !rulesBefore.has(c));

    const logGroup = new logs.LogGroup(this, 'FunctionLogs', context.logSettings);
    this.function = new DatabaseUserFunction(this, 'Function', {
      description: `Creates the PostgreSQL users of ${database.node.path} and their databases`,
      vpc: context.vpc,
      vpcSubnets: context.subnets,
      securityGroups: [securityGroup],
      timeout: Duration.minutes(2),
      memorySize: 256,
      logGroup,
      environment: {
        // The RDS certificate authorities of the Lambda runtime, for verifying the database's certificate.
        // https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html ("CA certificate loading")
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      },
    });
    // The master secret: read by this function only.
    database.secret.grantRead(this.function);
    this.tagValue = Names.uniqueId(database);
    this.grantUserSecrets();

    const frameworkLogs = new logs.LogGroup(this, 'ProviderLogs', context.logSettings);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: frameworkLogs,
    });
    this.serviceToken = provider.serviceToken;
    this.connectivity = [securityGroup, ...ingress, this.function.role!.node.findChild('DefaultPolicy')];
    for (const group of [logGroup, frameworkLogs].filter(() => database.logGroups.length > 0)) {
      acknowledgeControlLike(group, database.logGroups[0], 'cloudwatch_log_group_retention_period_check');
    }
    this.acknowledgeFindings(provider);
  }

  /**
   * Lets the function read the secrets of this database's users, wherever they are (a user may
   * live in a service's nested stack), by tag rather than by ARN: a grant by ARN would make this
   * stack depend on the users' stacks, which depend on this function (a cycle). Secrets Manager's
   * GetSecretValue and KMS's Decrypt both accept aws:ResourceTag conditions.
   * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
   * https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
   */
  private grantUserSecrets(): void {
    const stack = Stack.of(this);
    const tagged = { StringEquals: { [`aws:ResourceTag/${USER_SECRET_TAG}`]: this.tagValue } };
    const secrets = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secrets],
      conditions: tagged,
    }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: { ...tagged, StringEquals: { ...tagged.StringEquals, 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
    }));
    const policy = this.function.role!.node.findChild('DefaultPolicy');
    const reason = 'Reads the secrets (and decrypts them through Secrets Manager) of this database\'s users only: those tagged '
      + `${USER_SECRET_TAG} with this database's id. The users live in the services' stacks; naming their ARNs would make this stack depend on theirs.`;
    acknowledge(policy, wildcardResourceFinding(this, secrets), [NAG_PACKS.awsSolutions], reason);
    acknowledge(policy, wildcardResourceFinding(this, stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })), [NAG_PACKS.awsSolutions], reason);
  }

  /** Records a user; refuses a username or database name another user of the database has. */
  public register(user: DatabaseUser): void {
    for (const [prop, value, seen] of [
      ['username', user.username, this.usernames],
      ['databaseName', user.databaseName, this.databaseNames],
    ] as const) {
      if (Token.isUnresolved(value)) {
        continue;
      }
      const other = seen.get(value);
      if (other !== undefined) {
        throw new Error(`DatabaseUser: ${prop} "${value}" of ${user.node.path} is already used by ${other} on ${this.database.node.path}; give each user its own ${prop}`);
      }
      seen.set(value, user.node.path);
    }
  }

  /**
   * The key of the secrets of the users in `user`'s stack, created once per stack: a key in another
   * stack would name the services' execution roles (which read the secrets) in its policy and
   * depend on their stack.
   */
  public secretKey(user: IConstruct): kms.IKey {
    const stack = Stack.of(user);
    const owner: Construct = stack === Stack.of(this) ? this : stack;
    const id = owner === this ? 'SecretKey' : `DatabaseUserSecretKey${this.tagValue}`;
    const existing = owner.node.tryFindChild(id);
    if (existing) {
      return existing as kms.Key;
    }
    const key = new kms.Key(owner, id, {
      description: `Encrypts the secrets of the PostgreSQL users of ${this.database.node.path}`,
      enableKeyRotation: true,
      removalPolicy: keeps(this.database._userContext.removalPolicy) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(denyGrantsExceptToAwsServices());
    Tags.of(key).add(USER_SECRET_TAG, this.tagValue);
    // The function also by ARN in the key's own policy: KMS may take up to five minutes to honour
    // the tags of a new key (https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html),
    // and the function reads the first secret encrypted with it moments after it is created.
    const region = Stack.of(this).region;
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowTheDatabaseUserFunctionThroughSecretsManager',
      principals: [new iam.ArnPrincipal(this.function.role!.roleArn)],
      actions: ['kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    }));
    return key;
  }

  private acknowledgeFindings(provider: cr.Provider): void {
    const fn = this.function;
    const invokedOnly = 'Invoked synchronously by the provider framework during deployments only (one invocation per user change), never asynchronously.';
    acknowledge(fn, 'LambdaConcurrency', COMPLIANCE_PACKS,
      `${invokedOnly} Reserved concurrency would take from the account's unreserved pool (a new account cannot spare any); an advisory lock serializes the SQL.`);
    acknowledge(fn, 'LambdaDLQ', COMPLIANCE_PACKS, `${invokedOnly} A dead-letter queue applies to asynchronous invocations only; failures reach CloudFormation.`);
    acknowledge(fn, 'L1', [NAG_PACKS.awsSolutions],
      'Node.js 22 (supported by Lambda into 2027): the runtime the library\'s pre-bundled functions are built and tested for (.projenrc.ts lambdaOptions, esbuild target node22); a newer one comes with a library release, not at deploy time.');
    const role = fn.role!;
    const managed = 'AWS managed policies of a function in a VPC: writing its logs and managing its network interfaces (ec2:CreateNetworkInterface supports no resource-level permissions).';
    acknowledge(role, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', [NAG_PACKS.awsSolutions], managed);
    acknowledge(role, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', [NAG_PACKS.awsSolutions], managed);
    acknowledge(role.node.findChild('DefaultPolicy'), 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
      'The function\'s only policy, generated by CDK: read the master secret and the secrets of this database\'s users.');

    const framework = provider.node.findChild('framework-onEvent') as lambda.Function;
    const outside = 'The CDK provider framework\'s function, in front of the database-user function: it runs during deployments only and '
      + 'answers CloudFormation through its pre-signed S3 URL, which isolated subnets cannot reach, so it runs outside the VPC; it handles no credentials.';
    acknowledgeDeploymentFunction(framework, outside);
    const frameworkRole = framework.role!;
    acknowledge(frameworkRole, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', [NAG_PACKS.awsSolutions], outside);
    const frameworkPolicy = frameworkRole.node.findChild('DefaultPolicy');
    acknowledge(frameworkPolicy, wildcardResourceFinding(this, `${fn.functionArn}:*`), [NAG_PACKS.awsSolutions],
      'Invokes the database-user function, any of its versions (the provider framework\'s grant).');
    acknowledge(frameworkPolicy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS, 'The provider framework\'s only policy: invoke the database-user function.');
  }
}
