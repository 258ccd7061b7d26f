/**
 * The migration guide's TypeScript snippets type-check like the README's (which jsii-rosetta
 * compiles): each is placed in the rosetta fixture, with 'cdk-dataflow-platform' resolved to src/,
 * and compiled by the TypeScript compiler. A type error in a snippet fails this test.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { readmeSnippets, snippetName } from './helpers/readme-snippets';

const GUIDE = 'docs/migrating-from-terraform.md';
const FIXTURE = fs.readFileSync(path.join(__dirname, '..', 'rosetta', 'default.ts-fixture'), 'utf8');

function typeErrors(sources: Record<string, string>): string[] {
  // Below node_modules (ignored by git), so that aws-cdk-lib and constructs resolve as for a user.
  const cache = path.join(__dirname, '..', 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, 'guide-snippets-'));
  const files = Object.entries(sources).map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  });
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    baseUrl: dir,
    paths: { 'cdk-dataflow-platform': [path.join(__dirname, '..', 'src')] },
    typeRoots: [path.join(__dirname, '..', 'node_modules', '@types')],
    types: ['node'],
  });
  return ts.getPreEmitDiagnostics(program)
    .filter(d => d.file && files.includes(d.file.fileName))
    .map(d => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** The snippet in the fixture's constructor; its `declare const` lines go to module level, as rosetta does. */
function inFixture(code: string): string {
  const lines = code.split('\n');
  const declarations = lines.filter(l => /^declare /.test(l));
  const body = lines.filter(l => !/^declare /.test(l)).join('\n');
  const classAt = FIXTURE.search(/^class /m);
  return `${FIXTURE.slice(0, classAt)}${declarations.join('\n')}\n${FIXTURE.slice(classAt).replace('/// here', body)}`;
}

describe(`${GUIDE} snippets type-check in the rosetta fixture`, () => {
  const snippets = readmeSnippets().filter(s => s.file === GUIDE);

  test('the guide has snippets, and every one type-checks', () => {
    expect(snippets.length).toBeGreaterThan(0);
    const sources = Object.fromEntries(snippets.map((s, i) => [`snippet${i}.ts`, inFixture(s.code)]));
    const names = Object.fromEntries(snippets.map((s, i) => [`snippet${i}.ts`, snippetName(s)]));
    expect(typeErrors(sources).map(e => e.replace(/^(snippet\d+\.ts)/, m => names[m]))).toEqual([]);
  });

  test('a snippet with a type error fails (negative control)', () => {
    expect(typeErrors({ 'bad.ts': inFixture("new DataflowPlatform(this, 'Dataflow', { production: 'yes' });") })).toHaveLength(1);
  });
});
