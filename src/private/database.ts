import { Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';

/**
 * What the validators read of a database's options (`PostgresDatabaseOptions` has these and more):
 * declared here so that this module depends on no public room.
 */
export interface DatabaseOptionsToCheck {
  readonly databaseName?: string;
  readonly engineVersion?: rds.PostgresEngineVersion;
  readonly port?: number;
  readonly parameters?: { [name: string]: string };
  readonly cloudwatchLogsExports?: string[];
  readonly masterUsername?: string;
  readonly storageType?: rds.StorageType;
  readonly allocatedStorage?: number;
  readonly maxAllocatedStorage?: number;
  readonly iops?: number;
  readonly snapshotIdentifier?: string;
  readonly storageEncryptionKey?: kms.IKey;
}

/** PostgreSQL major versions the library supports: those Amazon RDS offers today. */
export const SUPPORTED_POSTGRES_MAJOR_VERSIONS: readonly string[] = ['16', '17', '18'];

/**
 * The log types RDS for PostgreSQL exports to CloudWatch Logs.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (EnableCloudwatchLogsExports:
 * "RDS for PostgreSQL - postgresql | upgrade | iam-db-auth-error")
 */
export const SUPPORTED_LOG_EXPORTS: readonly string[] = ['postgresql', 'upgrade', 'iam-db-auth-error'];

/** The logs exported when the user does not choose: the ones cdk-nag's RDS logging rules expect. */
export const DEFAULT_LOG_EXPORTS: readonly string[] = ['postgresql', 'upgrade'];

/** The storage type when the user does not choose. */
export const DEFAULT_STORAGE_TYPE = rds.StorageType.GP3;

/** The master user when the user does not choose. */
export const DEFAULT_MASTER_USERNAME = 'dataflow_admin';

/** The parameter that makes the instance refuse connections without TLS, and the only value it may take. */
export const FORCE_SSL_PARAMETER = 'rds.force_ssl';
const FORCE_SSL_VALUE = '1';

/** RDS: a database name is a letter then letters, digits or underscores, at most 63, not a reserved word. */
const DATABASE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_DATABASE_NAMES = ['postgres', 'template0', 'template1', 'rdsadmin', 'select', 'user', 'table', 'database', 'default'];

/**
 * RDS for PostgreSQL: the master user name is 1 to 63 letters or numbers (underscores as well, as
 * the default shows), starting with a letter, not a reserved word. PostgreSQL reserves `public` and
 * names starting with `pg_`; RDS uses `rdsadmin` itself.
 */
const MASTER_USERNAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_USERNAMES = ['rdsadmin', 'public', 'select', 'user', 'table', 'database', 'default', 'all', 'none'];

/**
 * A PostgreSQL parameter as RDS parameter groups name it: `log_statement`, `rds.force_ssl`,
 * `pg_stat_statements.track`, and a few in mixed case (`DateStyle`, `TimeZone`).
 */
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;

/** Storage limits by type, in GiB (CloudFormation AWS::RDS::DBInstance AllocatedStorage, PostgreSQL). */
const STORAGE_LIMITS: Record<string, { min: number; max: number }> = {
  [rds.StorageType.GP2]: { min: 20, max: 65536 },
  [rds.StorageType.GP3]: { min: 20, max: 65536 },
  [rds.StorageType.IO1]: { min: 100, max: 65536 },
  [rds.StorageType.IO2]: { min: 100, max: 65536 },
  // RDS accepts 5 GiB of magnetic storage; the library's floor is 20 for every type.
  [rds.StorageType.STANDARD]: { min: 20, max: 3072 },
};

/** Storage types whose IOPS are provisioned and must be given. */
const PROVISIONED_IOPS_TYPES: readonly rds.StorageType[] = [rds.StorageType.IO1, rds.StorageType.IO2];

/** Storage types that take no provisioned IOPS (aws-cdk-lib would drop the value silently). */
const NO_IOPS_TYPES: readonly rds.StorageType[] = [rds.StorageType.GP2, rds.StorageType.STANDARD];

/** The construct id of the log group of an exported log type: 'iam-db-auth-error' → 'IamDbAuthErrorLogs'. */
export function logGroupId(logType: string): string {
  return `${logType.split('-').map(part => part.charAt(0).toUpperCase() + part.slice(1)).join('')}Logs`;
}

/**
 * Validates database options; throws an error naming the prop, the value and the fix.
 */
export function validateDatabaseOptions(owner: string, options: DatabaseOptionsToCheck): void {
  validateStorage(owner, options);
  validateDatabaseName(owner, options.databaseName);
  const version = options.engineVersion;
  if (version && !Token.isUnresolved(version.postgresMajorVersion) && !SUPPORTED_POSTGRES_MAJOR_VERSIONS.includes(version.postgresMajorVersion)) {
    throw new Error(`${owner}: engineVersion ${version.postgresFullVersion} (major ${version.postgresMajorVersion}) is not supported; use a PostgreSQL ${SUPPORTED_POSTGRES_MAJOR_VERSIONS.join(', ')} version, e.g. rds.PostgresEngineVersion.VER_17_6`);
  }
  const port = options.port;
  if (port !== undefined && !Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1150 && port <= 65535)) {
    throw new Error(`${owner}: port ${port} is outside what RDS accepts (1150 to 65535); use for example 5432`);
  }
  validateParameters(owner, options.parameters);
  validateLogExports(owner, options.cloudwatchLogsExports);
  validateMasterUsername(owner, options.masterUsername);
  validateSnapshotRestore(owner, options);
}

function validateStorage(owner: string, options: DatabaseOptionsToCheck): void {
  const type = options.storageType ?? DEFAULT_STORAGE_TYPE;
  const limits = STORAGE_LIMITS[type] ?? STORAGE_LIMITS[DEFAULT_STORAGE_TYPE];
  const allocated = options.allocatedStorage ?? 20;
  const allocatedKnown = !Token.isUnresolved(allocated);
  if (allocatedKnown && (!Number.isInteger(allocated) || allocated < limits.min || allocated > limits.max)) {
    throw new Error(`${owner}: allocatedStorage ${allocated} GiB is outside what RDS for PostgreSQL accepts on ${type} storage; choose a whole number from ${limits.min} to ${limits.max}`);
  }
  const max = options.maxAllocatedStorage;
  if (max !== undefined && !Token.isUnresolved(max) && allocatedKnown && !(max > allocated && max <= limits.max)) {
    throw new Error(`${owner}: maxAllocatedStorage ${max} GiB must be above allocatedStorage (${allocated} GiB) and at most ${limits.max}, so that storage can grow; raise maxAllocatedStorage`);
  }

  // CloudFormation AWS::RDS::DBInstance: Iops "must be equal to or greater than 1000"; with any Iops,
  // AllocatedStorage "must be at least 100 GiB"; io1 requires Iops; for PostgreSQL Iops "must be a
  // multiple between .5 and 50 of the storage amount" (stated for io1; io2 and gp3 ratios differ).
  const iops = options.iops;
  if (iops === undefined) {
    if (PROVISIONED_IOPS_TYPES.includes(type)) {
      throw new Error(`${owner}: storageType ${type} provisions IOPS, but iops is not set; set iops (at least 1000), or choose rds.StorageType.GP3`);
    }
    return;
  }
  if (NO_IOPS_TYPES.includes(type)) {
    throw new Error(`${owner}: iops ${iops} is set, but ${type} storage takes no provisioned IOPS; remove iops, or choose storageType io1, io2 or gp3`);
  }
  if (Token.isUnresolved(iops)) {
    return;
  }
  if (!Number.isInteger(iops) || iops < 1000) {
    throw new Error(`${owner}: iops ${iops} is below what RDS provisions (a whole number of at least 1000); raise iops, or remove it for the storage type's baseline`);
  }
  if (allocatedKnown && allocated < 100) {
    throw new Error(`${owner}: iops ${iops} needs allocatedStorage of at least 100 GiB (RDS), but allocatedStorage is ${allocated} GiB; raise allocatedStorage, or remove iops`);
  }
  if (allocatedKnown && type === rds.StorageType.IO1 && (iops < allocated * 0.5 || iops > allocated * 50)) {
    throw new Error(`${owner}: iops ${iops} on io1 must be 0.5 to 50 times allocatedStorage (${allocated} GiB), i.e. ${Math.ceil(allocated * 0.5)} to ${allocated * 50}; change iops or allocatedStorage`);
  }
}

function validateDatabaseName(owner: string, name: string | undefined): void {
  if (name === undefined || Token.isUnresolved(name)) {
    return;
  }
  if (!DATABASE_NAME.test(name)) {
    throw new Error(`${owner}: databaseName "${name}" is not a name PostgreSQL on RDS accepts: a letter, then up to 62 letters, digits or underscores; for example "dataflow"`);
  }
  if (RESERVED_DATABASE_NAMES.includes(name.toLowerCase())) {
    throw new Error(`${owner}: databaseName "${name}" is reserved by PostgreSQL or RDS; choose another, for example "dataflow"`);
  }
}

function validateParameters(owner: string, parameters: { [name: string]: string } | undefined): void {
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (Token.isUnresolved(name)) {
      throw new Error(`${owner}: parameters has a name that is a token; parameter names must be known at synth, for example { log_statement: 'ddl' }`);
    }
    if (!PARAMETER_NAME.test(name)) {
      throw new Error(`${owner}: parameters has "${name}", which is not a PostgreSQL parameter name (a letter, then letters, digits, underscores or dots, e.g. "log_statement" or "pg_stat_statements.track"); fix the name`);
    }
    if (name.toLowerCase() === FORCE_SSL_PARAMETER) {
      if (name !== FORCE_SSL_PARAMETER) {
        throw new Error(`${owner}: parameters has "${name}"; write it as "${FORCE_SSL_PARAMETER}", or better leave it out: the database sets it to ${FORCE_SSL_VALUE} itself`);
      }
      if (Token.isUnresolved(value)) {
        throw new Error(`${owner}: parameters sets ${FORCE_SSL_PARAMETER} to a token, which cannot be checked at synth; the database requires TLS (${FORCE_SSL_PARAMETER} = ${FORCE_SSL_VALUE}), so leave ${FORCE_SSL_PARAMETER} out of parameters`);
      }
      if (value !== FORCE_SSL_VALUE) {
        throw new Error(`${owner}: parameters sets ${FORCE_SSL_PARAMETER} to "${value}", which would let clients connect without TLS; the database requires TLS (${FORCE_SSL_PARAMETER} = ${FORCE_SSL_VALUE}) and its clients connect with sslmode=require, so leave ${FORCE_SSL_PARAMETER} out of parameters`);
      }
    }
  }
}

function validateLogExports(owner: string, logTypes: string[] | undefined): void {
  if (logTypes === undefined) {
    return;
  }
  if (Token.isUnresolved(logTypes) || logTypes.some(type => Token.isUnresolved(type))) {
    throw new Error(`${owner}: cloudwatchLogsExports must be known at synth (each log type gets its own log group); list the types, for example ['postgresql', 'upgrade']`);
  }
  const unknown = logTypes.filter(type => !SUPPORTED_LOG_EXPORTS.includes(type));
  if (unknown.length > 0) {
    throw new Error(`${owner}: cloudwatchLogsExports has ${unknown.map(type => `"${type}"`).join(', ')}, which RDS for PostgreSQL does not export; choose from ${SUPPORTED_LOG_EXPORTS.map(type => `'${type}'`).join(', ')}`);
  }
  const duplicates = logTypes.filter((type, index) => logTypes.indexOf(type) !== index);
  if (duplicates.length > 0) {
    throw new Error(`${owner}: cloudwatchLogsExports lists "${duplicates[0]}" more than once; list each log type once`);
  }
}

function validateMasterUsername(owner: string, username: string | undefined): void {
  if (username === undefined || Token.isUnresolved(username)) {
    return;
  }
  if (!MASTER_USERNAME.test(username)) {
    throw new Error(`${owner}: masterUsername "${username}" is not a user name RDS for PostgreSQL accepts: a letter, then up to 62 letters, digits or underscores; for example "${DEFAULT_MASTER_USERNAME}"`);
  }
  if (RESERVED_USERNAMES.includes(username.toLowerCase()) || username.toLowerCase().startsWith('pg_')) {
    throw new Error(`${owner}: masterUsername "${username}" is reserved by PostgreSQL or RDS; choose another, for example "${DEFAULT_MASTER_USERNAME}"`);
  }
}

function validateSnapshotRestore(owner: string, options: DatabaseOptionsToCheck): void {
  const snapshot = options.snapshotIdentifier;
  if (snapshot === undefined || Token.isUnresolved(snapshot)) {
    if (snapshot !== undefined && options.storageEncryptionKey) {
      throw storageKeyOnRestore(owner);
    }
    return;
  }
  // CloudFormation creates an empty database when DBSnapshotIdentifier is an empty string.
  if (snapshot.trim() === '' || /\s/.test(snapshot)) {
    throw new Error(`${owner}: snapshotIdentifier "${snapshot}" is not a snapshot name or ARN; give the DB snapshot's identifier (e.g. "dataflow-final") or, for a snapshot shared from another account, its ARN, or leave snapshotIdentifier out for a new database`);
  }
  if (options.storageEncryptionKey) {
    throw storageKeyOnRestore(owner);
  }
}

function storageKeyOnRestore(owner: string): Error {
  return new Error(`${owner}: storageEncryptionKey is set with snapshotIdentifier, but a restored database keeps the snapshot's encryption (CloudFormation takes StorageEncrypted and KmsKeyId from the snapshot); copy the snapshot with your key (aws rds copy-db-snapshot --kms-key-id ...) and restore the copy, without storageEncryptionKey`);
}
