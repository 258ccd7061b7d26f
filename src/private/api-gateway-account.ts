import { Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { IConstruct } from 'constructs';

/*
 * API Gateway's account-level CloudWatch role (`AWS::ApiGateway::Account`) is one setting per account
 * and region: the first gateway of an app makes it, every other gateway of the app waits for that one.
 */

/** AWS::ApiGateway::Account resources of an app, by account and region ('?' where unknown at synth). */
const apiGatewayAccounts = new WeakMap<IConstruct, Map<string, apigateway.CfnAccount>>();

function accountKey(scope: IConstruct): string {
  const stack = Stack.of(scope);
  return [stack.account, stack.region].map(v => Token.isUnresolved(v) ? '?' : v).join('/');
}

/** The app's API Gateway account setting for this construct's account and region, if made already. */
export function apiGatewayAccountOf(scope: IConstruct): apigateway.CfnAccount | undefined {
  return apiGatewayAccounts.get(scope.node.root)?.get(accountKey(scope));
}

export function registerApiGatewayAccount(scope: IConstruct, account: apigateway.CfnAccount): void {
  const byEnv = apiGatewayAccounts.get(scope.node.root) ?? new Map<string, apigateway.CfnAccount>();
  byEnv.set(accountKey(scope), account);
  apiGatewayAccounts.set(scope.node.root, byEnv);
}
