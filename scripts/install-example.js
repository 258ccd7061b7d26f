#!/usr/bin/env node
// Installs the packed library (dist/js/*.jsii.tgz) into examples/node_modules the way a user would:
// `npm install <tarball>`. aws-cdk-lib, constructs and cdk-nag resolve from the repository's own
// node_modules (peer dependencies, not reinstalled), so this needs no network.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'js');
const tarballs = fs.existsSync(dist) ? fs.readdirSync(dist).filter(f => f.endsWith('.tgz')) : [];
if (tarballs.length !== 1) {
  console.error(`expected exactly one packed tarball in dist/js, found ${tarballs.length}: run "npx projen package:js" first`);
  process.exit(1);
}
const examples = path.join(root, 'examples');
const installed = path.join(examples, 'node_modules', 'cdk-dataflow-platform');
fs.rmSync(installed, { recursive: true, force: true });
execFileSync('npm', [
  'install', '--no-save', '--no-package-lock', '--legacy-peer-deps', '--no-audit', '--no-fund', '--ignore-scripts',
  path.join(dist, tarballs[0]),
], { cwd: examples, stdio: 'inherit' });
const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
console.log(`installed ${pkg.name}@${pkg.version} from ${path.relative(root, path.join(dist, tarballs[0]))}`);
