/**
 * Property-based fuzzing of serializeAuthJson with fast-check: for any value (bigints, dates,
 * maps, sparse arrays, null prototypes, toJSON, __proto__ keys…) it writes only what parses back
 * identically, or throws AuthFormatError; a cyclic document is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AuthFormatError, type AuthDotJson, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { FUZZ_CANARY, validDocument } from "./support/hardening-fuzz-arbitraries.ts";
import { assertRoundTrip, formatErrorOrResult, fuzzCases, noPollution, runs, seed } from "./support/fuzz-codec-checks.ts";

const fuzz = fuzzCases("serialize");

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
      fuzz.cases++;
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
  fuzz.cases++;
  const doc: Record<string, unknown> = { OPENAI_API_KEY: null };
  doc.self = doc;
  assert.throws(() => serializeAuthJson(doc as AuthDotJson), AuthFormatError);
});
