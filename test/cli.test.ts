// The `authkeep` CLI as users run it (a real subprocess against temporary homes, with and without
// the real gnome-keyring): help, usage and errors, terminal output, `status`, and no secret in any
// output. doctor, migrate and logout have their own files (cli-doctor, cli-migrate, cli-logout).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { computeStoreKey } from "../src/index.ts";
import {
  assertNoSecrets,
  authText,
  canaryAuth,
  CLI_PATH,
  json,
  noKeyringEnv,
  runCli,
  tempHome,
  cliKeyring,
  type Report,
  seedFile,
} from "./fixtures/cli-harness.ts";

const { kr, keyringHome } = cliKeyring();
const isLinux = process.platform === "linux";
const headless = noKeyringEnv();

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
