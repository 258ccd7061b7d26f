#!/usr/bin/env node
// Checks what `jsii-pacmak --code-only` generated: one package per target language, under the names
// users of that language expect, each declaring every public type of the assembly.
const fs = require('fs');
const path = require('path');

const out = path.resolve(process.argv[2] ?? 'dist/codegen');
const assembly = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '.jsii'), 'utf8'));
const typeNames = Object.values(assembly.types).map(t => t.name);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

const targets = [
  { name: 'python', marker: p => p.endsWith(path.join('cdk_dataflow_platform', '__init__.py')), pattern: n => `class ${n}` },
  { name: 'java', marker: p => p.includes(path.join('io', 'github', 'cdkdataflowplatform')) && p.endsWith('.java'), pattern: n => n },
  { name: 'dotnet', marker: p => p.includes('CdkDataflowPlatform') && p.endsWith('.cs'), pattern: n => n },
  { name: 'go', marker: p => p.endsWith('.go'), pattern: n => n },
];

let failures = 0;
for (const target of targets) {
  const dir = path.join(out, target.name);
  const files = fs.existsSync(dir) ? walk(dir).filter(target.marker) : [];
  if (files.length === 0) {
    console.error(`codegen ${target.name}: no generated sources in ${path.relative(process.cwd(), dir)}`);
    failures++;
    continue;
  }
  const text = files.map(f => fs.readFileSync(f, 'utf8')).join('\n');
  const missing = typeNames.filter(n => !text.includes(target.pattern(n)));
  if (missing.length > 0) {
    console.error(`codegen ${target.name}: types missing from the generated code: ${missing.join(', ')}`);
    failures++;
    continue;
  }
  console.log(`codegen ${target.name}: ${files.length} files, all ${typeNames.length} public types present`);
}
const goDir = path.join(out, 'go');
if (fs.existsSync(goDir)) {
  const mods = walk(goDir).filter(p => p.endsWith('go.mod')).map(p => fs.readFileSync(p, 'utf8').split('\n')[0]);
  console.log(`codegen go: ${mods.join('; ')}`);
}
process.exit(failures === 0 ? 0 : 1);
