/**
 * The checks of a `DataflowPlatform`'s props and of each `addService()` call, on plain values: the
 * platform passes its props and options, which these structural types describe, and the services
 * it already has. Messages name the prop, the value and the fix.
 */
import { Token } from 'aws-cdk-lib';
import { apiPathsOverlap, normalizeApiPath, pascalCase, serviceNameProblem } from './names';
import { SKIPPER_STREAM_APP_PORTS } from './scdf';

/** Ports no service may use, with the reason. */
const RESERVED_PORTS: ReadonlyArray<{ from: number; to: number; reason: string }> = [
  { from: SKIPPER_STREAM_APP_PORTS.low, to: SKIPPER_STREAM_APP_PORTS.high, reason: 'Spring Cloud Data Flow stream apps launched by skipper\'s local deployer' },
];

/** The environment name appears in tags and descriptions: keep it short and plain. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** A part the platform switches on or off, with its other options. */
type Switchable = { readonly enabled?: boolean } | undefined;

/** What `validatePlatformProps` reads of the platform's props. */
export interface PlatformPropsToCheck {
  readonly database?: Switchable;
  readonly kafka?: Switchable;
  readonly springCloudDataFlow?: Switchable;
  readonly kafkaConsole?: Switchable;
  readonly monitoring?: Switchable;
  readonly network?: unknown;
  readonly vpc?: unknown;
  readonly cidr?: unknown;
  readonly maxAzs?: unknown;
  readonly createEndpoints?: unknown;
  readonly s3GatewayEndpointId?: unknown;
  readonly endpointsInOneAz?: unknown;
  readonly maxServicesPerStack?: number;
}

/** Checks the props before anything is built. */
export function validatePlatformProps(environmentName: string, props: PlatformPropsToCheck): void {
  if (!Token.isUnresolved(environmentName) && !ENVIRONMENT_NAME.test(environmentName)) {
    throw new Error(`DataflowPlatform: environmentName "${environmentName}" must be 1 to 32 lowercase letters, digits or hyphens, starting with a letter; for example "dev" or "prod"`);
  }
  for (const [prop, options] of [['database', props.database], ['kafka', props.kafka], ['springCloudDataFlow', props.springCloudDataFlow], ['kafkaConsole', props.kafkaConsole], ['monitoring', props.monitoring]] as const) {
    // A switched-off feature rejects its options, rather than ignoring them.
    const set = options && options.enabled === false ? Object.keys(options).filter(k => k !== 'enabled' && (options as Record<string, unknown>)[k] !== undefined) : [];
    if (set.length > 0) {
      throw new Error(`DataflowPlatform: ${prop}.enabled is false, but ${prop} also sets ${set.join(', ')}, which would be ignored; remove ${set.length > 1 ? 'them' : 'it'}, or turn ${prop} on`);
    }
  }
  if (props.network) {
    const clash = (['vpc', 'cidr', 'maxAzs', 'createEndpoints', 's3GatewayEndpointId', 'endpointsInOneAz'] as const).filter(p => props[p] !== undefined);
    if (clash.length > 0) {
      throw new Error(`DataflowPlatform: network is given, so ${clash.join(', ')} cannot be set too (the network's VPC and endpoints are used as they are); set ${clash.length > 1 ? 'them' : 'it'} on the PrivateNetwork, or drop network`);
    }
  }
  const perStack = props.maxServicesPerStack;
  if (perStack !== undefined && !Token.isUnresolved(perStack) && !(Number.isInteger(perStack) && perStack >= 1 && perStack <= 30)) {
    throw new Error(`DataflowPlatform: maxServicesPerStack ${perStack} must be a whole number from 1 to 30 (about 15 resources a service, 500 per stack)`);
  }
}

/** What `validateNewService` reads of the options of `addService()`. */
export interface NewServiceToCheck {
  readonly port: number;
  readonly discoveryName?: string;
  readonly apiRoute?: boolean;
  readonly apiPath?: string;
  readonly connectsTo?: string[];
}

/** What it reads of a service the platform has already. */
export interface ExistingService {
  readonly name: string;
  readonly port: number;
  readonly discoveryName: string;
  readonly apiPath?: string;
}

/** Checks a new service against the platform's reserved ports and the services it has. */
export function validateNewService(name: string, options: NewServiceToCheck, services: readonly ExistingService[]): void {
  if (services.some(s => s.name === name)) {
    throw new Error(`DataflowPlatform: a service named "${name}" already exists; give each service its own name`);
  }
  const port = options.port;
  if (!Token.isUnresolved(port)) {
    const reserved = RESERVED_PORTS.find(r => port >= r.from && port <= r.to);
    if (reserved) {
      throw new Error(`DataflowPlatform: service "${name}" uses port ${port}, reserved by the platform (${reserved.from}-${reserved.to}: ${reserved.reason}); choose a port outside that range`);
    }
    const sameport = services.find(s => s.port === port);
    if (sameport) {
      throw new Error(`DataflowPlatform: service "${name}" uses port ${port}, already used by "${sameport.name}"; give each service its own port`);
    }
  }
  // Service Connect names are unique in the namespace: other services call this one by it.
  const discoveryName = options.discoveryName ?? name;
  const sameDiscoveryName = services.find(s => s.discoveryName === discoveryName);
  if (sameDiscoveryName && !Token.isUnresolved(discoveryName)) {
    throw new Error(`DataflowPlatform: service "${name}" would be called "${discoveryName}" through Service Connect, the name of service "${sameDiscoveryName.name}" already; give it another discoveryName`);
  }
  const path = options.apiRoute === false ? undefined : normalizeApiPath(options.apiPath ?? name);
  const samePath = path === undefined ? undefined : services.find(s => s.apiPath !== undefined && apiPathsOverlap(s.apiPath, path));
  if (samePath) {
    throw new Error(`DataflowPlatform: service "${name}" would route API path "/${path}", which overlaps "/${samePath.apiPath}" of service "${samePath.name}"; set apiPath so that no path is a prefix of another`);
  }
  for (const target of options.connectsTo ?? []) {
    if (target === name) {
      throw new Error(`DataflowPlatform: service "${name}" lists itself in connectsTo; a service reaches itself without it`);
    }
    // A name that no service can have is wrong now, not only at the end of synthesis.
    const problem = serviceNameProblem(target);
    if (problem) {
      throw new Error(`DataflowPlatform: service "${name}" has connectsTo "${target}", which can never name a service (${problem}); list the names of services of this platform`);
    }
  }
  // Construct ids come from the name (ServiceX1 for both "x-1" and "x1"); ids stay as they are,
  // because renaming one would replace a deployed service.
  const id = `Service${pascalCase(name)}`;
  const sameId = services.find(s => `Service${pascalCase(s.name)}` === id);
  if (sameId) {
    throw new Error(`DataflowPlatform: services "${sameId.name}" and "${name}" would both get the construct id "${id}"; rename "${name}" so that it differs from "${sameId.name}" in more than hyphens`);
  }
}

/** What `validateConnections` reads of a service: its name and the names it calls. */
export interface ConnectingService {
  readonly name: string;
  readonly connectsTo: readonly string[];
}

/** Checks that can only run once every service is added (services may name later ones). */
export function validateConnections(platformPath: string, services: readonly ConnectingService[]): string[] {
  if (services.length === 0) {
    return [`DataflowPlatform ${platformPath} has no service: call addService(), or leave springCloudDataFlow enabled (API Gateway cannot deploy an API without methods)`];
  }
  const names = services.map(s => s.name);
  const errors: string[] = [];
  for (const service of services) {
    for (const target of service.connectsTo) {
      if (!names.includes(target)) {
        errors.push(`DataflowPlatform ${platformPath}: service "${service.name}" connectsTo "${target}", which is not a service of this platform (services: ${names.join(', ')}); add a service named "${target}" or remove it from connectsTo`);
      }
    }
  }
  return errors;
}
