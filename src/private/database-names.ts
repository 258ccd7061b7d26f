/**
 * The names a database user (`DatabaseUser`) and its database may have: one list, read by the
 * construct at synth time and by the database-user function (bundled into its asset) at deploy
 * time, so that the two cannot disagree. Imports nothing: the function's bundle takes this file as
 * it is.
 */

/**
 * A name the construct creates: a lowercase letter, then lowercase letters, digits or underscores,
 * at most 63 bytes (PostgreSQL's NAMEDATALEN - 1). Unquoted, such a name means the same in SQL, so
 * services and operators may write it without quotes.
 * https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
 */
export const DATABASE_USER_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Names no user or database of the construct may have:
 * - `public` and `none`: PostgreSQL refuses them as role names ("role name ... is reserved");
 * - `postgres`, `template0`, `template1`: the databases every instance has
 *   (https://www.postgresql.org/docs/current/manage-ag-templatedbs.html);
 * - `rdsadmin`: RDS's own user and database (also covered by the `rds` prefix);
 * - `current_user`, `session_user`, `current_role`, `user`, `all`, `default`: SQL key words that mean
 *   something else where a role name is expected (`GRANT ... TO CURRENT_USER`, `ALTER ROLE ALL`)
 *   https://www.postgresql.org/docs/current/sql-keywords-appendix.html
 */
export const RESERVED_DATABASE_USER_NAMES: readonly string[] = [
  'postgres', 'public', 'none', 'rdsadmin', 'template0', 'template1',
  'current_user', 'session_user', 'current_role', 'user', 'all', 'default',
];

/**
 * Prefixes no user or database of the construct may start with: `rds` (RDS's own roles:
 * `rdsadmin`, `rds_superuser`, `rds_replication`, `rds_password`:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html)
 * and `pg_` (PostgreSQL refuses role names starting with it, its predefined roles use it:
 * https://www.postgresql.org/docs/current/predefined-roles.html).
 */
export const RESERVED_DATABASE_USER_PREFIXES: readonly string[] = ['rds', 'pg_'];

/** Whether `name` is reserved (see `RESERVED_DATABASE_USER_NAMES` and `RESERVED_DATABASE_USER_PREFIXES`). */
export function isReservedDatabaseUserName(name: string): boolean {
  return RESERVED_DATABASE_USER_NAMES.includes(name) || RESERVED_DATABASE_USER_PREFIXES.some(prefix => name.startsWith(prefix));
}

/** The reserved names and prefixes, for error messages. */
export function describeReservedDatabaseUserNames(): string {
  return `${RESERVED_DATABASE_USER_NAMES.join(', ')}, and names starting with ${RESERVED_DATABASE_USER_PREFIXES.map(p => `"${p}"`).join(' or ')}`;
}

/**
 * The PostgreSQL user the platform gives a service: its name with '_' for '-' (service names are
 * DNS labels, so lowercase already), prefixed with 'app_' where the name is reserved or the master's.
 */
export function serviceDatabaseUsername(serviceName: string, masterUsername: string): string {
  const username = serviceName.replace(/-/g, '_');
  return isReservedDatabaseUserName(username) || username === masterUsername ? `app_${username}` : username;
}
