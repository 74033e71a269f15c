/**
 * The codec at its edges: huge documents, deep nesting (at most 128 levels, as Codex),
 * out-of-range numbers, wrong types in every known field, timestamps Codex rejects, duplicate
 * keys, BOMs and __proto__ keys; each a round trip or only AuthFormatError.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type AuthDotJson, parseAuthJson } from "../src/index.ts";
import { FUZZ_CANARY } from "./support/hardening-fuzz-arbitraries.ts";
import { assertRoundTrip, formatErrorOrResult, fuzzCases, noPollution } from "./support/fuzz-codec-checks.ts";

const fuzz = fuzzCases("extremes");

test("huge documents, deep nesting, out-of-range numbers, duplicate keys and __proto__ keys", () => {
  const check = (text: string): AuthDotJson | undefined => {
    fuzz.cases++;
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
