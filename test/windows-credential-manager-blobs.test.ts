/**
 * The Windows Credential Manager store's encoding, everywhere (an in-memory advapi32,
 * test/support/fake-credentials.ts): keyring-rs UTF-16LE and keytar UTF-8 blobs, every storable
 * string round-tripping, the 2560-byte single entry and the chunk layout beyond it, and the size
 * and content limits. The flows: windows-credential-manager-flows; the real store under Wine:
 * windows-credential-manager.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import fc from "fast-check";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { decodeCredentialBlob, encodeUtf16, invalidValueReason, needsEnvelope } from "../native/windows/_blob.ts";
import {
  CHUNK_BYTES,
  chunkTarget,
  chunkTargetPrefix,
  formatHead,
  HEAD_PREFIX,
  joinChunks,
  MAX_CHUNKED_VALUE_BYTES,
  parseChunkTarget,
  parseHead,
  splitPayload,
} from "../native/windows/_chunks.ts";
import { ascii, FakeCredentials } from "./support/fake-credentials.ts";

test("decodeCredentialBlob() reads keyring-rs UTF-16LE and keytar UTF-8 blobs", () => {
  const cases: [string, Uint8Array, string, string][] = [
    ["UTF-16LE JSON", encodeUtf16('{"a":1}'), '{"a":1}', "utf-16le"],
    ["UTF-16LE CJK (no zero byte)", encodeUtf16("日本語"), "日本語", "utf-16le"],
    ["UTF-16LE with a NUL terminator", encodeUtf16("abc\0"), "abc", "utf-16le"],
    ["UTF-16LE with a BOM", Buffer.from("\ufeffhi", "utf16le"), "hi", "utf-16le"],
    ["UTF-8 JSON, odd length", Buffer.from('{"a":1}'), '{"a":1}', "utf-8"],
    ["UTF-8 JSON, even length", Buffer.from('{"a":12}'), '{"a":12}', "utf-8"],
    ["UTF-8 non-ASCII", Buffer.from('{"k":"wörld 日本語 🔑"}'), '{"k":"wörld 日本語 🔑"}', "utf-8"],
    ["UTF-8 with a BOM", Buffer.from("\ufeff{}"), "{}", "utf-8"],
    ["empty", new Uint8Array(0), "", "utf-16le"],
  ];
  for (const [name, bytes, text, encoding] of cases) {
    assert.deepEqual(decodeCredentialBlob(bytes), { text, encoding }, name);
  }
  assert.equal(decodeCredentialBlob(Uint8Array.of(0xff, 0xd8, 0x41)), null, "neither encoding");
  assert.equal(decodeCredentialBlob(Uint8Array.of(0x00, 0xd8)), null, "lone surrogate, invalid UTF-8");
});

test("every storable string survives save and load exactly, whatever its encoding looks like", () => {
  const fake = new FakeCredentials();
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 1400 }), (value) => {
      fc.pre(invalidValueReason(value) === null);
      fake.save("svc", "acct", value);
      assert.equal(fake.load("svc", "acct"), value);
    }),
    { numRuns: 300 },
  );
  for (const value of ["꧃", "꧃꧃", "é", `${HEAD_PREFIX}1:1:00000000:${"0".repeat(64)}`]) {
    fake.save("svc", "acct", value);
    assert.equal(fake.load("svc", "acct"), value, "ambiguous or head-like values still round-trip");
  }
  assert.equal(needsEnvelope("꧃", encodeUtf16("꧃"), HEAD_PREFIX), true, "U+A9C3 encodes to the UTF-8 of é");
  assert.equal(needsEnvelope('{"a":1}', encodeUtf16('{"a":1}'), HEAD_PREFIX), false);
});

test("saveSync() keeps values up to 2560 UTF-16 bytes in the single keyring-rs entry and chunks larger ones", () => {
  const fake = new FakeCredentials();
  for (const [units, single] of [[1279, true], [1280, true], [1281, false]] as const) {
    fake.save("Codex Auth", "cli|0123456789abcdef", ascii(units));
    const entry = fake.entries.get("cli|0123456789abcdef.codex auth");
    assert.ok(entry);
    assert.equal(entry.target, "cli|0123456789abcdef.Codex Auth");
    assert.equal(entry.userName, "cli|0123456789abcdef");
    if (single) assert.deepEqual(entry.blob, encodeUtf16(ascii(units)));
    else assert.ok(decodeCredentialBlob(entry.blob)?.text.startsWith(HEAD_PREFIX));
    assert.equal(fake.entries.size, single ? 1 : 2);
    assert.equal(fake.load("Codex Auth", "cli|0123456789abcdef"), ascii(units));
  }
  for (const blob of [...fake.entries.values()].map((e) => e.blob)) assert.ok(blob.length <= 2560);
});

test("the chunk layout: head text, chunk names and the bounds are as documented", () => {
  const payload = Buffer.from(ascii(2 * CHUNK_BYTES + 1));
  const parts = splitPayload(payload);
  assert.deepEqual(parts.map((p) => p.length), [2560, 2560, 1]);
  const head = parseHead(formatHead(payload, parts.length, "0a1b2c3d"));
  assert.deepEqual(head && { count: head.count, bytes: head.bytes, id: head.id }, { count: 3, bytes: 5121, id: "0a1b2c3d" });
  assert.ok(head);
  assert.deepEqual(joinChunks(head, parts), new Uint8Array(payload));
  assert.equal(joinChunks(head, parts.slice(0, 2)), "expected 3 chunks, found 2");
  const tampered = parts.map((p) => Buffer.from(p));
  tampered[0]![0] = 0x62;
  assert.equal(joinChunks(head, tampered), "checksum mismatch");
  assert.equal(parseHead('{"not":"a head"}'), null);
  assert.throws(() => parseHead(`${HEAD_PREFIX}3:9999999:0a1b2c3d:${"0".repeat(64)}`), /inconsistent/);
  assert.throws(() => parseHead(`${HEAD_PREFIX}x`), /malformed/);

  const longTarget = `${"a".repeat(500)}.${"s".repeat(500)}`;
  const name = chunkTarget(longTarget, "0a1b2c3d", 127);
  assert.ok(name.length < 60, "chunk names stay far below Wine's 247-character cap");
  assert.ok(!name.includes("\\"), "no backslash (Wine folds it to _)");
  assert.equal(chunkTargetPrefix("cli|x.Codex Auth"), chunkTargetPrefix("CLI|X.codex auth"), "case-insensitive like targets");
  assert.deepEqual(parseChunkTarget(chunkTargetPrefix(longTarget), name), { id: "0a1b2c3d", index: 127 });
  assert.equal(parseChunkTarget(chunkTargetPrefix(longTarget), `${chunkTargetPrefix(longTarget)}zz:1`), null);
  assert.equal(MAX_CHUNKED_VALUE_BYTES, 327680);
});

test("saveSync() of a value past 320 KiB is too-large and touches nothing; NUL is invalid", () => {
  const fake = new FakeCredentials();
  assert.throws(() => fake.save("s", "a", ascii(MAX_CHUNKED_VALUE_BYTES + 1)), (e: unknown) => e instanceof KeyringError && e.kind === "too-large" && e.reason === "too-large");
  assert.throws(() => fake.save("s", "a", "a\0"), (e: unknown) => e instanceof KeyringError && e.kind === "invalid" && e.reason === "invalid");
  assert.throws(() => fake.save("s", "a".repeat(514), "v"), (e: unknown) => e instanceof KeyringError && e.kind === "invalid" && e.reason === "invalid");
  assert.equal(fake.entries.size, 0);
  fake.save("s", "a", ascii(MAX_CHUNKED_VALUE_BYTES));
  assert.equal(fake.load("s", "a"), ascii(MAX_CHUNKED_VALUE_BYTES));
});
