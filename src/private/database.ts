import { Token } from 'aws-cdk-lib';
import type { PostgresDatabaseOptions } from '../database/postgres-database';

/** PostgreSQL major versions the library supports: those Amazon RDS offers today. */
export const SUPPORTED_POSTGRES_MAJOR_VERSIONS: readonly string[] = ['16', '17', '18'];

/** RDS: a database name is a letter then letters, digits or underscores, at most 63, not a reserved word. */
const DATABASE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_DATABASE_NAMES = ['postgres', 'template0', 'template1', 'rdsadmin', 'select', 'user', 'table', 'database', 'default'];

/**
 * Validates database options; throws an error naming the prop, the value and the fix.
 */
export function validateDatabaseOptions(owner: string, options: PostgresDatabaseOptions): void {
  const allocated = options.allocatedStorage ?? 20;
  if (!Token.isUnresolved(allocated) && (!Number.isInteger(allocated) || allocated < 20 || allocated > 65536)) {
    throw new Error(`${owner}: allocatedStorage ${allocated} GiB is outside what RDS for PostgreSQL accepts on gp3 storage; choose a whole number from 20 to 65536`);
  }
  const max = options.maxAllocatedStorage;
  if (max !== undefined && !Token.isUnresolved(max) && !Token.isUnresolved(allocated) && !(max > allocated && max <= 65536)) {
    throw new Error(`${owner}: maxAllocatedStorage ${max} GiB must be above allocatedStorage (${allocated} GiB) and at most 65536, so that storage can grow; raise maxAllocatedStorage`);
  }
  const name = options.databaseName;
  if (name !== undefined && !Token.isUnresolved(name)) {
    if (!DATABASE_NAME.test(name)) {
      throw new Error(`${owner}: databaseName "${name}" is not a name PostgreSQL on RDS accepts: a letter, then up to 62 letters, digits or underscores; for example "dataflow"`);
    }
    if (RESERVED_DATABASE_NAMES.includes(name.toLowerCase())) {
      throw new Error(`${owner}: databaseName "${name}" is reserved by PostgreSQL or RDS; choose another, for example "dataflow"`);
    }
  }
  const version = options.engineVersion;
  if (version && !Token.isUnresolved(version.postgresMajorVersion) && !SUPPORTED_POSTGRES_MAJOR_VERSIONS.includes(version.postgresMajorVersion)) {
    throw new Error(`${owner}: engineVersion ${version.postgresFullVersion} (major ${version.postgresMajorVersion}) is not supported; use a PostgreSQL ${SUPPORTED_POSTGRES_MAJOR_VERSIONS.join(', ')} version, e.g. rds.PostgresEngineVersion.VER_17_6`);
  }
  const port = options.port;
  if (port !== undefined && !Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1150 && port <= 65535)) {
    throw new Error(`${owner}: port ${port} is outside what RDS accepts (1150 to 65535); use for example 5432`);
  }
}
