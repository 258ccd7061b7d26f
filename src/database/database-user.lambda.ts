/**
 * The database-user function: creates, keeps up to date and (in development) drops one PostgreSQL
 * user and its database, for the custom resource of a `DatabaseUser`.
 *
 * It runs in the database's VPC, called by the CDK provider framework's function, which runs
 * outside the VPC and answers CloudFormation (an isolated subnet has no route to the S3 response
 * URL). projen bundles this file with esbuild into assets/ at build time; the AWS SDK is not
 * bundled, the Lambda Node.js runtime provides it.
 */
import { Client } from 'pg';
import { dropUser, ensureUser, SqlClient, UserRequest } from './database-user-sql';

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
export interface Connection extends SqlClient {
  end(): Promise<void>;
}

/** What the function does outside its own logic, replaced in tests. */
export interface Dependencies {
  readSecret(arn: string): Promise<Credentials>;
  connect(properties: DatabaseUserProperties, master: Credentials): Promise<Connection>;
}

/** The Lambda entry point. */
export async function handler(event: DatabaseUserEvent): Promise<DatabaseUserResponse> {
  return handle(event, { readSecret, connect });
}

/**
 * Create: the user (password from its secret) and its database. Update: the same again, idempotent;
 * a new name creates a new user or database and leaves the old one and its data in place, and the
 * physical id never changes, so CloudFormation sends no delete for the old one. Delete: nothing
 * when the construct asked to retain (production), else drops the user and the database it owns.
 */
export async function handle(event: DatabaseUserEvent, dependencies: Dependencies): Promise<DatabaseUserResponse> {
  const properties = parseProperties(event.ResourceProperties);
  const request: UserRequest = { username: properties.username, databaseName: properties.databaseName };
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
      console.info(`Dropping user ${properties.username} and the database ${properties.databaseName} if it owns it`);
      await dropUser(client, request);
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

/**
 * Connects as the master user to the `postgres` database over TLS, verifying the server's
 * certificate and host name. The RDS certificate authorities are in the Lambda runtime's
 * /var/runtime/ca-cert.pem, which the function loads through NODE_EXTRA_CA_CERTS (Node.js 20 and
 * later runtimes no longer load it by default):
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html ("CA certificate loading").
 */
async function connect(properties: DatabaseUserProperties, master: Credentials): Promise<Connection> {
  const client = new Client({
    host: properties.host,
    port: properties.port,
    user: master.username,
    password: master.password,
    database: 'postgres',
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis: 15_000,
    query_timeout: 60_000,
  });
  await client.connect();
  return client;
}
