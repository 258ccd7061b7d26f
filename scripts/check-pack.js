#!/usr/bin/env node
// Fails the pack when the tarball lacks a file that its own code loads from disk.
//
// lib/ loads Lambda code with `lambda.Code.fromAsset(path.join(__dirname, '<relative path>'))`
// (projen's generated src/**/*-function.ts). A tarball packed without `bundle` has no assets/ and
// throws CannotFindAsset in every user's synth; this check reads the tarball itself, so whatever
// produced it, what ships is what is checked.
//
// Usage: node scripts/check-pack.js [tarball]   (default: the one dist/js/*.tgz)
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..');

function tarballPath() {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  const dist = path.join(root, 'dist', 'js');
  const found = fs.existsSync(dist) ? fs.readdirSync(dist).filter(f => f.endsWith('.tgz')) : [];
  if (found.length !== 1) {
    console.error(`check-pack: expected exactly one tarball in dist/js, found ${found.length}`);
    process.exit(1);
  }
  return path.join(dist, found[0]);
}

/** The entries of a .tgz (POSIX ustar, as npm pack writes it): name → content. */
function readTarball(file) {
  const data = zlib.gunzipSync(fs.readFileSync(file));
  const entries = new Map();
  let longName;
  for (let offset = 0; offset + 512 <= data.length;) {
    const header = data.subarray(offset, offset + 512);
    if (header.every(b => b === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = data.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === '0' || type === '' || type === '5') {
      entries.set(name.replace(/^package\//, ''), type === '5' ? undefined : body);
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

const tarball = tarballPath();
const entries = readTarball(tarball);
const names = [...entries.keys()];
const missing = [];
let checked = 0;
for (const [name, body] of entries) {
  if (!/^lib\/.*\.js$/.test(name) || !body) continue;
  // Every path the module builds from its own directory and a literal: path.join(__dirname, '...').
  for (const match of body.toString('utf8').matchAll(/path\.(?:join|resolve)\(\s*__dirname\s*,\s*(['"`])([^'"`]+)\1\s*\)/g)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(name), match[2]));
    checked++;
    const present = names.some(n => n === target || n.startsWith(`${target}/`));
    if (!present) missing.push(`${name} loads ${target}`);
  }
}
if (missing.length > 0) {
  console.error(`check-pack: ${path.relative(root, tarball)} lacks files its code loads:\n  ${missing.join('\n  ')}\n` +
    'Run "npx projen bundle" before packing (every package task spawns it), then pack again.');
  process.exit(1);
}
console.log(`check-pack: ${path.relative(root, tarball)} has all ${checked} path(s) lib/ loads from disk`);
