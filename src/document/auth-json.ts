/**
 * The `auth.json` codec: strict validation by hand (built-ins only) and
 * Codex's exact serialization.
 *
 * @module
 */
import type { AuthDotJson, TokenData } from "./auth-types.ts";
import { AuthFormatError } from "../contract/errors.ts";
import { copyRawNumbers, JsonSyntaxProblem, lineAndColumn, parseJson, rawNumberText } from "./_json-parse.ts";
import { writeJson } from "./_json-write.ts";

/** Options for {@linkcode serializeAuthJson}. */
export interface SerializeAuthJsonOptions {
  /**
   * `true` writes Codex's file format (2-space indent, no trailing newline);
   * `false` writes the compact form Codex keeps in keyrings.
   * @default {true}
   */
  pretty?: boolean;
}

// chrono writes RFC 3339 with `Z` and 0/3/6/9 fractional digits; any offset is accepted on read.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const BOM = "\uFEFF";

/**
 * Parses and validates an `auth.json` document (or a keyring value, which has
 * the same schema). Unknown fields are kept in their order, so the result
 * serializes back byte for byte. A leading byte-order mark is ignored.
 *
 * @param text The JSON text.
 * @returns The document. `OPENAI_API_KEY` and `tokens.account_id` are `null` when absent.
 * @throws {AuthFormatError} when the text is not JSON or a known field has the
 * wrong type; the message names the field or position, never a value.
 * @example Basic usage
 * ```ts
 * import { parseAuthJson } from "authkeep";
 *
 * const auth = parseAuthJson('{"OPENAI_API_KEY": "sk-example"}');
 * console.log(auth.OPENAI_API_KEY === "sk-example"); // true
 * ```
 */
export function parseAuthJson(text: string): AuthDotJson {
  if (typeof text !== "string") throw new AuthFormatError("the auth document must be a string");
  const source = text.startsWith(BOM) ? text.slice(1) : text;
  let value: unknown;
  try {
    value = parseJson(source, { maxDepth: MAX_DEPTH, onDuplicate: rejectDuplicateField });
  } catch (error) {
    if (!(error instanceof JsonSyntaxProblem)) throw error;
    const { line, column } = lineAndColumn(source, error.offset);
    const field = error.reason.startsWith(DUPLICATE) ? error.reason.slice(DUPLICATE.length) : undefined;
    const what = field !== undefined ? "has a" : error.reason.startsWith("nested deeper") ? "is" : "is not valid JSON:";
    throw new AuthFormatError(`the auth document ${what} ${error.reason} at line ${line}, column ${column}`, { field, line, column });
  }
  return normalizeAuth(value);
}

// Codex's structs: serde_json rejects a known field given twice ("duplicate field"), and ignores unknown ones.
const TOP_FIELDS = ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"];
const TOKEN_FIELDS = ["id_token", "access_token", "refresh_token", "account_id"];

const DUPLICATE = "duplicate field ";

function rejectDuplicateField(path: readonly string[], key: string, offset: number): void {
  const known = path.length === 0 ? TOP_FIELDS : path.length === 1 && path[0] === "tokens" ? TOKEN_FIELDS : [];
  if (!known.includes(key)) return; // an unknown repeated key: the last one wins, as in JSON.parse
  throw new JsonSyntaxProblem(offset, `${DUPLICATE}${[...path, key].join(".")}`);
}

/**
 * Serializes credentials the way Codex does: the known fields in Codex's order
 * (`auth_mode`, `OPENAI_API_KEY`, `tokens` with `id_token`, `access_token`,
 * `refresh_token`, `account_id`, then `last_refresh`) whatever the object's
 * order, and unknown fields after them in their own order, numbers in the
 * exact text they were parsed from. A Codex-written document comes out byte
 * for byte as Codex writes it. `OPENAI_API_KEY` and `tokens.account_id` are
 * always written (as `null` when empty); other absent optional fields are omitted.
 *
 * @param auth The credentials.
 * @param options `pretty: false` for the compact keyring form.
 * @returns The JSON text, with no trailing newline.
 * @throws {AuthFormatError} when `auth` does not have the auth.json shape, so
 * that nothing unreadable is ever stored.
 * @example Basic usage
 * ```ts
 * import { serializeAuthJson } from "authkeep";
 *
 * console.log(serializeAuthJson({ OPENAI_API_KEY: null }, { pretty: false })); // {"OPENAI_API_KEY":null}
 * ```
 * @example Codex's field order, unknown fields after
 * ```ts
 * import { serializeAuthJson } from "authkeep";
 *
 * const text = serializeAuthJson({ extra: 1, OPENAI_API_KEY: "sk-example", auth_mode: "apikey" }, { pretty: false });
 * console.log(text); // {"auth_mode":"apikey","OPENAI_API_KEY":"sk-example","extra":1}
 * ```
 */
export function serializeAuthJson(auth: AuthDotJson, options: SerializeAuthJsonOptions = {}): string {
  return writeJson(normalizeAuth(auth), options.pretty !== false, codexOrder);
}

function codexOrder(path: readonly string[], keys: string[]): string[] {
  const known = path.length === 0 ? TOP_FIELDS : path.length === 1 && path[0] === "tokens" ? TOKEN_FIELDS : undefined;
  if (known === undefined) return keys;
  return [...known.filter((key) => keys.includes(key)), ...keys.filter((key) => !known.includes(key))];
}

/**
 * Validates a parsed value and returns it in auth.json shape: the same object
 * when nothing needs adding, otherwise a copy with `OPENAI_API_KEY` /
 * `tokens.account_id` filled in at Codex's position.
 */
function normalizeAuth(value: unknown): AuthDotJson {
  if (!isPlainObject(value)) throw new AuthFormatError("the auth document must be a JSON object");
  requireJsonData(value);
  optionalString(value, "auth_mode", "auth_mode");
  nullableString(value, "OPENAI_API_KEY", "OPENAI_API_KEY");
  if (value.last_refresh !== undefined && value.last_refresh !== null) {
    const stamp = value.last_refresh;
    if (
      typeof stamp !== "string" || !RFC3339.test(stamp) || !isCalendarDate(stamp) ||
      Number.isNaN(Date.parse(stamp.replace(" ", "T")))
    ) {
      throw new AuthFormatError("last_refresh must be an RFC 3339 timestamp", { field: "last_refresh" });
    }
  }
  let tokens = value.tokens;
  if (tokens !== undefined && tokens !== null) {
    if (!isPlainObject(tokens)) throw new AuthFormatError("tokens must be an object", { field: "tokens" });
    for (const name of ["id_token", "access_token", "refresh_token"] as const) {
      if (typeof tokens[name] !== "string") {
        throw new AuthFormatError(`tokens.${name} must be a string`, { field: `tokens.${name}` });
      }
      requireWellFormed(tokens[name], `tokens.${name}`);
    }
    nullableString(tokens, "account_id", "tokens.account_id");
    if (tokens.account_id === undefined) {
      const original = tokens;
      tokens = Object.hasOwn(tokens, "account_id")
        ? replaceValue(tokens, "account_id", null)
        : insertAfter(tokens, "refresh_token", "account_id", null);
      copyRawNumbers(original, tokens as object);
    }
  }
  let result: Record<string, unknown> = value;
  // `=== undefined`, not `in`: JSON.stringify would drop an explicit `undefined`, and Codex always writes the key.
  if (value.OPENAI_API_KEY === undefined) {
    result = Object.hasOwn(value, "OPENAI_API_KEY")
      ? replaceValue(result, "OPENAI_API_KEY", null)
      : insertAfter(result, value.auth_mode === undefined ? undefined : "auth_mode", "OPENAI_API_KEY", null);
  }
  if (tokens !== value.tokens) result = replaceValue(result, "tokens", tokens);
  copyRawNumbers(value, result);
  return result as AuthDotJson;
}

// serde_json's default recursion limit: Codex cannot read a document nested deeper.
const MAX_DEPTH = 128;

/**
 * Requires `root` to be JSON data that `JSON.stringify` writes and `JSON.parse`
 * reads back unchanged: plain objects (an `undefined` property counts as
 * absent), dense arrays, strings, booleans, `null` and finite numbers, at most
 * {@link MAX_DEPTH} containers deep. Without this, serialization threw
 * TypeError/RangeError (BigInt, cycles, deep nesting) or silently changed the
 * data (`Infinity` and holes became `null`, a Date a string, functions vanished),
 * and `1e400` in a file loaded as `Infinity` but saved as `null`. Iterative, so
 * nesting cannot overflow the stack; messages name kinds, never values.
 */
function requireJsonData(root: unknown): void {
  const pending: [unknown, number, object | undefined, string][] = [[root, 1, undefined, ""]];
  while (pending.length > 0) {
    const [value, depth, container, key] = pending.pop()!;
    if (value === null || typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number") {
      // `1e400` read from a file is Infinity here but is written back as its text, which Codex ignores unharmed.
      const kept = container === undefined ? undefined : rawNumberText(container, key);
      if (Number.isFinite(value) || (kept !== undefined && Object.is(Number(kept), value))) continue;
      throw new AuthFormatError("the auth document contains a number outside the range JSON can hold");
    }
    if (typeof value !== "object") {
      throw new AuthFormatError(`the auth document contains a ${typeof value}, which JSON cannot hold`);
    }
    if (depth > MAX_DEPTH) throw new AuthFormatError(`the auth document is nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value) || value[i] === undefined) {
          throw new AuthFormatError("the auth document contains an array with a missing or undefined element");
        }
        pending.push([value[i], depth + 1, value, String(i)]);
      }
      continue;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new AuthFormatError("the auth document contains an object that is not plain JSON data (a Date, Map, class instance, ...)");
    }
    for (const [name, inner] of Object.entries(value)) if (inner !== undefined) pending.push([inner, depth + 1, value, name]);
  }
}

/**
 * Date.parse rolls `2025-02-30` over to March 2 and reads hour 24 as the next
 * midnight; chrono (Codex) rejects both, so such a file would be unreadable to
 * Codex after we wrote it. Checks month, day-of-month and hour.
 */
function isCalendarDate(stamp: string): boolean {
  const [year, month, day, hour] = [stamp.slice(0, 4), stamp.slice(5, 7), stamp.slice(8, 10), stamp.slice(11, 13)].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23) return false;
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one
  return day <= lastDay.getUTCDate();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(object: Record<string, unknown>, key: string, field: string): void {
  const value = object[key];
  if (value === undefined || (Object.hasOwn(object, key) && value === null)) return;
  if (typeof value !== "string") throw new AuthFormatError(`${field} must be a string`, { field });
  requireWellFormed(value, field);
}

function nullableString(object: Record<string, unknown>, key: string, field: string): void {
  const value = object[key];
  if (value === undefined || value === null) return;
  if (typeof value !== "string") throw new AuthFormatError(`${field} must be a string or null`, { field });
  requireWellFormed(value, field);
}

function requireWellFormed(value: string, field: string): void {
  // A lone surrogate cannot be encoded as UTF-8: keyrings would silently store U+FFFD instead.
  if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new AuthFormatError(`${field} contains an unpaired UTF-16 surrogate`, { field });
  }
}

/** A copy of `object` with `key: value` placed right after `after` (or first). */
function insertAfter(
  object: Record<string, unknown>,
  after: string | undefined,
  key: string,
  value: unknown,
): Record<string, unknown> {
  const entries = Object.entries(object);
  const index = after === undefined ? -1 : entries.findIndex(([name]) => name === after);
  entries.splice(index + 1, 0, [key, value]);
  // fromEntries defines own properties, so a "__proto__" key stays data and never touches a prototype.
  return Object.fromEntries(entries);
}

function replaceValue(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([name, old]) => [name, name === key ? value : old]));
}

/** The tokens, or `undefined` unless both `tokens` and `last_refresh` are present (Codex's rule). */
export function usableTokens(auth: AuthDotJson | null): TokenData | undefined {
  return auth?.tokens && auth.last_refresh ? auth.tokens : undefined;
}
