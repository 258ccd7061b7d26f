/**
 * Where a platform's services go: the platform's own stack holds the first ones, each further group
 * a nested stack with an execution role of its own (CloudFormation's 500 resources per stack).
 */
import { CfnResource, NestedStack, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeExecutionRolePolicy } from './nag';
import { QUOTAS } from './quotas';

/**
 * The resources past which a stack takes no more services: CloudFormation's 500 per stack, less
 * room for two more services of about 35 resources each and for what the app adds itself.
 */
const SHARD_RESOURCE_BUDGET = QUOTAS.resourcesPerStack - 80;

/** The resources (L1 constructs) of `stack` itself, not of its nested stacks. */
function resourcesIn(stack: Stack): number {
  return stack.node.findAll().filter(c => c instanceof CfnResource && Stack.of(c) === stack).length;
}

/** A stack that holds services, and the execution role its services share. */
export interface ServiceShard {
  readonly scope: Construct;
  readonly executionRole: iam.Role;
  services: number;
  policyAcknowledged: boolean;
}

/** The shards of one platform, in the order they were opened. */
export class ServiceShards {
  private readonly shards: ServiceShard[];

  /**
   * @param platform the platform: its stack is the first shard, nested stacks are its children
   * @param executionRole the execution role of the services in the platform's own stack
   * @param maxServicesPerStack the services a stack takes at most
   * @param grantPull gives a new shard's execution role what its services' images need
   */
  constructor(
    private readonly platform: Construct,
    executionRole: iam.Role,
    private readonly maxServicesPerStack: number,
    private readonly grantPull: (role: iam.IRole) => void,
  ) {
    this.shards = [{ scope: platform, executionRole, services: 0, policyAcknowledged: false }];
  }

  /**
   * Where the next service goes. A stack takes no more services once it holds
   * `maxServicesPerStack` of them, or once it holds more resources than `SHARD_RESOURCE_BUDGET`
   * (a service with a database user, Kafka, alarms and secret rotation brings about 35; the rest is
   * room for what the app adds to the stack itself). Placement follows the order of `addService()`
   * calls, so adding services never moves others.
   */
  public next(): ServiceShard {
    const last = this.shards[this.shards.length - 1];
    if (last.services < this.maxServicesPerStack && resourcesIn(Stack.of(last.scope)) <= SHARD_RESOURCE_BUDGET) {
      return last;
    }
    const index = this.shards.length + 1;
    const stack = new NestedStack(this.platform, `Services${index}`, {
      description: `Services of ${this.platform.node.path}, group ${index} (cdk-dataflow-platform)`,
    });
    const executionRole = new iam.Role(stack, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `ECS task execution role of the services in ${stack.node.path}`,
    });
    this.grantPull(executionRole);
    const shard: ServiceShard = { scope: stack, executionRole, services: 0, policyAcknowledged: false };
    this.shards.push(shard);
    return shard;
  }

  /** Counts a service added to `shard`, and acknowledges the findings on its role's policy once it exists. */
  public added(shard: ServiceShard): void {
    shard.services += 1;
    if (!shard.policyAcknowledged && shard.executionRole.node.tryFindChild('DefaultPolicy')) {
      shard.policyAcknowledged = true;
      acknowledgeExecutionRolePolicy(shard.executionRole);
    }
  }
}
