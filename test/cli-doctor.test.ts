// `authkeep doctor` as users run it: a real subprocess against temporary homes, with and without the
// real gnome-keyring, and every Linux keyring failure mode of linux-secret-service.md §4 reproduced
// with real daemons.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import {
  assertNoSecrets,
  canaryAuth,
  json,
  noKeyringEnv,
  runCli,
  tempHome,
  cliKeyring,
  type Report,
} from "./fixtures/cli-harness.ts";
import { startBus, startUnlockedKeyring } from "./support/linux-keyring.ts";

const { kr, keyringOrSkip } = cliKeyring();
const isLinux = process.platform === "linux";
const headless = noKeyringEnv();

describe("authkeep doctor", () => {
  test("without a keyring: the file works with its latency; the keyring says why not and the fix; exit by configured mode", async (t) => {
    const home = tempHome(t);
    const before = readdirSync(home);
    const result = await runCli(["doctor", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 0, "mode file works");
    const report = json<Report>(result);
    assert.equal(report.command, "doctor");
    assert.equal(report.ok, true);
    const [file, keyring, ephemeral] = report.backends;
    assert.equal(file.name, "file");
    assert.equal(file.ok, true);
    for (const key of ["save", "load", "delete", "total", "first"]) assert.equal(typeof file.latencyMs[key], "number", key);
    assert.equal(ephemeral.ok, true);
    assert.equal(keyring.name, "keyring");
    assert.equal(keyring.ok, false);
    if (isLinux) {
      assert.equal(keyring.backend, "libsecret");
      assert.equal(keyring.problem.id, "no-dbus-session");
      assert.equal(report.environment.dbusSessionBusAddress, null);
      assert.ok(keyring.problem.fix.some((line: string) => /dbus-run-session/.test(line)));
      assert.equal(keyring.error.kind, "unavailable");
    }
    assert.deepEqual(report.modes.auto, { works: true, uses: "file", note: report.modes.auto.note });
    assert.equal(report.modes.keyring.works, false);
    assert.deepEqual(readdirSync(home), before, "the probe file is gone");
    assert.equal(result.stderr, "", "nothing left to clean up, nothing to warn about");

    const human = await runCli(["doctor", "--home", home], { env: headless });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /✓ file\s+works\s+round trip [\d.]+ ms/);
    if (isLinux) {
      assert.match(human.stdout, /✗ keyring \(libsecret\)\s+there is no D-Bus session bus/);
      assert.match(human.stdout, /why: /);
      assert.match(human.stdout, /fix: /);
    }
    assert.match(human.stdout, /Mode file works on this machine\./);

    const keyringMode = await runCli(["doctor", "--mode", "keyring", "--home", home], { env: headless });
    assert.equal(keyringMode.code, 4, "the configured mode does not work");
    assert.match(keyringMode.stdout, /Mode keyring does not work on this machine\. Use --mode auto/);
    assert.equal((await runCli(["doctor", "--mode", "auto", "--home", home], { env: headless })).code, 0, "auto falls back to the file");
  });

  test("a home that does not exist yet is probed and left as it was", async (t) => {
    const base = tempHome(t);
    const home = join(base, "a", "b");
    const result = await runCli(["doctor", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 0);
    assert.equal(existsSync(join(base, "a")), false, "the directories the probe created are removed");
  });

  test("an unwritable home: the file backend says why and how to fix it", { skip: process.getuid?.() === 0 ? "root can write anywhere" : false }, async (t) => {
    const home = tempHome(t);
    chmodSync(home, 0o500);
    t.after(() => chmodSync(home, 0o700));
    const result = await runCli(["doctor", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 4);
    const file = json<Report>(result).backends[0];
    assert.equal(file.ok, false);
    assert.equal(file.problem.id, "file-permission");
  });

  test("with the keyring: every backend works, with latencies; the probe entry is removed; the real entry is untouched", async (t) => {
    const keyring = keyringOrSkip(t);
    if (!keyring) return;
    const home = tempHome(t);
    const real = canaryAuth();
    await keyring.write(home, real.auth);
    t.after(() => keyring.remove(home));
    const result = await runCli(["doctor", "--json", "--mode", "keyring", "--home", home], { env: keyring.env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = json<Report>(result);
    const probe = report.backends[1];
    assert.equal(probe.ok, true, JSON.stringify(probe));
    assert.equal(probe.probe.service, "authkeep doctor");
    assert.match(probe.probe.account, /^probe\|\d+-[0-9a-f]{12}$/);
    for (const key of ["save", "load", "delete", "total", "first"]) assert.ok(probe.latencyMs[key] > 0, key);
    assert.deepEqual(report.modes.auto, { works: true, uses: "keyring" });
    const leftover = spawnSync("secret-tool", ["search", "--all", "service", "authkeep doctor", "username", probe.probe.account], {
      env: keyring.env,
      encoding: "utf8",
    });
    assert.equal(leftover.stdout + leftover.stderr, "", "the probe entry was removed");
    assert.deepEqual(await keyring.read(home), real.auth, "the real credentials are untouched");
    assertNoSecrets(result.stdout + result.stderr, real.secrets, "doctor");
    const human = await runCli(["doctor", "--home", home], { env: keyring.env });
    assert.match(human.stdout, /✓ keyring \(libsecret\)\s+works\s+round trip [\d.]+ ms \(save [\d.]+ ms · load [\d.]+ ms · delete [\d.]+ ms; first [\d.]+ ms\)/);
  });

  // Each Linux failure mode with a real daemon (or a real absence of one), as in linux-secret-service.md §4.
  const linuxOnly = isLinux ? false : "Secret Service failure modes are Linux-only";
  const problemOf = async (env: NodeJS.ProcessEnv, home: string, extra: string[] = []) => {
    const result = await runCli(["doctor", "--json", "--mode", "keyring", "--home", home, ...extra], { env });
    const keyring = json<Report>(result).backends[1];
    return { result, keyring, problem: keyring.problem?.id as string | undefined };
  };

  test("doctor: DBUS_SESSION_BUS_ADDRESS points at a dead socket → dbus-unreachable", { skip: linuxOnly }, async (t) => {
    const home = tempHome(t);
    const { result, problem, keyring } = await problemOf(noKeyringEnv({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(tmpdir(), "authkeep-no-such-bus")}` }), home);
    assert.equal(result.code, 4);
    assert.equal(problem, "dbus-unreachable", JSON.stringify(keyring));
  });

  test("doctor: a bus with no Secret Service → no-secret-service", { skip: linuxOnly }, async (t) => {
    const bus = startBus({ secretService: false });
    t.after(() => bus.stop());
    const { result, problem, keyring } = await problemOf(bus.env, tempHome(t));
    assert.equal(result.code, 4);
    assert.equal(problem, "no-secret-service", JSON.stringify(keyring));
    assert.match(keyring.problem.fix.join("\n"), /gnome-keyring/);
  });

  test("doctor: a Secret Service without a default collection → no-default-collection", { skip: linuxOnly }, async (t) => {
    const bus = startBus({ secretService: true });
    t.after(() => bus.stop());
    const { result, problem, keyring } = await problemOf(bus.env, tempHome(t));
    assert.equal(result.code, 4);
    assert.equal(problem, "no-default-collection", JSON.stringify(keyring));
  });

  test("doctor: a locked collection → locked", { skip: linuxOnly }, async (t) => {
    const private_ = startUnlockedKeyring();
    t.after(() => private_.stop());
    private_.lock();
    const { result, problem, keyring } = await problemOf(private_.env, tempHome(t));
    assert.equal(result.code, 4);
    assert.equal(problem, "locked", JSON.stringify(keyring));
    assert.equal(keyring.error.kind, "locked");
  });

  test("doctor: a hung daemon → timeout, within the deadline, without hanging the CLI", { skip: linuxOnly }, async (t) => {
    const private_ = startUnlockedKeyring();
    t.after(() => private_.stop());
    const pid = private_.daemonPid();
    assert.ok(pid, "gnome-keyring-daemon's pid");
    process.kill(pid, "SIGSTOP");
    t.after(() => process.kill(pid, "SIGCONT"));
    const start = Date.now();
    const { result, problem, keyring } = await problemOf(private_.env, tempHome(t), ["--timeout", "1000"]);
    assert.equal(result.code, 4);
    assert.equal(problem, "timeout", JSON.stringify(keyring));
    assert.ok(Date.now() - start < 15_000, `took ${Date.now() - start} ms`);
  });

  test("doctor: the FFI library cannot be loaded → ffi-missing, with the npm command", { skip: linuxOnly }, async (t) => {
    const env = { ...("keyring" in kr ? kr.keyring.env : headless), AUTHKEEP_KOFFI_PATH: join(tmpdir(), "authkeep-no-such-ffi-module") };
    const { result, problem, keyring } = await problemOf(env, tempHome(t));
    assert.equal(result.code, 4);
    assert.equal(problem, "ffi-missing", JSON.stringify(keyring));
    assert.match(keyring.problem.fix[0], /^npm install \S+@\d/);
  });

  test("doctor: libsecret cannot be loaded → libsecret-missing, with the package to install", { skip: linuxOnly }, async (t) => {
    const dir = tempHome(t);
    // A stand-in FFI module whose dlopen fails as it does on a machine without libsecret-1-0.
    const fake = join(dir, "fake-ffi.cjs");
    writeFileSync(fake, "exports.load = (name) => { throw new Error(name + ': cannot open shared object file: No such file or directory'); };\n");
    const env = { ...("keyring" in kr ? kr.keyring.env : headless), AUTHKEEP_KOFFI_PATH: fake };
    const { result, problem, keyring } = await problemOf(env, tempHome(t));
    assert.equal(result.code, 4);
    assert.equal(problem, "libsecret-missing", JSON.stringify(keyring));
    assert.match(keyring.problem.fix.join("\n"), /apt-get install libsecret-1-0/);
  });
});
