// Codex's encrypted auth store against the real Codex CLI 0.169 (scripts/codex-setup.sh) and the
// real Secret Service (scripts/with-keyring.sh), with -c features.secret_auth_storage=true and
// keyring mode: each side reads what the other wrote, overwrites and logouts in both directions.
// Each Codex save or load pays one scrypt derivation at its calibrated work factor (18–19 here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createAuthStorage, defaultKeyringStore } from "../src/index.ts";
import { SECRETS_KEYRING_SERVICE, secretsFilePath, secretsKeyringAccount } from "../src/storage/secrets/secrets-storage.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { codexBin, runCodex, SECRETS_FLAGS } from "./support/codex-secrets-cli.ts";
import { readSecretsStore, storeWorkFactor } from "./support/secrets-store.ts";

const required = process.env.npm_lifecycle_event === "test" || process.env.AUTHKEEP_REQUIRE_CODEX === "1";
const haveBus = Boolean(process.env.DBUS_SESSION_BUS_ADDRESS);
const skip = codexBin === undefined || !haveBus
  ? (required ? false : "needs AUTHKEEP_CODEX_BIN (scripts/codex-setup.sh) and a keyring (scripts/with-keyring.sh)")
  : false;
const options = { skip, timeout: 300_000 } as const;

const KEY_A = "sk-CANARY-codex-wrote-aaaa1111";
const KEY_B = "sk-CANARY-authkeep-wrote-bbbb2222";
const KEY_C = "sk-CANARY-codex-again-cccc3333";

function storage(home: string) {
  return createAuthStorage({ home, mode: "keyring", keyringBackend: "secrets", onWarning: () => {} });
}

function passphrase(home: string): string | null {
  return defaultKeyringStore().loadSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home));
}

function codexLogin(home: string, key: string): void {
  const run = runCodex(home, ["login", ...SECRETS_FLAGS, "--with-api-key"], `${key}\n`);
  assert.equal(run.status, 0, run.stderr);
}

function codexStatus(home: string) {
  return runCodex(home, ["login", ...SECRETS_FLAGS, "status"]);
}

test("codex secrets: Codex writes an API-key login, authkeep reads it (sync and async) from global/CODEX_AUTH", options, async (t) => {
  const home = tempHome(t);
  codexLogin(home, KEY_A);
  assert.equal(existsSync(join(home, "auth.json")), false, "no auth.json in keyring mode");
  assert.ok(existsSync(secretsFilePath(home)));
  const phrase = passphrase(home);
  assert.ok(phrase !== null && atob(phrase).length === 32, "the passphrase is base64 of 32 bytes");
  const document = JSON.parse(readSecretsStore(home, phrase)) as { version: number; secrets: Record<string, string> };
  assert.equal(document.version, 1);
  assert.deepEqual(Object.keys(document.secrets), ["global/CODEX_AUTH"]);
  assert.equal(JSON.parse(document.secrets["global/CODEX_AUTH"]!).OPENAI_API_KEY, KEY_A);
  const logN = storeWorkFactor(home);
  assert.ok(logN >= 10 && logN <= 22, `Codex's work factor ${logN}`);
  t.diagnostic(`Codex wrote scrypt work factor ${logN}`);
  assert.equal(storage(home).loadSync()?.OPENAI_API_KEY, KEY_A);
  assert.equal((await storage(home).load())?.OPENAI_API_KEY, KEY_A);
});

test("codex secrets: authkeep writes into an empty home, `codex login status` reads it (API key, then ChatGPT tokens)", options, async (t) => {
  const home = tempHome(t);
  await storage(home).save({ OPENAI_API_KEY: KEY_B });
  let status = codexStatus(home);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stderr + status.stdout, /API key configured/);
  assert.ok((status.stderr + status.stdout).includes(KEY_B.slice(-4)));
  assert.equal(existsSync(join(home, "auth.json")), false);

  const tokens = { ...authWithPrefix("CANARY-tokens"), OPENAI_API_KEY: null, last_refresh: new Date().toISOString() };
  storage(home).saveSync(tokens);
  status = codexStatus(home);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stderr + status.stdout, /ChatGPT/);
});

test("codex secrets: overwrites in both directions keep one store and one passphrase", options, async (t) => {
  const home = tempHome(t);
  codexLogin(home, KEY_A);
  const phrase = passphrase(home);
  await storage(home).save({ OPENAI_API_KEY: KEY_B });
  assert.equal(passphrase(home), phrase, "authkeep reuses Codex's passphrase");
  let status = codexStatus(home);
  assert.equal(status.status, 0, status.stderr);
  assert.ok((status.stderr + status.stdout).includes(KEY_B.slice(-4)), status.stderr);
  codexLogin(home, KEY_C);
  assert.equal(passphrase(home), phrase);
  const store = storage(home);
  assert.equal((await store.load())?.OPENAI_API_KEY, KEY_C);
  assert.equal(store.loadSync()?.OPENAI_API_KEY, KEY_C, "a warm load reads the same");
  status = codexStatus(home);
  assert.ok((status.stderr + status.stdout).includes(KEY_C.slice(-4)));
});

test("codex secrets: `codex logout` leaves {\"version\":1,\"secrets\":{}} and the passphrase; authkeep sees logged out", options, async (t) => {
  const home = tempHome(t);
  codexLogin(home, KEY_A);
  const phrase = passphrase(home);
  const logout = runCodex(home, ["logout", ...SECRETS_FLAGS]);
  assert.equal(logout.status, 0, logout.stderr);
  assert.equal(readSecretsStore(home, phrase!), '{"version":1,"secrets":{}}');
  assert.equal(passphrase(home), phrase, "Codex keeps the passphrase item");
  assert.equal(await storage(home).load(), null);
});

test("codex secrets: authkeep's delete logs Codex out and writes what Codex's logout writes", options, async (t) => {
  const home = tempHome(t);
  codexLogin(home, KEY_A);
  const phrase = passphrase(home);
  assert.equal(await storage(home).delete(), true);
  assert.equal(readSecretsStore(home, phrase!), '{"version":1,"secrets":{}}');
  assert.equal(passphrase(home), phrase);
  const status = codexStatus(home);
  assert.equal(status.status, 1, status.stderr);
  assert.match(status.stderr + status.stdout, /Not logged in/);
  assert.ok(!readFileSync(secretsFilePath(home), "latin1").includes("CANARY"));
});
