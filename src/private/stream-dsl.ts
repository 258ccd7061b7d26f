/**
 * A parser for the part of the Spring Cloud Data Flow stream DSL that `addStream` supports:
 * `[:destination >] [label: ]app [--key=value]* (| [label: ]app [--key=value]*)* [> :destination]`.
 *
 * Grammar facts from spring-cloud/spring-cloud-dataflow, tag v2.11.5, files in
 * spring-cloud-dataflow-core-dsl/src/main/java/org/springframework/cloud/dataflow/core/dsl/:
 * - AbstractTokenizer.java (lexIdentifier, isIdentifier): identifiers start with a letter, digit or '_'
 *   and go on with letters, digits, '_', '$', '-'. App names and labels here: letters, digits, '-', '_',
 *   starting with a letter. AppParser.java (isValidName): stream names are Java identifiers that may
 *   hold '-'; here letters, digits and '-', starting with a letter.
 * - AppParser.java (eatApp): `label: app`, colon right after the label, whitespace after the colon
 *   (EXPECTED_WHITESPACE_AFTER_LABEL_COLON), one label per app (NO_DOUBLE_LABELS).
 * - AppParser.java (eatAppArgs, eatDottedName, eatArgValue): `--dotted.name=value`, whitespace between
 *   app and `--`, none around `=`; a missing value is an error (EXPECTED_ARGUMENT_VALUE).
 * - AbstractTokenizer.java (lexArgValueIdentifier, isArgValueIdentifierTerminator): a value ends at the
 *   first space, tab, line break, '|', '>' or ';' outside quotes, so `payload.toUpperCase()` needs no
 *   quotes. A value wholly in ' or " quotes loses them, a doubled quote inside stands for one
 *   (lexStringLiteral, eatArgValue; spring-cloud-dataflow-docs/src/main/asciidoc/shell.adoc, "DSL
 *   Parsing Rules"); a value only partly quoted (`'hi'+payload`) is kept as written.
 * - StreamParser.java (eatSourceDestination, eatSinkDestination): `:name >` before the first app,
 *   `> :name` after the last; `:ticktock.time` taps another stream; `:a > :b` is a bridge (eatStream),
 *   rejected here. (parse): each app's label, or name when unlabelled, is unique (DUPLICATE_LABEL).
 *   (eatAppList): `||` lists unbound apps (docs streams.adoc); `&&` and `<` are composed-task DSL
 *   (TaskTokenizer.java, TaskParser.java).
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

const STREAM_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
const APP_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const DESTINATION_NAME = /^[A-Za-z0-9._-]+$/;
const PROPERTY_NAME = /^\w[\w$-]*(\.\w[\w$-]*)*$/;
/** What SCDF reads as one identifier, plus '.' so that dotted names and bad names come out whole. */
const WORD_CHAR = /[\w$.-]/;
const VALUE_END = /[\s|>;]/;
const OPERATORS: TokenKind[] = ['||', '&&', '|', '>', '<', '&'];
const PIPE_FIX = "connect apps in a pipeline with '|'";
const NAME_RULE = "app names and labels are letters, digits, '-' and '_', starting with a letter";

type TokenKind = 'word' | 'label' | 'destination' | 'property' | '||' | '&&' | '|' | '>' | '<' | '&';

interface Token {
  readonly kind: TokenKind;
  readonly text: string; // the word, label, destination or property name, or the operator
  readonly column: number; // 1-based
  readonly value?: string;
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
    const parsed = [this.app()];
    while (this.peek()?.kind === '|') {
      this.pos++;
      parsed.push(this.app());
    }
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

  private inputDestination(): string | undefined {
    const [destination, arrow, next] = this.tokens;
    if (destination.kind !== 'destination') return undefined;
    if (arrow?.kind !== '>') {
      this.fail(arrow?.column ?? destination.column, `named destination ':${destination.text}' is not followed by '>'`,
        `read from a named destination with ':${destination.text} > app'`);
    }
    if (next?.kind === 'destination' && this.tokens[3]?.kind === '>') this.unexpected(this.tokens[3]);
    if (next?.kind === 'destination') {
      this.fail(next.column, `a bridge from ':${destination.text}' to ':${next.text}' is not supported`,
        `put a processor between them, e.g. ':${destination.text} > transform > :${next.text}'`);
    }
    this.pos = 2;
    return destination.text;
  }

  private outputDestination(): string | undefined {
    const arrow = this.peek();
    if (arrow?.kind !== '>') return undefined;
    const destination = this.tokens[++this.pos];
    if (destination?.kind !== 'destination') {
      this.fail(destination?.column ?? arrow.column, "'>' is not followed by a named destination",
        "write to a named destination with 'app > :name'; connect apps with '|'");
    }
    this.pos++;
    return destination.text;
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
      '||': ["'||' (unbound apps, parallel composition) is not supported", PIPE_FIX],
      '&&': ["'&&' (composed-task sequencing) is not supported in a stream", PIPE_FIX],
      '&': ["'&' (composed-task sequencing) is not supported in a stream", PIPE_FIX],
      '<': ["'<' is not supported", "read from a named destination with ':name > app'"],
      '>': ["more than one '>' on one side is not supported", `use at most ':input > ...' and '... > :output'; ${PIPE_FIX}`],
      'destination': [`named destination ':${text}' in the middle of the stream is not supported`,
        `put it first (':${text} > app') or last ('app > :${text}')`],
      'property': [`property '--${text}' does not follow an app`, 'properties on named destinations are not supported; put it after an app'],
    };
    const [problem, fix] = messages[kind] ?? [`unexpected '${text}'`, "separate apps with '|'; a named destination must be first or last"];
    return this.fail(column, problem, fix);
  }

  private checkUnique(apps: ParsedApp[]): void {
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
      if (ch === ' ' || ch === '\t') {
        i++;
      } else if (text.startsWith('--', i)) {
        i = this.property(i);
      } else if (/\w/.test(ch)) {
        const end = this.wordEnd(i);
        const word = text.slice(i, end);
        if (text[end] === '=') this.fail(column, `property '${word}' has no '--'`, `write '--${word}=...'`);
        const isLabel = text[end] === ':';
        if (isLabel && end + 1 < text.length && !/[ \t]/.test(text[end + 1])) {
          this.fail(end + 2, `label '${word}:' is not followed by a space`, `write '${word}: app'`);
        }
        this.tokens.push({ kind: isLabel ? 'label' : 'word', text: word, column });
        i = isLabel ? end + 1 : end;
      } else if (ch === ':') {
        const end = this.wordEnd(i + 1);
        const name = text.slice(i + 1, end);
        if (!DESTINATION_NAME.test(name)) {
          this.fail(column, name ? `invalid destination name '${name}'` : "':' is not followed by a destination name",
            "write a named destination as ':name', with letters, digits, '.', '-' and '_'");
        }
        this.tokens.push({ kind: 'destination', text: name, column });
        i = end;
      } else if (operator) {
        this.tokens.push({ kind: operator, text: operator, column });
        i += operator.length;
      } else {
        const hint = ch === '"' || ch === "'" ? "quotes belong in property values, e.g. --key='a b'" : "write one line of apps joined by '|'";
        this.fail(column, `unexpected character ${JSON.stringify(ch)}`, hint);
      }
    }
  }

  /** Where a word starting at `start` ends; a word stops before '--' so that `app--key` is caught. */
  private wordEnd(start: number): number {
    let end = start;
    while (end < this.definition.length && WORD_CHAR.test(this.definition[end]) && !this.definition.startsWith('--', end)) end++;
    return end;
  }

  /** Reads `--key=value` at `start`, pushes it, and returns where it ends. */
  private property(start: number): number {
    const text = this.definition;
    const column = start + 1;
    if (start > 0 && !/\s/.test(text[start - 1])) this.fail(column, "'--' follows the app name without a space", "put a space before '--'");
    let end = start + 2;
    while (end < text.length && WORD_CHAR.test(text[end])) end++;
    const key = text.slice(start + 2, end);
    if (!PROPERTY_NAME.test(key)) {
      this.fail(column, key ? `invalid property name '--${key}'` : "'--' is not followed by a property name", "property names are dotted words, e.g. '--time.date-format'");
    }
    if (text[end] !== '=') this.fail(column, `property '--${key}' has no '='`, `write '--${key}=value'`);
    const valueStart = end + 1;
    let quote: string | undefined;
    let openedAt = valueStart;
    let firstClose = -1;
    for (end = valueStart; end < text.length; end++) {
      const ch = text[end];
      if (quote && ch === quote && text[end + 1] === quote) {
        end++; // a doubled quote stands for one
      } else if (quote && ch === quote) {
        quote = undefined;
        if (firstClose < 0) firstClose = end;
      } else if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        openedAt = end;
      } else if (!quote && VALUE_END.test(ch)) {
        break;
      }
    }
    if (quote) this.fail(openedAt + 1, `unterminated ${quote} in the value of '--${key}'`, `close the quote; write a ${quote} inside it as ${quote}${quote}`);
    const raw = text.slice(valueStart, end);
    if (raw === '') this.fail(column, `property '--${key}' has no value`, `write '--${key}=value', or --${key}='' for an empty value`);
    const wholeQuote = (raw[0] === '"' || raw[0] === "'") && firstClose === end - 1 ? raw[0] : undefined;
    const value = wholeQuote ? raw.slice(1, -1).split(wholeQuote + wholeQuote).join(wholeQuote) : raw;
    this.tokens.push({ kind: 'property', text: key, column, value });
    return end;
  }

  private fail(column: number, problem: string, fix: string): never {
    throw new Error(`addStream('${this.streamName}'): ${problem} at column ${column} of "${this.definition}"; ${fix}`);
  }
}
