/**
 * Runs the TypeScript snippets of the README and of the guides in `docs/` (`DOCUMENT_PATHS`) for real, the way jsii-rosetta compiles them: inside the
 * constructor of a Stack, with the imports of `rosetta/default.ts-fixture`, where
 * `cdk-dataflow-platform` is this library. Values a snippet declares (`declare const x: T;`) are
 * given a real construct chosen by their declared type.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { IConstruct } from 'constructs';
import * as ts from 'typescript';
import * as library from '../../src';

const ROOT = path.join(__dirname, '..', '..');
export const README_PATH = path.join(ROOT, 'README.md');
/** The Markdown files whose ```ts blocks are run, relative to the repository root. */
export const DOCUMENT_PATHS: readonly string[] = ['README.md', 'docs/migrating-from-terraform.md'];
export const FIXTURE_PATH = path.join(__dirname, '..', '..', 'rosetta', 'default.ts-fixture');

/** One fenced ```ts block of a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the repository root, e.g. 'README.md'. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The nearest heading above the block. */
  readonly heading: string;
  readonly code: string;
  /** A whole program (```ts nofixture): its own imports and app, not placed in the fixture. */
  readonly nofixture: boolean;
}

/** `README.md:210 (## PrivateGateway)` or `docs/migrating-from-terraform.md:42 (## ...)`: how a failure names a snippet. */
export function snippetName(snippet: Snippet): string {
  return `${snippet.file}:${snippet.line} (${snippet.heading})`;
}

/** Every ```ts (or ```typescript) block, in order. Other languages (bash, ...) are not compiled by rosetta. */
export function extractTsSnippets(markdown: string, file: string = 'README.md'): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  let heading = '(no heading)';
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$/.exec(lines[i]);
    if (!open) {
      if (/^#{1,6}\s/.test(lines[i])) {
        heading = lines[i].trim();
      }
      continue;
    }
    const fence = open[2];
    const lang = open[3].toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trim().startsWith(fence)) {
      body.push(lines[j]);
      j++;
    }
    if (j >= lines.length) {
      throw new Error(`${file}:${i + 1}: fenced block is never closed`);
    }
    if (lang === 'ts' || lang === 'typescript') {
      snippets.push({ file, line: i + 1, heading, code: body.join('\n'), nofixture: /\bnofixture\b/.test(open[4]) });
    }
    i = j;
  }
  return snippets;
}

/** The ```ts blocks of every file of `DOCUMENT_PATHS`, in order: README.md's first, then the guides'. */
export function readmeSnippets(): Snippet[] {
  return DOCUMENT_PATHS.flatMap(file => extractTsSnippets(fs.readFileSync(path.join(ROOT, file), 'utf8'), file));
}

/**
 * The fixture's import lines. The fixture must still be "imports, then a Stack subclass whose
 * constructor calls super(scope, id) and holds `/// here`": if that changes, this harness no longer
 * runs snippets the way rosetta compiles them, and says so.
 */
export function fixtureImports(): string {
  const fixture = fs.readFileSync(FIXTURE_PATH, 'utf8');
  const classAt = fixture.search(/^class \w+ extends Stack \{/m);
  const body = fixture.slice(classAt);
  const expected = /^class \w+ extends Stack \{\s*constructor\(scope: Construct, id: string\) \{\s*super\(scope, id\);\s*\/\/\/ here\s*\}\s*\}\s*$/;
  if (classAt < 0 || !expected.test(body)) {
    throw new Error(`${FIXTURE_PATH} no longer has the shape this harness reproduces (imports, then \`class X extends Stack\` `
      + 'whose constructor is `super(scope, id); /// here`): update test/helpers/readme-snippets.ts to match it');
  }
  return fixture.slice(0, classAt);
}

/** A value the harness gives to `declare const name: Type;`, created in the snippet's stack. */
type DeclaredFactory = (scope: Stack, id: string) => unknown;

/** One VPC per stack for every declared value that needs a VPC, so that cluster, gateway and vpc agree. */
function userVpc(scope: Stack): ec2.IVpc {
  const existing = scope.node.tryFindChild('DeclaredVpc');
  if (existing) {
    return existing as ec2.IVpc;
  }
  // What a user brings: a VPC of their own with isolated subnets only (no NAT, no internet).
  return new ec2.Vpc(scope, 'DeclaredVpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
}

function userGateway(scope: Stack): library.PrivateGateway {
  const existing = scope.node.tryFindChild('DeclaredGateway');
  return (existing as library.PrivateGateway | undefined)
    ?? new library.PrivateGateway(scope, 'DeclaredGateway', { vpc: userVpc(scope) });
}

/**
 * Declared types the README may use, by their text in the snippet. A snippet declaring any other type
 * fails: add a factory here rather than skip it.
 */
export const DECLARED_TYPES: Readonly<Record<string, DeclaredFactory>> = {
  'ec2.IVpc': (scope) => userVpc(scope),
  'ec2.Vpc': (scope) => userVpc(scope),
  'iam.IRole': (scope, id) => new iam.Role(scope, id, { assumedBy: new iam.AccountRootPrincipal() }),
  'iam.Role': (scope, id) => new iam.Role(scope, id, { assumedBy: new iam.AccountRootPrincipal() }),
  'ecr.IRepository': (scope, id) => ecr.Repository.fromRepositoryName(scope, id, 'user-repository'),
  'secretsmanager.ISecret': (scope, id) => secretsmanager.Secret.fromSecretNameV2(scope, id, 'user/api-token'),
  'cognito.IUserPool': (scope, id) => new cognito.UserPool(scope, id),
  // The README's PlatformService section: "a cluster with a Service Connect namespace".
  'ecs.ICluster': (scope, id) => new ecs.Cluster(scope, id, {
    vpc: userVpc(scope),
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    defaultCloudMapNamespace: { name: 'user', type: servicediscovery.NamespaceType.HTTP, useForServiceConnect: true },
  }),
  'PrivateGateway': (scope) => userGateway(scope),
  'PrivateNetwork': (scope, id) => new library.PrivateNetwork(scope, id),
  'DataflowPlatform': (scope, id) => new library.DataflowPlatform(scope, id),
  // A snippet that lays out several stacks is given the app of the harness's stack.
  'App': (scope) => scope.node.root,
};

/** A `declare const name: Type;` statement of a snippet. */
export interface Declaration {
  readonly name: string;
  readonly type: string;
}

/**
 * The snippet with each `declare const x: T;` replaced by `const x = __declared("T", "x");`, and the
 * declarations it had. Fails, naming the snippet and the type, on a declaration without a type.
 */
export function replaceDeclarations(snippet: Snippet): { code: string; declarations: Declaration[] } {
  const source = ts.createSourceFile('snippet.ts', snippet.code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const parseErrors = (source as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0) {
    const text = parseErrors.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ');
    throw new Error(`${snippetName(snippet)} does not parse as TypeScript: ${text}`);
  }
  const declarations: Declaration[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)
      || !statement.modifiers?.some(m => m.kind === ts.SyntaxKind.DeclareKeyword)) {
      continue;
    }
    const replacements = statement.declarationList.declarations.map((d) => {
      const name = d.name.getText(source);
      if (!d.type) {
        throw new Error(`${snippetName(snippet)}: \`declare const ${name}\` has no type; the harness chooses a value by type`);
      }
      const type = d.type.getText(source);
      declarations.push({ name, type });
      return `const ${name} = __declared(${JSON.stringify(type)}, ${JSON.stringify(name)});`;
    });
    edits.push({ start: statement.getStart(source), end: statement.getEnd(), text: replacements.join(' ') });
  }
  let code = snippet.code;
  for (const edit of edits.reverse()) {
    code = code.slice(0, edit.start) + edit.text + code.slice(edit.end);
  }
  return { code, declarations };
}

/** What running a snippet left behind. */
export interface SnippetRun {
  readonly declarations: Declaration[];
  /** Paths of every construct the harness created for declared values (the user's, not the snippet's). */
  readonly declaredPaths: ReadonlySet<string>;
}

/**
 * Runs `snippet` as the body of a constructor of `stack`: fixture imports, `this` is the stack.
 * Errors name the snippet.
 */
export function runSnippet(snippet: Snippet, stack: Stack): SnippetRun {
  const { code, declarations } = replaceDeclarations(snippet);
  for (const d of declarations) {
    if (!DECLARED_TYPES[d.type]) {
      throw new Error(`${snippetName(snippet)} declares \`${d.name}: ${d.type}\`, a type the README harness has no value for; `
        + `add a factory for '${d.type}' to DECLARED_TYPES in test/helpers/readme-snippets.ts (known: ${Object.keys(DECLARED_TYPES).join(', ')})`);
    }
  }
  const source = `${fixtureImports()}\nexport function __snippet(this: any, __declared: (type: string, name: string) => any) {\n${code}\n}\n`;
  const output = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    reportDiagnostics: true,
    fileName: 'snippet.ts',
  });
  if (output.diagnostics && output.diagnostics.length > 0) {
    const text = output.diagnostics.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ');
    throw new Error(`${snippetName(snippet)} does not transpile: ${text}`);
  }
  // Jest's require: the same aws-cdk-lib and constructs module instances as the test and the library.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const snippetRequire = (id: string): unknown => (id === 'cdk-dataflow-platform' ? library : require(id));
  const module = { exports: {} as Record<string, unknown> };
  new Function('exports', 'require', 'module', output.outputText)(module.exports, snippetRequire, module);
  const declaredPaths = new Set<string>();
  const declared = (type: string, name: string) => {
    const id = `Declared${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    const before = new Set(stack.node.findAll().map(c => c.node.path));
    const value = DECLARED_TYPES[type](stack, id);
    for (const construct of stack.node.findAll()) {
      if (!before.has(construct.node.path)) {
        declaredPaths.add(construct.node.path);
      }
    }
    return value;
  };
  try {
    (module.exports.__snippet as Function).call(stack, declared);
  } catch (e) {
    const error = e as Error;
    error.message = `${snippetName(snippet)} throws in stack ${stack.node.path}: ${error.message}`;
    throw error;
  }
  return { declarations, declaredPaths };
}

/**
 * Runs a whole-program snippet (```ts nofixture) as a module, with 'cdk-dataflow-platform' as the
 * library: it builds and synthesizes its own app. Errors name the snippet.
 */
export function runProgram(snippet: Snippet): void {
  const output = ts.transpileModule(snippet.code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    reportDiagnostics: true,
    fileName: 'program.ts',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const programRequire = (id: string): unknown => (id === 'cdk-dataflow-platform' ? library : require(id));
  const module = { exports: {} as Record<string, unknown> };
  try {
    new Function('exports', 'require', 'module', output.outputText)(module.exports, programRequire, module);
  } catch (e) {
    const error = e as Error;
    error.message = `${snippetName(snippet)} throws: ${error.message}`;
    throw error;
  }
}

/** True for a string with an unresolved token in it (string, list or number encodings). */
function hasToken(text: string): boolean {
  return Token.isUnresolved(text) || text.includes('${Token[');
}

/** Keys of plain objects and arrays, at any depth: what synthesis resolves as map keys. */
function tokenKeys(value: unknown, where: string, out: string[], depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') {
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => tokenKeys(v, `${where}[${i}]`, out, depth + 1));
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (hasToken(key)) {
      out.push(`${where} has key "${key}"`);
    }
    tokenKeys(v, `${where}.${key}`, out, depth + 1);
  }
}

/**
 * Every place in the construct tree under `root` where an id or key holds an unresolved token:
 * construct ids, metadata types, acknowledged rule ids (`Validations.acknowledge`, stored as keys of
 * `aws:cdk:acknowledged-rules` metadata) and other metadata map keys. An empty list means none.
 */
export function unresolvedTokenIds(root: IConstruct): string[] {
  const problems: string[] = [];
  for (const construct of root.node.findAll()) {
    const at = construct.node.path || '(root)';
    if (hasToken(construct.node.id)) {
      problems.push(`construct id "${construct.node.id}" at ${at}`);
    }
    for (const entry of construct.node.metadata) {
      if (hasToken(entry.type)) {
        problems.push(`metadata key "${entry.type}" at ${at}`);
      }
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const id of Object.keys(entry.data ?? {})) {
          if (hasToken(id)) {
            problems.push(`acknowledgement id "${id}" at ${at}`);
          }
        }
      } else {
        const keys: string[] = [];
        tokenKeys(entry.data, entry.type, keys);
        problems.push(...keys.map(k => `metadata ${k} at ${at}`));
      }
    }
  }
  return problems;
}
