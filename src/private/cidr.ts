import { Token } from 'aws-cdk-lib';

/** What `validateNetworkProps` reads of a network's props (`PrivateNetworkProps` has these and more). */
export interface NetworkPropsToCheck {
  readonly vpc?: unknown;
  readonly cidr?: string;
  readonly maxAzs?: number;
  readonly subnetCidrMask?: number;
}

/** An IPv4 CIDR block, parsed. */
export interface Ipv4Block {
  /** The network address as an unsigned 32-bit number. */
  readonly address: number;
  /** The prefix length. */
  readonly prefix: number;
}

/** RFC 1918 ranges: the only ones a private network may use. */
const PRIVATE_RANGES: ReadonlyArray<[string, Ipv4Block]> = [
  ['10.0.0.0/8', { address: 0x0a000000, prefix: 8 }],
  ['172.16.0.0/12', { address: 0xac100000, prefix: 12 }],
  ['192.168.0.0/16', { address: 0xc0a80000, prefix: 16 }],
];

/** The range of a new VPC unless the user names one. */
export const DEFAULT_VPC_CIDR = '10.0.0.0/16';

/** AWS: a VPC CIDR block has a prefix between /16 and /28; so does a subnet. */
export const MIN_VPC_PREFIX = 16;
export const MAX_SUBNET_PREFIX = 28;

/**
 * Parses `a.b.c.d/n`; returns undefined when the text is not an IPv4 CIDR block.
 */
export function parseIpv4Cidr(cidr: string): Ipv4Block | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) {
    return undefined;
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some(o => o > 255) || prefix > 32) {
    return undefined;
  }
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return { address, prefix };
}

/** Whether `inner` lies entirely inside `outer`. */
export function isWithin(inner: Ipv4Block, outer: Ipv4Block): boolean {
  if (inner.prefix < outer.prefix) {
    return false;
  }
  const size = blockSize(outer.prefix);
  return Math.floor(inner.address / size) === Math.floor(outer.address / size);
}

/** How many addresses a block with this prefix holds. */
function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Validates the props of a PrivateNetwork; throws an error naming the prop, the value and the fix.
 *
 * @param owner the construct name that prefixes each message, e.g. 'PrivateNetwork'
 */
export function validateNetworkProps(owner: string, props: NetworkPropsToCheck): void {
  if (props.vpc) {
    for (const prop of ['cidr', 'maxAzs', 'subnetCidrMask'] as const) {
      if (props[prop] !== undefined) {
        throw new Error(`${owner}: ${prop} (${props[prop]}) only applies to a new VPC, but vpc was also given; remove ${prop}, or remove vpc to let the construct create one`);
      }
    }
    return;
  }

  const maxAzs = props.maxAzs ?? 2;
  if (!Token.isUnresolved(maxAzs) && (!Number.isInteger(maxAzs) || maxAzs < 2)) {
    throw new Error(`${owner}: maxAzs must be a whole number of at least 2 so that one Availability Zone can fail, got ${maxAzs}; set maxAzs to 2 or more`);
  }

  const cidr = props.cidr ?? DEFAULT_VPC_CIDR;
  if (Token.isUnresolved(cidr)) {
    return;
  }
  const block = parseIpv4Cidr(cidr);
  if (!block) {
    throw new Error(`${owner}: cidr "${cidr}" is not an IPv4 CIDR block; use the form 10.0.0.0/16`);
  }
  if (block.address % blockSize(block.prefix) !== 0) {
    throw new Error(`${owner}: cidr "${cidr}" has host bits set; use the network address of the block (for example 10.0.0.0/16)`);
  }
  if (!PRIVATE_RANGES.some(([, range]) => isWithin(block, range))) {
    throw new Error(`${owner}: cidr "${cidr}" is not a private address range; choose a block inside ${PRIVATE_RANGES.map(([name]) => name).join(', ')} (for example 10.0.0.0/16)`);
  }
  if (block.prefix < MIN_VPC_PREFIX || block.prefix > MAX_SUBNET_PREFIX) {
    throw new Error(`${owner}: cidr "${cidr}" has a /${block.prefix} prefix, but a VPC range must be between /${MIN_VPC_PREFIX} and /${MAX_SUBNET_PREFIX}; choose for example 10.0.0.0/16`);
  }

  // Each AZ gets one isolated subnet; the subnets must fit in the VPC range.
  const azBits = Token.isUnresolved(maxAzs) ? 1 : Math.ceil(Math.log2(maxAzs));
  const smallestFit = block.prefix + azBits;
  if (smallestFit > MAX_SUBNET_PREFIX) {
    throw new Error(`${owner}: cidr "${cidr}" is too small for ${maxAzs} subnets of at least /${MAX_SUBNET_PREFIX}; use a prefix of /${MAX_SUBNET_PREFIX - azBits} or shorter, or fewer maxAzs`);
  }
  const mask2 = props.subnetCidrMask;
  if (mask2 !== undefined && !Token.isUnresolved(mask2)) {
    if (!Number.isInteger(mask2) || mask2 > MAX_SUBNET_PREFIX || mask2 < smallestFit) {
      throw new Error(`${owner}: subnetCidrMask /${mask2} does not fit ${maxAzs} subnets into "${cidr}"; choose a value from /${smallestFit} to /${MAX_SUBNET_PREFIX}`);
    }
  }
}
