/**
 * Quality gates shared by every test file: a test app with today's recommended feature flags,
 * the cdk-nag rule packs, and the strict CloudFormation validator and cfn-guard rules for whole apps.
 */
import { App, AppProps, Stack, StackProps, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NagPack,
  NIST80053R5Checks,
  PCIDSS321Checks,
} from 'cdk-nag';
import { IConstruct } from 'constructs';

/** A concrete environment, so that AZ lookups and region facts resolve as they would for a user. */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/** Context every test app gets: the flags `cdk init` writes today, and no stack traces in metadata. */
export function testContext(): Record<string, unknown> {
  return {
    ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
    [cxapi.DISABLE_METADATA_STACK_TRACE]: true,
    // Availability Zones for TEST_ENV, as a context lookup would return them.
    [`availability-zones:account=${TEST_ENV.account}:region=${TEST_ENV.region}`]: [
      'us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e', 'us-east-1f',
    ],
  };
}

/**
 * A unit-test app and stack. The built-in CloudFormation validator is off here (seconds per synth);
 * whole apps run it through `synthStrict`.
 */
export function newTestStack(props: StackProps = {}, appProps: AppProps = {}): Stack {
  const app = new App({
    builtinCloudFormationValidation: false,
    ...appProps,
    context: { ...testContext(), ...appProps.context },
  });
  return new Stack(app, 'Test', { env: TEST_ENV, ...props });
}

/** One cdk-nag finding: rule id and construct path. */
export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/** The four rule packs every construct passes. */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()];
}

/**
 * Runs every cdk-nag pack over `scope` (including nested stacks) after synthesis has prepared
 * the tree, and returns the findings that nothing acknowledged, errors and warnings alike.
 */
export function nagFindings(scope: IConstruct): NagFinding[] {
  prepare(scope);
  const findings: NagFinding[] = [];
  for (const pack of nagPacks()) {
    const report = pack.validateScope(scope);
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        findings.push({
          rule: violation.ruleName,
          severity: violation.severity ?? 'error',
          path: resource.constructPath ?? resource.resourceLogicalId ?? '(unknown path)',
        });
      }
    }
  }
  return findings;
}

/** Fails with the list of unacknowledged findings, one line each. */
export function expectNoNagFindings(scope: IConstruct): void {
  const lines = nagFindings(scope).map(f => `${f.severity} ${f.rule} at ${f.path}`);
  expect(lines).toEqual([]);
}

/** Synthesizes the stage the scope lives in so that aspects and lazy values have run. */
function prepare(scope: IConstruct): void {
  const stage = Stage.of(scope);
  if (stage) {
    stage.synth({ force: false });
  }
}

/** Template of a stack (synthesizes the app). */
export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}
