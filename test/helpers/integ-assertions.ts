/**
 * Acknowledgements for the resources `@aws-cdk/integ-tests-alpha` puts in an assertion stack: test
 * code that exists only while a deployment check runs, deleted with that stack.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { acknowledgeControl } from '../../src/private/nag';

/**
 * Acknowledges, resource by resource, the findings of the assertion providers (Lambda functions)
 * and waiters (Step Functions state machines) that integ-tests created in `stack`. Call after the
 * last assertion is added.
 *
 * @param stack the `assertionStack` of an `IntegTest`, holding nothing but its assertions
 */
export function acknowledgeAssertionResources(stack: Stack): void {
  for (const construct of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(construct)) {
      continue;
    }
    switch (construct.cfnResourceType) {
      case 'AWS::Lambda::Function':
        acknowledgeControl(construct, 'lambda_inside_vpc_check',
          'integ-tests assertion provider: calls AWS APIs (ECS, Lambda, Step Functions, CloudFormation responses) on their public endpoints while the check runs; no VPC is involved.');
        break;
      case 'AWS::StepFunctions::StateMachine':
        acknowledgeControl(construct, 'step_functions_state_machine_logging_enabled_check',
          'integ-tests waiter: repeats one assertion until it passes or times out; each attempt is logged by the assertion provider\'s function.');
        acknowledgeControl(construct, 'step_functions_state_machine_tracing_enabled_check',
          'integ-tests waiter: a retry loop around one assertion, deleted with the check; nothing to trace.');
        break;
      case 'AWS::IAM::Role':
        // The assertion provider's role (integ-tests' AssertionsProvider) allows `lambda:Invoke`, the
        // SDK call's name, beside `lambda:InvokeFunction`, the IAM action it needs and also gets.
        // `lambda:Invoke` is no IAM action (cfn-lint W3037); allowing it grants nothing. The
        // statement is integ-tests' own, so the finding is ignored on this role only (cfn-lint's
        // resource-level `Metadata.cfn-lint.config.ignore_checks`; .cfnlintrc.yaml names this place).
        if (construct.node.path.includes('/SingletonFunction')) {
          construct.addMetadata('cfn-lint', { config: { ignore_checks: ['W3037'] } });
        }
        break;
      default:
        break;
    }
  }
}
