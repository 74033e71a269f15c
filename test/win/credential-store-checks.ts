/**
 * Credential Manager checks of the store itself, in the Windows node.exe (run by
 * credential-manager.win.ts): round trips sync and async, the keyring-rs layout on disk, the
 * 2560-byte entry and the chunks beyond it, stale and damaged chunks, interrupted writes, UTF-8
 * blobs other programs write, and the size and content limits.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { runFlowSync, saveFlow, type CredStep } from "../../native/windows/_flow.ts";
import { CHUNK_BYTES, HEAD_PREFIX, MAX_CHUNKED_VALUE_BYTES } from "../../native/windows/_chunks.ts";
import { account, check, expectKeyringError, SERVICE, store, valueOfUtf8Bytes } from "./credential-checks.ts";
import { chunksOf, raw, rawRead, rawWrite, utf16 } from "./raw-credentials.ts";

/** Runs the store checks, recording each. */
export async function storeChecks(): Promise<void> {
  await check("loadSync/saveSync/deleteSync: round trip, overwrite, delete, missing", () => {
    const a = account();
    assert.equal(store.loadSync(SERVICE, a), null);
    assert.equal(store.deleteSync(SERVICE, a), false);
    store.saveSync(SERVICE, a, '{"v":1}');
    assert.equal(store.loadSync(SERVICE, a), '{"v":1}');
    store.saveSync(SERVICE, a, '{"v":2}');
    assert.equal(store.loadSync(SERVICE, a), '{"v":2}');
    store.saveSync(SERVICE, a, "");
    assert.equal(store.loadSync(SERVICE, a), "");
    assert.equal(store.deleteSync(SERVICE, a), true);
    assert.equal(store.loadSync(SERVICE, a), null);
    assert.equal(store.deleteSync(SERVICE, a), false);
  });

  await check("load/save/delete: round trip, overwrite, delete, missing", async () => {
    const a = account();
    assert.equal(await store.load(SERVICE, a), null);
    assert.equal(await store.delete(SERVICE, a), false);
    await store.save(SERVICE, a, '{"v":1}');
    assert.equal(await store.load(SERVICE, a), '{"v":1}');
    await store.save(SERVICE, a, '{"v":2}');
    assert.equal(await store.load(SERVICE, a), '{"v":2}');
    assert.equal(await store.delete(SERVICE, a), true);
    assert.equal(await store.load(SERVICE, a), null);
    assert.equal(await store.delete(SERVICE, a), false);
  });

  await check("load() runs concurrently with other work and many calls in parallel agree", async () => {
    const a = account();
    await store.save(SERVICE, a, '{"parallel":true}');
    const results = await Promise.all(Array.from({ length: 8 }, () => store.load(SERVICE, a)));
    assert.deepEqual(new Set(results), new Set(['{"parallel":true}']));
    assert.equal(await store.delete(SERVICE, a), true);
  });

  await check("saveSync writes the keyring-rs layout: generic, <account>.<service>, UserName, enterprise, UTF-16LE, comment", () => {
    const a = account();
    const value = '{"tokens":"このきれいな花は桜です 🔑"}';
    store.saveSync("Codex Auth", a, value);
    const c = rawRead(`${a}.Codex Auth`);
    assert.ok(c !== null, "credential exists at <account>.<service>");
    assert.equal(c.type, 1, "CRED_TYPE_GENERIC");
    assert.equal(c.targetName, `${a}.Codex Auth`);
    assert.equal(c.userName, a);
    assert.equal(c.persist, 3, "CRED_PERSIST_ENTERPRISE");
    assert.ok(c.comment?.includes("authkeep"), "comment names authkeep");
    assert.ok(c.blob.equals(utf16(value)), "blob is UTF-16LE without BOM or NUL");
    assert.equal(store.deleteSync("Codex Auth", a), true);
  });

  await check("non-ASCII values round-trip (sync and async)", async () => {
    const a = account();
    for (const value of ["このきれいな花は桜です", "ünïcødé 🔑 Ελληνικά русский עברית", "꧃꧃", "é"]) {
      store.saveSync(SERVICE, a, value);
      assert.equal(store.loadSync(SERVICE, a), value);
      await store.save(SERVICE, a, value);
      assert.equal(await store.load(SERVICE, a), value);
    }
    assert.equal(store.deleteSync(SERVICE, a), true);
    assert.deepEqual(chunksOf(SERVICE, a), []);
  });

  await check("2560-byte limit: 2558 and 2560 UTF-16 bytes stay one entry, 2562 goes chunked (checked by us, not Wine)", () => {
    const a = account();
    for (const [units, single] of [[1279, true], [1280, true], [1281, false]] as const) {
      const value = "a".repeat(units);
      store.saveSync(SERVICE, a, value);
      const c = rawRead(`${a}.${SERVICE}`);
      assert.ok(c !== null);
      if (single) {
        assert.equal(c.blob.length, units * 2, `${units * 2} bytes: one entry`);
        assert.deepEqual(chunksOf(SERVICE, a), [], "no chunks");
      } else {
        assert.ok(c.blob.length <= 2560);
        assert.ok(c.blob.toString("utf16le").startsWith(HEAD_PREFIX), `${units * 2} bytes: a chunk head`);
        assert.equal(chunksOf(SERVICE, a).length, 1);
      }
      assert.equal(store.loadSync(SERVICE, a), value);
    }
    const pairs = "🔑".repeat(640); // 1280 code units in surrogate pairs = 2560 bytes
    store.saveSync(SERVICE, a, pairs);
    assert.equal(rawRead(`${a}.${SERVICE}`)?.blob.length, 2560);
    assert.equal(store.loadSync(SERVICE, a), pairs);
    assert.equal(store.deleteSync(SERVICE, a), true);
    assert.deepEqual(chunksOf(SERVICE, a), []);
  });

  await check("chunk boundary: 2559, 2560 and 2561 UTF-8 bytes take 1, 1 and 2 chunks and round-trip", async () => {
    const a = account();
    for (const [bytes, chunks] of [[2559, 1], [2560, 1], [2561, 2]] as const) {
      const value = valueOfUtf8Bytes(bytes);
      await store.save(SERVICE, a, value);
      assert.equal(chunksOf(SERVICE, a).length, chunks, `${bytes} bytes`);
      for (const target of chunksOf(SERVICE, a)) assert.ok((rawRead(target)?.blob.length ?? 0) <= 2560);
      assert.equal(await store.load(SERVICE, a), value);
      assert.equal(store.loadSync(SERVICE, a), value);
    }
    assert.equal(await store.delete(SERVICE, a), true);
    assert.deepEqual(chunksOf(SERVICE, a), []);
  });

  for (const kib of [4, 16, 64]) {
    await check(`chunked ${kib} KiB value: round trip sync and async, every blob within 2560 bytes`, async () => {
      const a = account();
      const value = valueOfUtf8Bytes(kib * 1024);
      store.saveSync(SERVICE, a, value);
      const expected = Math.ceil((kib * 1024) / CHUNK_BYTES);
      const chunks = chunksOf(SERVICE, a);
      assert.equal(chunks.length, expected);
      for (const target of chunks) {
        const c = rawRead(target);
        assert.ok(c !== null && c.blob.length <= 2560 && c.blob.length > 0);
        assert.equal(c.userName, a);
        assert.ok(target.length < 60, "chunk targets stay short (Wine caps targets at 247)");
      }
      assert.ok((rawRead(`${a}.${SERVICE}`)?.blob.length ?? 9999) <= 2560);
      assert.equal(store.loadSync(SERVICE, a), value);
      assert.equal(await store.load(SERVICE, a), value);
      await store.save(SERVICE, a, `${value}!`);
      assert.equal(await store.load(SERVICE, a), `${value}!`);
      assert.equal(chunksOf(SERVICE, a).length, Math.ceil((kib * 1024 + 1) / CHUNK_BYTES), "the previous write's chunks are gone");
      assert.equal(store.deleteSync(SERVICE, a), true);
      assert.equal(store.loadSync(SERVICE, a), null);
      assert.deepEqual(chunksOf(SERVICE, a), []);
    });
  }

  await check("overwriting a long chunked value with a shorter one, then a small one, leaves no stale chunk", () => {
    const a = account();
    store.saveSync(SERVICE, a, valueOfUtf8Bytes(64 * 1024));
    assert.equal(chunksOf(SERVICE, a).length, 26);
    store.saveSync(SERVICE, a, valueOfUtf8Bytes(4 * 1024));
    assert.equal(chunksOf(SERVICE, a).length, 2);
    store.saveSync(SERVICE, a, '{"small":true}');
    assert.deepEqual(chunksOf(SERVICE, a), []);
    assert.equal(store.loadSync(SERVICE, a), '{"small":true}');
    assert.equal(store.deleteSync(SERVICE, a), true);
  });

  await check("a chunked value whose chunk was altered, removed or whose head is malformed is a clean failure, never garbage", async () => {
    const a = account();
    store.saveSync(SERVICE, a, valueOfUtf8Bytes(8000));
    const [first] = chunksOf(SERVICE, a).sort();
    assert.ok(first !== undefined);
    const original = rawRead(first)!.blob;
    const altered = Buffer.from(original);
    altered[10] = altered[10]! ^ 1;
    rawWrite(first, a, altered);
    await expectKeyringError("failure", () => store.loadSync(SERVICE, a));
    await expectKeyringError("failure", () => store.load(SERVICE, a));
    rawWrite(first, a, original.subarray(0, 100));
    await expectKeyringError("failure", () => store.loadSync(SERVICE, a));
    raw.execSync({ op: "delete", target: first });
    await expectKeyringError("failure", () => store.loadSync(SERVICE, a));
    rawWrite(`${a}.${SERVICE}`, a, utf16(`${HEAD_PREFIX}3:xyz`));
    await expectKeyringError("failure", () => store.loadSync(SERVICE, a));
    assert.equal(store.deleteSync(SERVICE, a), true);
    assert.deepEqual(chunksOf(SERVICE, a), []);
  });

  await check("a first chunked write interrupted before its head reads as missing, and delete/save sweep its chunks", () => {
    const a = account();
    let chunkWrites = 0;
    assert.throws(() =>
      runFlowSync(saveFlow(SERVICE, a, valueOfUtf8Bytes(16 * 1024)), (step: CredStep) => {
        if (step.op === "write" && step.target.startsWith("authkeep:chunk:") && ++chunkWrites > 3) throw new Error("simulated crash");
        return raw.execSync(step);
      }),
    );
    assert.equal(chunksOf(SERVICE, a).length, 3);
    assert.equal(store.loadSync(SERVICE, a), null);
    assert.equal(store.deleteSync(SERVICE, a), false);
    assert.deepEqual(chunksOf(SERVICE, a), []);
  });

  await check("UTF-8 blobs written directly with CredWriteW (as keytar does) are read back", async () => {
    const a = account();
    const target = `${a}.${SERVICE}`;
    for (const value of ['{"a":1}', '{"a":12}', '{"k":"wörld 日本語 🔑"}', "é", "日本語", '{"access_token":"x.y.z"}']) {
      rawWrite(target, a, Buffer.from(value, "utf8"));
      assert.equal(store.loadSync(SERVICE, a), value, `UTF-8 of ${Buffer.byteLength(value)} bytes`);
      assert.equal(await store.load(SERVICE, a), value);
    }
    rawWrite(target, a, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"bom":true}')]));
    assert.equal(store.loadSync(SERVICE, a), '{"bom":true}', "UTF-8 BOM dropped");
    rawWrite(target, a, Buffer.from([0xff, 0xd8, 0x41])); // neither encoding
    await expectKeyringError("failure", () => store.loadSync(SERVICE, a));
    assert.equal(store.deleteSync(SERVICE, a), true);
  });

  await check("size and content checks: past 320 KiB is too-large and writes nothing; NUL and lone surrogates are invalid", async () => {
    const a = account();
    await expectKeyringError("too-large", () => store.saveSync(SERVICE, a, "x".repeat(MAX_CHUNKED_VALUE_BYTES + 1)));
    await expectKeyringError("too-large", () => store.save(SERVICE, a, "x".repeat(MAX_CHUNKED_VALUE_BYTES + 1)));
    assert.equal(store.loadSync(SERVICE, a), null);
    assert.deepEqual(chunksOf(SERVICE, a), []);
    store.saveSync(SERVICE, a, "x".repeat(MAX_CHUNKED_VALUE_BYTES));
    assert.equal(store.loadSync(SERVICE, a)?.length, MAX_CHUNKED_VALUE_BYTES);
    assert.equal(store.deleteSync(SERVICE, a), true);
    await expectKeyringError("invalid", () => store.saveSync(SERVICE, a, "a\0b"));
    await expectKeyringError("invalid", () => store.saveSync(SERVICE, a, "a\ud800b"));
    await expectKeyringError("invalid", () => store.saveSync(SERVICE, "x".repeat(600), "v"));
  });
}
