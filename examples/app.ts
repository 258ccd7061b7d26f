/**
 * The example platform, built the way a user builds it: `cdk-dataflow-platform` comes from the
 * packed tarball installed into examples/node_modules, not from src/.
 *
 * Synthesizes to examples/cdk.out with the strict CloudFormation validator and the AWS Control Tower
 * proactive rules, runs the cdk-nag packs, and prints a summary. Exits non-zero on any finding.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { DataflowPlatform } from 'cdk-dataflow-platform';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';

const app = new App({
  outdir: 'cdk.out',
  context: {
    ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
    [cxapi.DISABLE_METADATA_STACK_TRACE]: true,
    [cxapi.VALIDATE_AGAINST_DEFAULT_RULES]: true,
    [cxapi.STRICT_CFN_VALIDATE_ERRORS]: true,
    'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  },
});
Validations.of(app).addPlugins(new CfnGuardValidator({ controlTowerRulesEnabled: true }));

const stack = new Stack(app, 'DataflowExample', { env: { account: '123456789012', region: 'us-east-1' } });
// The default platform runs Spring Cloud Data Flow (dataflow + skipper servers), PostgreSQL and MSK;
// its images are copied into ECR at deploy time. Two services of our own run beside it; their images
// come from ECR: tasks in isolated subnets cannot reach a public registry.
const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'shop');
// Alarms and rolled-back deployments go to an encrypted topic that pages the team by email.
const alarmKey = new kms.Key(stack, 'AlarmKey', { enableKeyRotation: true });
// AWS Control Tower: grants on the key only for AWS services.
alarmKey.addToResourcePolicy(new iam.PolicyStatement({
  effect: iam.Effect.DENY,
  principals: [new iam.AnyPrincipal()],
  actions: ['kms:CreateGrant'],
  resources: ['*'],
  conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
}));
const alarmTopic = new sns.Topic(stack, 'Alarms', { masterKey: alarmKey, enforceSSL: true });
alarmTopic.addSubscription(new subscriptions.EmailSubscription('oncall@example.com'));
const platform = new DataflowPlatform(stack, 'Dataflow', { environmentName: 'dev', monitoring: { alarmTopic } });
platform.addService('orders', {
  image: ecs.ContainerImage.fromEcrRepository(repository, 'orders-1.0.0'),
  port: 8080,
  healthCheckPath: '/actuator/health',
  connectsTo: ['billing'],
  useDatabase: true,
  useKafka: true,
});
platform.addService('billing', {
  image: ecs.ContainerImage.fromEcrRepository(repository, 'billing-1.0.0'),
  port: 8081,
  healthCheckPath: '/actuator/health',
});

const assembly = app.synth();

// The strict CloudFormation validator and cfn-guard write their findings to the validation report.
const validation: string[] = [];
const reportFile = path.join(assembly.directory, 'validation-report.json');
if (fs.existsSync(reportFile)) {
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as ValidationReport;
  for (const plugin of report.pluginReports) {
    for (const violation of plugin.violations) {
      for (const construct of violation.violatingConstructs) {
        validation.push(`${plugin.pluginName}: ${violation.severity} ${violation.ruleName} at ${construct.constructPath}`);
      }
    }
  }
}

// cdk-nag 3 packs, run over the synthesized tree.
const findings: string[] = [];
for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()]) {
  for (const violation of pack.validateScope(stack).violations) {
    for (const resource of violation.violatingResources) {
      findings.push(`${violation.severity} ${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId}`);
    }
  }
}

const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string }> };
const byType = new Map<string, number>();
for (const resource of Object.values(template.Resources)) {
  byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
}
const total = Object.keys(template.Resources).length;
const routes = platform.services.map(s => s.apiPath === undefined
  ? `  (no route) → ${s.discoveryName}:${s.port}`
  : `  /${s.apiPath}/{proxy+} → ${s.discoveryName}:${s.port}`);
const scdf = platform.springCloudDataFlow;
const lines = [
  `Synthesized ${stack.stackName} to ${assembly.directory}`,
  `API routes (stage "${platform.gateway.stageName}", authorization ${platform.gateway.authorization.type}):`,
  ...routes,
  `Spring Cloud Data Flow ${scdf ? scdf.version : '(off)'}: dataflow finds skipper at ${platform.skipperServer ? `${platform.skipperServer.endpoint}/api` : '-'}`,
  `Resources: ${total}`,
  ...[...byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `  ${String(n).padStart(3)}  ${type}`),
  `CloudFormation validator and Control Tower rule violations: ${validation.length}`,
  ...validation.map(f => `  ${f}`),
  `cdk-nag findings (AwsSolutions, NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1): ${findings.length}`,
  ...findings.map(f => `  ${f}`),
];
process.stdout.write(lines.join('\n') + '\n');
if (findings.length > 0 || validation.length > 0) {
  process.exit(1);
}

interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly violations: Array<{
      readonly ruleName: string;
      readonly severity: string;
      readonly violatingConstructs: Array<{ readonly constructPath: string }>;
    }>;
  }>;
}
