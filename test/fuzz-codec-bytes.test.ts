/**
 * Property-based fuzzing of the file load path with fast-check: raw bytes on disk (invalid UTF-8,
 * BOMs, UTF-16, garbage) load as AuthFormatError, valid files as the document.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { AuthFormatError, type AuthDotJson, createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { runSync } from "../src/contract/engine.ts";
import { loadFileFlow } from "../src/storage/file-storage.ts";
import { makeHome, removeHome } from "./support/hardening-env.ts";
import { validDocument } from "./support/hardening-fuzz-arbitraries.ts";
import { formatErrorOrResult, fuzzCases, runs, seed } from "./support/fuzz-codec-checks.ts";

const fuzz = fuzzCases("bytes");

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
        fuzz.cases++;
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
      fuzz.cases++;
      writeFileSync(path, Buffer.concat([Buffer.from('{"OPENAI_API_KEY": "'), Buffer.from(bad), Buffer.from('"}')]));
      assert.throws(() => storage.loadSync(), (error: unknown) => error instanceof AuthFormatError && /UTF-8/.test(error.message));
    }
  } finally {
    removeHome(home);
  }
});
