/**
 * A second source for CloudFormation schema validity: @aws-cdk/aws-service-spec's database of
 * resource types. Checks every resource of a template for unknown resource types, unknown and
 * missing required properties (nested too), and literal values of the wrong primitive type.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';

type SpecDb = ReturnType<typeof loadAwsServiceSpecSync>;
interface PropertySpec { readonly type: TypeSpec; readonly required?: boolean; readonly previousTypes?: TypeSpec[] }
interface TypeSpec { readonly type: string; readonly reference?: { readonly $ref: string }; readonly element?: TypeSpec; readonly types?: TypeSpec[] }

let cached: SpecDb | undefined;
function db(): SpecDb {
  cached ??= loadAwsServiceSpecSync();
  return cached;
}

/** Whether a value is a CloudFormation intrinsic (resolved at deploy time, so not type-checked here). */
function isIntrinsic(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::') || keys[0] === 'Condition');
}

function checkValue(value: unknown, type: TypeSpec, path: string, problems: string[]): void {
  if (value === undefined || isIntrinsic(value)) {
    return;
  }
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) {
        problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') {
        problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) {
        problems.push(`${path}: expected a list, got ${JSON.stringify(value)}`);
        return;
      }
      value.forEach((item, i) => checkValue(item, type.element!, `${path}[${i}]`, problems));
      return;
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: expected a map, got ${JSON.stringify(value)}`);
        return;
      }
      for (const [k, v] of Object.entries(value as object)) checkValue(v, type.element!, `${path}.${k}`, problems);
      return;
    case 'ref': {
      const definition = db().get('typeDefinition', type.reference!.$ref) as unknown as { properties: Record<string, PropertySpec> };
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: expected an object, got ${JSON.stringify(value)}`);
        return;
      }
      checkProperties(value as Record<string, unknown>, definition.properties, path, problems);
      return;
    }
    case 'union': {
      const attempts = (type.types ?? []).map(t => { const p: string[] = []; checkValue(value, t, path, p); return p; });
      if (!attempts.some(p => p.length === 0)) problems.push(...attempts[0]);
      return;
    }
    default:
      // json, tag, null and anything newer: accepted as they are.
      return;
  }
}

function checkProperties(value: Record<string, unknown>, spec: Record<string, PropertySpec>, path: string, problems: string[]): void {
  for (const [name, v] of Object.entries(value)) {
    const property = spec[name];
    if (!property) {
      problems.push(`${path}.${name}: not a property of this type`);
      continue;
    }
    const candidates = [property.type, ...(property.previousTypes ?? [])];
    const attempts = candidates.map(t => { const p: string[] = []; checkValue(v, t, `${path}.${name}`, p); return p; });
    if (!attempts.some(p => p.length === 0)) problems.push(...attempts[0]);
  }
  for (const [name, property] of Object.entries(spec)) {
    if (property.required && value[name] === undefined) {
      problems.push(`${path}.${name}: required property missing`);
    }
  }
}

/** The problems @aws-cdk/aws-service-spec finds in a synthesized template; empty when valid. */
export function serviceSpecProblems(template: { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> }): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
      continue;
    }
    const found = db().lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (found.length === 0) {
      problems.push(`${logicalId}: unknown resource type ${resource.Type}`);
      continue;
    }
    const spec = found[0] as unknown as { properties: Record<string, PropertySpec> };
    checkProperties(resource.Properties ?? {}, spec.properties, `${logicalId} (${resource.Type})`, problems);
  }
  return problems;
}
