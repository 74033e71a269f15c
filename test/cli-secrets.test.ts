// The CLI with Codex's encrypted auth store, as users run it (a real subprocess, the real
// gnome-keyring holding the passphrase): config.toml's [features] secret_auth_storage selects it;
// status, migrate and logout use it; doctor explains a missing or wrong passphrase and a newer
// version. Stores are seeded at scrypt work factor 10, which saves keep, so each run is fast.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultKeyringStore } from "../src/index.ts";
import { parseSecretAuthStorage } from "../src/cli/_args.ts";
import { SECRETS_KEYRING_SERVICE, secretsKeyringAccount } from "../src/storage/secrets/secrets-storage.ts";
import { assertNoSecrets, authText, canaryAuth, json, runCli, tempHome, testKeyring } from "./fixtures/cli-harness.ts";
import { CANARY_PASSPHRASE, readSecretsStore, seedSecretsStore, storeWorkFactor } from "./support/secrets-store.ts";

const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});
const OTHER = { "env/repo/GITHUB_TOKEN": "CANARY-other-secret-\u00e9" };
const SECRETS_ON = 'cli_auth_credentials_store = "keyring"\n\n[features]\nsecret_auth_storage = true # Codex\'s encrypted store\n';

/** A home configured for the encrypted store, its passphrase removed from the real keyring afterwards. */
function secretsHome(t: Parameters<typeof tempHome>[0] & { skip(message: string): void }) {
  if ("skip" in kr) {
    t.skip(kr.skip);
    return undefined;
  }
  const home = tempHome(t);
  writeFileSync(join(home, "config.toml"), SECRETS_ON);
  const store = defaultKeyringStore({ timeoutMs: 10_000 });
  t.after(async () => {
    await store.delete(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home));
    await kr.keyring.remove(home);
  });
  return { home, store, env: kr.keyring.env, keyring: kr.keyring };
}

test("config.toml: secret_auth_storage in [features] or as a dotted key selects the backend; anything else leaves the default", () => {
  assert.equal(parseSecretAuthStorage("[features]\nsecret_auth_storage = true\n"), true);
  assert.equal(parseSecretAuthStorage("[features]\nsecret_auth_storage=false # off\n"), false);
  assert.equal(parseSecretAuthStorage("features.secret_auth_storage = true\n[other]\n"), true);
  assert.equal(parseSecretAuthStorage("[other]\nsecret_auth_storage = true\n"), undefined);
  assert.equal(parseSecretAuthStorage("[features]\nother = true\n[x]\nfeatures.secret_auth_storage = true\n"), undefined);
  assert.equal(parseSecretAuthStorage('[features]\nsecret_auth_storage = "true"\n'), undefined);
});

test("cli secrets: status reads the CLI auth from the encrypted store that config.toml selects, without printing a secret", async (t) => {
  const s = secretsHome(t);
  if (!s) return;
  const { auth, secrets } = canaryAuth();
  seedSecretsStore(s.home, s.store, JSON.stringify({ version: 1, secrets: { ...OTHER, "global/CODEX_AUTH": authText(auth, false) } }));
  const result = await runCli(["status", "--json", "--home", s.home], { env: s.env });
  const report = json<{ mode: string; active: string; stores: { keyring: { state: string; keyringBackend: string; encryptedFile: string; service: string } } }>(result);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(report.mode, "keyring");
  assert.equal(report.active, "keyring");
  assert.equal(report.stores.keyring.state, "present");
  assert.equal(report.stores.keyring.keyringBackend, "secrets");
  assert.equal(report.stores.keyring.service, "codex");
  assert.equal(report.stores.keyring.encryptedFile, join(s.home, "secrets", "codex_auth.age"));
  assertNoSecrets(result.stdout + result.stderr, [...secrets, CANARY_PASSPHRASE, OTHER["env/repo/GITHUB_TOKEN"]], "status");
  const text = await runCli(["status", "--home", s.home], { env: s.env });
  assert.match(text.stdout, /encrypted .*codex_auth\.age \(passphrase: libsecret "codex" \/ secrets\|[0-9a-f]{16}\)/);
});

test("cli secrets: migrate --to keyring moves auth.json into the encrypted store and keeps its other secrets", async (t) => {
  const s = secretsHome(t);
  if (!s) return;
  const { auth, secrets } = canaryAuth({ marker: "migrated" });
  seedSecretsStore(s.home, s.store, JSON.stringify({ version: 1, secrets: OTHER }));
  writeFileSync(join(s.home, "auth.json"), authText(auth), { mode: 0o600 });
  const result = await runCli(["migrate", "--to", "keyring", "--json", "--home", s.home], { env: s.env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(existsSync(join(s.home, "auth.json")), false);
  const document = JSON.parse(readSecretsStore(s.home)) as { secrets: Record<string, string> };
  assert.equal(document.secrets["env/repo/GITHUB_TOKEN"], OTHER["env/repo/GITHUB_TOKEN"]);
  assert.deepEqual(JSON.parse(document.secrets["global/CODEX_AUTH"]!), JSON.parse(authText(auth)));
  assert.equal(storeWorkFactor(s.home), 10, "the file's work factor is kept");
  assertNoSecrets(result.stdout + result.stderr, [...secrets, CANARY_PASSPHRASE], "migrate");
});

test("cli secrets: logout removes the CLI auth from the store and the direct entry, keeps other secrets and the passphrase", async (t) => {
  const s = secretsHome(t);
  if (!s) return;
  const { auth } = canaryAuth({ marker: "logout" });
  seedSecretsStore(s.home, s.store, JSON.stringify({ version: 1, secrets: { ...OTHER, "global/CODEX_AUTH": authText(auth, false) } }));
  await s.keyring.write(s.home, auth);
  const result = await runCli(["logout", "--json", "--home", s.home], { env: s.env });
  const report = json<{ removed: boolean; stores: { keyring: { result: string }; encrypted: { result: string } } }>(result);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(report.stores.encrypted.result, "removed");
  assert.equal(report.stores.keyring.result, "removed");
  assert.deepEqual(JSON.parse(readSecretsStore(s.home)).secrets, OTHER);
  assert.equal(await s.keyring.read(s.home), null);
  assert.equal(await s.store.load(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(s.home)), CANARY_PASSPHRASE);
});

test("cli secrets: doctor explains a missing passphrase item, a wrong passphrase and a store from a newer Codex", async (t) => {
  const cases = [
    ["missing-passphrase", /no passphrase item/, (home: string, store: ReturnType<typeof defaultKeyringStore>) => {
      seedSecretsStore(home, null, JSON.stringify({ version: 1, secrets: OTHER }));
      void store;
    }],
    ["wrong-passphrase", /does not open/, (home: string, store: ReturnType<typeof defaultKeyringStore>) => {
      seedSecretsStore(home, store, JSON.stringify({ version: 1, secrets: OTHER }), { passphrase: "Q0FOQVJZLWFub3RoZXItcGFzc3BocmFzZS0wMTIzNDU=" });
      store.saveSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home), CANARY_PASSPHRASE);
    }],
    ["newer-version", /newer Codex/, (home: string, store: ReturnType<typeof defaultKeyringStore>) => {
      seedSecretsStore(home, store, JSON.stringify({ version: 2, secrets: OTHER }));
    }],
  ] as const;
  for (const [reason, summary, prepare] of cases) {
    const s = secretsHome(t);
    if (!s) return;
    prepare(s.home, s.store);
    const result = await runCli(["doctor", "--json", "--home", s.home], { env: s.env, timeoutMs: 120_000 });
    const report = json<{ encryptedStore: { state: string; error: { reason: string }; problem: { summary: string; fix: string } } }>(result);
    assert.equal(report.encryptedStore.state, "unreadable", reason);
    assert.equal(report.encryptedStore.error.reason, reason);
    assert.match(report.encryptedStore.problem.summary, summary);
    assert.ok(report.encryptedStore.problem.fix.length > 0);
    const text = await runCli(["doctor", "--home", s.home], { env: s.env, timeoutMs: 120_000 });
    assert.match(text.stdout, /Encrypted auth store/);
    assert.match(text.stdout, summary);
    assertNoSecrets(result.stdout + text.stdout + text.stderr, [CANARY_PASSPHRASE, OTHER["env/repo/GITHUB_TOKEN"]], `doctor (${reason})`);
  }
});
