/**
 * The database-user function: creates, keeps up to date and (in development) drops one PostgreSQL
 * user and its database, for the custom resource of a `DatabaseUser`.
 *
 * It runs in the database's VPC, called by the CDK provider framework's function, which runs
 * outside the VPC and answers CloudFormation (an isolated subnet has no route to the S3 response
 * URL). projen bundles this file with esbuild into assets/ at build time; the AWS SDK is not
 * bundled, the Lambda Node.js runtime provides it.
 */
import { Client, ClientConfig } from 'pg';
import { ADVISORY_LOCK_KEY, DatabaseConnection, dropUser, ensureUser, OpenDatabase, UserRequest } from './database-user-sql';

/** The custom resource event, as the provider framework passes it on. */
export interface DatabaseUserEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { [key: string]: unknown };
  readonly OldResourceProperties?: { [key: string]: unknown };
}

/** What the function answers: the provider framework reports it to CloudFormation. */
export interface DatabaseUserResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Username: string; readonly DatabaseName: string };
}

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface DatabaseUserProperties extends UserRequest {
  readonly host: string;
  readonly port: number;
  readonly masterSecretArn: string;
  readonly userSecretArn: string;
  readonly retainOnDelete: boolean;
}

/** A user name and password read from a secret. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A connection the function closes when it is done. */
export type Connection = DatabaseConnection;

/** What the function does outside its own logic, replaced in tests. */
export interface Dependencies {
  readSecret(arn: string): Promise<Credentials>;
  /** Connects as the master user; to `postgres` unless `database` says otherwise. */
  connect(properties: DatabaseUserProperties, master: Credentials, database?: string): Promise<Connection>;
}

/** The Lambda entry point. */
export async function handler(event: DatabaseUserEvent): Promise<DatabaseUserResponse> {
  return handle(event, { readSecret, connect });
}

/**
 * Create: the user (password from its secret) and its database. Update: the same again, idempotent;
 * a new name creates a new user or database and leaves the old one and its data in place, and the
 * physical id never changes, so CloudFormation sends no delete for the old one. Delete: nothing
 * when the construct asked to retain (production), else drops the user, the databases it owns
 * (earlier names included) and what it owns elsewhere.
 */
export async function handle(event: DatabaseUserEvent, dependencies: Dependencies): Promise<DatabaseUserResponse> {
  const properties = parseProperties(event.ResourceProperties);
  const request: UserRequest = {
    username: properties.username,
    databaseName: properties.databaseName,
    instanceDatabaseName: properties.instanceDatabaseName,
  };
  const response: DatabaseUserResponse = {
    PhysicalResourceId: event.PhysicalResourceId ?? `${properties.username}@${properties.databaseName}`,
    Data: { Username: properties.username, DatabaseName: properties.databaseName },
  };
  if (event.RequestType === 'Delete' && properties.retainOnDelete) {
    console.info(`Keeping user ${properties.username} and database ${properties.databaseName} (RetainOnDelete)`);
    return response;
  }

  const master = await dependencies.readSecret(properties.masterSecretArn);
  const client = await dependencies.connect(properties, master);
  try {
    if (event.RequestType === 'Delete') {
      const openDatabase: OpenDatabase = database => dependencies.connect(properties, master, database);
      console.info(await dropUser(client, request, openDatabase));
      return response;
    }
    const user = await dependencies.readSecret(properties.userSecretArn);
    if (user.username !== properties.username) {
      throw new Error(`The secret ${properties.userSecretArn} is for user "${user.username}", not "${properties.username}"`);
    }
    const old = event.OldResourceProperties ? parseProperties(event.OldResourceProperties) : undefined;
    // The password is the secret's when the secret or the user is new; otherwise the secret's
    // rotation owns it (see ensureUser).
    const setPassword = old === undefined || old.userSecretArn !== properties.userSecretArn || old.username !== properties.username
      || old.host !== properties.host;
    console.info(`${event.RequestType}: user ${properties.username}, database ${properties.databaseName}, password ${setPassword ? 'set' : 'kept'}`);
    await ensureUser(client, request, user.password, setPassword);
    return response;
  } finally {
    await client.end();
  }
}

/** Reads and checks the properties the construct sets. */
export function parseProperties(raw: { [key: string]: unknown }): DatabaseUserProperties {
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`The custom resource property ${key} is missing`);
    }
    return value;
  };
  const port = Number(text('Port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`The custom resource property Port is not a port: ${raw.Port}`);
  }
  return {
    host: text('Host'),
    port,
    masterSecretArn: text('MasterSecretArn'),
    userSecretArn: text('UserSecretArn'),
    username: text('Username'),
    databaseName: text('DatabaseName'),
    // Absent from the properties of resources created before the construct set it (a rollback's
    // Update may carry those): then not checked.
    instanceDatabaseName: typeof raw.InstanceDatabaseName === 'string' && raw.InstanceDatabaseName !== '' ? raw.InstanceDatabaseName : undefined,
    retainOnDelete: String(raw.RetainOnDelete) === 'true',
  };
}

/** The part of the AWS SDK v3 Secrets Manager client the function uses. */
interface SecretsManagerSdk {
  SecretsManagerClient: new (config: object) => { send(command: object): Promise<{ SecretString?: string }> };
  GetSecretValueCommand: new (input: { SecretId: string }) => object;
}

/** The `username` and `password` of a database secret (JSON, as RDS writes it). */
async function readSecret(arn: string): Promise<Credentials> {
  // The SDK comes with the Lambda runtime (esbuild leaves @aws-sdk/* out of the bundle) and is not
  // a dependency of the library: loaded when the function runs, not when tests import this file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@aws-sdk/client-secrets-manager') as SecretsManagerSdk;
  const output = await new sdk.SecretsManagerClient({}).send(new sdk.GetSecretValueCommand({ SecretId: arn }));
  const value = JSON.parse(output.SecretString ?? '{}');
  if (typeof value.username !== 'string' || typeof value.password !== 'string') {
    throw new Error(`The secret ${arn} has no username and password`);
  }
  return { username: value.username, password: value.password };
}

/** How the function's sessions show in pg_stat_activity (and in the lock-wait errors of other invocations). */
export const APPLICATION_NAME = 'cdk-dataflow-platform database-user function';

/**
 * How long a statement may wait for a lock before PostgreSQL cancels it (`lock_timeout`), in
 * milliseconds: 60 s (what the function waited before, as pg's query_timeout), within the function's
 * 2 minutes, and what a stack's users created at once may wait for the function's advisory lock in
 * turn. The tests shorten it through DATABASE_USER_LOCK_TIMEOUT_MS.
 * https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
 */
function lockTimeoutMillis(): number {
  const configured = Number(process.env.DATABASE_USER_LOCK_TIMEOUT_MS);
  return Number.isInteger(configured) && configured > 0 ? configured : 60_000;
}

/**
 * Connects as the master user to `database` (`postgres` unless said otherwise) over TLS, verifying
 * the server's certificate and host name. The RDS certificate authorities are in the Lambda
 * runtime's /var/runtime/ca-cert.pem, which the function loads through NODE_EXTRA_CA_CERTS (Node.js
 * 20 and later runtimes no longer load it by default); Node.js reads that variable once, at start-up,
 * into the default trust store that TLS connections without a `ca` of their own use:
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html ("CA certificate loading")
 * https://nodejs.org/api/cli.html#node_extra_ca_certsfile
 */
async function connect(properties: DatabaseUserProperties, master: Credentials, database = 'postgres'): Promise<Connection> {
  const lockTimeout = lockTimeoutMillis();
  const config: ClientConfig = {
    host: properties.host,
    port: properties.port,
    user: master.username,
    password: master.password,
    database,
    ssl: { rejectUnauthorized: true },
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: 15_000,
    lock_timeout: lockTimeout,
    // pg's own limit on a statement ("Query read timeout"), beyond PostgreSQL's lock_timeout, which
    // reports the lock: a statement that hangs for another reason still ends.
    query_timeout: lockTimeout + 15_000,
  };
  const open = async (): Promise<Client> => {
    const client = new Client(config);
    // A session the server ends (an administrator, a failover) must not crash the function: the
    // statement in progress fails, and that is what it reports.
    client.on('error', error => console.error(`PostgreSQL connection to ${database}: ${error.message}`));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new Error(`Cannot connect to PostgreSQL at ${properties.host}:${properties.port} (database ${database}) as ${master.username} `
        + `over TLS: ${(error as Error).message}${connectionHint(error as Error & { code?: string })}`);
    }
    return client;
  };
  return new WatchedConnection(await open(), open, lockTimeout);
}

/** What to check when a connection fails, by the error pg or Node.js gave. */
function connectionHint(error: Error & { code?: string }): string {
  const message = error.message;
  if (error.code === '28P01') {
    return ' (the password in the master secret is not the database\'s: was it changed outside Secrets Manager, or is a rotation half-way?)';
  }
  if (/does not support SSL/i.test(message)) {
    // The library's instances require TLS: rds.force_ssl = 1 in their parameter group.
    return ' (the server does not offer TLS, which the function requires; the library\'s instances set rds.force_ssl = 1)';
  }
  if (/certificate|self[- ]signed|altnames/i.test(message) || /^(ERR_TLS|CERT_|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO)/.test(error.code ?? '')) {
    return ' (the server\'s certificate is not trusted or not for this host: NODE_EXTRA_CA_CERTS must name the RDS certificate authorities, /var/runtime/ca-cert.pem in the Lambda runtime)';
  }
  if (['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET'].includes(error.code ?? '') || /timeout/i.test(message)) {
    return ' (is the instance available, and does its security group admit the function\'s security group on the database port?)';
  }
  return '';
}

/**
 * A master connection whose statements say, when they fail, which statement it was, and, when they
 * waited too long for a lock, which lock and who holds it: once a statement has waited half of
 * lock_timeout, a second session reads the wait from pg_locks and its holders from
 * pg_stat_activity (RDS lets rds_superuser members see every session there:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html).
 */
class WatchedConnection implements Connection {
  constructor(private readonly client: Client, private readonly open: () => Promise<Client>, private readonly lockTimeout: number) {}

  public escapeIdentifier(name: string): string {
    return this.client.escapeIdentifier(name);
  }

  public escapeLiteral(value: string): string {
    return this.client.escapeLiteral(value);
  }

  public async query(text: string, values?: unknown[]): Promise<{ rows: any[] }> {
    let waiting: Promise<string> | undefined;
    const started = Date.now();
    const timer = setTimeout(() => {
      waiting = this.describeWait().catch(error => `the lock and its holders could not be read: ${(error as Error).message}`);
    }, Math.floor(this.lockTimeout / 2));
    try {
      return await this.client.query(text, values);
    } catch (error) {
      const cause = error as Error & { code?: string };
      // 55P03 lock_not_available: lock_timeout ended the wait.
      // https://www.postgresql.org/docs/current/errcodes-appendix.html
      const lockWait = cause.code === '55P03' || cause.message === 'Query read timeout';
      const detail = lockWait ? `; waited ${Math.round((Date.now() - started) / 1000)} s: ${waiting ? await waiting : 'not for a lock'}` : '';
      throw Object.assign(new Error(`${statement(text)}: ${cause.message}${detail}`), { code: cause.code });
    } finally {
      clearTimeout(timer);
    }
  }

  public async end(): Promise<void> {
    await this.client.end();
  }

  /** The lock this session waits for and who holds it, read from a second session. */
  private async describeWait(): Promise<string> {
    // The server process of this session (pg keeps it from the server's BackendKeyData message; @types/pg leaves it out).
    const pid = (this.client as unknown as { processID: number }).processID;
    const other = await this.open();
    try {
      // pg_blocking_pids: the sessions that hold, or wait ahead for, a lock that conflicts with ours.
      // https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-SESSION
      // https://www.postgresql.org/docs/current/view-pg-locks.html
      const { rows } = await other.query(
        `SELECT w.locktype, w.mode,
                CASE WHEN w.relation IS NOT NULL THEN w.relation::regclass::text END AS relation,
                CASE WHEN w.locktype = 'object' THEN w.classid::regclass::text END AS catalog,
                w.classid::bigint * 4294967296 + w.objid::bigint AS advisory_key, w.objid, w.transactionid::text AS xid,
                (SELECT datname FROM pg_database WHERE oid = w.database) AS database,
                b.pid, b.usename, b.application_name, b.state, b.query,
                floor(extract(epoch FROM now() - coalesce(b.xact_start, b.query_start)))::int AS seconds
           FROM pg_locks w
           CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
           JOIN pg_stat_activity b ON b.pid = blocker.pid
          WHERE w.pid = $1 AND NOT w.granted
          ORDER BY b.pid`, [pid]);
      if (rows.length === 0) {
        return 'not for a lock (no lock wait found in pg_locks)';
      }
      const holders = rows.slice(0, 5).map(row => {
        const app = row.application_name ? `, application "${row.application_name}"` : '';
        return `pid ${row.pid} (user ${row.usename}${app}, ${row.state}${row.seconds !== null ? ` for ${row.seconds} s` : ''}): ${row.query}`;
      });
      const more = rows.length > 5 ? `; and ${rows.length - 5} more` : '';
      return `for ${lockName(rows[0])} (${rows[0].mode}), held or awaited first by ${holders.join('; ')}${more}`;
    } finally {
      await other.end().catch(() => undefined);
    }
  }
}

/** A lock of pg_locks, in words. */
/** A row of the lock-wait query in describeWait. */
interface LockRow {
  readonly locktype: string;
  readonly relation?: string;
  readonly catalog?: string;
  readonly advisory_key: string;
  readonly objid: number;
  readonly xid?: string;
  readonly database?: string;
}

function lockName(row: LockRow): string {
  const where = row.database ? ` in database ${row.database}` : '';
  switch (row.locktype) {
    case 'advisory':
      return Number(row.advisory_key) === ADVISORY_LOCK_KEY
        ? `the database-user function's advisory lock ${ADVISORY_LOCK_KEY} (another invocation, or a session that took it)${where}`
        : `advisory lock ${row.advisory_key}${where}`;
    case 'relation':
      return `table ${row.relation}${where}`;
    case 'tuple':
      return `a row of ${row.relation}${where}`;
    case 'transactionid':
      return `transaction ${row.xid} (a row it changed)`;
    case 'object':
      return `object ${row.objid} of ${row.catalog}${where}`;
    default:
      return `a ${row.locktype} lock${where}`;
  }
}

/** A statement for an error message: its first words, never a password verifier. */
function statement(text: string): string {
  const redacted = text.replace(/PASSWORD '[^']*'/g, 'PASSWORD \'<verifier>\'').replace(/\s+/g, ' ').trim();
  return redacted.length > 120 ? `${redacted.slice(0, 117)}...` : redacted;
}
