/**
 * Credential Manager checks with other code, in the Windows node.exe (run by
 * credential-manager.win.ts): createAuthStorage in keyring and auto mode over the store,
 * @napi-rs/keyring (keyring-rs, as Codex uses it) reading what authkeep writes and the reverse,
 * and the latency of each call under Wine.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computeStoreKey } from "../../src/document/store-key.ts";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";
import type { AuthDotJson } from "../../src/document/auth-types.ts";
import { account, check, SERVICE, store, time, timeAsync, valueOfUtf8Bytes } from "./credential-checks.ts";
import { chunksOf, rawList, rawRead } from "./raw-credentials.ts";

const require = createRequire(import.meta.url);

/** Runs the interoperability and latency checks, recording each. */
export async function interopChecks(): Promise<void> {
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

