/**
 * A JSON parser for credential documents that keeps what `JSON.parse` loses.
 *
 * - The exact text of a number that `JSON.stringify` would write differently
 *   (`1.0`, `-0`, `1E5`, a 20-digit integer, `1e400`) is remembered beside the
 *   object or array holding it ({@linkcode rawNumberText}), so an unknown
 *   field is written back unchanged.
 * - A repeated key is reported to the caller, which rejects the ones serde_json
 *   (Codex) rejects.
 * - A syntax error is a position and a reason, never a quote of the input
 *   (the input may be a token; V8's own messages quote it).
 *
 * Iterative, so deep nesting cannot overflow the stack; containers deeper than
 * `maxDepth` are refused, as serde_json's recursion limit refuses them.
 *
 * @module
 */

/** Why and where the text stops being acceptable JSON; 0-based offset. */
export class JsonSyntaxProblem extends Error {
  readonly offset: number;
  readonly reason: string;

  constructor(offset: number, reason: string) {
    super(reason);
    this.name = "JsonSyntaxProblem";
    this.offset = offset;
    this.reason = reason;
  }
}

/** Options of {@linkcode parseJson}. */
export interface ParseJsonOptions {
  /** Containers nested deeper than this are a {@linkcode JsonSyntaxProblem}. */
  maxDepth: number;
  /** Called when an object repeats a key; `path` names the object (keys from the root). Throw to reject. */
  onDuplicate?: (path: readonly string[], key: string, offset: number) => void;
}

// Per container: key (array index as a string) → the number's source text, when it differs from JSON.stringify's.
const rawNumbers = new WeakMap<object, Map<string, string>>();

/** The source text of the number at `container[key]`, if it was parsed from text `JSON.stringify` would not reproduce. */
export function rawNumberText(container: object, key: string): string | undefined {
  return rawNumbers.get(container)?.get(key);
}

/** Lets a copy of a parsed object keep the number texts and key order of the original (for keys it still has). */
export function copyRawNumbers(from: object, to: object): void {
  if (from === to) return;
  const texts = rawNumbers.get(from);
  if (texts !== undefined) rawNumbers.set(to, new Map(texts));
  const order = sourceOrders.get(from);
  if (order !== undefined) sourceOrders.set(to, order);
}

// Per object whose keys include an array index ("0", "12"): its keys in source order, which JS objects do not keep.
const sourceOrders = new WeakMap<object, string[]>();
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;

/** `keys` (an object's current keys) in the order the source text had them; keys the source lacked go last. */
export function inSourceOrder(object: object, keys: string[]): string[] {
  const source = sourceOrders.get(object);
  if (source === undefined) return keys;
  const present = new Set(keys);
  const ordered = source.filter((key) => present.has(key));
  const known = new Set(ordered);
  return [...ordered, ...keys.filter((key) => !known.has(key))];
}

function rememberNumber(container: object, key: string, raw: string | undefined): void {
  let texts = rawNumbers.get(container);
  if (raw === undefined) {
    texts?.delete(key); // a repeated key's later value wins, text included
    return;
  }
  if (texts === undefined) rawNumbers.set(container, (texts = new Map()));
  texts.set(key, raw);
}

interface Frame {
  value: Record<string, unknown> | unknown[];
  /** The key this container sits under in its parent (for duplicate paths). */
  name: string;
  /** In an object: the key whose value comes next. */
  key: string;
  /** In an object: its keys in source order. */
  keys: string[];
  /** In an object: whether a key is an array index, which JS would move to the front. */
  indexKeys: boolean;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PLAIN_STRING = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Parses JSON text (RFC 8259, as `JSON.parse` reads it).
 *
 * @throws {JsonSyntaxProblem} at the first error, or when nesting exceeds `maxDepth`.
 */
export function parseJson(text: string, options: ParseJsonOptions): unknown {
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];
  let root: unknown;
  const fail = (reason: string): never => {
    throw new JsonSyntaxProblem(Math.min(i, n), reason);
  };
  const skipWhitespace = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const readString = (): string => {
    // At the opening quote.
    i++;
    let result = "";
    for (;;) {
      PLAIN_STRING.lastIndex = i;
      PLAIN_STRING.test(text);
      result += text.slice(i, PLAIN_STRING.lastIndex);
      i = PLAIN_STRING.lastIndex;
      const c = text[i];
      if (c === '"') {
        i++;
        return result;
      }
      if (c === undefined) return fail("unterminated string");
      if (c !== "\\") return fail("control character in a string");
      const escaped = text[i + 1];
      if (escaped === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail("invalid \\u escape");
        result += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const decoded = escaped === undefined ? undefined : ESCAPES[escaped];
        if (decoded === undefined) return fail("invalid escape in a string");
        result += decoded;
        i += 2;
      }
    }
  };
  // Puts a finished value into the innermost container (or makes it the root).
  const place = (value: unknown, raw?: string): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = value;
      return;
    }
    const container = top.value;
    if (Array.isArray(container)) {
      if (raw !== undefined) rememberNumber(container, String(container.length), raw);
      container.push(value);
      return;
    }
    // defineProperty: a "__proto__" key stays data, as with JSON.parse, and never sets a prototype.
    if (top.key === "__proto__") Object.defineProperty(container, top.key, { value, writable: true, enumerable: true, configurable: true });
    else container[top.key] = value;
    rememberNumber(container, top.key, raw);
  };
  // After `{` or `,` in an object: reads `"key":`, reporting repeats.
  const readKey = (top: Frame): void => {
    skipWhitespace();
    if (text[i] !== '"') fail("expected a property name in double quotes");
    const start = i;
    const key = readString();
    if (Object.hasOwn(top.value, key)) options.onDuplicate?.(stack.map((frame) => frame.name).slice(1), key, start);
    else {
      top.keys.push(key);
      if (INDEX_KEY.test(key) && Number(key) < 4294967295) top.indexKeys = true;
    }
    skipWhitespace();
    if (text[i] !== ":") fail("expected ':' after a property name");
    i++;
    top.key = key;
  };
  const open = (value: Frame["value"]): void => {
    if (stack.length >= options.maxDepth) fail(`nested deeper than ${options.maxDepth} levels`);
    const parent = stack[stack.length - 1];
    const name = parent === undefined ? "" : Array.isArray(parent.value) ? String(parent.value.length) : parent.key;
    place(value);
    stack.push({ value, name, key: "", keys: [], indexKeys: false });
    i++;
  };

  // Each turn reads one value, then closes containers and consumes the separator before the next value.
  for (;;) {
    skipWhitespace();
    const c = text[i];
    let top: Frame | undefined;
    if (c === "{" || c === "[") {
      open(c === "{" ? {} : []);
      top = stack[stack.length - 1]!;
      skipWhitespace();
      if (text[i] !== (c === "{" ? "}" : "]")) {
        if (c === "{") readKey(top);
        continue;
      }
      // An empty container: closed below.
    } else if (c === '"') {
      place(readString());
    } else if (c === "t" && text.startsWith("true", i)) {
      place(true);
      i += 4;
    } else if (c === "f" && text.startsWith("false", i)) {
      place(false);
      i += 5;
    } else if (c === "n" && text.startsWith("null", i)) {
      place(null);
      i += 4;
    } else {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match === null) return fail(i >= n ? "unexpected end of input" : "invalid value");
      const raw = match[0];
      const value = Number(raw);
      place(value, JSON.stringify(value) === raw ? undefined : raw);
      i += raw.length;
    }
    // Close finished containers; stop at a separator that starts the next value.
    for (;;) {
      skipWhitespace();
      top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < n) fail("unexpected text after the document");
        return root;
      }
      const isArray = Array.isArray(top.value);
      const next = text[i];
      if (next === ",") {
        i++;
        if (!isArray) readKey(top);
        break;
      }
      if (next === (isArray ? "]" : "}")) {
        i++;
        stack.pop();
        if (top.indexKeys) sourceOrders.set(top.value, top.keys);
        continue;
      }
      fail(next === undefined ? "unexpected end of input" : isArray ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
}

/** Converts a 0-based offset into 1-based line and column. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
