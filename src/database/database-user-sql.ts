/**
 * The SQL of the database-user function (`database-user.lambda.ts`), apart from AWS and the network
 * so that it can be tested with a client that records the queries. Not part of the library's API.
 *
 * Every step checks the catalog first or is idempotent itself, so a request may run any number of
 * times: CloudFormation retries, a stack re-created after a retained delete, a rename back.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';

/** What the SQL needs of a PostgreSQL client (`pg.Client` has it). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  escapeIdentifier(name: string): string;
  escapeLiteral(value: string): string;
}

/** One user and its database, as the custom resource's properties name them. */
export interface UserRequest {
  readonly username: string;
  readonly databaseName: string;
}

/**
 * A name as the construct validates it (`DatabaseUser`): checked again here because the function
 * acts with the master user's rights on whatever its properties say.
 */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const RESERVED = /^(pg_|rds)|^(postgres|public|template0|template1|current_user|session_user|current_role)$/;

/**
 * Serializes the function's invocations on one instance (session-level advisory lock, released
 * when the connection ends): CloudFormation creates the users of a stack in parallel, and two
 * CREATE DATABASE statements at once can fail on the template database.
 */
export const ADVISORY_LOCK_KEY = 727_190_001;

/** Refuses a name the construct would have refused, and the user the function connects as. */
export async function checkRequest(client: SqlClient, request: UserRequest): Promise<void> {
  for (const [prop, value] of [['username', request.username], ['databaseName', request.databaseName]]) {
    if (!NAME.test(value) || RESERVED.test(value)) {
      throw new Error(`${prop} "${value}" is not a name the database-user function manages (lowercase letter, then lowercase letters, digits or underscores, at most 63; not reserved)`);
    }
  }
  const { rows } = await client.query('SELECT current_user AS name');
  if (rows[0]?.name === request.username) {
    throw new Error(`username "${request.username}" is the master user; the function does not manage the user it connects as`);
  }
}

/**
 * Creates the user and its database, or brings them back to what the request says, without
 * dropping anything.
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

  const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [request.username]);
  if (role.rows.length === 0) {
    await client.query(`CREATE ROLE ${user} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
  } else if (setPassword) {
    await client.query(`ALTER ROLE ${user} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
  }
  // From PostgreSQL 16 on, CREATE DATABASE ... OWNER needs the right to SET ROLE to the owner; a
  // CREATEROLE user holds ADMIN OPTION on the roles it created and grants itself membership.
  await client.query(`GRANT ${user} TO CURRENT_USER`);

  const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [request.databaseName]);
  if (existing.rows.length === 0) {
    // Not in a transaction block (PostgreSQL refuses it there): pg runs each query on its own.
    await client.query(`CREATE DATABASE ${database} WITH OWNER ${user}`);
  }
  // The database's owner may connect; nobody else through PUBLIC (the master user is a member of
  // the owner role). A database that existed before keeps its owner: the user is granted access.
  await client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
  await client.query(`GRANT ALL PRIVILEGES ON DATABASE ${database} TO ${user}`);
}

/**
 * Drops the user and its database (development only: the construct sends `RetainOnDelete` in
 * production and the function then connects to nothing). A database the user does not own is
 * left alone, with its data.
 */
export async function dropUser(client: SqlClient, request: UserRequest): Promise<void> {
  await checkRequest(client, request);
  const user = client.escapeIdentifier(request.username);
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
  const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [request.username]);
  if (role.rows.length === 0) {
    return;
  }
  const owned = await client.query(
    'SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = $1 AND r.rolname = $2',
    [request.databaseName, request.username]);
  if (owned.rows.length > 0) {
    // WITH (FORCE), PostgreSQL 13 on: ends the user's open sessions instead of failing on them.
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(request.databaseName)} WITH (FORCE)`);
  }
  // Revokes what the user was granted here and on shared objects (databases), then the role.
  await client.query(`DROP OWNED BY ${user}`);
  await client.query(`DROP ROLE IF EXISTS ${user}`);
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
