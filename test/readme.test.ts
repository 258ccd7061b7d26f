/**
 * "First contact works": every TypeScript snippet of the README and of the guides in `docs/`
 * (`DOCUMENT_PATHS`: docs/migrating-from-terraform.md), and the zero-argument platform,
 * synthesizes in the three kinds of stack a user has — environment-agnostic (what `cdk init app`
 * generates: no `env`), region-only and concrete — with no unresolved token in any construct id,
 * acknowledgement id or metadata key, no error annotation, and no unacknowledged cdk-nag finding.
 *
 * A token in an acknowledgement id once made `new DataflowPlatform(stack, 'Dataflow')` throw at synth
 * in every environment-agnostic stack ("... is used as the key in a map so must resolve to a
 * string"), while every test with a concrete `env` passed.
 */
import { CfnResource, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { DataflowPlatform, PrivateNetwork } from '../src';
import { NagFinding, TEST_ENV, expectNoNagFindings, nagFindings, newTestStack } from './helpers/gates';
import {
  DECLARED_TYPES,
  DOCUMENT_PATHS,
  Snippet,
  extractTsSnippets,
  readmeSnippets,
  replaceDeclarations,
  runProgram,
  runSnippet,
  snippetName,
  unresolvedTokenIds,
} from './helpers/readme-snippets';

/** The stacks a user writes: `cdk init app` (no env), a region only, a concrete account and region. */
const ENVIRONMENTS: readonly (readonly [string, StackProps['env']])[] = [
  ['environment-agnostic (cdk init app)', undefined],
  ['region-only', { region: 'eu-west-1' }],
  ['concrete', TEST_ENV],
];

const ALL_SNIPPETS = readmeSnippets();
/** Snippets placed in the rosetta fixture (a constructor of a Stack). */
const SNIPPETS = ALL_SNIPPETS.filter(s => !s.nofixture);
/** Whole programs (```ts nofixture), with their own app. */
const PROGRAMS = ALL_SNIPPETS.filter(s => s.nofixture);

/**
 * cdk-nag findings that the README snippets' own code causes (user choices shown in the README, not
 * the library's resources); everything else must be acknowledged by the library or absent.
 * Findings on the harness's stand-ins for `declare const` values are the user's too and are left out
 * by construct path (`SnippetRun.declaredPaths`).
 */
const USER_FINDINGS: readonly { rule: RegExp; path: RegExp; reason: string }[] = [
  {
    rule: /^(NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-IAMNoInlinePolicy$/,
    path: /^Test\/Declared\w+\/DefaultPolicy\/Resource$/,
    reason: 'a grant to the user\'s own role (`grantInvoke(operators)`, `grantReadWrite(consumer)`) lands in that role\'s '
      + 'CDK DefaultPolicy; how the user\'s role holds its policies is the user\'s choice',
  },
  {
    rule: /^(AwsSolutions-IAM5\[Resource::arn:.*:execute-api:.*\/\*\/\*\]|(NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-IAMNoInlinePolicy)$/,
    path: /^Clients\/Caller\/DefaultPolicy\/Resource$/,
    reason: 'the Layouts snippet\'s own role in its own stack: invoke on the platform\'s stage, read the database secret',
  },
  {
    rule: /^AwsSolutions-IAM5\[(Action::s3:(GetBucket|GetObject|List)\*|Resource::arn:(<AWS::Partition>|aws):s3:::my-reports\/\*)\]$/,
    path: /^Test\/DeclaredPlatform\/ServiceOrders\/TaskDef\/TaskRole\/DefaultPolicy\/Resource$/,
    reason: 'the IGrantable snippet\'s own `reports.grantRead(orders)`: aws-cdk-lib\'s read actions and object wildcard on the user\'s bucket',
  },
  {
    rule: /^AwsSolutions-COG[128]$/,
    path: /^Test\/Users\/Resource$/,
    reason: 'the snippet\'s own `new cognito.UserPool(this, \'Users\')` with default props: password policy, MFA and '
      + 'feature plan are the user\'s',
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::.*AmazonS3ReadOnlyAccess\]$/,
    path: /^Test\/Reports\/TaskDef\/TaskRole\/Resource$/,
    reason: 'the snippet\'s own `reports.taskRole.addManagedPolicy(AmazonS3ReadOnlyAccess)`',
  },
];

function isUserFinding(f: NagFinding): boolean {
  return USER_FINDINGS.some(u => u.rule.test(f.rule) && u.path.test(f.path));
}

/** `error`-level annotations (the CLI fails `cdk synth` on these), with their paths. */
function errorAnnotations(stack: Stack): string[] {
  return Annotations.fromStack(stack).findError('*', Match.anyValue()).map(m => `${m.id}: ${String(m.entry.data)}`);
}

function resourceCount(template: Template): number {
  return Object.keys(template.toJSON().Resources ?? {}).length;
}

/** Synthesizes, failing with the snippet's name and the stack's kind when synthesis throws. */
function synthesize(stack: Stack, what: string): Template {
  try {
    return Template.fromStack(stack);
  } catch (e) {
    const error = e as Error;
    error.message = `${what}: synthesis throws: ${error.message}`;
    throw error;
  }
}

describe('README TypeScript snippets', () => {
  test('are found, and every value they declare has a type the harness can build', () => {
    expect(SNIPPETS.length).toBeGreaterThan(0);
    // Every document of DOCUMENT_PATHS contributes snippets: a guide whose blocks stopped being found is not silently skipped.
    expect(DOCUMENT_PATHS.filter(file => !SNIPPETS.some(s => s.file === file))).toEqual([]);
    const unknown = SNIPPETS.flatMap(s => replaceDeclarations(s).declarations
      .filter(d => !DECLARED_TYPES[d.type])
      .map(d => `${snippetName(s)}: declare const ${d.name}: ${d.type}`));
    expect(unknown).toEqual([]);
  });

  describe.each(ENVIRONMENTS)('in a %s stack', (kind, env) => {
    test.each(SNIPPETS.map(s => [snippetName(s), s] as const))('%s synthesizes with no token ids, no errors and no unacknowledged nag findings', (name, snippet) => {
      const stack = newTestStack({ env });
      const what = `${name} in a ${kind} stack`;
      const run = runSnippet(snippet, stack);

      // Before synthesis: a token id is found even where synthesis would throw on it.
      expect(unresolvedTokenIds(stack)).toEqual([]);
      const template = synthesize(stack, what);
      // After synthesis: aspects and lazy values have added their constructs and metadata.
      expect(unresolvedTokenIds(stack)).toEqual([]);

      // A snippet may lay out stacks of its own in the app (`declare const app: App`): check them all.
      const stacks = stack.node.root.node.children.filter((c): c is Stack => Stack.isStack(c));
      expect(stacks.reduce((n, s) => n + resourceCount(s === stack ? template : synthesize(s, `${what} (${s.stackName})`)), 0)).toBeGreaterThan(0);
      // The snippet's own code made resources, not only the harness's stand-ins for declared values.
      const own = stack.node.root.node.findAll().filter(c => CfnResource.isCfnResource(c) && !run.declaredPaths.has(c.node.path));
      expect(own.length).toBeGreaterThan(0);
      for (const s of stacks) {
        expect(errorAnnotations(s)).toEqual([]);
        const unexpected = nagFindings(s)
          .filter(f => !run.declaredPaths.has(f.path) && !isUserFinding(f))
          .map(f => `${f.severity} ${f.rule} at ${f.path}`);
        expect(unexpected).toEqual([]);
      }
    });
  });
});

describe('README whole programs (ts nofixture)', () => {
  test('exist: the first platform as a complete app', () => {
    expect(PROGRAMS.length).toBeGreaterThan(0);
  });

  test.each(PROGRAMS.map(s => [snippetName(s), s] as const))('%s runs and synthesizes its app', (_name, program) => {
    expect(() => runProgram(program)).not.toThrow();
  });
});

describe.each(ENVIRONMENTS)('new DataflowPlatform(stack, \'Dataflow\') in a %s stack', (kind, env) => {
  function zeroArgPlatform(): { stack: Stack; template: Template } {
    const stack = newTestStack({ env });
    new DataflowPlatform(stack, 'Dataflow');
    expect(unresolvedTokenIds(stack)).toEqual([]);
    const template = synthesize(stack, `the zero-argument platform in a ${kind} stack`);
    return { stack, template };
  }

  test('synthesizes: the dataflow and skipper servers, no token ids, no error annotations', () => {
    const { stack, template } = zeroArgPlatform();
    expect(unresolvedTokenIds(stack)).toEqual([]);
    // README "Spring Cloud Data Flow": with no props, the dataflow server and the skipper server.
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'dataflow', PortMappings: [Match.objectLike({ ContainerPort: 9393 })] })]),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'skipper', PortMappings: [Match.objectLike({ ContainerPort: 7577 })] })]),
    });
    expect(errorAnnotations(stack)).toEqual([]);
  });

  test('passes cdk-nag', () => {
    const { stack } = zeroArgPlatform();
    expectNoNagFindings(stack);
  });
});

describe('the token-id check', () => {
  /** A construct acknowledging a rule whose id names the stack's region, as the fixed bug did. */
  function acknowledgeWithRegion(stack: Stack): Construct {
    const construct = new Construct(stack, 'Thing');
    Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:aws:ecr:${Stack.of(construct).region}:*]`, reason: 'test' });
    return construct;
  }

  test('reports an acknowledgement id holding the region of an environment-agnostic stack, which synthesis rejects', () => {
    const stack = newTestStack({ env: undefined });
    acknowledgeWithRegion(stack);
    expect(unresolvedTokenIds(stack)).toEqual([
      expect.stringMatching(/^acknowledgement id "(Annotation::)?AwsSolutions-IAM5\[Resource::arn:aws:ecr:\$\{Token\[AWS\.Region\.\d+\]\}:\*\]" at Test\/Thing$/),
    ]);
    expect(() => Template.fromStack(stack)).toThrow(/is used as the key in a map so must resolve to a string/);
  });

  test('finds nothing for the same acknowledgement in a concrete stack, where the region is a literal', () => {
    const stack = newTestStack({ env: TEST_ENV });
    acknowledgeWithRegion(stack);
    expect(unresolvedTokenIds(stack)).toEqual([]);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('reports a construct id, a metadata key and a nested metadata map key holding tokens', () => {
    const stack = newTestStack({ env: undefined });
    const thing = new Construct(stack, `Thing-${stack.account}`);
    const other = new Construct(stack, 'Other');
    other.node.addMetadata(`custom:${stack.region}`, 'value');
    other.node.addMetadata('custom', { outer: { [`key-${stack.region}`]: 'value' } });
    expect(unresolvedTokenIds(stack)).toEqual([
      expect.stringMatching(/^construct id "Thing-\$\{Token\[AWS\.AccountId\.\d+\]\}" at Test\/Thing-/),
      expect.stringMatching(/^metadata key "custom:\$\{Token\[AWS\.Region\.\d+\]\}" at Test\/Other$/),
      expect.stringMatching(/^metadata custom\.outer has key "key-\$\{Token\[AWS\.Region\.\d+\]\}" at Test\/Other$/),
    ]);
    expect(thing.node.path).toMatch(/^Test\/Thing-/);
  });
});

describe('the snippet harness', () => {
  const snippet = (code: string): Snippet => ({ file: 'README.md', line: 1, heading: '## Test', code, nofixture: false });

  test('extracts ts and typescript blocks only, with their line and heading', () => {
    const markdown = [
      '# Title', '```bash', 'npx cdk deploy', '```', '## Part', '```ts', 'const a = 1;', '```',
      '```typescript', 'const b = 2;', '```', '```json', '{}', '```',
    ].join('\n');
    expect(extractTsSnippets(markdown)).toEqual([
      { file: 'README.md', line: 6, heading: '## Part', code: 'const a = 1;', nofixture: false },
      { file: 'README.md', line: 9, heading: '## Part', code: 'const b = 2;', nofixture: false },
    ]);
  });

  test('names a guide\'s snippet by its file, line and heading', () => {
    const [first] = extractTsSnippets(['# Guide', '## Moving the data', '```ts', 'const a = 1;', '```'].join('\n'), 'docs/migrating-from-terraform.md');
    expect(snippetName(first)).toBe('docs/migrating-from-terraform.md:3 (## Moving the data)');
  });

  test('runs a snippet for real, with `this` the stack and cdk-dataflow-platform the library', () => {
    const stack = newTestStack({ env: undefined });
    runSnippet(snippet('new PrivateNetwork(this, \'Network\');'), stack);
    expect(stack.node.tryFindChild('Network')).toBeInstanceOf(PrivateNetwork);
  });

  test('gives a declared value a real construct of its type', () => {
    const stack = newTestStack({ env: undefined });
    const run = runSnippet(snippet('declare const vpc: ec2.IVpc;\nnew PrivateNetwork(this, \'Network\', { vpc });'), stack);
    expect(run.declarations).toEqual([{ name: 'vpc', type: 'ec2.IVpc' }]);
    expect((stack.node.findChild('Network') as PrivateNetwork).vpc).toBe(stack.node.findChild('DeclaredVpc'));
    expect(run.declaredPaths.has('Test/DeclaredVpc')).toBe(true);
    expect(run.declaredPaths.has('Test/Network')).toBe(false);
  });

  test('fails on a declared type it has no value for, naming the snippet and the type', () => {
    const stack = newTestStack({ env: undefined });
    expect(() => runSnippet(snippet('declare const bucket: s3.IBucket;\nbucket;'), stack))
      .toThrow(/README\.md:1 \(## Test\) declares `bucket: s3\.IBucket`, a type the README harness has no value for/);
  });

  test('fails, naming the snippet, when the snippet throws', () => {
    const stack = newTestStack({ env: undefined });
    expect(() => runSnippet(snippet('new DataflowPlatform(this, \'Dataflow\', { environmentName: \'Not Valid\' });'), stack))
      .toThrow(/^README\.md:1 \(## Test\) throws in stack Test: .*environmentName/);
  });
});
