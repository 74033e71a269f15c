/**
 * Windows-side checks of the Credential Manager store, run by the official
 * Windows node.exe under Wine (from dist/, driven by
 * test/windows-credential-manager.test.ts). Not a *.test.ts file: the Linux
 * runner must not pick it up.
 *
 * Usage: node.exe credential-manager.win.js <phase> <results.json> [args...]
 *   main [<key>]                  every check that fits in one process; with <key>, also stores
 *                                 the "old" chunked value for the crash test (crash-setup alone does only that)
 *   crash-setup <key>             stores the "old" chunked value for the crash test
 *   crash-write <key> <marker>    starts a chunked overwrite, creates <marker> after 3 chunks
 *                                 and waits there for the Linux side to kill the Wine process
 *   crash-verify <key>            the old value must still read back exactly, then cleanup
 *
 * Each check records `{ name, ok, detail }`; no secret value is ever printed
 * (details give lengths and kinds only). The results file is written at the
 * end with `done: true`, so a crash shows up as missing results.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createWindowsKeyringStore } from "../../native/windows/store.ts";
import { credentialExecutor } from "../../native/windows/_ffi.ts";
import { bindCredentialApi } from "../../native/windows/_bindings.ts";
import { runFlowSync, saveFlow, targetName, type CredStep } from "../../native/windows/_flow.ts";
import { CHUNK_BYTES, chunkTargetPrefix, HEAD_PREFIX, MAX_CHUNKED_VALUE_BYTES } from "../../native/windows/_chunks.ts";
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { computeStoreKey, storeKeyForCanonicalPath } from "../../src/document/store-key.ts";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";
import type { AuthDotJson } from "../../src/document/auth-types.ts";

const require = createRequire(import.meta.url);
const SERVICE = "authkeep wine test";
const store = createWindowsKeyringStore();
const raw = credentialExecutor();

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}
const checks: Check[] = [];
const timings: Record<string, number> = {};
const [phase = "main", resultsPath = "results.json", ...rest] = process.argv.slice(2);

function account(): string {
  return `cli|${randomBytes(8).toString("hex")}`;
}

async function check(name: string, body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
    checks.push({ name, ok: true });
  } catch (error) {
    const e = error as Error & { kind?: string; code?: unknown };
    // Messages from assert can quote values: keep only the first line, values here are test data.
    checks.push({ name, ok: false, detail: `${e.name}${e.kind ? `(${e.kind}, ${String(e.code)})` : ""}: ${String(e.message).split("\n")[0]}` });
  }
}

function save(): void {
  writeFileSync(resultsPath, JSON.stringify({ phase, checks, timings, done: true }, null, 2));
}

// ---- raw Credential Manager access, for checking what the store wrote ----
// CREDENTIALW is declared here again on purpose, with koffi's own struct layout, independently of the
// hand-made layout in native/windows/_credential.ts: a layout mistake there must not be able to hide
// itself by being used on both sides of a check.

const koffi = require("koffi");
const advapi32 = koffi.load("advapi32.dll");
const CREDENTIALW = koffi.struct({
  Flags: "uint32_t",
  Type: "uint32_t",
  TargetName: "str16",
  Comment: "str16",
  LastWritten: koffi.struct({ lo: "uint32_t", hi: "uint32_t" }),
  CredentialBlobSize: "uint32_t",
  CredentialBlob: "uint8_t *",
  Persist: "uint32_t",
  AttributeCount: "uint32_t",
  Attributes: "void *",
  TargetAlias: "str16",
  UserName: "str16",
});
const CredReadW = advapi32.func("__stdcall", "CredReadW", "int", ["str16", "uint32_t", "uint32_t", koffi.out(koffi.pointer("void *"))]);
const CredFree = advapi32.func("__stdcall", "CredFree", "void", ["void *"]);

interface RawCredential {
  type: number;
  targetName: string;
  userName: string | null;
  comment: string | null;
  persist: number;
  blob: Buffer;
}

function rawRead(target: string): RawCredential | null {
  const out = [null];
  if (!CredReadW(target, 1, 0, out)) return null;
  try {
    const c = koffi.decode(out[0], CREDENTIALW);
    const blob = c.CredentialBlobSize === 0 ? Buffer.alloc(0) : Buffer.from(koffi.view(c.CredentialBlob, c.CredentialBlobSize).slice(0));
    return { type: c.Type, targetName: c.TargetName, userName: c.UserName, comment: c.Comment, persist: c.Persist, blob };
  } finally {
    CredFree(out[0]);
  }
}

const ERROR_INVALID_PARAMETER = 87;

/**
 * Leaves ERROR_INVALID_PARAMETER as the main thread's last error (a CredReadW of an invalid type),
 * so that a check can tell a call's own error from whatever the main thread saw last.
 */
function primeLastError(): void {
  const api = bindCredentialApi({});
  assert.equal(api.CredReadW(new Uint16Array([120, 0]), 99, 0, new BigUint64Array(1)), 0);
  assert.equal(api.GetLastError(), ERROR_INVALID_PARAMETER);
}

function rawWrite(target: string, userName: string, blob: Uint8Array): void {
  raw.execSync({ op: "write", target, userName, comment: "written raw by the authkeep Wine test", blob });
}

function rawList(filter: string): string[] {
  return raw.execSync({ op: "list", filter }) as string[];
}

function chunksOf(service: string, acct: string): string[] {
  return rawList(`${chunkTargetPrefix(targetName(service, acct))}*`);
}

function utf16(text: string): Buffer {
  return Buffer.from(text, "utf16le");
}

/** A deterministic JSON-ish value of exactly `bytes` UTF-8 bytes, with some non-ASCII text. */
function valueOfUtf8Bytes(bytes: number): string {
  const head = '{"k":"wörld 日本語 🔑 ';
  let text = head;
  let i = 0;
  while (Buffer.byteLength(text) < bytes - 2) text += String.fromCharCode(97 + (i++ % 26));
  text += '"}';
  while (Buffer.byteLength(text) > bytes) text = `${text.slice(0, -3)}"}`;
  while (Buffer.byteLength(text) < bytes) text = `${text.slice(0, -2)}x"}`;
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

async function expectKeyringError(kind: string, body: () => unknown): Promise<void> {
  try {
    await body();
  } catch (error) {
    assert.ok(error instanceof KeyringError, `expected a KeyringError, got ${(error as Error).name}`);
    assert.equal(error.kind, kind, `kind (message: ${error.message})`);
    return;
  }
  assert.fail(`expected a KeyringError of kind ${kind}, got success`);
}

function time(label: string, n: number, body: () => void): void {
  const start = performance.now();
  for (let i = 0; i < n; i++) body();
  timings[label] = (performance.now() - start) / n;
}

async function timeAsync(label: string, n: number, body: () => Promise<void>): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await body();
  timings[label] = (performance.now() - start) / n;
}

// ---- the checks ----

async function main(): Promise<void> {
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

  await check("a failing CredWriteW (here Wine's 247-character target cap) is a failure carrying the Win32 code", async () => {
    const a = account();
    const service = "s".repeat(300);
    try {
      store.saveSync(service, a, "v");
    } catch (error) {
      assert.ok(error instanceof KeyringError);
      assert.equal(error.kind, "failure");
      assert.equal(typeof error.code, "number");
      return;
    }
    // Real Windows accepts such a name: then it must read back.
    assert.equal(store.loadSync(service, a), "v");
    store.deleteSync(service, a);
  });

  await check("an async call that fails reports its own Win32 error, not the main thread's (it is made again synchronously)", async () => {
    const a = account();
    const service = "s".repeat(300); // over Wine's 247-character target cap: CredWriteW fails
    let syncCode: unknown = "ok";
    try {
      store.saveSync(service, a, "v");
    } catch (error) {
      assert.ok(error instanceof KeyringError, `a KeyringError, got ${(error as Error).name}`);
      syncCode = error.code;
    }
    if (syncCode === "ok") {
      store.deleteSync(service, a); // real Windows accepts such a name: nothing fails here to compare
    } else {
      assert.ok(typeof syncCode === "number" && syncCode !== ERROR_INVALID_PARAMETER, `a real, distinct Win32 code (${String(syncCode)})`);
      primeLastError();
      await expectKeyringError("failure", () => store.save(service, a, "v"));
      primeLastError();
      const asyncCode = await store.save(service, a, "v").then(() => "ok", (error: KeyringError) => error.code);
      assert.equal(asyncCode, syncCode, "async and sync agree");
    }
    const missing = `${a}.nothing here`;
    primeLastError();
    assert.equal(await raw.execAsync({ op: "read", target: missing }), null, "ERROR_NOT_FOUND seen after .async");
    primeLastError();
    assert.equal(await raw.execAsync({ op: "delete", target: missing }), false);
    primeLastError();
    assert.deepEqual(await raw.execAsync({ op: "list", filter: `${missing}*` }), []);
    primeLastError();
    assert.equal(await store.load(SERVICE, a), null);
  });

  await check("CredEnumerateW target names come back exactly, non-BMP characters included", async () => {
    const a = account();
    const service = "日本語 🔑 Ελληνικά";
    store.saveSync(service, a, "v");
    assert.deepEqual(rawList(`${a}*`), [`${a}.${service}`]);
    assert.deepEqual(await raw.execAsync({ op: "list", filter: `${a}*` }), [`${a}.${service}`]);
    assert.equal(rawRead(`${a}.${service}`)?.targetName, `${a}.${service}`);
    assert.equal(store.deleteSync(service, a), true);
  });

  await check("the ffi option: koffi by default on node.exe, one binding per provider, deno refused on Node", async () => {
    assert.equal(raw.provider, "koffi");
    assert.equal(bindCredentialApi({ ffi: "koffi" }), bindCredentialApi({}), "cached per provider");
    const explicit = createWindowsKeyringStore({ ffi: "koffi" });
    const a = account();
    explicit.saveSync(SERVICE, a, '{"ffi":"koffi"}');
    assert.equal(await store.load(SERVICE, a), '{"ffi":"koffi"}');
    assert.equal(await explicit.delete(SERVICE, a), true);
    const deno = createWindowsKeyringStore({ ffi: "deno" });
    for (const attempt of [() => deno.loadSync(SERVICE, a), () => deno.load(SERVICE, a)]) {
      try {
        await attempt();
        assert.fail("the deno provider worked on node.exe");
      } catch (error) {
        assert.ok(error instanceof KeyringError, `a KeyringError, got ${(error as Error).name}`);
        assert.equal(error.kind, "unavailable");
        assert.equal(error.backend, "ffi");
      }
    }
  });

  await check("computeStoreKey hashes the \\\\?\\-prefixed real path of an existing home, as Rust's canonicalize does", () => {
    const home = mkdtempSync(join(tmpdir(), "authkeep-home-"));
    try {
      const real = realpathSync.native(home);
      assert.match(real, /^[A-Za-z]:\\/, "realpath is a drive path");
      const verbatim = `\\\\?\\${real}`;
      const expected = `cli|${createHash("sha256").update(verbatim, "utf8").digest("hex").slice(0, 16)}`;
      assert.equal(computeStoreKey(home), expected);
      assert.equal(computeStoreKey(home.toLowerCase()), computeStoreKey(real), "a differently cased spelling canonicalises the same");
      assert.equal(storeKeyForCanonicalPath("\\\\?\\C:\\Users\\alice\\.codex"), "cli|0a09f70e1bf72236");
      assert.equal(computeStoreKey("\\\\?\\C:\\Users\\alice\\nonexistent-authkeep\\.codex"), storeKeyForCanonicalPath("\\\\?\\C:\\Users\\alice\\nonexistent-authkeep\\.codex"));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  const bigAuth = (): AuthDotJson => ({
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ email: "a@example.com", pad: "p".repeat(2000) })).toString("base64url")}.sig`,
      access_token: `at-${"A".repeat(3000)}`,
      refresh_token: `rt-${"R".repeat(200)}`,
      account_id: null,
    },
    last_refresh: "2026-11-28T22:00:00.123456789Z",
  });

  for (const mode of ["keyring", "auto"] as const) {
    await check(`createAuthStorage in ${mode} mode over the Windows store: large and small logins, sync and async`, async () => {
      const home = mkdtempSync(join(tmpdir(), "authkeep-storage-"));
      try {
        // The direct entry is what this checks; on Windows keyring mode defaults to the encrypted store.
        const storage = createAuthStorage({ home, mode, keyring: store, keyringBackend: "direct", onWarning: () => {} });
        const key = computeStoreKey(home);
        const big = bigAuth();
        await storage.save(big);
        assert.deepEqual(await storage.load(), big);
        assert.deepEqual(storage.loadSync(), big);
        assert.ok(chunksOf("Codex Auth", key).length >= 2, "a real-sized login is chunked");
        assert.ok(!existsSync(join(home, "auth.json")), "no auth.json after a keyring save");
        const small: AuthDotJson = { auth_mode: "apikey", OPENAI_API_KEY: "sk-test" };
        storage.saveSync(small);
        assert.deepEqual(storage.loadSync(), small);
        assert.deepEqual(chunksOf("Codex Auth", key), [], "chunks removed when the login shrinks");
        const Entry = napiEntry();
        if (Entry !== null) assert.deepEqual(JSON.parse(new Entry("Codex Auth", key).getPassword() ?? "null"), small, "keyring-rs reads it");
        assert.equal(await storage.delete(), true);
        assert.equal(await storage.load(), null);
        assert.equal(rawRead(`${key}.Codex Auth`), null);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });
  }

  await check("@napi-rs/keyring (keyring-rs) writes, authkeep loads", async () => {
    const Entry = napiEntry(true)!;
    const a = account();
    const value = '{"OPENAI_API_KEY":null,"tokens":{"x":"wörld 日本語 🔑"}}';
    new Entry("Codex Auth", a).setPassword(value);
    assert.equal(store.loadSync("Codex Auth", a), value);
    assert.equal(await store.load("Codex Auth", a), value);
    assert.equal(store.deleteSync("Codex Auth", a), true);
    assert.equal(new Entry("Codex Auth", a).getPassword(), null);
  });

  await check("authkeep writes a value that fits one entry, @napi-rs/keyring reads it, exactly one credential exists", async () => {
    const Entry = napiEntry(true)!;
    const a = account();
    const value = '{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"x":"このきれいな花は桜です"}';
    await store.save("Codex Auth", a, value);
    const entry = new Entry("Codex Auth", a);
    assert.equal(entry.getPassword(), value);
    assert.deepEqual(rawList(`${a}*`), [`${a}.Codex Auth`]);
    assert.deepEqual(chunksOf("Codex Auth", a), []);
    entry.setPassword('{"rewritten":"by keyring-rs"}');
    assert.equal(store.loadSync("Codex Auth", a), '{"rewritten":"by keyring-rs"}');
    assert.deepEqual(rawList(`${a}*`), [`${a}.Codex Auth`], "still one credential after keyring-rs overwrote ours");
    assert.equal(await store.delete("Codex Auth", a), true);
    assert.equal(entry.getPassword(), null);
    assert.deepEqual(rawList(`${a}*`), []);
  });

  await check("latency under Wine (N=50 each)", async () => {
    const a = account();
    const small = '{"auth_mode":"apikey","OPENAI_API_KEY":"sk-latency"}';
    const chunked = valueOfUtf8Bytes(16 * 1024);
    time("saveSync small (ms)", 50, () => store.saveSync(SERVICE, a, small));
    time("loadSync small (ms)", 50, () => void store.loadSync(SERVICE, a));
    await timeAsync("save small (ms)", 50, () => store.save(SERVICE, a, small));
    await timeAsync("load small (ms)", 50, async () => void (await store.load(SERVICE, a)));
    time("loadSync missing (ms)", 50, () => void store.loadSync(SERVICE, `${a}-missing`));
    time("saveSync+loadSync small round trip (ms)", 50, () => {
      store.saveSync(SERVICE, a, small);
      store.loadSync(SERVICE, a);
    });
    time("saveSync 16 KiB chunked (ms)", 20, () => store.saveSync(SERVICE, a, chunked));
    time("loadSync 16 KiB chunked (ms)", 20, () => void store.loadSync(SERVICE, a));
    await timeAsync("save+load 16 KiB chunked round trip (ms)", 20, async () => {
      await store.save(SERVICE, a, chunked);
      await store.load(SERVICE, a);
    });
    time("deleteSync (ms)", 1, () => void store.deleteSync(SERVICE, a));
  });
}

type NapiEntry = new (service: string, account: string) => {
  setPassword(value: string): void;
  getPassword(): string | null;
  deleteCredential(): boolean;
};

let napi: NapiEntry | null | undefined;
function napiEntry(required = false): NapiEntry | null {
  if (napi === undefined) {
    try {
      napi = (require("@napi-rs/keyring") as { Entry: NapiEntry }).Entry;
    } catch (error) {
      if (required) throw error;
      napi = null;
    }
  }
  if (napi === null && required) throw new Error("@napi-rs/keyring's Windows build did not load");
  return napi;
}

// ---- crash test phases ----

const CRASH_OLD = 16 * 1024;
const CRASH_NEW = 40 * 1024;

async function crash(step: string, key: string, marker?: string): Promise<void> {
  const oldValue = valueOfUtf8Bytes(CRASH_OLD);
  if (step === "setup") {
    await check("crash test: the old 16 KiB value is stored", () => {
      store.saveSync(SERVICE, key, oldValue);
      assert.equal(store.loadSync(SERVICE, key), oldValue);
      assert.equal(chunksOf(SERVICE, key).length, 7);
    });
  } else if (step === "write") {
    let chunkWrites = 0;
    runFlowSync(saveFlow(SERVICE, key, valueOfUtf8Bytes(CRASH_NEW).replace("k", "n")), (s: CredStep) => {
      const result = raw.execSync(s);
      if (s.op === "write" && s.target.startsWith("authkeep:chunk:") && ++chunkWrites === 3) {
        writeFileSync(marker!, "3 chunks written");
        // Wait to be killed from outside: a hard kill of the Wine process between chunk writes.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
        process.exit(3); // only if nobody killed us
      }
      return result;
    });
    process.exit(4); // the write completed: the crash test did not crash
  } else if (step === "verify") {
    await check("crash test: after the Wine process was killed between chunk writes, the old value reads back exactly", async () => {
      assert.equal(chunksOf(SERVICE, key).length, 7 + 3, "7 old chunks and the 3 the killed writer left");
      assert.equal(store.loadSync(SERVICE, key), oldValue);
      assert.equal(await store.load(SERVICE, key), oldValue);
    });
    await check("crash test: the next save sweeps the killed writer's chunks, delete removes everything", () => {
      const next = valueOfUtf8Bytes(6000);
      store.saveSync(SERVICE, key, next);
      assert.equal(store.loadSync(SERVICE, key), next);
      assert.equal(chunksOf(SERVICE, key).length, 3);
      assert.equal(store.deleteSync(SERVICE, key), true);
      assert.deepEqual(chunksOf(SERVICE, key), []);
      assert.equal(store.loadSync(SERVICE, key), null);
    });
  }
}

if (phase === "main") {
  await main();
  if (rest[0] !== undefined) await crash("setup", rest[0]);
}
else if (phase.startsWith("crash-")) await crash(phase.slice("crash-".length), rest[0]!, rest[1]);
else throw new Error(`unknown phase ${phase}`);
save();
