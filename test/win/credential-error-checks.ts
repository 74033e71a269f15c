/**
 * Credential Manager checks of errors and platform details, in the Windows node.exe (run by
 * credential-manager.win.ts): a failing CredWriteW carries its Win32 code, an async call reports
 * its own error, CredEnumerateW names come back exactly, the ffi option, and computeStoreKey on
 * a Windows path.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWindowsKeyringStore } from "../../native/windows/store.ts";
import { bindCredentialApi } from "../../native/windows/_bindings.ts";
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { computeStoreKey, storeKeyForCanonicalPath } from "../../src/document/store-key.ts";
import { account, check, expectKeyringError, SERVICE, store } from "./credential-checks.ts";
import { ERROR_INVALID_PARAMETER, primeLastError, raw, rawList, rawRead } from "./raw-credentials.ts";

/** Runs the error and platform checks, recording each. */
export async function errorChecks(): Promise<void> {
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
}
