/**
 * fast-check arbitraries for the codec fuzzing: valid auth.json documents,
 * text mutations of them, and JWTs.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import type { AuthDotJson } from "../../src/index.ts";

/** Marks every generated token value, so a test can check no message echoes one. */
export const FUZZ_CANARY = "FUZZCANARY";

/** Strings that are valid in a document (well-formed UTF-16). */
const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed());
const secret = text.map((s) => `${FUZZ_CANARY}${s}`);

/** RFC 3339 timestamps as chrono writes them (0/3/6/9 fraction digits) and with offsets. */
export const rfc3339 = fc
  .tuple(
    fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-30T00:00:00Z"), noInvalidDate: true }),
    fc.constantFrom("", ".123", ".123456", ".123456789"),
    fc.constantFrom("Z", "+00:00", "-05:00", "+05:30"),
  )
  .map(([date, fraction, zone]) => `${date.toISOString().slice(0, 19)}${fraction}${zone}`);

/** Keys that attack prototypes or collide with ours. */
const trickyKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "");
const unknownKey = fc
  .oneof(text, trickyKey)
  .filter((key) => !["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh", "id_token", "access_token", "refresh_token", "account_id"].includes(key));

/** JSON values as JSON.parse produces them (no -0, which JSON cannot keep). */
const jsonData: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.parse(JSON.stringify(value)));

function withUnknown<T extends Record<string, unknown>>(base: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.tuple(base, fc.array(fc.tuple(unknownKey, jsonData), { maxLength: 4 }), fc.nat()).map(([object, extras, position]) => {
    const entries: [string, unknown][] = Object.entries(object);
    for (const [key, value] of extras) {
      if (entries.some(([name]) => name === key)) continue;
      entries.splice(position % (entries.length + 1), 0, [key, value]);
    }
    return Object.fromEntries(entries) as T;
  });
}

/** Valid token objects. */
const tokens = withUnknown(
  fc.record(
    {
      id_token: secret,
      access_token: secret,
      refresh_token: secret,
      account_id: fc.oneof(text, fc.constant(null)),
    },
    { requiredKeys: ["id_token", "access_token", "refresh_token"] },
  ),
);

/** Valid documents, with and without the optional fields and with unknown fields anywhere. */
export const validDocument: fc.Arbitrary<AuthDotJson> = withUnknown(
  fc.record(
    {
      auth_mode: fc.oneof(fc.constantFrom("apikey", "chatgpt", "chatgptAuthTokens"), text),
      OPENAI_API_KEY: fc.oneof(secret, fc.constant(null)),
      tokens: fc.oneof(tokens, fc.constant(null)),
      last_refresh: fc.oneof(rfc3339, fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
) as fc.Arbitrary<AuthDotJson>;

/** One edit of a document's text. */
type Mutation = (text: string) => string;

const position = fc.double({ min: 0, max: 1, noNaN: true });
const at = (source: string, p: number): number => Math.floor(p * source.length);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(position, fc.nat(8)).map(([p, n]): Mutation => (s) => s.slice(0, at(s, p)) + s.slice(at(s, p) + n)),
  fc.tuple(position, fc.string({ unit: "binary", maxLength: 4 })).map(([p, insert]): Mutation => (s) => s.slice(0, at(s, p)) + insert + s.slice(at(s, p))),
  fc.tuple(position, fc.constantFrom("{", "}", "[", "]", ",", ":", '"', "\\", "\\u", "\\ud800", "\\udc00", "\ud800", "\udfff", "\uFEFF", "\u0000", "\n", "1e400", "-0", "NaN", "true")).map(
    ([p, token]): Mutation => (s) => s.slice(0, at(s, p)) + token + s.slice(at(s, p)),
  ),
  position.map((p): Mutation => (s) => s.slice(0, at(s, p))),
  fc.constantFrom<Mutation>(
    (s) => `\uFEFF${s}`,
    (s) => `\uFEFF\uFEFF${s}`,
    (s) => ` \uFEFF${s}`,
    (s) => `${s}\n`,
    (s) => `${s}}`,
    (s) => `[${s}]`,
    (s) => s.replace("{", '{"__proto__": {"polluted": "yes"}, '),
    (s) => s.replace("{", '{"constructor": {"prototype": {"polluted": "yes"}}, '),
    (s) => s.replace(/"tokens"\s*:\s*\{/, '"tokens": {"__proto__": {"polluted": "yes"}, '),
    (s) => s.replace("{", '{"OPENAI_API_KEY": 42, '),
    (s) => s.replace("{", '{"auth_mode": "x", "auth_mode": 7, '),
    (s) => `${s.slice(0, -1)}, "OPENAI_API_KEY": 42}`,
    (s) => `${s.slice(0, -1)}, "OPENAI_API_KEY": "${FUZZ_CANARY}-dup"}`,
    (s) => `${s.slice(0, -1)}, "tokens": {"id_token": 1, "access_token": "a", "refresh_token": "r"}}`,
    (s) => `${s.slice(0, -1)}, "tokens": {"id_token": "i", "access_token": "a", "refresh_token": "r", "account_id": 5}}`,
    (s) => `${s.slice(0, -1)}, "last_refresh": 1735689600}`,
    (s) => `${s.slice(0, -1)}, "last_refresh": "yesterday"}`,
    (s) => `${s.slice(0, -1)}, "big": 1e400}`,
    (s) => `${s.slice(0, -1)}, "small": -1e400}`,
    (s) => `${s.slice(0, -1)}, "lone": "\\ud800"}`,
    (s) => `${s.slice(0, -1)}, "deep": ${"[".repeat(5000)}${"]".repeat(5000)}}`,
    (s) => `${s.slice(0, -1)}, "deep": ${"{\"a\":".repeat(3000)}1${"}".repeat(3000)}}`,
    (s) => `${s.slice(0, -1)}, "open": ${"[".repeat(5000)}}`,
    (s) => s.replace(/"(access|refresh|id)_token"\s*:\s*"[^"]*"/, '"$1_token": 12345'),
    (s) => s.replace(/"(access|refresh|id)_token"\s*:\s*"[^"]*"/, '"$1_token": null'),
    (s) => s.replace(/"(access|refresh|id)_token"\s*:\s*"[^"]*"/, '"$1_token": ["x"]'),
    (s) => s.replace(/"(access|refresh|id)_token"\s*:\s*"/, '"$1_token": "\\udc00'),
  ),
);

/** Up to four edits. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

const base64url = (value: string | Uint8Array): string => Buffer.from(value).toString("base64url");

/** JWT-shaped and not-quite-JWT strings. */
export const jwtLike: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.array(fc.string({ unit: "binary", maxLength: 12 }), { maxLength: 5 }).map((parts) => parts.join(".")),
  fc.tuple(fc.uint8Array({ maxLength: 64 })).map(([bytes]) => `e30.${base64url(bytes)}.sig`),
  fc.anything({ maxDepth: 3 }).map((value) => `e30.${base64url(JSON.stringify(value) ?? "null")}.sig`),
  fc.constantFrom(
    "a.b.c",
    "..",
    "e30..sig",
    "e30.e30.sig.extra",
    "e30.!!!!.sig",
    "e30.e30=.sig",
    `e30.${base64url("[1,2]")}.sig`,
    `e30.${base64url("null")}.sig`,
    `e30.${base64url('{"exp": 1e400}')}.sig`,
    `e30.${base64url('{"exp": 8.64e15}')}.sig`,
    `e30.${base64url('{"exp": "soon"}')}.sig`,
    `e30.${base64url('{"__proto__": {"polluted": "yes"}}')}.sig`,
    `e30.${base64url(Buffer.from([0xc0, 0x80, 0xff]))}.sig`,
    `e30.${base64url(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)}.sig`,
  ),
);

/** Claims of a valid id_token and what parseIdToken must read from them. */
export const idTokenClaims = fc.record(
  {
    email: text,
    exp: fc.integer({ min: 0, max: 253_402_300_799 }),
    auth: fc.record(
      { chatgpt_plan_type: text, chatgpt_user_id: text, user_id: text, chatgpt_account_id: text },
      { requiredKeys: [] },
    ),
    profileEmail: text,
  },
  { requiredKeys: [] },
);
