/**
 * Whole apps through every whole-app gate: the strict CloudFormation validator, the Control Tower
 * rules (cfn-guard) and cdk-nag, then compared with their committed snapshots.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expectNoNagFindings } from './helpers/gates';
import { serviceSpecProblems } from './helpers/service-spec';
import { newStrictApp } from './helpers/strict';
import { buildDefaultPlatformApp, buildPlatformApp, buildProductionPlatformApp } from './integ.platform';
import { buildPrivateNetworkApp } from './integ.private-network';
import { buildVerifyApp } from './integ.verify';

const INTEG_APPS: Array<[string, (app: App) => Stack]> = [
  ['private-network', buildPrivateNetworkApp],
  ['platform', buildPlatformApp],
  ['production-platform', buildProductionPlatformApp],
  ['default-platform', buildDefaultPlatformApp],
  ['verify', buildVerifyApp],
];

describe.each(INTEG_APPS)('integ app %s', (_name, build) => {
  let stack: Stack;
  beforeAll(() => {
    const app = newStrictApp();
    stack = build(app);
    app.synth();
  });

  test('passes cdk-nag', () => {
    expectNoNagFindings(stack);
  });

  test('every resource is valid for @aws-cdk/aws-service-spec (second schema source)', () => {
    expect(serviceSpecProblems(Template.fromStack(stack).toJSON())).toEqual([]);
  });

  test('matches the committed snapshot', () => {
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});
