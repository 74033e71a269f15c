/**
 * Property-based fuzzing of the codec with fast-check: generated and mutated
 * auth.json documents and JWTs for parseAuthJson, parseIdToken and
 * serializeAuthJson, and raw bytes on disk through the file load path.
 *
 * AUTHKEEP_FUZZ_RUNS (10,000 by default) is split across the properties;
 * AUTHKEEP_SEED replays a run.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import fc from "fast-check";
import { AuthFormatError, type AuthDotJson, createAuthStorage, parseAuthJson, parseIdToken, serializeAuthJson } from "../src/index.ts";
import { runSync } from "../src/contract/engine.ts";
import { loadFileFlow } from "../src/storage/file-storage.ts";
import { envCount, fakeJwt, makeHome, removeHome } from "./support/hardening-env.ts";
import { FUZZ_CANARY, idTokenClaims, jwtLike, mutations, validDocument } from "./support/hardening-fuzz-arbitraries.ts";

const totalRuns = envCount("AUTHKEEP_FUZZ_RUNS", 10_000);
const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
const runs = (share: number): number => Math.max(1, Math.round(totalRuns * share));
let cases = 0;
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

after(() => {
  process.stdout.write(`# fuzz-codec (seed ${seed}): ${cases} cases\n`);
});

function noPollution(): void {
  assert.equal((({}) as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

/** Runs `fn`; any throw other than a well-formed AuthFormatError fails the test. */
function formatErrorOrResult<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof AuthFormatError)) {
      throw new Error(`expected only AuthFormatError, got ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 200)}`);
    }
    assert.ok(!error.message.includes(FUZZ_CANARY), "an error message echoes a document value");
    assert.ok(!String(error.stack).includes(FUZZ_CANARY), "an error stack echoes a document value");
    if (error.line !== undefined) assert.ok(error.line >= 1 && (error.column ?? 0) >= 1);
    return undefined;
  }
}

/** -0 and 0 are the same JSON number. */
function plainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** parse ∘ serialize is the identity on a valid document and serialize is a fixpoint. */
function assertRoundTrip(doc: AuthDotJson): void {
  for (const pretty of [true, false]) {
    const text = serializeAuthJson(doc, { pretty });
    const parsed = parseAuthJson(text);
    assert.equal(serializeAuthJson(parsed, { pretty }), text);
    for (const [key, value] of Object.entries(doc)) {
      if (value === undefined) continue;
      if (key === "tokens" && value !== null) {
        const tokens = value as Record<string, unknown>;
        for (const [name, inner] of Object.entries(tokens)) assert.deepEqual(plainJson(parsed.tokens![name]), plainJson(inner));
        assert.equal(parsed.tokens!.account_id, tokens.account_id ?? null);
        continue;
      }
      assert.ok(Object.hasOwn(parsed, key), "a field was lost");
      assert.deepEqual(plainJson(parsed[key]), plainJson(value));
    }
    assert.equal(parsed.OPENAI_API_KEY, doc.OPENAI_API_KEY ?? null);
    // Reading the same document with a BOM, other whitespace or another indentation changes nothing.
    // (Tabs replace the indentation of our own output: JSON.stringify would write a kept `1e400` as null.)
    const tabbed = serializeAuthJson(doc).replace(/\n((?: {2})+)/g, (_, indent: string) => `\n${"\t".repeat(indent.length / 2)}`);
    assert.deepEqual(parseAuthJson(`\uFEFF${tabbed}\n`), parseAuthJson(text));
  }
}

test("valid documents round-trip exactly (pretty and compact, BOM and whitespace ignored)", () => {
  fc.assert(
    fc.property(validDocument, (doc) => {
      cases++;
      assertRoundTrip(doc);
      noPollution();
    }),
    { numRuns: runs(0.25), seed },
  );
});

test("mutated documents give a document that round-trips, or only AuthFormatError", () => {
  fc.assert(
    fc.property(validDocument, fc.boolean(), mutations, (doc, pretty, edits) => {
      cases++;
      let text = serializeAuthJson(doc, { pretty });
      for (const edit of edits) text = edit(text);
      const parsed = formatErrorOrResult(() => parseAuthJson(text));
      if (parsed !== undefined) assertRoundTrip(parsed);
      noPollution();
    }),
    { numRuns: runs(0.35), seed },
  );
});

test("arbitrary text gives only AuthFormatError", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), fc.json()), (text) => {
      cases++;
      const parsed = formatErrorOrResult(() => parseAuthJson(text));
      if (parsed !== undefined) assertRoundTrip(parsed);
      noPollution();
    }),
    { numRuns: runs(0.1), seed },
  );
});

/** Whether a value is JSON data that survives JSON.stringify/JSON.parse unchanged. */
function isJsonData(value: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (value === null || typeof value === "boolean" || typeof value === "string") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object") return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!(i in value) || value[i] === undefined || !isJsonData(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  return Object.values(value).every((inner) => inner === undefined || isJsonData(inner, depth + 1));
}

test("serializeAuthJson writes only what parses back identically, or throws AuthFormatError", () => {
  const anything = fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
  });
  const input = fc.oneof(
    anything,
    fc.tuple(validDocument, fc.string(), anything).map(([doc, key, value]) => ({ ...doc, [key]: value })),
    fc.tuple(validDocument, fc.constantFrom("auth_mode", "OPENAI_API_KEY", "last_refresh", "tokens"), anything).map(([doc, key, value]) => ({ ...doc, [key]: value })),
    fc.constantFrom<unknown>(
      { OPENAI_API_KEY: null, big: 10n },
      { OPENAI_API_KEY: null, when: new Date(0) },
      { OPENAI_API_KEY: null, inf: Infinity },
      { OPENAI_API_KEY: null, nan: Number.NaN },
      { OPENAI_API_KEY: null, fn: () => 1 },
      { OPENAI_API_KEY: null, list: [1, undefined, 3] },
      { OPENAI_API_KEY: null, custom: { toJSON: () => "x" } },
      { OPENAI_API_KEY: null, optional: undefined },
      { auth_mode: undefined, OPENAI_API_KEY: null, tokens: undefined, last_refresh: undefined },
      { OPENAI_API_KEY: `${FUZZ_CANARY}\ud800` },
      Object.assign(Object.create(null), { OPENAI_API_KEY: null }),
      JSON.parse('{"OPENAI_API_KEY": null, "__proto__": {"polluted": "yes"}}'),
    ),
  );
  fc.assert(
    fc.property(input, (value) => {
      cases++;
      const text = formatErrorOrResult(() => serializeAuthJson(value as AuthDotJson));
      if (text !== undefined) {
        assert.ok(isJsonData(value), "serializeAuthJson accepted a value JSON cannot hold");
        const parsed = parseAuthJson(text);
        assert.equal(serializeAuthJson(parsed), text);
        assertRoundTrip(value as AuthDotJson);
      }
      noPollution();
    }),
    { numRuns: runs(0.1), seed },
  );
});

test("a cyclic document is refused with AuthFormatError", () => {
  cases++;
  const doc: Record<string, unknown> = { OPENAI_API_KEY: null };
  doc.self = doc;
  assert.throws(() => serializeAuthJson(doc as AuthDotJson), AuthFormatError);
});

test("JWTs: claims are read exactly; anything else gives only AuthFormatError", () => {
  fc.assert(
    fc.property(idTokenClaims, (claims) => {
      cases++;
      const payload: Record<string, unknown> = {};
      if (claims.email !== undefined) payload.email = claims.email;
      if (claims.exp !== undefined) payload.exp = claims.exp;
      if (claims.auth !== undefined) payload["https://api.openai.com/auth"] = claims.auth;
      if (claims.profileEmail !== undefined) payload["https://api.openai.com/profile"] = { email: claims.profileEmail };
      const jwt = fakeJwt(payload);
      const info = parseIdToken(jwt);
      assert.equal(info.rawJwt, jwt);
      assert.equal(info.email, claims.email ?? claims.profileEmail);
      assert.equal(info.chatgptPlanType, claims.auth?.chatgpt_plan_type);
      assert.equal(info.chatgptUserId, claims.auth?.chatgpt_user_id ?? claims.auth?.user_id);
      assert.equal(info.chatgptAccountId, claims.auth?.chatgpt_account_id);
      assert.equal(info.exp?.getTime(), claims.exp === undefined ? undefined : claims.exp * 1000);
    }),
    { numRuns: runs(0.05), seed },
  );
  fc.assert(
    fc.property(jwtLike, (jwt) => {
      cases++;
      const info = formatErrorOrResult(() => parseIdToken(jwt));
      if (info !== undefined) {
        assert.equal(info.rawJwt, jwt);
        for (const key of ["email", "chatgptPlanType", "chatgptUserId", "chatgptAccountId"] as const) {
          assert.ok(info[key] === undefined || typeof info[key] === "string");
        }
        assert.ok(info.exp === undefined || !Number.isNaN(info.exp.getTime()));
      }
      noPollution();
    }),
    { numRuns: runs(0.1), seed },
  );
  for (const value of [undefined, null, 42, {}, ["a", "b", "c"]]) {
    cases++;
    assert.throws(() => parseIdToken(value as unknown as string), AuthFormatError);
    assert.throws(() => parseAuthJson(value as unknown as string), AuthFormatError);
  }
});

test("bytes on disk: invalid UTF-8, BOMs and garbage load as AuthFormatError, valid files as the document", () => {
  const home = makeHome();
  const location = { home, fileName: "auth.json", warn: () => {} };
  const path = join(home, "auth.json");
  // Byte sequences UTF-8 forbids: a lone continuation byte, overlong encodings, an encoded
  // surrogate, a truncated sequence, bytes that never occur.
  const badUtf8 = [[0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff], [0xfe], [0xf5, 0x80, 0x80, 0x80]];
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(validDocument, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...badUtf8)).map(([doc, p, bad]) => {
      const good = Buffer.from(serializeAuthJson(doc));
      const at = Math.floor(p * good.length);
      return Buffer.concat([good.subarray(0, at), Buffer.from(bad), good.subarray(at)]);
    }),
    validDocument.map((doc) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(serializeAuthJson(doc))])),
    validDocument.map((doc) => Buffer.from(`\ufeff${serializeAuthJson(doc)}`, "utf16le")),
  );
  try {
    fc.assert(
      fc.property(bytes, (data) => {
        cases++;
        writeFileSync(path, data);
        let expected: AuthDotJson | undefined;
        try {
          expected = parseAuthJson(new TextDecoder("utf-8", { fatal: true }).decode(data));
        } catch {
          expected = undefined;
        }
        // One attempt: the storage's retry of parse failures only adds time here.
        const loaded = formatErrorOrResult(() => runSync(loadFileFlow(location, 1)));
        assert.deepEqual(loaded, expected);
      }),
      { numRuns: runs(0.05), seed },
    );
    // And the public API, sync and async, on a few of each kind.
    const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
    for (const bad of badUtf8) {
      cases++;
      writeFileSync(path, Buffer.concat([Buffer.from('{"OPENAI_API_KEY": "'), Buffer.from(bad), Buffer.from('"}')]));
      assert.throws(() => storage.loadSync(), (error: unknown) => error instanceof AuthFormatError && /UTF-8/.test(error.message));
    }
  } finally {
    removeHome(home);
  }
});

test("huge documents, deep nesting, out-of-range numbers, duplicate keys and __proto__ keys", () => {
  const check = (text: string): AuthDotJson | undefined => {
    cases++;
    const parsed = formatErrorOrResult(() => parseAuthJson(text));
    if (parsed !== undefined) assertRoundTrip(parsed);
    noPollution();
    return parsed;
  };
  // Huge: a 4 MiB token and 20,000 unknown fields both load and round-trip.
  const hugeToken = `${FUZZ_CANARY}${"A".repeat(4 * 1024 * 1024)}`;
  assert.equal(check(JSON.stringify({ OPENAI_API_KEY: hugeToken }))?.OPENAI_API_KEY, hugeToken);
  const wide: Record<string, number> = { OPENAI_API_KEY: 0 };
  delete wide.OPENAI_API_KEY;
  for (let i = 0; i < 20_000; i++) wide[`k${i}`] = i;
  assert.equal(Object.keys(check(JSON.stringify(wide)) ?? {}).length, 20_001);
  // Deep nesting, valid and unclosed, arrays and objects, at several depths.
  for (const depth of [10, 100, 128, 129, 1_000, 100_000]) {
    check(`{"deep": ${"[".repeat(depth)}${"]".repeat(depth)}}`);
    check(`{"deep": ${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`);
    check(`{"deep": ${"[".repeat(depth)}`);
    check("[".repeat(depth));
  }
  // Codex (serde_json) reads at most 128 levels; so does authkeep, and says so.
  assert.notEqual(check(`{"d":${"[".repeat(127)}${"]".repeat(127)}}`), undefined);
  assert.equal(check(`{"d":${"[".repeat(128)}${"]".repeat(128)}}`), undefined);
  // Numbers JSON.parse turns into Infinity or rounds.
  for (const number of ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0", "0.1e1"]) check(`{"n": ${number}}`);
  // Numbers and other types where strings belong, in every known field.
  for (const field of ["auth_mode", "OPENAI_API_KEY", "last_refresh"]) {
    for (const value of ["1", "true", "{}", "[]", '"\\ud800"']) {
      assert.equal(check(`{"${field}": ${value}}`), undefined, `${field}: ${value} accepted`);
    }
  }
  for (const field of ["id_token", "access_token", "refresh_token", "account_id"]) {
    for (const value of ["1", "true", "{}", "[]", '"\\udc00"']) {
      const tokens = { id_token: "i", access_token: "a", refresh_token: "r", account_id: "c" };
      const text = JSON.stringify({ OPENAI_API_KEY: null, tokens }).replace(`"${field}":"${tokens[field as keyof typeof tokens]}"`, `"${field}":${value}`);
      assert.equal(check(text), undefined, `tokens.${field}: ${value} accepted`);
    }
  }
  // Timestamps chrono (Codex) rejects, though Date.parse would roll them over.
  for (const stamp of ["2025-02-30T00:00:00Z", "2025-04-31T00:00:00Z", "2025-02-29T00:00:00Z", "2025-01-01T24:00:00Z", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z"]) {
    assert.equal(check(`{"last_refresh": "${stamp}"}`), undefined, `${stamp} accepted`);
  }
  for (const stamp of ["2024-02-29T23:59:59.999999999Z", "2000-02-29T00:00:00Z", "2025-12-31 23:59:59+05:30", "0001-01-01T00:00:00Z"]) {
    assert.equal(check(`{"last_refresh": "${stamp}"}`)?.last_refresh, stamp);
  }
  // Duplicate keys: a known field twice is refused, as serde_json refuses a struct's field twice;
  // an unknown one (which Codex ignores) keeps its last value, as in JSON.parse.
  assert.equal(check('{"OPENAI_API_KEY": 5, "OPENAI_API_KEY": "sk-second"}'), undefined);
  assert.equal(check('{"OPENAI_API_KEY": "sk-first", "OPENAI_API_KEY": 5}'), undefined);
  assert.equal(check('{"OPENAI_API_KEY": null, "x": 1, "x": 2}')?.x, 2);
  // BOMs: one leading BOM is ignored; anywhere else it is a syntax error.
  assert.equal(check('\uFEFF{"OPENAI_API_KEY": null}')?.OPENAI_API_KEY, null);
  assert.equal(check('\uFEFF\uFEFF{"OPENAI_API_KEY": null}'), undefined);
  assert.equal(check('{"OPENAI_API_KEY": null}\uFEFF'), undefined);
  // __proto__ and friends stay data.
  const proto = check('{"OPENAI_API_KEY": null, "__proto__": {"polluted": "yes", "OPENAI_API_KEY": "x"}, "constructor": {"prototype": {"polluted": "yes"}}}');
  assert.ok(proto !== undefined && Object.hasOwn(proto, "__proto__"));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(
    check('{"OPENAI_API_KEY": null, "tokens": {"__proto__": {"id_token": "i", "access_token": "a", "refresh_token": "r"}}}'),
    undefined,
    "tokens fields inherited through a __proto__ key were accepted",
  );
});
