import { parseStreamDefinition } from '../../src/private/stream-dsl';

const TICKTOCK = 'time --time.date-format=yyyy-MM-dd | transform --spel.function.expression=payload.toUpperCase() | log';

describe('parseStreamDefinition: pipelines', () => {
  test('the ticktock example: source, processor, sink with properties', () => {
    expect(parseStreamDefinition('ticktock', TICKTOCK)).toEqual({
      apps: [
        { label: 'time', name: 'time', properties: { 'time.date-format': 'yyyy-MM-dd' }, role: 'source' },
        { label: 'transform', name: 'transform', properties: { 'spel.function.expression': 'payload.toUpperCase()' }, role: 'processor' },
        { label: 'log', name: 'log', properties: {}, role: 'sink' },
      ],
      inputDestination: undefined,
      outputDestination: undefined,
    });
  });

  test('a chain of processors keeps pipeline order; only the ends are source and sink', () => {
    const { apps } = parseStreamDefinition('chain', 'http | filter | transform | splitter | log');
    expect(apps.map(app => [app.name, app.role])).toEqual([
      ['http', 'source'], ['filter', 'processor'], ['transform', 'processor'], ['splitter', 'processor'], ['log', 'sink'],
    ]);
  });

  test('properties keep the order written, and tabs and extra spaces separate tokens', () => {
    const { apps } = parseStreamDefinition('s', '  time\t--b=2  --a=1 --c=x=y |log  ');
    expect(Object.entries(apps[0].properties)).toEqual([['b', '2'], ['a', '1'], ['c', 'x=y']]);
    expect(apps[1].name).toBe('log');
  });

  test('labels name apps, so one app can appear twice', () => {
    const { apps } = parseStreamDefinition('s', 'http | t1: transform --a=1 | t2: transform --a=2 | log');
    expect(apps.map(app => [app.label, app.name, app.properties.a])).toEqual([
      ['http', 'http', undefined], ['t1', 'transform', '1'], ['t2', 'transform', '2'], ['log', 'log', undefined],
    ]);
  });

  test('a property named like a prototype member is an ordinary own property', () => {
    const { apps } = parseStreamDefinition('s', 'time --__proto__=x --constructor=y | log');
    expect(Object.keys(apps[0].properties)).toEqual(['__proto__', 'constructor']);
  });
});

describe('parseStreamDefinition: quoted values', () => {
  test.each([
    ['single quotes around spaces', "--expression='payload > 5'", 'payload > 5'],
    ['double quotes around spaces', '--expression="new StringBuilder(payload).reverse()"', 'new StringBuilder(payload).reverse()'],
    ["'|' inside quotes", "--expression='a | b'", 'a | b'],
    ["'=' inside the value", '--expression=payload==1', 'payload==1'],
    ['a doubled single quote stands for one', "--query='name=''Smith'''", "name='Smith'"],
    // SCDF keeps a value with "" in it verbatim, quotes and all; only '' collapses (AbstractTokenizer.java:254-281 at v2.11.5).
    ['a doubled double quote is kept as written, quotes and all', '--say="he said ""hi"""', '"he said ""hi"""'],
    ['the other kind of quote needs no escaping', '--expression=\'payload == "x"\'', 'payload == "x"'],
    ['an empty quoted value', "--prefix=''", ''],
    ['a partly quoted value is kept as written', "--expression='hi '+payload", "'hi '+payload"],
    ['quotes inside an unquoted value are kept', "--expression=payload=='something'", "payload=='something'"],
  ])('%s', (_name, property, value) => {
    const { apps } = parseStreamDefinition('s', `http | filter ${property} | log`);
    expect(Object.values(apps[1].properties)).toEqual([value]);
    expect(apps.map(app => app.name)).toEqual(['http', 'filter', 'log']);
  });
});

describe('parseStreamDefinition: named destinations', () => {
  test.each([
    [':orders > log', 'orders', undefined, [['log', 'sink']]],
    [':orders > transform | log', 'orders', undefined, [['transform', 'processor'], ['log', 'sink']]],
    ['http > :orders', undefined, 'orders', [['http', 'source']]],
    ['time | transform > :orders', undefined, 'orders', [['time', 'source'], ['transform', 'processor']]],
    [':in > transform > :out', 'in', 'out', [['transform', 'processor']]],
    [':ticktock.time > log', 'ticktock.time', undefined, [['log', 'sink']]],
    ['http>:my_orders-2', undefined, 'my_orders-2', [['http', 'source']]],
    // SCDF reads these too (StreamParser.java:141-154 and 329-341 at v2.11.5; test bridge01, issue 18).
    [':a > :b', 'a', 'b', [['bridge', 'processor']]],
    ['time > : orders', undefined, 'orders', [['time', 'source']]],
  ])('%s', (definition, input, output, apps) => {
    const parsed = parseStreamDefinition('s', definition);
    expect(parsed.inputDestination).toBe(input);
    expect(parsed.outputDestination).toBe(output);
    expect(parsed.apps.map(app => [app.name, app.role])).toEqual(apps);
  });
});

describe('parseStreamDefinition: errors name the stream, the part, its column and the fix', () => {
  test.each([
    ['parallel apps', 'time || log', /^addStream\('s'\): '\|\|' .*not supported at column 6 .*connect apps in a pipeline with '\|'/],
    ['task sequencing', 'a && b', /'&&' \(composed-task sequencing\) is not supported in a stream at column 3/],
    ['a single &', 'a & b', /'&' \(composed-task sequencing\).* at column 3/],
    ["'<'", 'log < :orders', /'<' is not supported at column 5 .*':name > app'/],
    ["a second '>' after the output destination", 'time > :a > :b', /more than one '>'.* at column 11/],
    ["a second '>' after the input destination", ':a > :b > log', /more than one '>'.* at column 9/],
    ["'>' between two apps", 'time > log', /'>' is not followed by a named destination at column 8 .*connect apps with '\|'/],
    ["'>' at the end", 'time | log >', /'>' is not followed by a named destination at column 12/],
    ['an input destination without >', ':orders | log', /named destination ':orders' is not followed by '>' at column 9 .*':orders > app'/],
    ['an input destination without app', ':orders >', /an app is missing after '>' at column 9/],
    ['a destination in the middle', 'time | :mid | log', /named destination ':mid' in the middle.* at column 8 .*put it first/],
    ["':' without a name", 'time > :', /':' is not followed by a destination name at column 8/],
    ['an invalid destination name', 'time > :ord$ers', /invalid destination name 'ord\$ers' at column 8 .*letters, digits, '\.', '-' and '_'/],
    ['duplicate apps', 'http | transform | transform | log', /app 'transform' appears twice without labels \(also at column 8\) at column 20 .*'t1: transform \| t2: transform'/],
    ['duplicate labels', 'a: http | a: log', /label 'a' is already used at column 1 at column 11 .*its own label/],
    ['a label equal to an earlier app name', 'http | http: log', /label 'http' is already used at column 1 at column 8/],
    ['an empty definition', '', /^addStream\('s'\): the definition is empty; .*'time \| log'/],
    ['a blank definition', '  \t ', /the definition is empty/],
    ['an empty app between pipes', 'time | | log', /an app is missing next to '\|' at column 8/],
    ['a trailing pipe', 'time | log |', /an app is missing next to '\|' at column 12/],
    ['a leading pipe', '| log', /an app is missing next to '\|' at column 1/],
    ['a property without --', 'time date-format=x | log', /property 'date-format' has no '--' at column 6 .*'--date-format=\.\.\.'/],
    ['a property without =', 'time --fixed-delay 5 | log', /property '--fixed-delay' has no '=' at column 6 .*'--fixed-delay=value'/],
    ['a property without a value', 'time --fixed-delay= | log', /property '--fixed-delay' has no value at column 6 .*--fixed-delay='' for an empty value/],
    ["'--' without a name", 'time --=5 | log', /'--' is not followed by a property name at column 6/],
    ['an invalid property name', 'time --a..b=5 | log', /invalid property name '--a\.\.b' at column 6/],
    ['a property glued to the app', 'time--fixed-delay=5 | log', /'--' follows the app name without a space at column 5 .*put a space before '--'/],
    ['an unterminated single quote', "time | filter --expression='payload > 5 | log", /unterminated ' in the value of '--expression' at column 28 .*write a ' inside it as ''/],
    ['an unterminated double quote', 'time | filter --expression="payload | log', /unterminated " in the value of '--expression' at column 28/],
    ['an unterminated quote mid-value', "time | filter --expression=payload=='x | log", /unterminated ' in the value of '--expression' at column 37/],
    ['a property before any app', '--foo=bar | log', /property '--foo' comes before its app at column 1 .*put it after the app it configures/],
    ['a property after a pipe', 'time | --foo=bar log', /property '--foo' comes before its app at column 8/],
    ['a property on an input destination', ':orders --foo=bar > log', /property '--foo=bar' on the named destination ':orders' is not supported at column 9 .*remove it/],
    ['a property on an output destination', 'time > :orders --foo=bar', /property '--foo=bar' on the named destination ':orders' is not supported at column 16/],
    ['the same property twice', 'time --a=1 --a=2 | log', /property '--a' is set twice on 'time' at column 12/],
    ['an app name starting with a digit', '1time | log', /invalid app name '1time' at column 1 .*starting with a letter/],
    ['an app name with a dot', 'time | my.log', /invalid app name 'my\.log' at column 8/],
    ['an app name with $', 'ti$me | log', /invalid app name 'ti\$me' at column 1/],
    ['an invalid label', '_t: time | log', /invalid label '_t' at column 1 .*letters, digits, '-' and '_'/],
    ['a label without a space after the colon', 'a:time | log', /label 'a:' is not followed by a space at column 3 .*'a: app'/],
    ['a label without an app', 'time | t:', /label 't:' is not followed by an app at column 8/],
    ['a second label', 'a: b: time | log', /app has two labels, 'a:' and 'b:' at column 4 .*keep one label/],
    ['two apps without a pipe', 'time log', /unexpected 'log' at column 6 .*separate apps with '\|'/],
    ['an unexpected character', 'time | log @x', /unexpected character "@" at column 12/],
    ['a quote outside a value', "time | 'log'", /unexpected character "'" at column 8 .*quotes belong in property values/],
    ['a line break', 'time |\nlog', /unexpected character "\\n" at column 7/],
    ['one app alone', 'time --fixed-delay=5', /'time' alone is not a stream at column 1 .*'time \| log'.*'time > :name'/],
  ])('%s', (_name, definition, message) => {
    expect(() => parseStreamDefinition('s', definition)).toThrow(message);
  });

  test('every error starts with the stream name and shows the definition', () => {
    expect(() => parseStreamDefinition('ticktock', 'time || log')).toThrow(/^addStream\('ticktock'\): .* of "time \|\| log"; /);
  });

  test.each(['1ticktock', 'tick_tock', 'tick.tock', 'tick tock', ''])('the stream name %j is rejected', (name) => {
    expect(() => parseStreamDefinition(name, 'time | log')).toThrow(
      new RegExp(`^addStream\\('${name.replace('.', '\\.')}'\\): invalid stream name; use letters, digits and '-', starting with a letter$`));
  });

  test('stream names may hold digits and hyphens', () => {
    expect(parseStreamDefinition('tick-tock-2', 'time | log').apps).toHaveLength(2);
  });
});
