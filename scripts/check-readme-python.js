#!/usr/bin/env node
// The README's Python examples are jsii-rosetta's translations, not hand-written: every ```python
// block must equal rosetta's Python translation of the nearest ```ts block above it (read from the
// tablet that `jsii-rosetta extract --compile` just wrote), that TypeScript must have compiled, and
// the Python must byte-compile. Run by the `rosetta` task after the extraction.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = process.cwd();
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
const tablet = JSON.parse(fs.readFileSync(path.join(root, '.jsii.tabl.json'), 'utf8'));
const snippets = Object.values(tablet.snippets);
const normalize = text => text.split('\n').map(l => l.trimEnd()).join('\n').trim();

// Blocks in order: { lang, line, code }.
const blocks = [];
for (let i = 0; i < readme.length; i++) {
  const open = /^```(\w+)/.exec(readme[i]);
  if (!open) continue;
  let j = i + 1;
  while (j < readme.length && !readme[j].startsWith('```')) j++;
  blocks.push({ lang: open[1], line: i + 1, code: readme.slice(i + 1, j).join('\n') });
  i = j;
}

const problems = [];
let checked = 0;
blocks.forEach((block, index) => {
  if (block.lang !== 'python') return;
  const ts = blocks.slice(0, index).reverse().find(b => b.lang === 'ts' || b.lang === 'typescript');
  if (!ts) {
    problems.push(`README.md:${block.line}: a python block with no TypeScript block above it to translate`);
    return;
  }
  const entry = snippets.find(s => normalize(s.translations.$.source) === normalize(ts.code));
  if (!entry) {
    problems.push(`README.md:${block.line}: rosetta has no translation of the TypeScript block at README.md:${ts.line} (run npx projen rosetta)`);
    return;
  }
  if (!entry.didCompile) {
    problems.push(`README.md:${ts.line}: the TypeScript block the python block translates does not compile`);
  }
  const expected = normalize(entry.translations.python.source);
  if (normalize(block.code) !== expected) {
    problems.push(`README.md:${block.line}: the python block differs from rosetta's translation of README.md:${ts.line}; replace it with:\n${expected}`);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'readme-py-')), 'example.py');
  fs.writeFileSync(file, block.code + '\n');
  try {
    execFileSync('python3', ['-m', 'py_compile', file], { stdio: 'pipe' });
  } catch (e) {
    problems.push(`README.md:${block.line}: the python block does not compile: ${e.stderr}`);
  }
  checked += 1;
});
if (checked === 0) {
  problems.push('README.md has no python block: the Install section shows a Python example');
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`README python blocks: ${checked} checked against rosetta's translations and byte-compiled`);
