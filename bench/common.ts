/** What both benchmark variants share: the environment, the App settings and the stack walk. */
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';

/** The account and region every benchmark stack is bound to (nothing is deployed). */
export const BENCH_ENV = { account: '123456789012', region: 'us-east-1' } as const;

/**
 * A fresh App writing to `outdir`, with the currently recommended feature flags, no stack traces
 * in metadata and fixed AZs (no context lookups), and the built-in CloudFormation validator on or off.
 */
export function benchApp(outdir: string, validation: boolean): App {
  return new App({
    outdir,
    builtinCloudFormationValidation: validation,
    context: {
      ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
      [cxapi.DISABLE_METADATA_STACK_TRACE]: true,
      'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    },
  });
}

/** Every stack of the app that holds a template, nested stacks included. */
export function templateStacks(app: App): Stack[] {
  return app.node.findAll().filter((c): c is Stack => Stack.isStack(c) || c instanceof NestedStack);
}
