#!/usr/bin/env node
// AWS's CloudFormation linter over every template we synthesize: the test suite's (collected by
// test/helpers/collect-templates.ts into test-reports/cfn-templates/, README snippets and nested
// stacks included) and the example's (examples/cdk.out). Regions and the rules we ignore, each with
// its reason, are in .cfnlintrc.yaml, which cfn-lint reads from the project root.
//
// Fails on any error or warning that .cfnlintrc.yaml does not ignore, when nothing was collected
// (the tests did not run), and, under CI=true, when cfn-lint is not installed. It never passes
// silently: without cfn-lint outside CI it says loudly that the gate did not run.
//
// Usage: node scripts/cfn-lint.js [template or folder ...]   (default: the two places above)
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { assemblyTemplates } = require('./assembly-templates');

const root = path.resolve(__dirname, '..');
/** The version on our machines and in CI; another version may know other rules and schemas. */
const TESTED_VERSION = '1.51.0';
/** Templates per cfn-lint process: each loads its schemas once (about 2 s); small batches keep both workers busy. */
const BATCH = 40;
const INSTALL = `pipx install cfn-lint==${TESTED_VERSION}   (or: pip install cfn-lint==${TESTED_VERSION})`;

function templatesIn(target) {
  if (!fs.existsSync(target)) return [];
  if (fs.statSync(target).isFile()) return [target];
  return fs.readdirSync(target).filter(f => f.endsWith('.template.json')).sort().map(f => path.join(target, f));
}

/**
 * What to lint, grouped by the regions to lint it for: a stack with a region deploys there only, an
 * environment-agnostic stack anywhere, so it is linted for every region of .cfnlintrc.yaml
 * (`regions: undefined`).
 */
function groups() {
  if (process.argv.length > 2) {
    return [{ regions: undefined, files: process.argv.slice(2).flatMap(a => templatesIn(path.resolve(a))) }];
  }
  const byRegion = new Map();
  const add = (region, file) => byRegion.set(region, [...(byRegion.get(region) ?? []), file]);
  const collected = path.join(root, 'test-reports', 'cfn-templates');
  if (fs.existsSync(collected)) {
    for (const folder of fs.readdirSync(collected)) {
      for (const file of templatesIn(path.join(collected, folder))) add(folder === 'any' ? undefined : folder, file);
    }
  }
  const example = path.join(root, 'examples', 'cdk.out');
  if (fs.existsSync(path.join(example, 'manifest.json'))) {
    for (const { file, region } of assemblyTemplates(example)) add(region, file);
  }
  // A region cfn-lint does not know (a test's made-up future region) is linted like an
  // environment-agnostic template: for the regions of .cfnlintrc.yaml.
  const known = supportedRegions();
  const merged = new Map();
  for (const [region, files] of byRegion) {
    const key = region && known.includes(region) ? region : undefined;
    merged.set(key, [...(merged.get(key) ?? []), ...files]);
  }
  return [...merged].map(([region, files]) => ({ regions: region && [region], files }));
}

/** The regions this cfn-lint has schemas for, as it lists them when given one it does not know. */
function supportedRegions() {
  const template = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-regions-')), 'probe.template.json');
  fs.writeFileSync(template, JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }));
  const probe = spawnSync('cfn-lint', ['--regions', 'xx-unknown-0', '--', template], { encoding: 'utf8' });
  fs.rmSync(path.dirname(template), { recursive: true, force: true });
  const list = /Supported regions are \[([^\]]*)\]/.exec(`${probe.stderr}${probe.stdout}`);
  if (!list) throw new Error(`could not read cfn-lint's supported regions: ${probe.stderr || probe.stdout}`);
  return [...list[1].matchAll(/'([^']+)'/g)].map(m => m[1]);
}

function lint({ regions, files }) {
  return new Promise((resolve, reject) => {
    // JSON output: one object per finding, with rule id, level, file and line.
    const child = spawn('cfn-lint', ['--format', 'json', ...(regions ? ['--regions', ...regions] : []), '--', ...files], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', code => {
      // cfn-lint's exit code is a bit field of levels found (2 error, 4 warning, 8 info); 1 is a crash.
      if (code === 1 || stdout.trim() === '') {
        if (code === 0) return resolve([]);
        return reject(new Error(`cfn-lint failed (exit ${code}): ${stderr || stdout}`));
      }
      resolve(JSON.parse(stdout));
    });
  });
}

async function main() {
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    const message = `cfn-lint (AWS's CloudFormation linter) is not installed, so the templates were NOT linted.\n  Install it: ${INSTALL}`;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      console.error(`cfn-lint gate: ${message}\n  Under CI this gate fails.`);
      process.exit(1);
    }
    console.error(`\n*** cfn-lint gate SKIPPED: ${message}\n*** Under CI=true this gate fails.\n`);
    return;
  }
  const installed = version.stdout.trim().replace(/^cfn-lint\s+/, '');
  if (installed !== TESTED_VERSION) {
    console.error(`cfn-lint gate: cfn-lint ${installed} is installed; the gate is set up for ${TESTED_VERSION} (${INSTALL}). Continuing.`);
  }

  const work = groups().filter(g => g.files.length > 0);
  const files = work.flatMap(g => g.files);
  if (files.length === 0) {
    console.error('cfn-lint gate: no templates in test-reports/cfn-templates or examples/cdk.out: run the tests (npx projen test) and the example (npx projen example) first');
    process.exit(1);
  }

  // Two processes at a time (the machines have two cores), each over a batch of templates.
  const batches = [];
  for (const { regions, files: some } of work) {
    for (let i = 0; i < some.length; i += BATCH) batches.push({ regions, files: some.slice(i, i + BATCH) });
  }
  const findings = [];
  let next = 0;
  async function worker() {
    while (next < batches.length) {
      findings.push(...await lint(batches[next++]));
    }
  }
  await Promise.all([worker(), worker()]);

  const config = fs.readFileSync(path.join(root, '.cfnlintrc.yaml'), 'utf8');
  const where = [...config.matchAll(/^\s+- ([a-z]{2}(?:-[a-z]+)+-\d)\s*$/gm)].map(m => m[1]).join(', ');
  if (findings.length > 0) {
    const lines = findings.map(f =>
      `${f.Level.toUpperCase()} ${f.Rule.Id} ${path.relative(root, f.Filename)}:${f.Location.Start.LineNumber} ${f.Location.Path.join('/')}\n    ${f.Message}`);
    const byRule = {};
    for (const f of findings) byRule[f.Rule.Id] = (byRule[f.Rule.Id] || 0) + 1;
    console.error(lines.join('\n'));
    console.error(`\ncfn-lint gate: ${findings.length} finding(s) in ${files.length} templates: ${Object.entries(byRule).map(([r, n]) => `${r} ×${n}`).join(', ')}.\n` +
      'Fix the template, or, where AWS documents that the finding does not apply, ignore the rule in .cfnlintrc.yaml with the reason and its source.');
    process.exit(1);
  }
  const pinned = work.filter(g => g.regions).map(g => `${g.files.length} in ${g.regions[0]}`);
  const agnostic = work.filter(g => !g.regions).reduce((n, g) => n + g.files.length, 0);
  console.log(`cfn-lint gate: ${files.length} templates (${agnostic} environment-agnostic, linted for ${where}; ${pinned.join(', ') || 'none with a region'}): no errors, no warnings`);
}

main().catch(err => {
  console.error(`cfn-lint gate: ${err.message}`);
  process.exit(1);
});
