/**
 * The proof that runs in an account: the zero-argument DataflowPlatform plus one public echo
 * service, with deploy-time assertions (`@aws-cdk/integ-tests-alpha`) that every service runs and
 * that signed requests through the API stage reach Spring Cloud Data Flow and the echo service.
 *
 * Synthesized by integ.test.ts through every whole-app gate; deployed, asserted and destroyed by
 * `npx projen integ:verify` (an AWS account is needed for that, see the README, "Verify a deployment").
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { DataflowPlatform, PlatformService } from '../src';
import { acknowledgeAssertionResources } from './helpers/integ-assertions';
import { acknowledge, acknowledgeControl, COMPLIANCE_PACKS, NAG_PACKS } from '../src/private/nag';

/** Stack names in the account: the platform under test and the integ-tests assertions. */
export const VERIFY_STACK_NAME = 'DataflowPlatformVerify';
export const VERIFY_ASSERTIONS_STACK_NAME = 'DataflowPlatformVerifyAssertions';

/**
 * A small, maintained HTTP echo server (github.com/mendhak/docker-http-https-echo, MIT): answers
 * every path with JSON that holds the `path` it received. Listens on `HTTP_PORT` (default 8080) and
 * on HTTPS_PORT (8443, unused here); runs as uid 1000 and writes no files.
 */
export const ECHO_IMAGE = 'mendhak/http-https-echo:41';
export const ECHO_PORT = 8080;

/** The path the probe requests below the echo service's route, and expects the container to receive. */
export const ECHO_PROBE_PATH = '/items/7';

/** What the probe function returns when every request succeeded (see PROBE_CODE). */
export interface ProbeResult {
  /** `versionInfo.core.version` of the dataflow server's `/about`. */
  readonly dataflowVersion: string | null;
  /** `runtimeEnvironment.appDeployer.platformType`: 'Skipper Managed' only when skipper answered dataflow. */
  readonly skipperPlatform: string | null;
  /** `runtimeEnvironment.appDeployer.deployerImplementationVersion`: the skipper server's version. */
  readonly skipperVersion: string | null;
  /** The `path` the echo container reports it received. */
  readonly echoPath: string | null;
}

/**
 * The probe function's code: GETs `<dataflow url>/about` and `<echo url><ECHO_PROBE_PATH>`, signed
 * with SigV4 for `execute-api` (the API uses IAM authorization) with the function's own
 * credentials, using node's `https` and `crypto` only. Returns a `ProbeResult` when both answer 200
 * with JSON; otherwise throws an error naming the URL, the status and the start of the body.
 * Exports `sign` for the tests (AWS's SigV4 test vectors). Inline code: at most 4096 characters.
 */
export const PROBE_CODE = `
const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const env = process.env;
const sha256 = d => crypto.createHash('sha256').update(d).digest('hex');
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
// Every service but S3 encodes each path segment twice: once in the URL, once here.
const enc = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function sign(url, amzDate, service) {
  const day = amzDate.slice(0, 8);
  const headers = { host: url.host, 'x-amz-date': amzDate };
  if (env.AWS_SESSION_TOKEN) headers['x-amz-security-token'] = env.AWS_SESSION_TOKEN;
  const names = Object.keys(headers).sort();
  const canonical = ['GET', url.pathname.split('/').map(enc).join('/'), '',
    names.map(n => n + ':' + headers[n] + '\\n').join(''), names.join(';'), sha256('')].join('\\n');
  const scope = day + '/' + env.AWS_REGION + '/' + service + '/aws4_request';
  let key = hmac('AWS4' + env.AWS_SECRET_ACCESS_KEY, day);
  for (const part of [env.AWS_REGION, service, 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key)
    .update(['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\\n')).digest('hex');
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=' + env.AWS_ACCESS_KEY_ID + '/' + scope
    + ', SignedHeaders=' + names.join(';') + ', Signature=' + signature;
  return headers;
}
function getJson(target) {
  const url = new URL(target);
  const amzDate = new Date().toISOString().replace(/[-:]|\\.\\d{3}/g, '');
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'http:' ? http : https;
    const request = client.get(url, { headers: sign(url, amzDate, 'execute-api'), timeout: 20000 }, response => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', chunk => { body += chunk; });
      response.on('end', () => {
        const status = response.statusCode;
        if (status !== 200) return reject(new Error('GET ' + target + ' answered ' + status + ': ' + body.slice(0, 300)));
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error('GET ' + target + ' answered 200 without JSON: ' + body.slice(0, 300))); }
      });
    });
    request.on('timeout', () => request.destroy(new Error('GET ' + target + ': no answer within 20 s')));
    request.on('error', reject);
  });
}
exports.sign = sign;
exports.handler = async () => {
  const about = await getJson(env.DATAFLOW_URL + '/about');
  const echo = await getJson(env.ECHO_URL + env.ECHO_PATH);
  const core = (about.versionInfo || {}).core || {};
  const skipper = (about.runtimeEnvironment || {}).appDeployer || {};
  const result = {
    dataflowVersion: core.version || null,
    skipperPlatform: skipper.platformType || null,
    skipperVersion: skipper.deployerImplementationVersion || null,
    echoPath: echo.path || null,
  };
  console.log(JSON.stringify(result));
  return result;
};
`;

/**
 * Adds the platform under test (stack `DataflowPlatformVerify`: the zero-argument platform, the echo
 * service and the probe function) and its assertions (stack `DataflowPlatformVerifyAssertions`).
 *
 * @returns the platform's stack
 */
export function buildVerifyApp(app: App): Stack {
  // Environment-agnostic (what `cdk init` generates): deploys to the account and region of the
  // caller's credentials, and the snapshot holds no account.
  const stack = new Stack(app, VERIFY_STACK_NAME, {
    description: 'cdk-dataflow-platform deployment check: DataflowPlatform with one echo service (delete after the check)',
  });
  const platform = new DataflowPlatform(stack, 'Dataflow');
  const echo = platform.addService('echo', {
    image: platform.publicImage(ECHO_IMAGE),
    port: ECHO_PORT,
    environment: { HTTP_PORT: String(ECHO_PORT) },
    healthCheckPath: '/',
    cpu: 256,
    memoryLimitMiB: 512,
    user: '1000',
    readonlyRootFilesystem: true,
  });
  const dataflow = platform.dataflowServer;
  if (!dataflow || !platform.springCloudDataFlow) {
    throw new Error('integ.verify: the zero-argument DataflowPlatform no longer runs Spring Cloud Data Flow; update this app');
  }
  const probe = addProbeFunction(stack, platform, {
    DATAFLOW_URL: routeUrl(dataflow),
    ECHO_URL: routeUrl(echo),
    ECHO_PATH: ECHO_PROBE_PATH,
  });

  const assertionStack = new Stack(app, VERIFY_ASSERTIONS_STACK_NAME, {
    description: 'cdk-dataflow-platform deployment check: integ-tests assertions on DataflowPlatformVerify',
  });
  const integ = new IntegTest(app, 'Verify', {
    testCases: [stack],
    assertionStack,
    // A new, environment-agnostic test: there is no previous snapshot to deploy first.
    stackUpdateWorkflow: false,
  });

  // (a) Every service of the platform runs the tasks it asks for.
  const running = platform.services.map(service => integ.assertions
    .awsApiCall('ECS', 'describeServices', {
      cluster: platform.cluster.clusterArn,
      services: [service.service.serviceArn],
    })
    .expect(ExpectedResult.objectLike({
      failures: [],
      services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 1 }],
    }))
    .waitForAssertions({ totalTimeout: Duration.minutes(30), interval: Duration.seconds(30) }));

  // (b) Once every service runs: signed requests through the API stage reach both backends.
  const expected: ProbeResult = {
    dataflowVersion: platform.springCloudDataFlow.version,
    skipperPlatform: 'Skipper Managed',
    skipperVersion: platform.springCloudDataFlow.version,
    echoPath: ECHO_PROBE_PATH,
  };
  const reached = integ.assertions
    .invokeFunction({ functionName: probe.functionName })
    .expect(ExpectedResult.objectLike({ Payload: Match.serializedJson({ ...expected }) }))
    // The first requests may race the VPC link and the load balancer's first health checks.
    .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });
  for (const check of running) {
    check.next(reached);
  }

  acknowledgeAssertionResources(assertionStack);
  return stack;
}

/** The URL of a service's API route; the verify app routes every service it calls. */
function routeUrl(service: PlatformService): string {
  const url: string | undefined = service.url;
  if (url === undefined) {
    throw new Error(`integ.verify: service "${service.name}" has no API route to probe`);
  }
  return url;
}

/**
 * The function that calls the API as a client would: outside the VPC, on the public regional
 * endpoint, with `execute-api:Invoke` on the stage and nothing else but its own log group.
 */
function addProbeFunction(stack: Stack, platform: DataflowPlatform, environment: Record<string, string>): lambda.Function {
  const logGroup = new logs.LogGroup(stack, 'ProbeLogs', {
    retention: logs.RetentionDays.ONE_WEEK,
    encryptionKey: platform.logEncryptionKey,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(stack, 'ProbeRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Deployment check: calls the platform API (execute-api:Invoke) and writes its own logs',
  });
  const probe = new lambda.Function(stack, 'Probe', {
    description: 'Deployment check: signed GETs through the API stage to the dataflow server and the echo service',
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(PROBE_CODE),
    role,
    timeout: Duration.seconds(60),
    memorySize: 256,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment,
  });
  logGroup.grantWrite(role);
  platform.gateway.grantInvoke(probe);

  const checkOnly = 'A deployment-check function, invoked synchronously by the integ-tests assertion provider while the check runs';
  acknowledge(probe, 'LambdaConcurrency', [NAG_PACKS.nist, NAG_PACKS.hipaa],
    `${checkOnly}; reserving concurrency would fail in accounts at the minimum unreserved concurrency.`);
  acknowledge(probe, 'LambdaDLQ', [NAG_PACKS.nist, NAG_PACKS.hipaa],
    `${checkOnly}; a synchronous invocation returns its error to the caller, a dead-letter queue would never receive one.`);
  const outsideVpc = 'The function calls the regional API endpoint from outside the VPC, as a client does: the API is what it checks.';
  acknowledge(probe, 'LambdaInsideVPC', COMPLIANCE_PACKS, outsideVpc);
  acknowledgeControl(probe, 'lambda_inside_vpc_check', outsideVpc);
  acknowledgeControl(logGroup, 'cloudwatch_log_group_retention_period_check',
    'Logs of a deployment check, kept a week and deleted with its stack.');
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy) {
    acknowledge(policy, 'IAMNoInlinePolicy', COMPLIANCE_PACKS,
      'The probe role\'s only policy, generated by CDK from its log group and API grants.');
  }
  return probe;
}

if (require.main === module) {
  // A real app, as `cdk init` makes one: today's recommended feature flags (what its cdk.json holds,
  // and what the tests synthesize with), nothing of the tests' own context.
  const app = new App({ context: { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS } });
  buildVerifyApp(app);
  app.synth();
}
