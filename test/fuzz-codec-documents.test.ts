/**
 * Property-based fuzzing of parseAuthJson with fast-check: generated auth.json documents
 * round-trip exactly; mutated ones and arbitrary text give a document that round-trips, or only
 * AuthFormatError. The run budget and the checks: test/support/fuzz-codec-checks.ts.
 */
import { test } from "node:test";
import fc from "fast-check";
import { parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { mutations, validDocument } from "./support/hardening-fuzz-arbitraries.ts";
import { assertRoundTrip, formatErrorOrResult, fuzzCases, noPollution, runs, seed } from "./support/fuzz-codec-checks.ts";

const fuzz = fuzzCases("documents");

test("valid documents round-trip exactly (pretty and compact, BOM and whitespace ignored)", () => {
  fc.assert(
    fc.property(validDocument, (doc) => {
      fuzz.cases++;
      assertRoundTrip(doc);
      noPollution();
    }),
    { numRuns: runs(0.25), seed },
  );
});

test("mutated documents give a document that round-trips, or only AuthFormatError", () => {
  fc.assert(
    fc.property(validDocument, fc.boolean(), mutations, (doc, pretty, edits) => {
      fuzz.cases++;
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
      fuzz.cases++;
      const parsed = formatErrorOrResult(() => parseAuthJson(text));
      if (parsed !== undefined) assertRoundTrip(parsed);
      noPollution();
    }),
    { numRuns: runs(0.1), seed },
  );
});
