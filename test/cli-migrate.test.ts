// `authkeep migrate` as users run it: a real subprocess moving credentials between auth.json and the
// real gnome-keyring, verifying each step and never losing or overwriting a login unasked.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAuthJson } from "../src/index.ts";
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
const headless = noKeyringEnv();

describe("authkeep migrate", () => {
  test("file → keyring → file: writes, verifies, removes the source, reports each step", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const { auth, secrets } = canaryAuth();
    seedFile(home, authText(auth));
    const toKeyring = await runCli(["migrate", "--to", "keyring", "--json", "--home", home], { env: keyring.env });
    assert.equal(toKeyring.code, 0, toKeyring.stderr);
    const report = json<Report>(toKeyring);
    assert.equal(report.result, "moved");
    assert.equal(report.from, "file");
    assert.equal(report.to, "keyring");
    assert.equal(report.location, "keyring");
    assert.deepEqual(report.steps.map((s: { step: string }) => s.step), ["lock", "read", "write-target", "verify-target", "remove-source"]);
    assert.equal(existsSync(join(home, "auth.json")), false);
    assert.equal(existsSync(join(home, "auth.json.authkeep-refresh.lock")), false, "the lock is released");
    assert.deepEqual(await keyring.read(home), auth);
    assert.match(toKeyring.stderr, /mode file reads only auth\.json/, "a hint when the configured mode cannot see the result");

    const toFile = await runCli(["migrate", "--to", "file", "--home", home], { env: keyring.env });
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.match(toFile.stdout, /✓ wrote auth\.json\n.*✓ read auth\.json back: identical\n.*✓ removed the keyring entry\nDone: the credentials are now only in auth\.json\./s);
    assert.equal(await keyring.read(home), null);
    assert.deepEqual(parseAuthJson(readFileSync(join(home, "auth.json"), "utf8")), auth);
    assertNoSecrets(toKeyring.stdout + toKeyring.stderr + toFile.stdout + toFile.stderr, secrets, "migrate");
  });

  test("nothing to move: exit 3; already there: exit 0 and nothing changes", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const none = await runCli(["migrate", "--to", "keyring", "--json", "--home", home], { env: keyring.env });
    assert.equal(none.code, 3);
    assert.equal(json<Report>(none).result, "nothing-to-move");
    const { auth } = canaryAuth();
    await keyring.write(home, auth);
    const already = await runCli(["migrate", "--to", "keyring", "--json", "--home", home], { env: keyring.env });
    assert.equal(already.code, 0);
    assert.equal(json<Report>(already).result, "already-there");
    assert.deepEqual(await keyring.read(home), auth);
  });

  test("different credentials in both stores: exit 5 and nothing changes; --force lets the source win", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const file = canaryAuth({ marker: "file" });
    const inKeyring = canaryAuth({ marker: "keyring" });
    seedFile(home, authText(file.auth));
    await keyring.write(home, inKeyring.auth);
    const conflict = await runCli(["migrate", "--to", "keyring", "--home", home], { env: keyring.env });
    assert.equal(conflict.code, 5);
    assert.match(conflict.stderr, /already holds different credentials .*--force/);
    assert.deepEqual(await keyring.read(home), inKeyring.auth);
    assert.ok(existsSync(join(home, "auth.json")));
    const forced = await runCli(["migrate", "--to", "keyring", "--force", "--json", "--home", home], { env: keyring.env });
    assert.equal(forced.code, 0);
    assert.deepEqual(await keyring.read(home), file.auth);
    assert.equal(existsSync(join(home, "auth.json")), false);
    assertNoSecrets(conflict.stdout + conflict.stderr + forced.stdout + forced.stderr, [...file.secrets, ...inKeyring.secrets], "migrate conflict");
  });

  test("identical copies in both stores: the source is removed without rewriting the target", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const { auth } = canaryAuth();
    seedFile(home, authText(auth));
    await keyring.write(home, auth);
    const result = await runCli(["migrate", "--to", "keyring", "--json", "--home", home], { env: keyring.env });
    assert.equal(result.code, 0);
    assert.match(json<Report>(result).steps[2].detail, /already holds the same credentials/);
    assert.equal(existsSync(join(home, "auth.json")), false);
  });

  test("without a keyring: exit 4 and auth.json is left as it was", async (t) => {
    const home = tempHome(t);
    const text = authText(canaryAuth().auth);
    seedFile(home, text);
    const result = await runCli(["migrate", "--to", "keyring", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 4);
    assert.equal(json<Report>(result).result, "unavailable");
    assert.match(result.stderr, /cannot be reached: .*nothing was changed/);
    assert.equal(readFileSync(join(home, "auth.json"), "utf8"), text);
  });

  test("an unreadable source is never moved: exit 1, nothing changed", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    seedFile(home, "{not json");
    const result = await runCli(["migrate", "--to", "keyring", "--home", home], { env: keyring.env });
    assert.equal(result.code, 1);
    assert.equal(await keyring.read(home), null);
    assert.equal(readFileSync(join(home, "auth.json"), "utf8"), "{not json");
  });
});
