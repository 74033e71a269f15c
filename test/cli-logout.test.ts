// `authkeep logout` as users run it: a real subprocess removing auth.json, the real gnome-keyring
// entry and unreadable backups, and saying what it could not check.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  assertNoSecrets,
  authText,
  canaryAuth,
  json,
  noKeyringEnv,
  runCli,
  tempHome,
  cliKeyring,
  type Report,
  seedFile,
} from "./fixtures/cli-harness.ts";

const { keyringHome } = cliKeyring();
const isLinux = process.platform === "linux";
const headless = noKeyringEnv();

describe("authkeep logout", () => {
  test("removes the file, the keyring entry and unreadable backups, and reports each", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const { auth, secrets } = canaryAuth();
    seedFile(home, authText(auth));
    await keyring.write(home, auth);
    writeFileSync(join(home, "auth.json.corrupt-2025-01-01T00-00-00-000Z"), "{\"tokens\": \"half");
    const result = await runCli(["logout", "--json", "--home", home], { env: keyring.env });
    assert.equal(result.code, 0, result.stderr);
    const report = json<Report>(result);
    assert.equal(report.removed, true);
    assert.equal(report.stores.file.result, "removed");
    assert.equal(report.stores.keyring.result, "removed");
    assert.equal(report.stores.ephemeral.result, "not-applicable");
    assert.deepEqual(report.removedBackups, ["auth.json.corrupt-2025-01-01T00-00-00-000Z"]);
    assert.deepEqual(readdirSync(home).sort(), ["auth.json.lock", "auth.lock"], "only Codex's lock files, which are never removed");
    assert.equal(await keyring.read(home), null);
    assertNoSecrets(result.stdout + result.stderr, secrets, "logout");

    const again = await runCli(["logout", "--home", home], { env: keyring.env });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to log out of/);
    assert.match(again.stdout, /auth\.json\s+✓ nothing stored/);
  });

  test("without a keyring: removes the file, warns that the keyring could not be checked; exit 4 only in mode keyring", async (t) => {
    const home = tempHome(t);
    seedFile(home, authText(canaryAuth().auth));
    const result = await runCli(["logout", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 0);
    const report = json<Report>(result);
    assert.equal(report.stores.file.result, "removed");
    if (isLinux) {
      assert.equal(report.stores.keyring.result, "unavailable");
      assert.equal(report.stores.keyring.problem.id, "no-dbus-session");
      assert.match(result.stderr, /the keyring could not be checked/);
    }
    assert.equal(existsSync(join(home, "auth.json")), false);
    const keyringMode = await runCli(["logout", "--mode", "keyring", "--home", home], { env: headless });
    assert.equal(keyringMode.code, isLinux ? 4 : keyringMode.code);
  });

  test("a home that does not exist: nothing to log out, exit 0, nothing created", async (t) => {
    const home = join(tempHome(t), "never");
    const result = await runCli(["logout", "--home", home], { env: headless });
    assert.equal(result.code, 0);
    assert.equal(existsSync(home), false);
  });
});
