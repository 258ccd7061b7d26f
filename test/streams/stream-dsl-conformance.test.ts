import { CorpusCase, SCDF_DSL_CORPUS, ScdfAccepts } from './scdf-dsl-corpus';
import { parseStreamDefinition } from '../../src/private/stream-dsl';

/** What parseStreamDefinition must yield where SCDF accepts the definition: the same apps and destinations. */
function expected(scdf: ScdfAccepts) {
  return {
    apps: scdf.apps.map(app => ({ name: app.name, label: app.label, properties: app.properties })),
    inputDestination: scdf.inputDestination,
    outputDestination: scdf.outputDestination,
  };
}

function parse(c: CorpusCase) {
  const parsed = parseStreamDefinition(c.streamName ?? 's', c.definition);
  return {
    apps: parsed.apps.map(app => ({ name: app.name, label: app.label, properties: Object.entries(app.properties) })),
    inputDestination: parsed.inputDestination,
    outputDestination: parsed.outputDestination,
  };
}

const accepts = (c: CorpusCase): c is CorpusCase & { scdf: ScdfAccepts } => 'apps' in c.scdf;

describe('parseStreamDefinition agrees with Spring Cloud Data Flow 2.11.5 (AbstractStreamDslTests and its parser)', () => {
  test.each(SCDF_DSL_CORPUS.map(c => [c.id, JSON.stringify(c.definition), c]))('%s: %s', (_id, _definition, c) => {
    if (c.verdict === 'agree' && accepts(c)) {
      // Inside the subset: what SCDF yields, with nothing SCDF has that the subset lacks.
      const { streamName, unbound, inputDestinationArguments, outputDestinationArguments } = c.scdf;
      expect([streamName, unbound, inputDestinationArguments, outputDestinationArguments]).toEqual([undefined, undefined, undefined, undefined]);
      expect(parse(c)).toEqual(expected(c.scdf));
    } else if (c.verdict === 'agree') {
      // SCDF rejects it, and so do we, saying where.
      expect(c.error).toMatch(/ at column \d+$|^invalid stream name$|^the definition is empty$/);
      expect(() => parse(c)).toThrow(c.error);
    } else {
      // SCDF accepts it, addStream does not: a clear error naming the part and what to write instead.
      expect(accepts(c)).toBe(true);
      expect([c.category, c.reason, c.error, c.fix].every(field => typeof field === 'string' && field.length > 0)).toBe(true);
      expect(() => parse(c)).toThrow(c.error);
      expect(() => parse(c)).toThrow(c.fix);
    }
  });
});

describe('the corpus', () => {
  test('covers every definition of the test suite and names each case once', () => {
    const ids = SCDF_DSL_CORPUS.map(c => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(SCDF_DSL_CORPUS.filter(c => c.source.startsWith('AbstractStreamDslTests.java:') && !c.id.endsWith(':derived'))).toHaveLength(143);
    expect(SCDF_DSL_CORPUS.filter(c => c.verdict === 'agree' && !accepts(c)).every(c => c.error)).toBe(true);
  });

  test('each rejection outside the subset is one of the features addStream leaves out', () => {
    const categories = new Set(SCDF_DSL_CORPUS.filter(c => c.verdict === 'rejectedOutsideSubset').map(c => c.category));
    expect([...categories].sort()).toEqual([
      'app-name', 'destination-arguments', 'destination-name', 'glued-property', 'inline-name', 'open-quote',
      'property-twice', 'stream-name', 'unbound-app', 'unbound-list',
    ]);
  });
});
