// The real Windows codex.exe (0.169.0, @openai/codex's win32-x64 build) under Wine 8, beside
// authkeep's file storage run by the official Windows node.exe on the same home: Codex writes,
// authkeep reads; authkeep writes, Codex reads; logout both ways. File mode only (keyring mode on
// Windows is Codex's encrypted store). Needs AUTHKEEP_CODEX_EXE (CODEX_WIN=1 scripts/codex-setup.sh)
// and AUTHKEEP_WINE_NODE (scripts/wine-setup.sh, which puts the bcryptprimitives.dll stand-in
// beside codex.exe); npm test sets both up and requires them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type AuthDotJson, serializeAuthJson } from "../src/index.ts";
import { canaryAuth } from "./fixtures/cli-harness.ts";
import { CODEX_REQUIRED, describeRun, envFlag, redact, runUnderWine, winPath } from "./support/codex-cli.ts";

const codexExe = process.env.AUTHKEEP_CODEX_EXE;
const wineNode = process.env.AUTHKEEP_WINE_NODE;
const required = CODEX_REQUIRED || envFlag("AUTHKEEP_REQUIRE_WINE");
const script = fileURLToPath(new URL(`./win/codex-file.win.js`, import.meta.url));
const hint = 'run `eval "$(CODEX_WIN=1 bash scripts/codex-setup.sh)"` and then `eval "$(bash scripts/wine-setup.sh)"` (npm test does)';
const missing = !codexExe ? "AUTHKEEP_CODEX_EXE is not set" : !wineNode ? "AUTHKEEP_WINE_NODE is not set" : false;
const skip = missing && !required ? `${missing}; ${hint}` : false;

/** A fresh home; Codex under Wine also leaves log\ and tmp\ there. */
function home(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "authkeep-codex-wine-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function codex(dir: string, args: string[], stdin = "") {
  return runUnderWine(codexExe!, ["-c", "cli_auth_credentials_store=file", ...args], { env: { CODEX_HOME: winPath(dir) }, stdin });
}

/** authkeep's file storage in the Windows node.exe: one phase of test/win/codex-file.win.ts. */
async function authkeep(dir: string, phase: "load" | "save" | "delete", document?: AuthDotJson): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), "authkeep-codex-wine-io-"));
  try {
    const results = join(work, "results.json");
    const args = [winPath(script), winPath(results), phase, winPath(dir)];
    if (document) {
      writeFileSync(join(work, "document.json"), JSON.stringify(document), { mode: 0o600 });
      args.push(winPath(join(work, "document.json")));
    }
    const run = await runUnderWine(wineNode!, args);
    assert.ok(existsSync(results), `the Windows node.exe wrote no results (${describeRun(run)})`);
    const parsed = JSON.parse(readFileSync(results, "utf8")) as Record<string, unknown>;
    assert.equal(parsed.platform, "win32");
    assert.ok(parsed.done, `authkeep ${phase} on Windows failed: ${String(parsed.error)}`);
    return parsed;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Codex's first meaningful line of `login status` and whether it exited 0. */
async function status(dir: string, secrets: string[]): Promise<{ loggedIn: boolean; line: string }> {
  const run = await codex(dir, ["login", "status"]);
  assert.ok(run.code === 0 || run.code === 1, describeRun(run, secrets));
  const line = run.stderr.split(/\r?\n/).find((l) => l.trim() !== "" && !l.startsWith("WARNING:")) ?? "";
  return { loggedIn: run.code === 0, line: line.trim() };
}

describe("codex.exe under Wine and authkeep in the Windows node.exe, file mode", { skip, timeout: 600_000 }, () => {
  test("codex.exe login --with-api-key: authkeep on Windows loads the same document; Codex's files are auth.json and its two lock files", async (t) => {
    assert.ok(codexExe && existsSync(codexExe), `AUTHKEEP_CODEX_EXE=${codexExe} is missing; ${hint}`);
    assert.ok(wineNode && existsSync(wineNode), `AUTHKEEP_WINE_NODE=${wineNode} is missing; ${hint}`);
    const dir = home(t);
    const key = `sk-proj-CANARY${randomBytes(16).toString("hex")}`;
    const login = await codex(dir, ["login", "--with-api-key"], key);
    t.diagnostic(`codex.exe login under Wine: ${login.ms.toFixed(0)} ms`);
    assert.equal(login.code, 0, describeRun(login, [key]));
    const entries = readdirSync(dir).filter((name) => name !== "log" && name !== "tmp").sort();
    assert.deepEqual(entries, ["auth.json", "auth.json.lock", "auth.lock"]);

    const loaded = await authkeep(dir, "load");
    assert.deepEqual(loaded.auth, { auth_mode: "apikey", OPENAI_API_KEY: key });
    assert.equal(serializeAuthJson(loaded.auth as AuthDotJson), readFileSync(join(dir, "auth.json"), "utf8"), "same bytes as Codex's file");
  });

  test("authkeep on Windows saves a ChatGPT login: codex.exe says logged in; codex.exe logout: authkeep loads null", async (t) => {
    const dir = home(t);
    const { auth, secrets } = canaryAuth();
    await authkeep(dir, "save", auth);
    assert.deepEqual(await status(dir, secrets), { loggedIn: true, line: "Logged in using ChatGPT" });
    const logout = await codex(dir, ["logout"]);
    assert.equal(logout.code, 0, describeRun(logout, secrets));
    assert.equal((await authkeep(dir, "load")).auth, null);
    assert.equal(existsSync(join(dir, "auth.json")), false);
  });

  test("codex.exe saves, authkeep on Windows deletes: codex.exe says not logged in", async (t) => {
    const dir = home(t);
    const key = `sk-proj-CANARY${randomBytes(16).toString("hex")}`;
    const login = await codex(dir, ["login", "--with-api-key"], key);
    assert.equal(login.code, 0, describeRun(login, [key]));
    const deleted = await authkeep(dir, "delete");
    assert.equal(deleted.deleted, true);
    const after = await status(dir, [key]);
    assert.deepEqual(after, { loggedIn: false, line: "Not logged in" }, redact(after.line, [key]));
  });
});
