/**
 * What integ.test.ts does not cover for the deployment check (test/integ.verify.ts): its assertion
 * stack, the assertions themselves, and the probe function's code, run here against AWS's SigV4
 * test vector and a local server. Nothing here needs an AWS account.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Matcher, Template } from 'aws-cdk-lib/assertions';
import { expectNoNagFindings } from './helpers/gates';
import { newStrictApp } from './helpers/strict';
import {
  buildVerifyApp, ECHO_PROBE_PATH, PROBE_CODE, ProbeResult, VERIFY_ASSERTIONS_STACK_NAME,
} from './integ.verify';

describe('integ app verify: assertions', () => {
  let app: App;
  let stack: Stack;
  let assertions: Template;
  beforeAll(() => {
    app = newStrictApp();
    stack = buildVerifyApp(app);
    app.synth();
    assertions = Template.fromStack(app.node.findChild(VERIFY_ASSERTIONS_STACK_NAME) as Stack);
  });

  test('the assertion stack passes cdk-nag', () => {
    expectNoNagFindings(app.node.findChild(VERIFY_ASSERTIONS_STACK_NAME));
  });

  // aws-cdk-lib recomputes a plugin's success after acknowledgements from the violations' severity,
  // which cfn-guard's violations do not set: once one finding is acknowledged, synthesis no longer
  // fails on the others. Read the report instead.
  test('leaves no AWS Control Tower (cfn-guard) finding unacknowledged in either stack', () => {
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const open = (report.pluginReports as any[]).flatMap(plugin => (plugin.violations as any[]).flatMap(violation =>
      (violation.violatingConstructs as any[]).map(c => `${plugin.pluginName} ${violation.ruleName} ${c.constructPath}`)));
    expect(open).toEqual([]);
  });

  test('asks ECS, for each service of the platform, that its one task runs (waiting up to 30 minutes)', () => {
    const services = Template.fromStack(stack).findResources('AWS::ECS::Service');
    expect(Object.keys(services)).toHaveLength(3);
    const calls = assertions.findResources('Custom::DeployAssert@SdkCallECSdescribeServices');
    expect(Object.keys(calls)).toHaveLength(3);
    for (const call of Object.values(calls)) {
      expect(JSON.parse(call.Properties.expected)).toEqual({
        $ObjectLike: { failures: [], services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 1 }] },
      });
      expect(waiterOf(call)).toContain('"IntervalSeconds":30,"MaxAttempts":60,'); // 30 minutes
    }
    const serviceRefs = Object.values(calls).map(call => JSON.stringify(call.Properties.parameters.services));
    for (const logicalId of Object.keys(services)) {
      expect(serviceRefs.filter(ref => ref.includes(`Ref${logicalId}`))).toHaveLength(1);
    }
  });

  test('invokes the probe only after every service runs, retrying for 10 minutes', () => {
    const [invoke] = Object.values(assertions.findResources('Custom::DeployAssert@SdkCallLambdainvoke'));
    const ecsChecks = Object.keys(assertions.findResources('Custom::DeployAssert@SdkCallECSdescribeServices'));
    expect(invoke.DependsOn).toEqual(expect.arrayContaining(ecsChecks));
    expect(waiterOf(invoke)).toContain('"IntervalSeconds":30,"MaxAttempts":20,');
  });

  /** The state machine definition that retries an assertion (waitForAssertions), as text. */
  function waiterOf(call: any): string {
    const machine = assertions.findResources('AWS::StepFunctions::StateMachine')[call.Properties.stateMachineArn.Ref];
    return machine.Properties.DefinitionString['Fn::Join'][1][0];
  }

  test('the probe may call the API (IAM authorization) and nothing else but its logs', () => {
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ProbeRole') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
          Match.objectLike({ Action: 'execute-api:Invoke' }),
        ],
      },
    });
  });

  describe('the probe function', () => {
    const aboutOfScdf2115 = {
      versionInfo: {
        implementation: { name: 'spring-cloud-dataflow-server', version: '2.11.5' },
        core: { name: 'Spring Cloud Data Flow Core', version: '2.11.5' },
      },
      runtimeEnvironment: {
        appDeployer: {
          deployerName: 'Spring Cloud Skipper Server',
          deployerImplementationVersion: '2.11.5',
          platformType: 'Skipper Managed',
        },
        taskLaunchers: [],
      },
    };
    let probe: ProbeModule;
    let server: LocalApi;
    const savedEnv = { ...process.env };
    beforeAll(async () => {
      jest.spyOn(console, 'log').mockImplementation(() => undefined); // the probe logs its result
      probe = loadProbe();
      server = await startLocalApi();
    });
    afterAll(async () => {
      jest.restoreAllMocks();
      restoreEnv(savedEnv);
      await server.close();
    });
    beforeEach(() => {
      server.requests.length = 0;
      // The probe reads process.env as the Lambda runtime sets it: change that object, not the reference.
      Object.assign(process.env, {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_SESSION_TOKEN: '',
        DATAFLOW_URL: `${server.url}/api/dataflow`,
        ECHO_URL: `${server.url}/api/echo`,
        ECHO_PATH: ECHO_PROBE_PATH,
      });
    });

    /** The Payload the assertion expects, as the integ-tests provider matches it (aws-cdk-lib Match). */
    function assertionMatcher(): Matcher {
      const [invoke] = Object.values(assertions.findResources('Custom::DeployAssert@SdkCallLambdainvoke'));
      const expected = JSON.parse(invoke.Properties.expected);
      return Match.objectLike({ Payload: Match.serializedJson(expected.$ObjectLike.Payload.$SerializedJson) });
    }
    /** A Lambda invoke response as the Node.js runtime serializes the handler's value. */
    function invokeResponse(value: unknown): object {
      return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: JSON.stringify(value) };
    }

    test('fits in inline Lambda code (ZipFile: 4096 characters at most)', () => {
      expect(PROBE_CODE.length).toBeLessThanOrEqual(4096);
    });

    // AWS Signature Version 4 test suite, "get-vanilla"; the same vector is quoted by the SigV4
    // signers of botocore, aws-sdk-go and others.
    test('signs as SigV4 test suite get-vanilla', () => {
      const headers = probe.sign(new URL('https://example.amazonaws.com/'), '20150830T123600Z', 'service');
      expect(headers).toEqual({
        'host': 'example.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        'authorization': 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, '
          + 'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      });
    });

    test('signs the session token of the function\'s role credentials', () => {
      process.env.AWS_SESSION_TOKEN = 'session-token';
      const headers = probe.sign(new URL('https://abc123.execute-api.us-east-1.amazonaws.com/api/echo/items/7'), '20150830T123600Z', 'execute-api');
      expect(headers['x-amz-security-token']).toBe('session-token');
      expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    });

    test('returns what the assertion expects when dataflow reaches skipper and the echo gets the path without the stage', async () => {
      server.answer = request => request.url === '/api/dataflow/about'
        ? [200, aboutOfScdf2115]
        : [200, { path: '/items/7', method: 'GET', headers: {} }];
      const result = await probe.handler();
      expect(result).toEqual({ dataflowVersion: '2.11.5', skipperPlatform: 'Skipper Managed', skipperVersion: '2.11.5', echoPath: '/items/7' });
      expect(assertionMatcher().test(invokeResponse(result)).hasFailed()).toBe(false);
      expect(server.requests.map(r => r.url)).toEqual(['/api/dataflow/about', '/api/echo/items/7']);
      for (const request of server.requests) {
        expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/);
        expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      }
    });

    test('fails the assertion when skipper did not answer dataflow (no appDeployer in /about)', async () => {
      server.answer = request => request.url === '/api/dataflow/about'
        ? [200, { ...aboutOfScdf2115, runtimeEnvironment: { taskLaunchers: [] } }]
        : [200, { path: '/items/7' }];
      const result = await probe.handler();
      expect(result.skipperPlatform).toBeNull();
      expect(assertionMatcher().test(invokeResponse(result)).hasFailed()).toBe(true);
    });

    test('fails the assertion when the echo receives the stage in the path', async () => {
      server.answer = request => request.url === '/api/dataflow/about' ? [200, aboutOfScdf2115] : [200, { path: '/api/echo/items/7' }];
      const result = await probe.handler();
      expect(assertionMatcher().test(invokeResponse(result)).hasFailed()).toBe(true);
    });

    test('throws the URL, status and body when the API refuses', async () => {
      server.answer = () => [403, { message: 'Missing Authentication Token' }];
      await expect(probe.handler()).rejects.toThrow(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/dataflow\/about answered 403: \{"message":"Missing Authentication Token"\}$/);
    });

    test('throws when a service answers 200 without JSON', async () => {
      server.answer = request => request.url === '/api/dataflow/about' ? [200, aboutOfScdf2115] : [200, '<html>gateway</html>'];
      await expect(probe.handler()).rejects.toThrow(/\/api\/echo\/items\/7 answered 200 without JSON: <html>gateway<\/html>/);
    });
  });
});

function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) {
    if (!(key in saved)) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, saved);
}

interface ProbeModule {
  sign(url: URL, amzDate: string, service: string): Record<string, string>;
  handler(): Promise<ProbeResult>;
}

/** The probe's inline code loaded as Lambda loads it: index.js, required as CommonJS. */
function loadProbe(): ProbeModule {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-probe-'));
  const file = path.join(dir, 'index.js');
  fs.writeFileSync(file, PROBE_CODE);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as ProbeModule;
}

interface LocalApi {
  readonly url: string;
  readonly requests: http.IncomingMessage[];
  answer: (request: http.IncomingMessage) => [number, unknown];
  close(): Promise<void>;
}

/** An HTTP server on localhost standing in for the API stage: records requests, answers as told. */
async function startLocalApi(): Promise<LocalApi> {
  const requests: http.IncomingMessage[] = [];
  const api: LocalApi = {
    url: '',
    requests,
    answer: () => [500, 'no answer configured'],
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
  const server = http.createServer((request, response) => {
    requests.push(request);
    const [status, body] = api.answer(request);
    response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, { url: `http://127.0.0.1:${port}` });
}
