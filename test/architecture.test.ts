/**
 * The layout of src/ as docs/ARCHITECTURE.md describes it: imports go down, never up, and no file
 * grows past what a reader takes in at once.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', 'src');
/** Longest source file, in lines (docs/ARCHITECTURE.md). */
const MAX_LINES = 700;

/** Every .ts file below `dir`, relative to src/ with '/' separators. */
function sources(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, file).split(path.sep).join('/')] : [];
  });
}

/** The files of src/ that `file` (relative to src/) imports, relative to src/, without extension. */
function localImports(file: string, text: string): string[] {
  const imports: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
    imports.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1])).replace(/\/index$/, ''));
  }
  return imports;
}

/** The rules, over `files` (path relative to src/ → content); one message per violation. */
export function layoutProblems(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    const imports = localImports(file, text);
    if (file !== 'index.ts' && imports.includes('platform')) {
      problems.push(`${file} imports platform.ts: only index.ts may; take IDataflowPlatform from platform-api.ts`);
    }
    if (file.startsWith('private/')) {
      for (const target of imports.filter(i => !i.startsWith('private/'))) {
        problems.push(`${file} imports ${target}, a public room: private/ modules declare the plain shapes they read`);
      }
    }
    const lines = text.split('\n').length - 1;
    if (lines > MAX_LINES) {
      problems.push(`${file} has ${lines} lines, over ${MAX_LINES}: split it by job`);
    }
  }
  return problems;
}

test('src/ follows the layout: only index.ts imports platform.ts, private/ imports no public room, no file over 700 lines', () => {
  const files = new Map(sources().map(f => [f, fs.readFileSync(path.join(SRC, f), 'utf8')]));
  expect(files.size).toBeGreaterThan(40);
  expect(layoutProblems(files)).toEqual([]);
});

test('the layout check finds an upward import, a private module reaching a public room, and a long file', () => {
  const problems = layoutProblems(new Map([
    ['scdf/spring-cloud-data-flow.ts', "import type { IDataflowPlatform } from '../platform';\n"],
    ['private/wiring.ts', "import type { KafkaCluster } from '../kafka/kafka-cluster';\nimport { x } from './names';\n"],
    ['service/platform-service.ts', 'const a = 1;\n'.repeat(MAX_LINES + 1)],
    ['index.ts', "export * from './platform';\n"],
  ]));
  expect(problems).toEqual([
    'scdf/spring-cloud-data-flow.ts imports platform.ts: only index.ts may; take IDataflowPlatform from platform-api.ts',
    'private/wiring.ts imports kafka/kafka-cluster, a public room: private/ modules declare the plain shapes they read',
    `service/platform-service.ts has ${MAX_LINES + 1} lines, over ${MAX_LINES}: split it by job`,
  ]);
});
