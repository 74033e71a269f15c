// The "secrets" keyring backend (Codex's encrypted auth store) over the memory keyring double:
// read-modify-write keeps every other secret exactly, delete matches Codex 0.169, and each bad
// store (missing or wrong passphrase, newer version, corrupt, huge) is a typed error that changes
// nothing. The real keyring and the real Codex binary are in codex-secrets.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AuthStorage,
  computeStoreKey,
  createAuthStorage,
  EncryptedStoreError,
  type EncryptedStoreErrorReason,
  KeyringError,
} from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { defaultKeyringBackend } from "../src/storage/create-auth-storage.ts";
import { SECRETS_KEYRING_SERVICE, secretsFilePath, secretsKeyringAccount } from "../src/storage/secrets/secrets-storage.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { CANARY_PASSPHRASE, readSecretsStore, seedSecretsStore, storeWorkFactor } from "./support/secrets-store.ts";

const OTHERS = {
  "env/my-repo/GITHUB_TOKEN": "CANARY-ghp-\u00e9\u00e8\u201c\"quoted\"\\back\nline\u2028",
  "global/ZZ_LAST": "CANARY-z",
  "global/A_FIRST": "CANARY-\ud83d\udd11",
};
const FORMS = ["async", "sync"] as const;

function ops(storage: AuthStorage, form: (typeof FORMS)[number]) {
  return form === "async"
    ? { load: () => storage.load(), save: (a: Parameters<AuthStorage["save"]>[0]) => storage.save(a), delete: () => storage.delete() }
    : { load: async () => storage.loadSync(), save: async (a: Parameters<AuthStorage["save"]>[0]) => storage.saveSync(a), delete: async () => storage.deleteSync() };
}

function setup(t: { after(fn: () => void): void }, mode: "keyring" | "auto" = "keyring") {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const warnings: string[] = [];
  const storage = createAuthStorage({ home, mode, keyring, keyringBackend: "secrets", onWarning: (m) => warnings.push(m) });
  return { home, keyring, storage, warnings, path: secretsFilePath(home), account: secretsKeyringAccount(home) };
}

async function rejectsWith(promise: Promise<unknown>, reason: EncryptedStoreErrorReason): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof EncryptedStoreError, String(error));
    assert.equal(error.reason, reason, error.message);
    assert.ok(!error.message.includes(CANARY_PASSPHRASE) && !error.message.includes("CANARY-"), `no secret: ${error.message}`);
    return true;
  });
}

test("secrets store: the passphrase account is secrets| + the first 16 hex of sha256 of the canonical home", () => {
  // Same canonical form as the direct entry's cli|…; only the prefix differs.
  assert.equal(secretsKeyringAccount("~/.codex").slice(8), computeStoreKey("~/.codex").slice(4));
  assert.equal(secretsKeyringAccount("~/.codex"), "secrets|940db7b1d0e4eb40");
});

test("secrets store: the default backend follows Codex (secrets on Windows, direct elsewhere)", () => {
  assert.equal(defaultKeyringBackend("win32"), "secrets");
  assert.equal(defaultKeyringBackend("linux"), "direct");
  assert.equal(defaultKeyringBackend("darwin"), "direct");
  assert.throws(() => createAuthStorage({ home: "/tmp/x", mode: "keyring", keyringBackend: "vault" as never }), TypeError);
});

for (const form of FORMS) {
  test(`secrets store (${form}): a missing file loads as logged out without touching the keyring`, async (t) => {
    const { storage, keyring, account } = setup(t);
    keyring.setError(account, new KeyringError("must not be asked", { kind: "failure", backend: "memory" }));
    assert.equal(await ops(storage, form).load(), null);
  });

  test(`secrets store (${form}): save keeps every other secret byte for byte, the work factor, the passphrase; load reads it`, async (t) => {
    const { home, storage, keyring, path, account } = setup(t);
    writeFileSync(join(home, "auth.json"), JSON.stringify(authWithPrefix("stale")));
    seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: OTHERS }), { logN: 11 });
    const auth = authWithPrefix("CANARY-saved");
    await ops(storage, form).save(auth);
    const document = JSON.parse(readSecretsStore(home)) as { version: number; secrets: Record<string, string> };
    assert.equal(document.version, 1);
    assert.deepEqual(Object.keys(document.secrets), ["env/my-repo/GITHUB_TOKEN", "global/A_FIRST", "global/CODEX_AUTH", "global/ZZ_LAST"]);
    for (const [key, value] of Object.entries(OTHERS)) assert.equal(document.secrets[key], value, key);
    assert.deepEqual(JSON.parse(document.secrets["global/CODEX_AUTH"]!), JSON.parse(JSON.stringify(auth)));
    assert.equal(document.secrets["global/CODEX_AUTH"], JSON.stringify(JSON.parse(document.secrets["global/CODEX_AUTH"]!)), "compact JSON");
    assert.equal(storeWorkFactor(home), 11);
    assert.equal(keyring.loadSync(SECRETS_KEYRING_SERVICE, account), CANARY_PASSPHRASE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(existsSync(join(home, "auth.json")), false, "the fallback file is removed, as Codex does");
    assert.deepEqual(await ops(storage, form).load(), await createAuthStorage({ home, mode: "keyring", keyring, keyringBackend: "secrets" }).load());
    assert.equal((await ops(storage, form).load())?.tokens?.access_token, "CANARY-saved-access");
  });

  test(`secrets store (${form}): delete removes only the CLI auth, keeps the passphrase, and removes the direct entry too`, async (t) => {
    const { home, storage, keyring, account } = setup(t);
    seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: { ...OTHERS, "global/CODEX_AUTH": JSON.stringify(authWithPrefix("x")) } }));
    keyring.saveSync("Codex Auth", computeStoreKey(home), JSON.stringify(authWithPrefix("direct")));
    assert.equal(await ops(storage, form).delete(), true);
    assert.deepEqual(JSON.parse(readSecretsStore(home)).secrets, OTHERS);
    assert.equal(keyring.loadSync("Codex Auth", computeStoreKey(home)), null);
    assert.equal(keyring.loadSync(SECRETS_KEYRING_SERVICE, account), CANARY_PASSPHRASE);
    assert.equal(await ops(storage, form).load(), null);
    assert.equal(await ops(storage, form).delete(), false, "a second delete finds nothing");
  });

  test(`secrets store (${form}): deleting the only secret leaves {"version":1,"secrets":{}}, as Codex's logout does`, async (t) => {
    const { home, storage, keyring } = setup(t);
    seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: { "global/CODEX_AUTH": JSON.stringify(authWithPrefix("x")) } }));
    assert.equal(await ops(storage, form).delete(), true);
    assert.equal(readSecretsStore(home), '{"version":1,"secrets":{}}');
  });

  test(`secrets store (${form}): a file without its passphrase item is missing-passphrase; save creates none and changes nothing`, async (t) => {
    const { home, storage, keyring, path, account } = setup(t);
    seedSecretsStore(home, null, JSON.stringify({ version: 1, secrets: OTHERS }));
    const before = readFileSync(path);
    await rejectsWith(ops(storage, form).load(), "missing-passphrase");
    await rejectsWith(ops(storage, form).save(authWithPrefix("CANARY-new")), "missing-passphrase");
    await rejectsWith(ops(storage, form).delete(), "missing-passphrase");
    assert.deepEqual(readFileSync(path), before);
    assert.equal(keyring.loadSync(SECRETS_KEYRING_SERVICE, account), null);
  });

  test(`secrets store (${form}): a wrong passphrase, a newer version, a corrupt or a huge file are typed errors and saves change nothing`, async (t) => {
    const cases: [EncryptedStoreErrorReason, (home: string, keyring: MemoryKeyringStore) => void][] = [
      ["wrong-passphrase", (home, keyring) => {
        seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: OTHERS }), { passphrase: "Q0FOQVJZLW90aGVyLXBhc3NwaHJhc2UtMDEyMzQ1Njc=" });
        keyring.saveSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home), CANARY_PASSPHRASE);
      }],
      ["newer-version", (home, keyring) => void seedSecretsStore(home, keyring, JSON.stringify({ version: 2, secrets: OTHERS }))],
      ["corrupt", (home, keyring) => void seedSecretsStore(home, keyring, "CANARY-not-json")],
      ["corrupt", (home, keyring) => {
        seedSecretsStore(home, keyring, "{}");
        writeFileSync(secretsFilePath(home), "garbage CANARY-bytes\n");
      }],
      ["truncated", (home, keyring) => {
        const path = seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: OTHERS }));
        // Cut inside the payload nonce; a cut inside the last chunk fails its tag and reads as corrupt.
        truncateSync(path, readFileSync(path, "latin1").indexOf("\n---") + 4 + 44 + 8);
      }],
      ["too-large", (home, keyring) => {
        const path = seedSecretsStore(home, keyring, "{}");
        truncateSync(path, 64 * 1024 * 1024); // sparse: no disk used
      }],
    ];
    for (const [reason, prepare] of cases) {
      const { home, storage, keyring, path } = setup(t);
      prepare(home, keyring);
      const before = readFileSync(path);
      await rejectsWith(ops(storage, form).load(), reason);
      await rejectsWith(ops(storage, form).save(authWithPrefix("CANARY-new")), reason);
      assert.deepEqual(readFileSync(path), before, `${reason}: the file is unchanged`);
    }
  });
}

test("secrets store: auto mode falls back to auth.json when the passphrase cannot be read, and reads the store when it can", async (t) => {
  const { home, storage, keyring, account, warnings } = setup(t, "auto");
  seedSecretsStore(home, keyring, JSON.stringify({ version: 1, secrets: { "global/CODEX_AUTH": JSON.stringify(authWithPrefix("encrypted")) } }));
  writeFileSync(join(home, "auth.json"), JSON.stringify(authWithPrefix("file")));
  assert.equal((await storage.load())?.OPENAI_API_KEY, "encrypted-api-key");
  keyring.setError(account, new KeyringError("locked", { kind: "locked", backend: "memory" }));
  assert.equal((await storage.load())?.OPENAI_API_KEY, "file-api-key");
  assert.ok(warnings.some((w) => w.includes("falling back to file storage")));
});

test("secrets store: the first save makes a passphrase (base64 of 32 random bytes) and a file at age's calibrated work factor", async (t) => {
  const { home, storage, keyring, account } = setup(t);
  await storage.save(authWithPrefix("CANARY-first"));
  const passphrase = keyring.loadSync(SECRETS_KEYRING_SERVICE, account)!;
  assert.match(passphrase, /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(atob(passphrase).length, 32);
  const logN = storeWorkFactor(home);
  assert.ok(logN >= 10 && logN <= 22, `work factor ${logN}`);
  assert.equal((await storage.load())?.tokens?.refresh_token, "CANARY-first-refresh");
  assert.equal(JSON.parse(readSecretsStore(home, passphrase)).version, 1);
});
