/**
 * The checks a `PlatformService` makes of its props before it creates anything, on plain values (the
 * service's props satisfy these structural types), and the task-count defaults they share with it.
 * Each message names the prop, shows the value and says how to fix it; values that are tokens are skipped.
 */
import { Token } from 'aws-cdk-lib';
import { fargateSizeProblem } from './fargate';
import { serviceNameProblem } from './names';

/** The task counts of a service: what `desiredCountOf` reads. */
export interface TaskCountsToCheck {
  readonly desiredCount?: number;
  readonly autoScaling?: boolean;
  readonly minCapacity?: number;
  readonly maxCapacity?: number;
  readonly targetCpuUtilizationPercent?: number;
}

/** What `validateServiceProps` reads of a service's props. */
export interface ServicePropsToCheck extends TaskCountsToCheck {
  readonly name: string;
  readonly port: number;
  readonly serviceConnectPort?: number;
  readonly discoveryName?: string;
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  readonly apiRoute?: boolean;
  readonly apiPath?: string;
  readonly minHealthyPercent?: number;
  readonly maxHealthyPercent?: number;
  readonly healthCheckPath?: string;
}

/** Validates the props of a `PlatformService` that can be checked before anything is created. */
export function validateServiceProps(props: ServicePropsToCheck): void {
  const name = props.name;
  const problem = serviceNameProblem(name);
  if (problem) {
    throw new Error(`PlatformService: service name "${name}" is not valid: ${problem}; choose a name like "orders"`);
  }
  const port = props.port;
  if (!Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new Error(`PlatformService: service "${name}" has port ${port}; a port must be a whole number from 1 to 65535`);
  }
  const scPort = props.serviceConnectPort;
  if (scPort !== undefined && !Token.isUnresolved(scPort) && !(Number.isInteger(scPort) && scPort >= 1 && scPort <= 65535)) {
    throw new Error(`PlatformService: service "${name}" has serviceConnectPort ${scPort}; a port must be a whole number from 1 to 65535`);
  }
  const discoveryName = props.discoveryName;
  const discoveryProblem = discoveryName === undefined || Token.isUnresolved(discoveryName) ? undefined : serviceNameProblem(discoveryName);
  if (discoveryProblem) {
    throw new Error(`PlatformService: service "${name}" has discoveryName "${discoveryName}", which is not valid: ${discoveryProblem}`);
  }
  const cpu = props.cpu ?? 512;
  const memory = props.memoryLimitMiB ?? 1024;
  if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memory)) {
    const sizeProblem = fargateSizeProblem(cpu, memory);
    if (sizeProblem) {
      throw new Error(`PlatformService: service "${name}": ${sizeProblem}`);
    }
  }
  if (props.apiRoute === false && props.apiPath !== undefined) {
    throw new Error(`PlatformService: service "${name}" has apiRoute: false but sets apiPath "${props.apiPath}"; remove apiPath, or turn apiRoute on`);
  }
  validateTaskCounts(props);
  validateDeploymentPercents(props);
  const target = props.targetCpuUtilizationPercent;
  if (target !== undefined && !Token.isUnresolved(target) && !(target > 0 && target <= 100)) {
    throw new Error(`PlatformService: service "${name}" has targetCpuUtilizationPercent ${target}; choose a value above 0 and at most 100`);
  }
  if (props.healthCheckPath !== undefined && !Token.isUnresolved(props.healthCheckPath) && !props.healthCheckPath.startsWith('/')) {
    throw new Error(`PlatformService: service "${name}" has healthCheckPath "${props.healthCheckPath}"; it must start with "/"`);
  }
}

/** The number of tasks the service runs, and the default floor of its autoscaling. */
export function desiredCountOf(props: TaskCountsToCheck): number {
  return props.desiredCount ?? 1;
}

/** Without autoscaling, the task count is `desiredCount`; with it, this is the default ceiling. */
export function defaultMaxCapacity(desiredCount: number, minCapacity: number): number {
  return Token.isUnresolved(desiredCount) || Token.isUnresolved(minCapacity) ? desiredCount : Math.max(desiredCount * 2, minCapacity);
}

/**
 * Task counts are whole numbers of 0 or more, and `desiredCount` lies within the scaling range.
 * A comparison is skipped when either side is a token; messages name the props the user set.
 */
function validateTaskCounts(props: ServicePropsToCheck): void {
  const name = props.name;
  for (const prop of ['desiredCount', 'minCapacity', 'maxCapacity'] as const) {
    const value = props[prop];
    if (value !== undefined && !Token.isUnresolved(value) && !(Number.isInteger(value) && value >= 0)) {
      throw new Error(`PlatformService: service "${name}" has ${prop} ${value}; it must be a whole number of 0 or more`);
    }
  }
  if (!(props.autoScaling ?? true)) {
    const set = (['minCapacity', 'maxCapacity', 'targetCpuUtilizationPercent'] as const).filter(p => props[p] !== undefined);
    if (set.length > 0) {
      throw new Error(`PlatformService: service "${name}" has autoScaling: false but sets ${set.join(', ')}; remove ${set.length > 1 ? 'them' : 'it'}, or turn autoScaling on`);
    }
    return;
  }
  const known = (value: number | undefined): value is number => value !== undefined && !Token.isUnresolved(value);
  const desired = desiredCountOf(props);
  const min = props.minCapacity;
  const max = props.maxCapacity;
  if (known(min) && known(max) && max < min) {
    throw new Error(`PlatformService: service "${name}" has maxCapacity ${max} below minCapacity ${min}; raise maxCapacity or lower minCapacity`);
  }
  if (!Token.isUnresolved(desired)) {
    if (known(min) && desired < min) {
      throw new Error(`PlatformService: service "${name}" has desiredCount ${desired} below minCapacity ${min}; raise desiredCount or lower minCapacity`);
    }
    if (known(max) && desired > max) {
      throw new Error(`PlatformService: service "${name}" has desiredCount ${desired} above maxCapacity ${max}; raise maxCapacity or lower desiredCount`);
    }
  }
}

/**
 * minHealthyPercent is 0–100; maxHealthyPercent must exceed it, or no deployment could ever replace
 * a task (it could neither stop the old one nor start a new one).
 */
function validateDeploymentPercents(props: ServicePropsToCheck): void {
  const min = props.minHealthyPercent ?? 100;
  const max = props.maxHealthyPercent ?? 200;
  if (!Token.isUnresolved(min) && !(Number.isInteger(min) && min >= 0 && min <= 100)) {
    throw new Error(`PlatformService: service "${props.name}" has minHealthyPercent ${min}; choose a whole number from 0 to 100`);
  }
  if (!Token.isUnresolved(max) && !Token.isUnresolved(min) && !(Number.isInteger(max) && max > min)) {
    throw new Error(`PlatformService: service "${props.name}" has maxHealthyPercent ${max} with minHealthyPercent ${min}; maxHealthyPercent must be a whole number above minHealthyPercent, or no deployment can replace a task`);
  }
}
