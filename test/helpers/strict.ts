/**
 * The whole-app gates: aws-cdk-lib's built-in CloudFormation validator in strict mode (errors and
 * warnings fail synthesis) and the AWS Control Tower proactive rules through cfn-guard.
 * They cost seconds per synth, so they run on whole example/integ apps, not in every unit test.
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, AppProps, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { testContext } from './gates';

/**
 * Control Tower proactive rules that do not apply to what the library deploys, each with the reason.
 * Everything not listed here must pass.
 */
export const CFN_GUARD_EXCLUSIONS: Readonly<Record<string, string>> = {};

/** An app whose synthesis fails on any CloudFormation schema error or warning and any cfn-guard violation. */
export function newStrictApp(props: AppProps = {}): App {
  const app = new App({
    ...props,
    builtinCloudFormationValidation: true,
    context: {
      ...testContext(),
      [cxapi.VALIDATE_AGAINST_DEFAULT_RULES]: true,
      [cxapi.STRICT_CFN_VALIDATE_ERRORS]: true,
      ...props.context,
    },
  });
  Validations.of(app).addPlugins(new CfnGuardValidator({
    controlTowerRulesEnabled: true,
    disabledRules: Object.keys(CFN_GUARD_EXCLUSIONS),
  }));
  return app;
}
