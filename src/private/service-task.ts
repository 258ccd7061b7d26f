/**
 * What a `PlatformService` runs: its log group, task definition and container, created in the
 * service (`scope`) with the ids the service has always given them, and the findings they bring. How
 * the service is run and reached (Fargate service, load balancing, scaling) stays in the service.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createLogEncryptionKey } from './kms';
import { acknowledge, acknowledgeControl, acknowledgeExecutionRolePolicy, NAG_PACKS } from './nag';

/** What these functions read of a service's props (`PlatformServiceProps` satisfies it). */
export interface ServiceTaskSettings {
  readonly name: string;
  readonly image: ecs.ContainerImage;
  readonly port: number;
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  readonly executionRole?: iam.IRole;
  readonly user?: string;
  readonly readonlyRootFilesystem?: boolean;
  readonly command?: string[];
  readonly environment?: { [key: string]: string };
  readonly secrets?: { [key: string]: ecs.Secret };
  readonly environmentFiles?: ecs.EnvironmentFile[];
  readonly logRetention?: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The log group of the container and its Service Connect proxy, `<service>/Logs`. */
export function createServiceLogGroup(scope: Construct, props: ServiceTaskSettings): logs.LogGroup {
  const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
  return new logs.LogGroup(scope, 'Logs', {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: props.logEncryptionKey ?? createLogEncryptionKey(scope, 'LogKey', removalPolicy),
    removalPolicy,
  });
}

/** The Fargate task definition, `<service>/TaskDef`, with a task role of its own. */
export function createTaskDefinition(scope: Construct, props: ServiceTaskSettings): ecs.FargateTaskDefinition {
  return new ecs.FargateTaskDefinition(scope, 'TaskDef', {
    cpu: props.cpu ?? 512,
    memoryLimitMiB: props.memoryLimitMiB ?? 1024,
    executionRole: props.executionRole,
    runtimePlatform: {
      cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
}

/** The application container, logging to `logGroup`, with read access to its environment files. */
export function addServiceContainer(scope: Construct, taskDefinition: ecs.FargateTaskDefinition,
  logGroup: logs.ILogGroup, props: ServiceTaskSettings): ecs.ContainerDefinition {
  const container = taskDefinition.addContainer('Container', {
    containerName: props.name,
    image: props.image,
    essential: true,
    // A hard limit equal to the task's memory (AWS Control Tower CT.ECS.PR.7).
    memoryLimitMiB: props.memoryLimitMiB ?? 1024,
    user: props.user,
    readonlyRootFilesystem: props.readonlyRootFilesystem ?? false,
    command: props.command,
    environment: props.environment,
    secrets: props.secrets,
    environmentFiles: props.environmentFiles,
    portMappings: [{
      name: props.name,
      containerPort: props.port,
      protocol: ecs.Protocol.TCP,
      appProtocol: ecs.AppProtocol.http,
    }],
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: props.name }),
  });
  grantEnvironmentFiles(scope, taskDefinition, props.environmentFiles ?? []);
  return container;
}

/**
 * ECS reads environment files with the task execution role, which needs s3:GetObject on each
 * file and s3:GetBucketLocation on its bucket (aws-cdk-lib grants nothing for a bucket's file).
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html
 */
function grantEnvironmentFiles(scope: Construct, taskDefinition: ecs.FargateTaskDefinition, files: ecs.EnvironmentFile[]): void {
  for (const file of files) {
    const location = file.bind(scope).s3Location;
    const bucketArn = Stack.of(scope).formatArn({ service: 's3', region: '', account: '', resource: location.bucketName });
    taskDefinition.addToExecutionRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [`${bucketArn}/${location.objectKey}`],
    }));
    taskDefinition.addToExecutionRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetBucketLocation'],
      resources: [bucketArn],
    }));
  }
}

/** The cdk-nag and AWS Control Tower findings of the task definition that the service accepts, each with its reason. */
export function acknowledgeTaskFindings(taskDefinition: ecs.FargateTaskDefinition, props: ServiceTaskSettings): void {
  if (!props.executionRole && taskDefinition.executionRole) {
    // A role of this service's own, given its grants by addContainer: its findings are acknowledged
    // here (a shared role's owner acknowledges those of a shared one).
    acknowledgeExecutionRolePolicy(taskDefinition.executionRole);
  }
  if (props.user === undefined) {
    acknowledgeControl(taskDefinition, 'ecs_task_definition_nonroot_user_check',
      'The image decides its user (Spring Boot/Paketo images run as a non-root user); set user to force one.');
  }
  if (!props.readonlyRootFilesystem) {
    acknowledgeControl(taskDefinition, 'ecs_containers_readonly_access_check',
      'JVM services write to /tmp and the working directory; set readonlyRootFilesystem: true for images that do not.');
  }
  if (props.environment && Object.keys(props.environment).length > 0) {
    acknowledge(taskDefinition, 'ECS2', [NAG_PACKS.awsSolutions],
      'Plain environment variables carry non-secret configuration only; credentials reach the container as ECS secrets.');
  }
}
