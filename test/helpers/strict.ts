/**
 * The whole-app gates: aws-cdk-lib's built-in CloudFormation validator in strict mode (errors and
 * warnings fail synthesis) and the AWS Control Tower proactive rules through cfn-guard.
 * They cost seconds per synth, so they run on whole example/integ apps, not in every unit test.
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, AppProps, IPolicyValidationContextBeta1, PolicyValidationPluginReportBeta1, Validations } from 'aws-cdk-lib';
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
  Validations.of(app).addPlugins(new ErrorSeverityCfnGuardValidator({
    controlTowerRulesEnabled: true,
    disabledRules: Object.keys(CFN_GUARD_EXCLUSIONS),
  }));
  return app;
}

/**
 * cdk-validator-cfnguard reports violations without a severity. Once any finding in the app is
 * acknowledged, aws-cdk-lib recomputes a report's success from the severities of what is left
 * (`every(v => v.severity !== 'error')`), so violations without one would all pass. Every
 * Control Tower violation is an error here.
 */
class ErrorSeverityCfnGuardValidator extends CfnGuardValidator {
  public validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const report = super.validate(context);
    return {
      ...report,
      violations: report.violations.map(v => ({ ...v, severity: v.severity ?? 'error' })),
    };
  }
}
