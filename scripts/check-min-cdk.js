#!/usr/bin/env node
// scripts/check-min-cdk.js (projen task `check:min-cdk`, run by `check` after `package:js`).
//
// Installs the packed library (dist/js/*.jsii.tgz) into a fresh temporary directory together with
// the LOWEST versions its peerDependencies allow (aws-cdk-lib, constructs, cdk-ecr-deployment),
// the way a user on the oldest supported aws-cdk-lib would get it, then:
//   0. type-checks src/ against that aws-cdk-lib (tsconfig.json's options),
//   1. type-checks a small user app against the installed .d.ts files (skipLibCheck: false, so the
//      library's published declarations must also be valid against the old aws-cdk-lib), and
//   2. runs it: zero-argument DataflowPlatform in an environment-agnostic stack (what `cdk init`
//      generates) plus addService/grantInvoke, and a production platform in a concrete environment,
//      then app.synth().
//
// Unlike scripts/install-example.js this needs the npm registry (or a warm npm cache): the old
// aws-cdk-lib is not in the repository's node_modules. A fresh directory is used on purpose:
// `npm install --no-save aws-cdk-lib@<old>` inside the repository leaves a broken tree
// (aws-cdk-lib 2.269's @aws-cdk/cloud-assembly-schema@^54 is not installed next to the
// lockfile's 55.x: "Cannot find module '@aws-cdk/cloud-assembly-schema'").
//
// Options (for experiments; CI runs it without any):
//   --aws-cdk-lib=X --constructs=Y   test other versions than the peer minimums
//   --legacy-peer-deps               install even if X is outside the tarball's peer range
//   --keep                           keep the temporary directory
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// projen runs tasks in the project root.
const root = process.cwd();
const args = Object.fromEntries(process.argv.slice(2).map(a => {
  const [k, v] = a.replace(/^--/, '').split('=');
  return [k, v ?? true];
}));

const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
// semver comes with projen; minVersion('^2.269.0') is '2.269.0'.
const semver = require(require.resolve('semver', { paths: [root] }));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const min = name => {
  const range = pkg.peerDependencies?.[name];
  if (!range) throw new Error(`package.json has no peerDependency on ${name}`);
  return semver.minVersion(range).version;
};
const versions = {
  'aws-cdk-lib': args['aws-cdk-lib'] ?? min('aws-cdk-lib'),
  'constructs': args.constructs ?? min('constructs'),
  'cdk-ecr-deployment': args['cdk-ecr-deployment'] ?? min('cdk-ecr-deployment'),
};

const dist = path.join(root, 'dist', 'js');
const tarballs = fs.existsSync(dist) ? fs.readdirSync(dist).filter(f => f.endsWith('.tgz')) : [];
if (tarballs.length !== 1) {
  console.error(`expected exactly one packed tarball in dist/js, found ${tarballs.length}: run "npx projen package:js" first`);
  process.exit(1);
}

const started = Date.now();
const step = (what) => console.log(`[check:min-cdk +${((Date.now() - started) / 1000).toFixed(1)}s] ${what}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'min-cdk-'));
let failed = false;
try {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'min-cdk-app', private: true, license: 'UNLICENSED',
    dependencies: {
      ...versions,
      [pkg.name]: `file:${path.join(dist, tarballs[0])}`,
    },
  }, null, 2));
  step(`npm install ${Object.entries(versions).map(([n, v]) => `${n}@${v}`).join(' ')} + ${tarballs[0]}`);
  execFileSync('npm', [
    'install', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error',
    ...(args['legacy-peer-deps'] ? ['--legacy-peer-deps'] : []),
  ], { cwd: dir, stdio: 'inherit' });
  const installed = n => JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', n, 'package.json'), 'utf8')).version;
  step(`installed aws-cdk-lib ${installed('aws-cdk-lib')}, constructs ${installed('constructs')}, cdk-ecr-deployment ${installed('cdk-ecr-deployment')}, ${pkg.name} ${installed(pkg.name)}`);

  // 1. src/ against the old aws-cdk-lib. Needed besides the synth below: a property that exists
  //    only in a newer aws-cdk-lib (e.g. enforceSecurityGroupInboundRulesOnPrivateLinkTraffic,
  //    2.134.0) is silently ignored by JavaScript and would only change the template.
  fs.cpSync(path.join(root, 'src'), path.join(dir, 'src'), { recursive: true });
  const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'tsconfig.src.json'), JSON.stringify({
    compilerOptions: {
      ...compilerOptions, noEmit: true, types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
    },
    include: ['src/**/*.ts'],
  }, null, 2));
  step(`tsc --noEmit src/ against aws-cdk-lib ${versions['aws-cdk-lib']}`);
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.src.json'], { cwd: dir, stdio: 'inherit' });

  // 2. A user app against the packed library.
  fs.writeFileSync(path.join(dir, 'app.ts'), appSource(pkg.name));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'node16', moduleResolution: 'node16', lib: ['es2022'],
      strict: true, noImplicitAny: true, esModuleInterop: true, skipLibCheck: false,
      types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')], outDir: 'out',
    },
    files: ['app.ts'],
  }, null, 2));
  step('tsc app.ts (skipLibCheck: false)');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
  step('node app.js (synth)');
  execFileSync(process.execPath, ['out/app.js'], { cwd: dir, stdio: 'inherit' });
  step(`OK: ${pkg.name} works with aws-cdk-lib ${versions['aws-cdk-lib']} and constructs ${versions.constructs}`);
} catch (e) {
  failed = true;
  step(`FAILED against aws-cdk-lib ${versions['aws-cdk-lib']} / constructs ${versions.constructs}: ${e.message.split('\n')[0]}`);
} finally {
  if (args.keep) console.log(`kept ${dir}`); else fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// The user app: only aws-cdk-lib and the library, nothing test-only (no cdk-nag, no cx-api flags).
function appSource(packageName) {
  return `
import { App, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DataflowPlatform } from '${packageName}';

const app = new App();

// 1. Zero-argument platform, environment-agnostic stack (cdk init).
const stack = new Stack(app, 'MinCdk');
const platform = new DataflowPlatform(stack, 'Dataflow');
const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'shop');
platform.addService('orders', {
  image: ecs.ContainerImage.fromEcrRepository(repository, 'orders-1.0.0'),
  port: 8080,
  connectsTo: ['billing'],
  useDatabase: true,
  useKafka: true,
});
platform.addService('billing', { image: ecs.ContainerImage.fromEcrRepository(repository, 'billing-1.0.0'), port: 8081 });
platform.gateway.grantInvoke(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));

// 2. Production platform in a concrete environment, with a public image through the platform.
const prod = new Stack(app, 'MinCdkProd', { env: { account: '123456789012', region: 'eu-west-1' } });
const prodPlatform = new DataflowPlatform(prod, 'Dataflow', { production: true });
prodPlatform.addService('web', { image: prodPlatform.publicImage('public.ecr.aws/docker/library/nginx:1'), port: 8080 });

const assembly = app.synth();
const cdkVersion: string = require('aws-cdk-lib/package.json').version;
for (const s of assembly.stacks) {
  const resources = Object.values((s.template as { Resources: Record<string, { Type: string }> }).Resources);
  const types = new Set(resources.map(r => r.Type));
  for (const needed of ['AWS::ECS::Service', 'AWS::RDS::DBInstance', 'AWS::MSK::Cluster', 'AWS::ApiGateway::RestApi', 'AWS::ElasticLoadBalancingV2::LoadBalancer']) {
    if (!types.has(needed)) throw new Error(s.stackName + ': no ' + needed + ' in the template');
  }
  console.log('aws-cdk-lib ' + cdkVersion + ': ' + s.stackName + ' synthesized, ' + resources.length + ' resources');
}
`;
}
