/**
 * A parser for the part of the Spring Cloud Data Flow stream DSL that `addStream` supports:
 * `[:destination >] [label: ]app [--key=value]* (| [label: ]app [--key=value]*)* [> :destination]`,
 * and the bridge `:destination > :destination`.
 *
 * Inside that subset it yields what SCDF's own parser yields (apps, labels, argument values,
 * destinations); everything else SCDF accepts is an error that names the part, its column and what to
 * write instead. test/streams/scdf-dsl-corpus.ts holds the cases of SCDF's DSL test suite
 * (AbstractStreamDslTests.java) and what each yields in SCDF and here.
 *
 * Grammar facts from spring-cloud/spring-cloud-dataflow, tag v2.11.5 (commit aded769567a3), files in
 * spring-cloud-dataflow-core-dsl/src/main/java/org/springframework/cloud/dataflow/core/dsl/; the
 * places each rule relies on are cited next to the code:
 * - Tokenizer.java and AbstractTokenizer.java lex the text; AppParser.java reads apps and their
 *   arguments; StreamParser.java reads the stream: `name =`, destinations, the app list, the bridge.
 * - Quotes: a value wholly in '...' loses its quotes and each '' in it stands for one '. A value wholly
 *   in "..." loses its quotes, but a "" in it closes and reopens the quote, so such a value is kept
 *   verbatim, quotes and all (AbstractTokenizer.java lines 254-281). The docs say a doubled quote of
 *   either kind stands for one (spring-cloud-dataflow-docs/src/main/asciidoc/shell.adoc, "DSL Parsing
 *   Rules"); the parser, which is what SCDF runs, does so only for single quotes. A value quoted only in
 *   part ('hi'+payload) is kept as written.
 * - Outside the subset, each an error with what to write instead: a stream name inside the definition
 *   (`name = ...`), '||' and a lone app (unbound apps), arguments on a named destination, destination
 *   names that are no Kafka topic names ('$', '*', '/', '#'), app names and labels that start with a
 *   digit or '_' or hold '$', the same property twice, and a quote left open that would take the rest of
 *   the definition into a value. Composed-task operators ('&&', '<'), ';' and line breaks SCDF rejects too.
 */

export interface StreamDslApp {
  readonly label: string; // the label if given ('label: app'), else the app name
  readonly name: string; // 'time', 'transform', 'log', ...
  readonly properties: { readonly [key: string]: string }; // from --key=value, in order, unquoted
  readonly role: 'source' | 'processor' | 'sink';
}

export interface StreamDslDefinition {
  readonly apps: StreamDslApp[]; // pipeline order
  readonly inputDestination?: string; // ':orders > ...'
  readonly outputDestination?: string; // '... > :orders'
}

/**
 * AppParser.java lines 249-261 (isValidName): SCDF's stream names are Java identifiers that may hold '-'.
 * Here letters, digits and '-', starting with a letter: the apps run as services '<stream>-<label>'.
 */
const STREAM_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
/**
 * AbstractTokenizer.java lines 133-135 (isIdentifier) and Tokenizer.java lines 51-53: SCDF's app names and
 * labels start with a letter, digit or '_' and go on with letters, digits, '_', '$', '-'. Here letters,
 * digits, '-' and '_', starting with a letter: they name services and construct ids.
 */
const APP_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/**
 * SCDF's destination names are identifiers (AbstractTokenizer.java lines 133-135: letters, digits, '_',
 * '$', '-', not starting with '-') and '*', '/', '#', joined by '.' (StreamParser.java lines 291-303 and
 * 342-359). Here: the ones that are Kafka topic names (letters, digits, '.', '_', '-'), without '$' or
 * pattern characters.
 */
const DESTINATION_NAME = /^[A-Za-z0-9_][\w-]*(\.+[A-Za-z0-9_][\w-]*)*$/;
/** What SCDF's parser reads as part of a destination name, and '-' so that bad names come out whole. */
const DESTINATION_CHAR = /[\w$*/#.-]/;
const PROPERTY_NAME = /^\w[\w$-]*(\.\w[\w$-]*)*$/;
/** What SCDF reads as one identifier, plus '.' so that dotted names and bad names come out whole. */
const WORD_CHAR = /[\w$.-]/;
/** Tokenizer.java lines 77-82: ' ', '\t' and '\r' separate tokens; '\n' is a token no stream rule accepts. */
const BLANK = /[ \t\r]/;
/** AbstractTokenizer.java lines 223-227: what ends an argument value outside quotes (and the end of the text). */
const VALUE_END = /[ \t\r\n|>;]/;
const QUOTES = ["'", '"'];
const OPERATORS: TokenKind[] = ['||', '&&', '|', '>', '<', '&'];
const PIPE_FIX = "connect apps in a pipeline with '|'";
const NAME_RULE = "app names and labels are letters, digits, '-' and '_', starting with a letter";
const DESTINATION_RULE = "Kafka topic names hold only letters, digits, '.', '-' and '_'";

type TokenKind = 'word' | 'label' | 'destination' | 'property' | '||' | '&&' | '|' | '>' | '<' | '&';

interface Token {
  readonly kind: TokenKind;
  readonly text: string; // the word, label, destination or property name, or the operator
  readonly column: number; // 1-based
  readonly value?: string;
  readonly source?: string; // a property as written, '--key=value'
}

interface ParsedApp {
  readonly label?: Token;
  readonly name: Token;
  readonly properties: Map<string, string>;
}

/**
 * Parses a stream definition such as `time | transform --spel.function.expression=payload.toUpperCase() | log`.
 *
 * Throws an error naming the stream, the unsupported part, its column and the fix.
 */
export function parseStreamDefinition(streamName: string, definition: string): StreamDslDefinition {
  return new StreamDslParser(streamName, definition).parse();
}

class StreamDslParser {
  private readonly tokens: Token[] = [];
  private pos = 0;

  constructor(private readonly streamName: string, private readonly definition: string) {}

  public parse(): StreamDslDefinition {
    if (!STREAM_NAME.test(this.streamName)) {
      throw new Error(`addStream('${this.streamName}'): invalid stream name; use letters, digits and '-', starting with a letter`);
    }
    if (this.definition.trim() === '') {
      throw new Error(`addStream('${this.streamName}'): the definition is empty; write apps joined by '|', e.g. 'time | log'`);
    }
    this.tokenize();
    const input = this.inputDestination();
    const parsed = input !== undefined && this.isBridge() ? [this.bridge()] : this.appList();
    const output = this.outputDestination();
    const extra = this.peek();
    if (extra) this.unexpected(extra);
    this.checkUnique(parsed);
    if (parsed.length === 1 && !input && !output) {
      const only = parsed[0].name;
      this.fail(only.column, `'${only.text}' alone is not a stream`,
        `a stream needs a source and a sink: add one ('${only.text} | log') or use a named destination ('${only.text} > :name' or ':name > ${only.text}')`);
    }
    const last = parsed.length - 1;
    return {
      apps: parsed.map((app, i) => ({
        label: app.label?.text ?? app.name.text,
        name: app.name.text,
        properties: Object.fromEntries(app.properties),
        role: i === 0 && !input ? 'source' : i === last && !output ? 'sink' : 'processor',
      })),
      inputDestination: input,
      outputDestination: output,
    };
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private appList(): ParsedApp[] {
    const parsed = [this.app()];
    while (this.peek()?.kind === '|') {
      this.pos++;
      parsed.push(this.app());
    }
    return parsed;
  }

  private inputDestination(): string | undefined {
    const [destination, arrow] = this.tokens;
    if (destination.kind !== 'destination') return undefined;
    if (arrow?.kind === 'property') this.destinationProperty(arrow, destination);
    if (arrow?.kind !== '>') {
      this.fail(arrow?.column ?? destination.column, `named destination ':${destination.text}' is not followed by '>'`,
        `read from a named destination with ':${destination.text} > app'`);
    }
    this.pos = 2;
    return destination.text;
  }

  /**
   * `:a > :b` with no '|' after it: SCDF puts an app named 'bridge' between the two destinations
   * (StreamParser.java lines 138-154, test bridge01), the catalogue's bridge processor.
   */
  private isBridge(): boolean {
    return this.peek()?.kind === 'destination' && !this.tokens.slice(this.pos).some(token => token.kind === '|');
  }

  private bridge(): ParsedApp {
    const at = this.peek()!;
    this.pos--; // back to the '>', so that outputDestination reads '> :b' (StreamParser.java line 150 does the same)
    return { name: { kind: 'word', text: 'bridge', column: at.column }, properties: new Map() };
  }

  private outputDestination(): string | undefined {
    const arrow = this.peek();
    if (arrow?.kind !== '>') return undefined;
    const destination = this.tokens[++this.pos];
    if (destination?.kind !== 'destination') {
      this.fail(destination?.column ?? arrow.column, "'>' is not followed by a named destination",
        "write to a named destination with 'app > :name'; connect apps with '|'");
    }
    const next = this.tokens[++this.pos];
    if (next?.kind === 'property') this.destinationProperty(next, destination);
    return destination.text;
  }

  /** StreamParser.java line 361: SCDF reads arguments after a destination name (test testSourceDestinationArgs). */
  private destinationProperty(property: Token, destination: Token): never {
    return this.fail(property.column, `property '${property.source}' on the named destination ':${destination.text}' is not supported`,
      `remove it: addStream sets the bindings of ':${destination.text}' itself; set an app's properties after the app`);
  }

  private app(): ParsedApp {
    const label = this.peek()?.kind === 'label' ? this.tokens[this.pos++] : undefined;
    const name = this.peek();
    if (name?.kind !== 'word') return this.missingApp(name, label);
    this.pos++;
    for (const token of label ? [label, name] : [name]) {
      if (!APP_NAME.test(token.text)) this.fail(token.column, `invalid ${token === label ? 'label' : 'app name'} '${token.text}'`, NAME_RULE);
    }
    const properties = new Map<string, string>();
    for (let property = this.peek(); property?.kind === 'property'; property = this.tokens[++this.pos]) {
      // SCDF keeps both and the later wins (AppNode.java lines 117-125, getArgumentsAsProperties): ask for one.
      if (properties.has(property.text)) {
        this.fail(property.column, `property '--${property.text}' is set twice on '${name.text}'`, 'keep one of them');
      }
      properties.set(property.text, property.value ?? '');
    }
    return { label, name, properties };
  }

  private missingApp(token: Token | undefined, label: Token | undefined): never {
    const previous = this.tokens[this.pos - 1];
    if (token?.kind === 'property') {
      this.fail(token.column, `property '--${token.text}' comes before its app`, `put it after the app it configures, e.g. 'time --${token.text}=... | log'`);
    }
    if (label && token?.kind === 'label') this.fail(token.column, `app has two labels, '${label.text}:' and '${token.text}:'`, 'keep one label');
    if (label) this.fail(label.column, `label '${label.text}:' is not followed by an app`, `write '${label.text}: app'`);
    if (!token || token.kind === '|') {
      const where = previous?.kind === '>' ? "after '>'" : "next to '|'";
      this.fail(token?.column ?? previous.column, `an app is missing ${where}`, "put an app there or remove the extra '|'");
    }
    return this.unexpected(token);
  }

  private unexpected({ kind, text, column }: Token): never {
    const messages: Partial<Record<TokenKind, string[]>> = {
      // StreamParser.java lines 373-413 (eatAppList): '||' lists unbound apps.
      '||': ["'||' (a list of unbound apps) is not supported", `${PIPE_FIX}; deploy an unbound app as a stream of its own with named destinations`],
      '&&': ["'&&' (composed-task sequencing) is not supported in a stream", PIPE_FIX],
      '&': ["'&' (composed-task sequencing) is not supported in a stream", PIPE_FIX],
      '<': ["'<' is not supported", "read from a named destination with ':name > app'"],
      '>': ["more than one '>' on one side is not supported", `use at most ':input > ...' and '... > :output'; ${PIPE_FIX}`],
      'destination': [`named destination ':${text}' in the middle of the stream is not supported`,
        `put it first (':${text} > app') or last ('app > :${text}')`],
      'property': [`property '--${text}' does not follow an app`, 'put it after the app it configures'],
    };
    const [problem, fix] = messages[kind] ?? [`unexpected '${text}'`, "separate apps with '|'; a named destination must be first or last"];
    return this.fail(column, problem, fix);
  }

  private checkUnique(apps: ParsedApp[]): void {
    // StreamParser.java lines 84-95: each app's label, or name when unlabelled, is unique (DUPLICATE_LABEL).
    const seen = new Map<string, Token>();
    for (const { label, name } of apps) {
      const token = label ?? name;
      const previous = seen.get(token.text);
      const n = name.text;
      if (previous && label) this.fail(label.column, `label '${label.text}' is already used at column ${previous.column}`, 'give each app its own label');
      if (previous) {
        this.fail(name.column, `app '${n}' appears twice without labels (also at column ${previous.column})`,
          `label each occurrence, e.g. '${n[0]}1: ${n} | ${n[0]}2: ${n}'`);
      }
      seen.set(token.text, token);
    }
  }

  private tokenize(): void {
    const text = this.definition;
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      const column = i + 1;
      const operator = OPERATORS.find(op => text.startsWith(op, i));
      const last = this.tokens[this.tokens.length - 1];
      if (BLANK.test(ch)) {
        i++;
      } else if (text.startsWith('--', i)) {
        i = this.property(i);
      } else if (/\w/.test(ch)) {
        const end = this.wordEnd(i);
        const word = text.slice(i, end);
        let next = end;
        while (next < text.length && BLANK.test(text[next])) next++;
        if (this.tokens.length === 0 && text[next] === '=') this.inlineName(word, next + 1);
        if (text[end] === '=') this.fail(column, `property '${word}' has no '--'`, `write '--${word}=...'`);
        // AppParser.java lines 76-86 (eatApp): `label: app`, the colon right after the label, a blank after it.
        const isLabel = text[end] === ':';
        if (isLabel && end + 1 < text.length && !BLANK.test(text[end + 1])) {
          this.fail(end + 2, `label '${word}:' is not followed by a space`, `write '${word}: app'`);
        }
        this.tokens.push({ kind: isLabel ? 'label' : 'word', text: word, column });
        i = isLabel ? end + 1 : end;
      } else if (ch === ':') {
        i = this.destination(i);
      } else if (operator) {
        this.tokens.push({ kind: operator, text: operator, column });
        i += operator.length;
      } else if (ch === '.' && last?.kind === 'destination') {
        // StreamParser.java lines 346-354: NO_WHITESPACE_IN_DESTINATION_DEFINITION.
        this.fail(column, `a space before '.' in the destination name ':${last.text}'`, `write the name without spaces, e.g. ':${last.text}.name'`);
      } else {
        const afterValue = last?.kind === 'property' && last.column - 1 + last.source!.length === i;
        const hints: Record<string, string> = {
          "'": "quotes belong in property values, e.g. --key='a b'",
          '"': "quotes belong in property values, e.g. --key='a b'",
          ';': afterValue ? `';' ends a value; quote a value that holds it, e.g. --${last.text}='a;b'` : 'a definition is one stream; add each stream with addStream of its own',
        };
        this.fail(column, `unexpected character ${JSON.stringify(ch)}`, hints[ch] ?? "write one line of apps joined by '|'");
      }
    }
  }

  /**
   * StreamParser.java lines 112-125 (eatStreamName): `name = app | ...` names the stream inside the
   * definition (tests streamNaming, testStreamNameAsAppName).
   */
  private inlineName(name: string, rest: number): never {
    const definition = this.definition.slice(rest).trim();
    return this.fail(1, `an inline stream name ('${name} =') is not supported`,
      `pass the name to addStream instead and leave it out of the definition: addStream('${name}', { definition: '${definition}' })`);
  }

  /** Where a word starting at `start` ends; a word stops before '--' so that `app--key` is caught. */
  private wordEnd(start: number): number {
    let end = start;
    while (end < this.definition.length && WORD_CHAR.test(this.definition[end]) && !this.definition.startsWith('--', end)) end++;
    return end;
  }

  /** Reads `:name` at `start` (StreamParser.java lines 321-363, eatDestinationReference), pushes it, and returns where it ends. */
  private destination(start: number): number {
    const text = this.definition;
    const column = start + 1;
    // The first part of the name need not touch the ':' (peekDestinationComponentToken does not check
    // adjacency, StreamParser.java lines 329-341): `> : out` is `> :out`.
    let nameStart = start + 1;
    while (nameStart < text.length && BLANK.test(text[nameStart])) nameStart++;
    let end = nameStart;
    while (end < text.length && DESTINATION_CHAR.test(text[end])) end++;
    const name = text.slice(nameStart, end);
    const fix = `${DESTINATION_RULE}: write a named destination as ':name' or ':stream.app'`;
    if (!name) this.fail(column, "':' is not followed by a destination name", fix);
    // StreamParser.java lines 329-338 and 346-354: SCDF rejects a name that starts or ends with '.'.
    if (name.startsWith('.') || name.endsWith('.')) {
      this.fail(column, `destination name '${name}' ${name.startsWith('.') ? 'starts' : 'ends'} with '.'`, fix);
    }
    if (!DESTINATION_NAME.test(name)) {
      const scdfOnly = /[$*/#]/.test(name) ? " (Spring Cloud Data Flow also takes '$', and '*', '/' and '#' for pattern destinations; name one topic)" : '';
      this.fail(column, `invalid destination name '${name}'`, `${DESTINATION_RULE}${scdfOnly}`);
    }
    // StreamParser.java lines 342 and 360: a name followed, without a blank, by anything but the end
    // makes SCDF 2.11.5's parser fail with a NullPointerException (`:in> log`).
    if (end < text.length && !BLANK.test(text[end]) && text[end] !== '\n') {
      this.fail(end + 1, `named destination ':${name}' is directly followed by '${text[end]}'`, `put a space after it: ':${name} ${text[end]}'`);
    }
    this.tokens.push({ kind: 'destination', text: name, column });
    return end;
  }

  /** Reads `--key=value` at `start` (AppParser.java lines 104-183), pushes it, and returns where it ends. */
  private property(start: number): number {
    const text = this.definition;
    const column = start + 1;
    if (start > 0 && !BLANK.test(text[start - 1])) this.fail(column, "'--' follows the app name without a space", "put a space before '--'");
    let end = start + 2;
    while (end < text.length && WORD_CHAR.test(text[end])) end++;
    const key = text.slice(start + 2, end);
    if (!PROPERTY_NAME.test(key)) {
      this.fail(column, key ? `invalid property name '--${key}'` : "'--' is not followed by a property name", "property names are dotted words, e.g. '--time.date-format'");
    }
    if (text[end] !== '=') this.fail(column, `property '--${key}' has no '='`, `write '--${key}=value'`);
    const valueStart = end + 1;
    // Tokenizer.java lines 35-49: a blank, the end or a value terminator right after '=' is a missing value.
    if (valueStart >= text.length || VALUE_END.test(text[valueStart])) {
      this.fail(column, `property '--${key}' has no value`, `write '--${key}=value', or --${key}='' for an empty value`);
    }
    const value = this.value(key, valueStart);
    this.tokens.push({ kind: 'property', text: key, column, value: value.value, source: text.slice(start, value.end) });
    return value.end;
  }

  /**
   * Reads the value that starts at `start`, as AbstractTokenizer.lexArgValueIdentifier (lines 234-282)
   * and AppParser.eatArgValue (lines 141-155) do.
   */
  private value(key: string, start: number): { value: string; end: number } {
    const text = this.definition;
    const at = (i: number): string => text[i] ?? '\0'; // AbstractTokenizer.java line 95: the text ends in a '\0' sentinel
    let end = start;
    // A value that starts with a quote is read as quoted by that kind only (lines 248-251); otherwise
    // either kind opens and closes (line 254), so in a'b"c the " closes the '.
    const quote = QUOTES.includes(at(start)) ? at(end++) : undefined;
    let quoteOpen = quote !== undefined;
    let closed = 0;
    let openedAt = start;
    do {
      const ch = at(end);
      if (quote ? ch === quote : QUOTES.includes(ch)) {
        if (quote === "'" && at(end + 1) === "'") {
          end++; // lines 255-257: '' inside a single-quoted value stands for one '; "" has no such rule
        } else {
          quoteOpen = !quoteOpen;
          if (quoteOpen) openedAt = end;
          else closed++;
        }
      }
      end++;
    } while (end < text.length && !(VALUE_END.test(at(end)) && !quoteOpen));
    end = Math.min(end, text.length);
    const raw = text.slice(start, end);
    const fix = quote === '"' ? 'close the quote; for a " inside the value, quote it with \' instead' : "close the quote; write a ' inside it as ''";
    // Lines 269-274: a value that opens with a quote that is never closed is an error.
    if (quote && closed === 0) this.fail(start + 1, `unterminated ${quote} in the value of '--${key}'`, fix);
    // A quote opened again and left open runs to the end of the definition (lines 252-267: only '\0' ends
    // the value then), and SCDF takes all of it, '|' and later apps included, as the value. Matched where
    // the open part holds nothing that would otherwise end the value (--x='abc'def' at the end of the
    // definition gives abc'def); otherwise an error.
    const swallowed = text.slice(openedAt);
    if (quoteOpen && VALUE_END.test(swallowed)) {
      this.fail(openedAt + 1, `unterminated ${text[openedAt]} in the value of '--${key}'`,
        `Spring Cloud Data Flow would read the rest of the definition, ${JSON.stringify(swallowed)}, into the value; close the quote, or quote the whole value with ' and write a ' inside it as ''`);
    }
    // Lines 275-276 and AppParser.java line 149: a value wholly in quotes loses them, and a doubled quote
    // of that kind in it stands for one. A value quoted only in part ('hi'+payload) is kept as written.
    if (quote && closed === 1 && raw.length > 1 && raw.endsWith(quote)) {
      return { value: raw.slice(1, -1).split(quote + quote).join(quote), end };
    }
    return { value: raw, end };
  }

  private fail(column: number, problem: string, fix: string): never {
    throw new Error(`addStream('${this.streamName}'): ${problem} at column ${column} of "${this.definition}"; ${fix}`);
  }
}
