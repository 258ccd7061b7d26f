import { QUOTAS } from './quotas';

/** A lowercase DNS label: what Service Connect, Cloud Map and container names all accept. */
const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Returns undefined for a valid service name, else the reason it is not one.
 */
export function serviceNameProblem(name: string): string | undefined {
  if (!DNS_LABEL.test(name)) {
    return 'it must be a DNS label: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen';
  }
  if (name.length > QUOTAS.dnsLabelLength) {
    return `it has ${name.length} characters, more than the ${QUOTAS.dnsLabelLength} of a DNS label`;
  }
  return undefined;
}

/** One API path: segments of letters, digits, '.', '_' and '-', separated by '/'. */
const API_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Strips leading and trailing slashes: '/orders/' becomes 'orders'. */
export function normalizeApiPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/**
 * Returns undefined for a valid API path (without leading slash), else the reason it is not one.
 */
export function apiPathProblem(path: string): string | undefined {
  if (!API_PATH.test(path)) {
    return 'it must be one or more segments of letters, digits, ".", "_" and "-" separated by "/", without braces or wildcards';
  }
  return undefined;
}

/** Whether two API paths would route the same requests: equal, or one a prefix of the other. */
export function apiPathsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The Pascal-case form of a service name, for construct ids: 'order-events' becomes 'OrderEvents'. */
export function pascalCase(name: string): string {
  return name.split('-').map(part => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}
