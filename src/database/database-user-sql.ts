/**
 * The SQL of the database-user function (`database-user.lambda.ts`), apart from AWS and the network
 * so that it can be tested with a client that records the queries. Not part of the library's API.
 *
 * Every step checks the catalog first or is idempotent itself, so a request may run any number of
 * times: CloudFormation retries, a stack re-created after a retained delete, a rename back.
 *
 * The master user is RDS's: CREATEROLE and CREATEDB, a member of `rds_superuser`, never a superuser
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html),
 * on PostgreSQL 16 or later (the versions the library supports), where such a user administers the
 * roles it creates and nothing more.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';
import { DATABASE_USER_NAME, describeReservedDatabaseUserNames, isReservedDatabaseUserName } from '../private/database-names';

/** What the SQL needs of a PostgreSQL client (`pg.Client` has it). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  escapeIdentifier(name: string): string;
  escapeLiteral(value: string): string;
}

/** A client of one database, closed by whoever opened it. */
export interface DatabaseConnection extends SqlClient {
  end(): Promise<void>;
}

/** Opens a connection, as the master user, to another database of the instance. */
export type OpenDatabase = (database: string) => Promise<DatabaseConnection>;

/** One user and its database, as the custom resource's properties name them. */
export interface UserRequest {
  readonly username: string;
  readonly databaseName: string;
  /**
   * The instance's own database (`PostgresDatabase.databaseName`, the master's), which is never
   * given to a user. Checked when given.
   */
  readonly instanceDatabaseName?: string;
}

/**
 * Serializes the function's invocations on one instance (session-level advisory lock, released
 * when the connection ends; the function always takes it in the `postgres` database, advisory lock
 * keys being per database): CloudFormation creates the users of a stack in parallel, and two CREATE
 * DATABASE statements at once can fail on the template database.
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
export const ADVISORY_LOCK_KEY = 727_190_001;

/** Refuses a name the construct would have refused, the user the function connects as, and the instance's own database. */
export async function checkRequest(client: SqlClient, request: UserRequest): Promise<void> {
  checkNames(request);
  const { rows } = await client.query('SELECT current_user AS name');
  if (rows[0]?.name === request.username) {
    throw new Error(`username "${request.username}" is the master user; the function does not manage the user it connects as`);
  }
  if (request.instanceDatabaseName !== undefined && request.databaseName === request.instanceDatabaseName) {
    throw new Error(`databaseName "${request.databaseName}" is the instance's own database (the master's); the function gives each user a database of its own`);
  }
}

/** The names alone: the list the construct checks at synth time (src/private/database-names.ts). */
function checkNames(request: UserRequest): void {
  for (const [prop, value] of [['username', request.username], ['databaseName', request.databaseName]]) {
    if (!DATABASE_USER_NAME.test(value) || isReservedDatabaseUserName(value)) {
      throw new Error(`${prop} "${value}" is not a name the database-user function manages (lowercase letter, then lowercase letters, digits or underscores, at most 63; not ${describeReservedDatabaseUserNames()})`);
    }
  }
}

/** The master user's attributes, and what it may do with the requested role. */
interface Standing {
  readonly master: string;
  readonly superuser: boolean;
  readonly createRole: boolean;
  readonly createDatabase: boolean;
}

async function standing(client: SqlClient): Promise<Standing> {
  const { rows } = await client.query(
    'SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user');
  const row = rows[0] ?? {};
  return { master: row.rolname, superuser: row.rolsuper === true, createRole: row.rolcreaterole === true, createDatabase: row.rolcreatedb === true };
}

/** An existing role, as far as the function cares. */
interface ExistingRole {
  /** Attributes a workload user never has (`SUPERUSER`, `CREATEROLE`, ...), which make it not the function's. */
  readonly privileged: string[];
  /** Whether the master holds ADMIN OPTION on it: on PostgreSQL 16+, a CREATEROLE user holds it on the roles it created. */
  readonly administered: boolean;
}

async function existingRole(client: SqlClient, username: string): Promise<ExistingRole | undefined> {
  // pg_has_role(..., 'USAGE WITH ADMIN OPTION') tests the ADMIN privilege:
  // https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-ACCESS
  const { rows } = await client.query(
    `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
            pg_has_role(current_user, oid, 'USAGE WITH ADMIN OPTION') AS administered
       FROM pg_roles WHERE rolname = $1`, [username]);
  if (rows.length === 0) {
    return undefined;
  }
  const row = rows[0];
  const privileged = [['rolsuper', 'SUPERUSER'], ['rolcreaterole', 'CREATEROLE'], ['rolcreatedb', 'CREATEDB'],
    ['rolreplication', 'REPLICATION'], ['rolbypassrls', 'BYPASSRLS']].filter(([column]) => row[column] === true).map(([, name]) => name);
  return { privileged, administered: row.administered === true };
}

/**
 * Why the function leaves an existing role alone, if it does: a role with privileges no workload
 * user has, or one the master does not administer (on PostgreSQL 16+, one it did not create:
 * https://www.postgresql.org/docs/current/sql-createrole.html, "CREATEROLE"). Undefined when the
 * role is one the function may manage.
 */
function foreignRole(username: string, role: ExistingRole): string | undefined {
  if (role.privileged.length > 0) {
    return `role "${username}" exists with ${role.privileged.join(', ')}, which no user of the function has`;
  }
  if (!role.administered) {
    return `role "${username}" exists and the master user does not administer it (no ADMIN OPTION: it did not create it)`;
  }
  return undefined;
}

/**
 * Creates the user and its database, or brings them back to what the request says, without
 * dropping anything it did not create in this call.
 *
 * A database that did not exist is created, owned by the user, and closed to PUBLIC (its owner, and
 * the master through its membership, may connect). A database that exists and that the user does
 * not own is not taken over: its owner and its other grants stay, the user is granted CONNECT,
 * CREATE and TEMPORARY on it.
 *
 * Checks what the master may do before changing anything; when a step fails after the role was
 * created in this call, drops what the call created, so that a failed Create leaves nothing.
 *
 * @param password the user's password (from its secret); set when the role is created, and on an
 *   existing role only when `setPassword` says so (the first deployment of a new secret). Never on
 *   other updates: the secret's rotation changes the password in the database and in the secret,
 *   and setting it again from the function could undo a rotation in progress.
 */
export async function ensureUser(client: SqlClient, request: UserRequest, password: string, setPassword: boolean): Promise<void> {
  await checkRequest(client, request);
  const user = client.escapeIdentifier(request.username);
  const database = client.escapeIdentifier(request.databaseName);
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);

  const master = await standing(client);
  const role = await existingRole(client, request.username);
  // Whether the master may grant access to the database: as its owner, a member of its owner, or a
  // superuser; REVOKE and GRANT of anyone else only warn ("no privileges were granted").
  // https://www.postgresql.org/docs/current/sql-grant.html ("If the role executing GRANT holds the required privileges indirectly ...")
  const existing = await client.query(
    `SELECT pg_get_userbyid(datdba) AS owner,
            has_database_privilege(current_user, oid, 'CONNECT WITH GRANT OPTION')
              AND has_database_privilege(current_user, oid, 'CREATE WITH GRANT OPTION')
              AND has_database_privilege(current_user, oid, 'TEMPORARY WITH GRANT OPTION') AS grantable
       FROM pg_database WHERE datname = $1`, [request.databaseName]);
  const owner: string | undefined = existing.rows[0]?.owner;
  if (role) {
    const reason = foreignRole(request.username, role);
    if (reason) {
      throw new Error(`username "${request.username}": ${reason}; the function manages the login roles it creates only. Choose another username`);
    }
  }
  if (owner !== undefined && owner !== request.username && existing.rows[0].grantable !== true) {
    throw new Error(`databaseName "${request.databaseName}" exists, owned by "${owner}", and the master user "${master.master}" may not grant access to it `
      + '(it is neither its owner nor a member of it); nothing was changed. Choose another databaseName, or grant the master membership in the owner');
  }
  const missing = [
    ...(!master.superuser && !master.createRole ? ['CREATEROLE (to create and administer the user)'] : []),
    ...(!master.superuser && !master.createDatabase && owner === undefined ? [`CREATEDB (to create the database "${request.databaseName}")`] : []),
  ];
  if (missing.length > 0) {
    // The RDS master user has both:
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
    throw new Error(`The master user "${master.master}" lacks ${missing.join(' and ')}, which the RDS master user has; nothing was changed`);
  }

  let createdRole = false;
  let createdDatabase = false;
  try {
    if (!role) {
      await client.query(`CREATE ROLE ${user} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
      createdRole = true;
    } else if (setPassword) {
      await client.query(`ALTER ROLE ${user} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
    }
    // PostgreSQL 16 on: a CREATEROLE user gets ADMIN OPTION on the roles it creates, but neither SET
    // nor INHERIT unless createrole_self_grant says so (empty by default), and CREATE DATABASE ...
    // OWNER r needs the right to SET ROLE r. ADMIN OPTION lets the master grant itself membership
    // (SET and INHERIT by default), which also makes it a member of the database's owner.
    // https://www.postgresql.org/docs/current/sql-createrole.html
    // https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-CREATEROLE-SELF-GRANT
    // https://www.postgresql.org/docs/current/sql-createdatabase.html ("must be able to SET ROLE")
    await client.query(`GRANT ${user} TO CURRENT_USER`);

    if (owner === undefined) {
      // Not in a transaction block (PostgreSQL refuses it there): pg runs each query on its own.
      await client.query(`CREATE DATABASE ${database} WITH OWNER ${user}`);
      createdDatabase = true;
    }
    if (owner === undefined || owner === request.username) {
      // The user's own database: PUBLIC has CONNECT and TEMPORARY on every new database
      // (https://www.postgresql.org/docs/current/ddl-priv.html, "PUBLIC"); only its owner keeps them.
      await client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
    }
    // CONNECT, CREATE and TEMPORARY: on a database of another owner, a way in and a schema of its own.
    await client.query(`GRANT ALL PRIVILEGES ON DATABASE ${database} TO ${user}`);
  } catch (error) {
    if (createdRole) {
      await undoCreate(client, request, createdDatabase);
    }
    throw error;
  }
}

/** Drops the role (and database) a failing `ensureUser` created, so that the failed request leaves nothing behind. */
async function undoCreate(client: SqlClient, request: UserRequest, createdDatabase: boolean): Promise<void> {
  try {
    if (createdDatabase) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(request.databaseName)} WITH (FORCE)`);
    }
    await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(request.username)}`);
  } catch (error) {
    console.error(`Could not drop the user ${request.username} this failed request created: ${(error as Error).message}`);
  }
}

/**
 * Drops the user, every database it owns (the one it has and those of earlier `databaseName`s: an
 * update keeps the old database), and whatever it owns or was granted in the other databases
 * (development only: the construct sends `RetainOnDelete` in production and the function then
 * connects to nothing). A database the user does not own is left alone, with the data of others.
 *
 * Leaves alone, and says so, what the function never manages: a name it would not create (a Create
 * refused it, so a rollback's Delete has nothing to drop), the master, and a role it does not
 * administer or with privileges (a Create refused it too).
 *
 * @param openDatabase opens a connection to another database of the instance, as the master: DROP
 *   OWNED BY acts on the current database (and on shared objects) only.
 * @returns what it did, for the log
 */
export async function dropUser(client: SqlClient, request: UserRequest, openDatabase: OpenDatabase): Promise<string> {
  try {
    checkNames(request);
  } catch (error) {
    return `Nothing to drop: ${(error as Error).message}`;
  }
  const { rows: current } = await client.query('SELECT current_user AS name');
  if (current[0]?.name === request.username) {
    return `Nothing to drop: username "${request.username}" is the master user`;
  }
  const user = client.escapeIdentifier(request.username);
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
  const role = await existingRole(client, request.username);
  if (!role) {
    return `Nothing to drop: there is no role "${request.username}"`;
  }
  const reason = foreignRole(request.username, role);
  if (reason) {
    return `Left alone: ${reason}`;
  }
  // Membership (SET, INHERIT) as in ensureUser: to act as the owner of what the user owns.
  await client.query(`GRANT ${user} TO CURRENT_USER`);

  const owned = await client.query(
    'SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1 ORDER BY d.datname', [request.username]);
  const databases: string[] = owned.rows.map(row => row.datname);
  for (const name of databases) {
    // WITH (FORCE), PostgreSQL 13 on: ends the sessions still open on it instead of failing on them.
    // https://www.postgresql.org/docs/current/sql-dropdatabase.html
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  }

  // The other databases where the user owns objects or holds privileges: pg_shdepend, shared by all
  // databases, records each such dependency on a role with the database it is in.
  // https://www.postgresql.org/docs/current/catalog-pg-shdepend.html
  const elsewhere = await client.query(
    `SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid
      WHERE s.refclassid = 'pg_authid'::regclass AND r.rolname = $1 AND d.datname <> current_database() ORDER BY d.datname`,
    [request.username]);
  const others: string[] = elsewhere.rows.map(row => row.datname);
  for (const name of others) {
    const other = await openDatabase(name);
    try {
      await other.query(`DROP OWNED BY ${user}`);
    } finally {
      await other.end();
    }
  }
  // Here: what the user owns in this database, and its privileges on shared objects (databases).
  // https://www.postgresql.org/docs/current/sql-drop-owned.html
  await client.query(`DROP OWNED BY ${user}`);
  const dropped = databases.length > 0 ? `, its database${databases.length > 1 ? 's' : ''} ${databases.join(', ')}` : '';
  const cleaned = others.length > 0 ? `, and what it owned in ${others.join(', ')}` : '';

  // DROP OWNED revokes only what the master may revoke: privileges granted by a role it does not act
  // for (another database's owner, by hand) stay, and a role still referenced cannot be dropped
  // (https://www.postgresql.org/docs/current/sql-droprole.html). Then the role stays, unable to log
  // in, and the Delete succeeds: a Delete that fails every time would keep the stack from ever
  // being deleted.
  const remaining = await remainingDependencies(client, request.username);
  if (remaining.length > 0) {
    await client.query(`ALTER ROLE ${user} WITH NOLOGIN PASSWORD NULL`);
    return `Kept role ${request.username} without login or password (dropped what the master may${dropped}${cleaned}): `
      + `it still holds ${remaining.join('; ')}, granted by a role the master user does not act for. Revoke them as that role, then DROP ROLE ${user}`;
  }
  // https://www.postgresql.org/docs/current/sql-droprole.html
  await client.query(`DROP ROLE IF EXISTS ${user}`);
  return `Dropped user ${request.username}${dropped}${cleaned}`;
}

/** What still refers to the role after DROP OWNED, in words (pg_shdepend: dbid 0 for shared objects such as databases). */
async function remainingDependencies(client: SqlClient, username: string): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT CASE WHEN s.classid = 'pg_database'::regclass THEN 'privileges on database ' || (SELECT datname FROM pg_database WHERE oid = s.objid)
                 ELSE 'a dependency (' || s.classid::regclass::text || ', ' || s.deptype::text || ') in database ' || coalesce(d.datname, 'shared') END AS what
       FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid
      WHERE s.refclassid = 'pg_authid'::regclass AND r.rolname = $1 ORDER BY 1`, [username]);
  return [...new Set(rows.map(row => row.what as string))];
}

/**
 * The SCRAM-SHA-256 verifier of a password, in the form PostgreSQL stores (RFC 5802, RFC 7677):
 * PostgreSQL accepts it in place of the password and keeps it as it is, so the statement (which
 * `log_statement` = 'ddl' would write to the exported logs) never carries the password itself.
 * For passwords of printable ASCII (what Secrets Manager generates), which SASLprep leaves as they are.
 * https://www.postgresql.org/docs/current/sql-createrole.html ("PASSWORD ... already encrypted")
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
