// The `authkeep` CLI as users run it: a real subprocess against temporary homes, with and without
// the real gnome-keyring (the shared one from npm test, else a private one), and every Linux keyring
// failure mode of linux-secret-service.md §4 reproduced with real daemons.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import { computeStoreKey, KeyringError, type KeyringErrorKind, type KeyringErrorReason, parseAuthJson } from "../src/index.ts";
import { diagnoseKeyringError, type EnvironmentFacts } from "../src/cli/_diagnose.ts";
import { FIX, keyringError, keyringErrorFromGError } from "../native/linux/_errors.ts";
import { resolveFfiProviderName } from "../native/ffi/index.ts";
import {
  assertNoSecrets,
  authText,
  canaryAuth,
  CLI_PATH,
  json,
  noKeyringEnv,
  runCli,
  tempHome,
  testKeyring,
} from "./fixtures/cli-harness.ts";
import { startBus, startUnlockedKeyring } from "./support/linux-keyring.ts";

const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});
/** Skips a keyring-dependent test, saying why, when no keyring can run here. */
function keyringOrSkip(t: { skip(message: string): void }) {
  if ("skip" in kr) {
    t.skip(kr.skip);
    return undefined;
  }
  return kr.keyring;
}

/** The keyring and a fresh home whose keyring entry is removed when the test ends (undefined: skipped). */
function keyringHome(t: { skip(message: string): void; after(fn: () => unknown): void }) {
  const keyring = keyringOrSkip(t);
  if (!keyring) return undefined;
  const home = tempHome(t);
  t.after(() => keyring.remove(home));
  return { keyring, home };
}

/** A parsed `--json` report, read field by field by the assertions (a failed read fails the test). */
// biome-ignore lint/suspicious/noExplicitAny: the reports are deep JSON; typing each one would only restate the CLI
type Report = Record<string, any>;

const isLinux = process.platform === "linux";
const headless = noKeyringEnv();

function seedFile(home: string, text: string): void {
  writeFileSync(join(home, "auth.json"), text, { mode: 0o600 });
}

describe("doctor's diagnosis table (kind and reason → problem)", () => {
  const facts = (over: Partial<EnvironmentFacts> = {}): EnvironmentFacts => ({
    platform: "linux",
    dbusSessionBusAddress: "unix:path=/run/user/1000/bus",
    dbusSocketExists: true,
    display: null,
    ssh: false,
    wsl: false,
    container: false,
    libsecret: "/usr/lib/x86_64-linux-gnu/libsecret-1.so.0",
    ...over,
  });
  // The message says nothing: the diagnosis must come from kind, reason, backend and code alone.
  const error = (kind: KeyringErrorKind, reason: KeyringErrorReason, backend = "libsecret", code?: number) =>
    new KeyringError("opaque failure text", { kind, reason, backend, ...(code === undefined ? {} : { code }) });
  const cases: [string, KeyringError, Partial<EnvironmentFacts>, string][] = [
    ["no FFI provider", error("unavailable", "no-ffi"), {}, "ffi-missing"],
    ["no libsecret", error("unavailable", "no-library"), {}, "libsecret-missing"],
    ["no bus, no address", error("unavailable", "no-bus"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["no bus behind the address", error("unavailable", "no-bus"), { dbusSocketExists: false }, "dbus-unreachable"],
    ["no Secret Service", error("unavailable", "no-service"), {}, "no-secret-service"],
    ["no default collection", error("unavailable", "no-default-collection"), {}, "no-default-collection"],
    ["locked collection", error("locked", "locked"), {}, "locked"],
    ["deadline passed", error("unavailable", "timeout"), {}, "timeout"],
    ["too large", error("too-large", "too-large", "windows"), { platform: "win32" }, "too-large"],
    ["Windows: no logon session", error("unavailable", "no-session", "windows", 1312), { platform: "win32" }, "no-logon-session"],
    ["macOS: no user interaction", error("locked", "locked", "macos", -25308), { platform: "darwin" }, "interaction-not-allowed"],
    ["macOS: refused at the prompt", error("locked", "denied", "macos", -128), { platform: "darwin" }, "locked"],
    ["macOS: no keychain", error("unavailable", "no-service", "macos", -25291), { platform: "darwin" }, "other"],
    ["no backend for the platform", error("unavailable", "no-library", "none"), { platform: "aix" }, "unsupported-platform"],
  ];
  for (const [name, err, over, id] of cases) {
    test(`${name} → ${id}`, () => {
      const problem = diagnoseKeyringError(err, facts(over), 5000);
      assert.equal(problem.id, id);
      assert.ok(problem.summary && problem.reason && problem.fix.length > 0);
    });
  }

  test("the reason wins over a message that suggests another problem", () => {
    const err = new KeyringError("Could not connect: No such file or directory [g-io-error-quark:1]", { kind: "unavailable", reason: "timeout", backend: "libsecret" });
    assert.equal(diagnoseKeyringError(err, facts(), 5000).id, "timeout");
  });

  test("the serialized form (doctor --json's error) diagnoses like the error", () => {
    const info = { name: "KeyringError", message: "x", kind: "unavailable", reason: "no-service", backend: "libsecret" };
    assert.equal(diagnoseKeyringError(info, facts(), 5000).id, "no-secret-service");
  });
});

describe("doctor's diagnosis of the Linux backend's own errors (GError → KeyringError → problem)", () => {
  const facts = (over: Partial<EnvironmentFacts> = {}): EnvironmentFacts => ({
    platform: "linux",
    dbusSessionBusAddress: "unix:path=/run/user/1000/bus",
    dbusSocketExists: true,
    display: null,
    ssh: false,
    wsl: false,
    container: false,
    libsecret: "/usr/lib/x86_64-linux-gnu/libsecret-1.so.0",
    ...over,
  });
  // The backend's error table turns each GError into a KeyringError with a reason; the doctor reads only that.
  const gerror = (domain: string, code: number, message: string) => keyringErrorFromGError({ domain, code, message }, "reading the keyring entry");
  const noFfi = (): unknown => {
    try {
      return resolveFfiProviderName({}, "no-such-provider");
    } catch (error) {
      return error;
    }
  };
  // The GErrors of linux-secret-service.md §4.
  const cases: [string, unknown, Partial<EnvironmentFacts>, string][] = [
    ["no FFI provider (AUTHKEEP_FFI names none)", noFfi(), {}, "ffi-missing"],
    ["A: no bus, no DISPLAY", gerror("g-io-error-quark", 0, "Cannot autolaunch D-Bus without X11 $DISPLAY"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["A': bogus DISPLAY", gerror("g-spawn-exit-error-quark", 1, "Process /usr/bin/dbus-launch exited with status 1"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["B: dead socket", gerror("g-io-error-quark", 1, "Could not connect: No such file or directory"), { dbusSocketExists: false }, "dbus-unreachable"],
    ["C: no Secret Service", gerror("g-dbus-error-quark", 2, "The name org.freedesktop.secrets was not provided by any .service files"), {}, "no-secret-service"],
    ["D: no default collection (found by the backend, no GError)", keyringError("unavailable", "reading the keyring entry", FIX.noDefaultCollection), {}, "no-default-collection"],
    ["E: locked", gerror("secret-error", 2, "Cannot create an item in a locked collection"), {}, "locked"],
    ["E': access denied by a policy", gerror("g-dbus-error-quark", 9, "GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: refused"), {}, "locked"],
    ["F: hung daemon", gerror("g-io-error-quark", 24, "Timeout was reached"), {}, "timeout"],
    ["F: cancelled at our deadline", gerror("g-io-error-quark", 19, "Operation was cancelled"), {}, "timeout"],
  ];
  for (const [name, err, over, id] of cases) {
    test(`${name} → ${id}`, () => {
      assert.ok(err instanceof KeyringError && err.reason !== "other", `the backend gives a reason: ${String(err)}`);
      const problem = diagnoseKeyringError(err, facts(over), 5000);
      assert.equal(problem.id, id);
      assert.ok(problem.summary && problem.reason && problem.fix.length > 0);
    });
  }
});

describe("authkeep CLI: help, usage and errors", () => {
  test("--help prints the commands, the options and the exit status table", async () => {
    const result = await runCli(["--help"]);
    assert.equal(result.code, 0);
    for (const word of ["status", "doctor", "migrate --to keyring|file", "logout", "--home DIR", "--mode MODE", "--json", "Exit status:", "NO_COLOR"]) {
      assert.match(result.stdout, new RegExp(word.replace(/[|-]/g, "\\$&")), word);
    }
    for (const code of ["0", "1", "2", "3", "4", "5"]) assert.match(result.stdout, new RegExp(`^  ${code}  `, "m"));
    assert.equal(result.stderr, "");
  });

  for (const command of ["status", "doctor", "migrate", "logout"]) {
    test(`${command} --help prints its usage and exit statuses and exits 0`, async () => {
      const result = await runCli([command, "--help"]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: authkeep ${command}`));
      assert.match(result.stdout, /Exit status/);
      const viaHelp = await runCli(["help", command]);
      assert.equal(viaHelp.stdout, result.stdout);
    });
  }

  test("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    assert.equal(result.code, 0);
    const root = new URL(import.meta.url.endsWith(".ts") ? "../" : "../../", import.meta.url);
    const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string };
    assert.equal(result.stdout.trim(), pkg.version);
  });

  const usageCases: [string, string[], RegExp][] = [
    ["no command", [], /Usage: authkeep <command>/],
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/],
    ["an unknown option", ["status", "--frob"], /Unknown option '--frob'/],
    ["a bad --mode", ["status", "--mode", "cloud"], /--mode must be one of file, keyring, auto, ephemeral, not "cloud"/],
    ["migrate without --to", ["migrate"], /migrate needs --to keyring or --to file/],
    ["migrate --to ephemeral", ["migrate", "--to", "ephemeral"], /--to must be keyring or file/],
    ["a stray argument", ["logout", "now"], /unexpected argument "now"/],
    ["a bad --timeout", ["doctor", "--timeout", "soon"], /--timeout must be a whole number/],
  ];
  for (const [name, args, message] of usageCases) {
    test(`${name} is a usage error: exit 2, the reason on stderr, nothing on stdout, no stack`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "");
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }

  test("a failure prints a clear error on stderr without a stack trace, and the stack with --debug", async (t) => {
    const missing = join(tempHome(t), "does-not-exist");
    const env = { ...process.env, CODEX_HOME: missing };
    const plain = await runCli(["status"], { env });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /^authkeep: error: CODEX_HOME points to .*does-not-exist, which does not exist/m);
    assert.match(plain.stderr, /--debug/);
    assert.doesNotMatch(plain.stderr, /\n\s+at /);
    assert.equal(plain.stdout, "");
    const debug = await runCli(["status", "--debug"], { env });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /);
  });

  test("--home defaults to CODEX_HOME", async (t) => {
    const home = tempHome(t);
    const result = await runCli(["status", "--json"], { env: noKeyringEnv({ CODEX_HOME: home }) });
    assert.equal(json(result).home, home);
  });

  test("the mode comes from --mode, else cli_auth_credentials_store in config.toml, else file", async (t) => {
    const home = tempHome(t);
    const mode = async (...args: string[]) => {
      const report = json<{ mode: string; modeSource: string }>(await runCli(["status", "--json", "--home", home, ...args], { env: headless }));
      return `${report.mode}/${report.modeSource}`;
    };
    assert.equal(await mode(), "file/default");
    writeFileSync(join(home, "config.toml"), 'model = "o3"\ncli_auth_credentials_store = "auto" # comment\n[profiles.x]\ncli_auth_credentials_store = "file"\n');
    assert.equal(await mode(), "auto/config");
    assert.equal(await mode("--mode", "ephemeral"), "ephemeral/flag");
    writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "cloud"\n');
    const bad = await runCli(["status", "--json", "--home", home], { env: headless });
    assert.equal(json<{ mode: string }>(bad).mode, "file");
    assert.match(bad.stderr, /ignoring cli_auth_credentials_store = "cloud"/);
  });
});

describe("authkeep CLI: output on a terminal and in pipes", () => {
  const script = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  const onTty = (args: string[], env: NodeJS.ProcessEnv) => {
    // util-linux `script` gives the CLI a pseudo-terminal; its output comes back on our pipe.
    const command = [process.execPath, CLI_PATH, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    return spawnSync("script", ["-qefc", command, "/dev/null"], { env, encoding: "utf8", timeout: 60_000 });
  };

  test("colour only on a TTY and never with NO_COLOR", { skip: script ? false : "util-linux script is not installed" }, async (t) => {
    const home = tempHome(t);
    seedFile(home, authText(canaryAuth().auth));
    const env = noKeyringEnv();
    delete env.NO_COLOR;
    const tty = onTty(["status", "--home", home], { ...env, TERM: "xterm" });
    assert.match(tty.stdout, /\u001b\[3[12]m/, "coloured on a TTY");
    const noColor = onTty(["status", "--home", home], { ...env, TERM: "xterm", NO_COLOR: "1" });
    assert.doesNotMatch(noColor.stdout, /\u001b\[/, "NO_COLOR turns colour (and the progress spinner) off");
    assert.match(noColor.stdout, /present \(in use\)/);
    const piped = await runCli(["status", "--home", home], { env });
    assert.doesNotMatch(piped.stdout + piped.stderr, /\u001b\[/, "no colour in a pipe");
    const jsonOnTty = onTty(["status", "--json", "--home", home], { ...env, TERM: "xterm" });
    assert.doesNotMatch(jsonOnTty.stdout, /\u001b\[/, "never colour or progress with --json");
  });
});

describe("authkeep status", () => {
  test("no credentials: exit 3, location neither (or unknown without a keyring), JSON shape", async (t) => {
    const home = tempHome(t);
    const result = await runCli(["status", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 3);
    const report = json<Report>(result);
    assert.equal(report.command, "status");
    assert.equal(report.home, home);
    assert.equal(report.stores.file.state, "absent");
    assert.equal(report.stores.file.path, join(home, "auth.json"));
    assert.equal(report.stores.keyring.service, "Codex Auth");
    assert.equal(report.stores.keyring.account, computeStoreKey(home));
    if (isLinux) {
      assert.equal(report.stores.keyring.state, "unavailable");
      assert.equal(report.stores.keyring.problem.id, "no-dbus-session");
      assert.equal(report.location, "unknown");
    }
    assert.equal(report.active, null);
    assert.equal(report.credentials, null);
    const human = await runCli(["status", "--home", home], { env: headless });
    assert.equal(human.code, 3);
    assert.match(human.stdout, /Not logged in for mode file: nothing in auth\.json/);
  });

  test("credentials in the file: who, plan, expiry and last refresh, secrets redacted", async (t) => {
    const home = tempHome(t);
    const { auth, secrets } = canaryAuth({ expiresInSec: 7200 });
    seedFile(home, authText(auth));
    const result = await runCli(["status", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 0);
    const report = json<Report>(result);
    assert.equal(report.location, isLinux ? "file" : report.location);
    assert.equal(report.active, "file");
    const c = report.credentials;
    assert.equal(c.authMode, "chatgpt");
    assert.equal(c.accountId, "acct-canary");
    assert.equal(c.email, "canary@example.com");
    assert.equal(c.plan, "pro");
    assert.equal(c.lastRefresh, "2025-06-01T10:20:30.123456789Z");
    assert.equal(c.accessTokenExpired, false);
    const expires = Date.parse(c.accessTokenExpiresAt);
    assert.ok(Math.abs(expires - (Date.now() + 7200_000)) < 120_000, c.accessTokenExpiresAt);
    assert.equal(c.accessToken, `${auth.tokens!.access_token.slice(0, 4)}…`);
    assert.equal(c.refreshToken, "rt_C…");
    assert.equal(c.apiKey, "sk-p…");
    assertNoSecrets(result.stdout + result.stderr, secrets, "status --json");
    const human = await runCli(["status", "--home", home], { env: headless });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /account\s+acct-canary/);
    assert.match(human.stdout, /email\s+canary@example\.com/);
    assert.match(human.stdout, /plan\s+pro/);
    assert.match(human.stdout, /access token\s+eyJh…\s+expires \S+ \(in (1|2) h\)/);
    assert.match(human.stdout, /last refresh\s+2025-06-01T10:20:30\.123456789Z/);
    assertNoSecrets(human.stdout + human.stderr, secrets, "status");
  });

  test("an expired access token is reported as expired, with a warning", async (t) => {
    const home = tempHome(t);
    seedFile(home, authText(canaryAuth({ expiresInSec: -600 }).auth));
    const result = await runCli(["status", "--json", "--home", home], { env: headless });
    assert.equal(json<Report>(result).credentials.accessTokenExpired, true);
    assert.match(result.stderr, /the access token has expired/);
  });

  test("an unreadable auth.json: exit 1, state unreadable, the field named, nothing of the file printed", async (t) => {
    const home = tempHome(t);
    seedFile(home, '{"OPENAI_API_KEY": 42, "tokens": "CANARYcorrupt0123456789"}');
    const result = await runCli(["status", "--json", "--home", home], { env: headless });
    assert.equal(result.code, 1);
    const report = json<Report>(result);
    assert.equal(report.stores.file.state, "unreadable");
    assert.equal(report.stores.file.error.name, "AuthFormatError");
    assert.doesNotMatch(result.stdout + result.stderr, /CANARYcorrupt/);
  });

  test("mode keyring with only a file: exit 3 and a warning that points to migrate", async (t) => {
    const home = tempHome(t);
    seedFile(home, authText(canaryAuth().auth));
    const result = await runCli(["status", "--mode", "keyring", "--home", home], { env: headless });
    assert.equal(result.code, 4, "without a keyring, mode keyring cannot read anything");
    if (!("keyring" in kr)) return;
    const withKeyring = await runCli(["status", "--mode", "keyring", "--home", home], { env: kr.keyring.env });
    assert.equal(withKeyring.code, 3);
    assert.match(withKeyring.stderr, /mode keyring ignores the file; run `authkeep migrate --to keyring`/);
  });

  test("both stores with different credentials: warns that the copies diverge and says which the mode uses", async (t) => {
    const setup = keyringHome(t);
    if (!setup) return;
    const { keyring, home } = setup;
    const older = canaryAuth({ lastRefresh: "2025-01-01T00:00:00Z", marker: "old" });
    const newer = canaryAuth({ lastRefresh: "2025-02-01T00:00:00Z", marker: "new" });
    seedFile(home, authText(newer.auth));
    await keyring.write(home, older.auth);
    const result = await runCli(["status", "--json", "--mode", "auto", "--home", home], { env: keyring.env });
    assert.equal(result.code, 0);
    const report = json<Report>(result);
    assert.equal(report.location, "both");
    assert.equal(report.diverged, true);
    assert.equal(report.active, "file", "auto uses the file when its last_refresh is strictly newer");
    assert.match(result.stderr, /auth\.json and the keyring hold different credentials \(the file copy was refreshed more recently\); mode auto uses the file copy/);
    assertNoSecrets(result.stdout + result.stderr, [...older.secrets, ...newer.secrets], "status (diverged)");
    const keyringMode = json<Report>(await runCli(["status", "--json", "--mode", "keyring", "--home", home], { env: keyring.env }));
    assert.equal(keyringMode.active, "keyring");
    // Identical copies are not "diverged", only duplicated.
    await keyring.write(home, newer.auth);
    const same = await runCli(["status", "--json", "--mode", "auto", "--home", home], { env: keyring.env });
    assert.equal(json<Report>(same).diverged, false);
    assert.match(same.stderr, /the same credentials are stored twice/);
  });
});

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

describe("authkeep CLI: no secret in any output", () => {
  test("canary tokens in every field never appear in stdout or stderr of any command, with or without --json/--debug", async (t) => {
    const keyring = "keyring" in kr ? kr.keyring : undefined;
    const env = keyring?.env ?? headless;
    const home = tempHome(t);
    if (keyring) t.after(() => keyring.remove(home));
    const file = canaryAuth({ marker: "file", lastRefresh: "2025-03-01T00:00:00Z" });
    const other = canaryAuth({ marker: "keyring", lastRefresh: "2025-02-01T00:00:00Z", expiresInSec: -60 });
    const secrets = [...file.secrets, ...other.secrets];
    mkdirSync(home, { recursive: true });
    let output = "";
    const run = async (...args: string[]) => {
      // --debug adds stack traces, printed only on errors (e.g. the migrate conflict below).
      for (const extra of args[0] === "doctor" || args[0] === "logout" ? [[], ["--json"]] : [[], ["--json"], ["--debug"]]) {
        const result = await runCli([...args, "--home", home, ...extra], { env });
        output += result.stdout + result.stderr;
      }
    };
    seedFile(home, authText(file.auth));
    if (keyring) await keyring.write(home, other.auth);
    for (const mode of ["file", "keyring", "auto"]) await run("status", "--mode", mode);
    await run("doctor");
    await run("migrate", "--to", "keyring");
    await run("migrate", "--to", "keyring", "--force");
    await run("migrate", "--to", "file");
    await run("status");
    await run("logout");
    assert.ok(output.length > 1000, "the commands printed something");
    assertNoSecrets(output, secrets, "the CLI's output");
  });
});
