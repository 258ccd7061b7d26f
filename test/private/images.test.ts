import { App, CfnElement, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IMAGE_SOURCE_TYPES, ImageResolver, ImageResolverProps } from '../../src/private/images';
import { ImageSource, ImageSourceType } from '../../src/scdf/image-source';
import { expectNoNagFindings, newTestStack, testContext } from '../helpers/gates';

function resolver(stack: Stack, id: string, props: Partial<ImageResolverProps> = {}): ImageResolver {
  const executionRole = new iam.Role(stack, `${id}ExecutionRole`, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  return new ImageResolver(stack, id, { source: ImageSource.copyToEcr(), executionRole, removalPolicy: RemovalPolicy.DESTROY, ...props });
}

const COPY_FUNCTION = '^CustomCDKECRDeployment';

/**
 * The copy function is cdk-ecr-deployment's stack-level singleton. Lambda would create its log group
 * /aws/lambda/<function name> on the first copy, unencrypted and kept forever.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
 */
describe('ImageResolver: the image-copy function\'s log group', () => {
  test.each([
    ['with today\'s feature flags (aws-cdk-lib creates the log group: it is taken over)', true],
    ['without feature flags (the log group is created)', false],
  ])('%s: one per stack, encrypted, with retention; copies wait for it', (_name, flags) => {
    const app = new App({ builtinCloudFormationValidation: false, context: flags ? testContext() : {} });
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    resolver(stack, 'First', { logEncryptionKey: key, logRetention: logs.RetentionDays.TWO_YEARS }).resolve('nginx:1.27');
    resolver(stack, 'Second', { logRetention: logs.RetentionDays.ONE_DAY }).resolve('redis:7');
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toEqual([expect.stringMatching(COPY_FUNCTION)]);
    const functionId = Object.keys(functions)[0];
    const copyLogs = template.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: functionId }]] } },
    });
    expect(Object.keys(copyLogs)).toHaveLength(1);
    const [logGroupId, logGroup] = Object.entries(copyLogs)[0];
    // The first resolver of the stack sets it up.
    expect(logGroup.Properties).toEqual(expect.objectContaining({
      RetentionInDays: 731,
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
    }));
    expect(logGroup.DeletionPolicy).toBe('Delete');
    const copies = template.findResources('Custom::CDKECRDeployment');
    expect(Object.keys(copies)).toHaveLength(2);
    const logsPolicy = stack.getLogicalId(stack.node.findChild('CdkDataflowPlatformImageCopyLogsPolicy').node.defaultChild as CfnElement);
    for (const copy of Object.values(copies)) {
      expect(copy.DependsOn).toEqual(expect.arrayContaining([logGroupId, logsPolicy]));
    }
    expectNoNagFindings(stack);
  });

  test('the copy role may write logs to that log group only', () => {
    const stack = newTestStack();
    resolver(stack, 'Images').resolve('nginx:1.27');
    const template = Template.fromStack(stack);
    const role = stack.getLogicalId(stack.node.findChild('CdkDataflowPlatformImageCopyRole').node.defaultChild as CfnElement);
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
      .flatMap(p => p.Properties.PolicyDocument.Statement);
    const logStatements = statements.filter(s => [s.Action].flat().some((a: string) => a.startsWith('logs:')));
    const copyLogs = Object.keys(template.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: Match.stringLikeRegexp(COPY_FUNCTION) }]] } },
    }));
    expect(logStatements).toEqual([{
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [copyLogs[0], 'Arn'] },
    }]);
    expect(JSON.stringify(statements)).not.toContain('/aws/lambda/*');
    expectNoNagFindings(stack);
  });

  test('without a key of the platform, the stack gets one for that log group', () => {
    const stack = newTestStack();
    resolver(stack, 'Images').resolve('nginx:1.27');
    const template = Template.fromStack(stack);
    const key = stack.getLogicalId(stack.node.findChild('CdkDataflowPlatformImageCopyLogKey').node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: Match.stringLikeRegexp(COPY_FUNCTION) }]] },
      KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      RetentionInDays: 365,
    });
  });
});

test('the resolver\'s image source types are ImageSourceType\'s values', () => {
  expect(IMAGE_SOURCE_TYPES).toEqual(Object.fromEntries(Object.entries(ImageSourceType)));
});
