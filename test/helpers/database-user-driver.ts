/**
 * Runs the bundled database-user function once, in a process of its own, as Lambda would: the test
 * (test/database/database-user.postgres.test.ts) transpiles this file and starts it with
 * `node <this> <bundle>`, NODE_EXTRA_CA_CERTS set (Node.js reads it only at start-up), and the
 * request on stdin: `{ "event": ..., "secrets": { "<arn>": { "username", "password" } } }`.
 *
 * Only the AWS SDK is replaced: the Lambda runtime provides `@aws-sdk/client-secrets-manager` and
 * the bundle leaves it out, so a require hook answers that name with a Secrets Manager that reads
 * the secrets given on stdin. Everything else (pg, TLS, the SQL) is what ships.
 *
 * Prints, as its last line, `RESULT <json>`: `{ ok, response | error, secretsRead }`.
 */
import * as fs from 'fs';

interface Request {
  readonly event: unknown;
  readonly secrets: Record<string, { username: string; password: string }>;
}

const request: Request = JSON.parse(fs.readFileSync(0, 'utf8'));
const secretsRead: string[] = [];

/** The part of @aws-sdk/client-secrets-manager the function uses, answering from `request.secrets`. */
const fakeSecretsManager = {
  GetSecretValueCommand: class {
    constructor(public readonly input: { SecretId: string }) {}
  },
  SecretsManagerClient: class {
    public async send(command: { input: { SecretId: string } }): Promise<{ SecretString: string }> {
      const arn = command.input.SecretId;
      secretsRead.push(arn);
      const secret = request.secrets[arn];
      if (!secret) {
        throw Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' });
      }
      return { SecretString: JSON.stringify(secret) };
    }
  },
};

const FAKE = '@aws-sdk/client-secrets-manager';
// Node.js's module loader itself (not an ES-module copy of it), whose _load every require goes through.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loader = require('module') as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = loader._load;
loader._load = function (name: string, parent: unknown, isMain: boolean) {
  return name === FAKE ? fakeSecretsManager : load.call(this, name, parent, isMain);
};

function report(result: object): void {
  process.stdout.write(`\nRESULT ${JSON.stringify({ ...result, secretsRead })}\n`);
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = require(process.argv[2]) as { handler(event: unknown): Promise<unknown> };
bundle.handler(request.event).then(
  response => report({ ok: true, response }),
  (error: Error) => report({ ok: false, error: error.message }),
).finally(() => process.exit(0));
