/**
 * The CLI under hostile input: `--json` prints exactly one JSON document on
 * stdout on every path (help, version, usage errors, failures), and claims
 * from tokens (anyone can mint a JWT) never reach the terminal with control
 * characters, in human or JSON output. Real `authkeep` subprocesses.
 */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { serializeAuthJson } from "../src/index.ts";
import { fakeJwt, noKeyringEnv, runCli, tempHome } from "./fixtures/cli-harness.ts";

const HANG_GUARD_MS = 30_000;

/** Runs the CLI and requires stdout to be exactly one JSON document; returns it with the exit status. */
async function oneDocument(args: string[]): Promise<{ code: number | null; doc: Record<string, unknown>; stderr: string }> {
  const result = await runCli(args, { env: noKeyringEnv(), timeoutMs: HANG_GUARD_MS });
  assert.equal(result.signal, null, `${args.join(" ")}: hung`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`${args.join(" ")}: stdout is not one JSON document: ${JSON.stringify(result.stdout)}`);
  }
  assert.equal(typeof doc, "object");
  return { code: result.code, doc, stderr: result.stderr };
}

test("--json: usage errors, unknown commands and flags print one error document and exit 2", async (t) => {
  const home = tempHome(t);
  for (const args of [
    ["--json"],
    ["bogus", "--json"],
    ["help", "bogus", "--json"],
    ["status", "--bogus", "--json"],
    ["status", "stray", "--json"],
    ["status", "--json", "--timeout", "soon"],
    ["status", "--json", "--mode", "cloud"],
    ["status", "--json", "--home", ""],
    ["migrate", "--json"],
    ["migrate", "--to", "cloud", "--json"],
  ]) {
    const { code, doc, stderr } = await oneDocument([...args, ...(args.includes("--home") ? [] : ["--home", home])]);
    assert.equal(code, 2, args.join(" "));
    assert.deepEqual([doc.ok, doc.exitCode, (doc.error as { name?: string }).name], [false, 2, "UsageError"], args.join(" "));
    assert.match(stderr, /authkeep: error:/, "the human message still goes to stderr");
  }
});

test("--json: --help, help <command> and --version print one document and exit 0", async () => {
  for (const [args, command] of [[["--help", "--json"], null], [["help", "status", "--json"], "status"], [["logout", "--help", "--json"], "logout"], [["migrate", "-h", "--json"], "migrate"]] as const) {
    const { code, doc } = await oneDocument([...args]);
    assert.equal(code, 0);
    assert.equal(doc.command, command);
    assert.match(String(doc.help), /Usage: authkeep/);
  }
  const { doc } = await oneDocument(["--version", "--json"]);
  assert.match(String(doc.version), /^\d+\.\d+\.\d+/);
});

test("--json: a home that is a file, a symlink loop or below a file, and a lock path that is a directory, print one document", async (t) => {
  const root = tempHome(t);
  writeFileSync(join(root, "a-file"), "");
  symlinkSync(join(root, "loop-b"), join(root, "loop-a"));
  symlinkSync(join(root, "loop-a"), join(root, "loop-b"));
  const lockedHome = join(root, "locked");
  // Whatever lock files a command takes, directories in their place make taking them fail.
  for (const name of ["auth.json.lock", "auth.lock"]) mkdirSync(join(lockedHome, name), { recursive: true });
  writeFileSync(join(lockedHome, "auth.json"), serializeAuthJson({ OPENAI_API_KEY: "sk-fake-locked" }), { mode: 0o600 });
  for (const home of [join(root, "a-file"), join(root, "loop-a"), join(root, "a-file", "below"), lockedHome]) {
    for (const command of [["status"], ["logout"], ["migrate", "--to", "keyring"], ["migrate", "--to", "file"], ["doctor"]]) {
      const { code, doc } = await oneDocument([...command, "--json", "--home", home]);
      assert.notEqual(code, null);
      // A failure document carries the exit status the process ended with.
      if (doc.ok === false && "exitCode" in doc) assert.equal(doc.exitCode, code, `${command.join(" ")} --home ${home}`);
      if (home !== lockedHome && command[0] !== "status" && command[0] !== "doctor") {
        assert.equal(code, 1, `${command.join(" ")} --home ${home}`);
        assert.equal((doc.error as { name?: string }).name, "AuthStorageError", `${command.join(" ")} --home ${home}`);
      }
    }
  }
});

// ESC (a screen clear and a title change), BEL, CR, backspace, DEL, the 8-bit CSI, and a bidi override.
const HOSTILE = "evil\u001b[2J\u001b]0;pwned\u0007\r\b\u007f\u009b31m\u202eboss@example.com";
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hostileHome(t: { after(fn: () => void): void }): string {
  const home = tempHome(t);
  const claims = { email: HOSTILE, "https://api.openai.com/auth": { chatgpt_plan_type: `pro${HOSTILE}`, chatgpt_account_id: `acct${HOSTILE}`, chatgpt_user_id: "u\u0007" } };
  const auth = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: fakeJwt(claims), access_token: fakeJwt({ exp: 2_000_000_000 }), refresh_token: "fake-refresh", account_id: null },
    last_refresh: "2025-01-01T00:00:00Z",
  };
  writeFileSync(join(home, "auth.json"), serializeAuthJson(auth), { mode: 0o600 });
  return home;
}

test("status: claims with ESC, BEL, C0/C1 controls, DEL and bidi overrides are shown escaped, never raw", async (t) => {
  const home = hostileHome(t);
  const result = await runCli(["status", "--home", home], { env: noKeyringEnv(), timeoutMs: HANG_GUARD_MS });
  assert.equal(result.code, 0, result.stderr);
  for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]] as const) {
    const raw = RAW_CONTROLS.exec(text);
    assert.equal(raw, null, `${name} has a raw U+${raw?.[0].charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  assert.match(result.stdout, /email\s+evil\\x1b\[2J\\x1b\]0;pwned\\x07\\x0d\\x08\\x7f\\x9b31m\\u202eboss@example\.com/);
  assert.match(result.stdout, /plan\s+proevil\\x1b/);
  assert.match(result.stdout, /account\s+acctevil\\x1b/);
});

test("status --json: the same claims come back exactly from the JSON, and the raw output holds no control character", async (t) => {
  const home = hostileHome(t);
  const result = await runCli(["status", "--json", "--home", home], { env: noKeyringEnv(), timeoutMs: HANG_GUARD_MS });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(RAW_CONTROLS.exec(result.stdout), null);
  const report = JSON.parse(result.stdout) as { credentials: { email: string; plan: string; accountId: string } };
  assert.deepEqual([report.credentials.email, report.credentials.plan, report.credentials.accountId], [HOSTILE, `pro${HOSTILE}`, `acct${HOSTILE}`]);
});
