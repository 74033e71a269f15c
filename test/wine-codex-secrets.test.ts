// Codex's encrypted auth store on Windows, for real: the Windows codex.exe 0.169 (scripts/codex-setup.sh
// with CODEX_WIN=1; scripts/wine-setup.sh puts the bcryptprimitives.dll stand-in beside it) and our
// Windows node.exe, both under Wine, both with their Windows defaults (Codex: keyring mode selects the
// Secrets backend; authkeep: no keyringBackend option). The passphrase lives in Wine's Credential
// Manager. Codex calibrates logN 18–20 here (up to 1 GiB per derivation), so derivations are few.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const winScript = join(here, "win", "encrypted-store.win.js");
const wineNode = process.env.AUTHKEEP_WINE_NODE;
const codexExe = process.env.AUTHKEEP_CODEX_EXE;
const required = process.env.npm_lifecycle_event === "test" || process.env.AUTHKEEP_REQUIRE_WINE === "1";
const skip = (!wineNode || !codexExe) && !required ? "needs AUTHKEEP_WINE_NODE and AUTHKEEP_CODEX_EXE (scripts/codex-setup.sh, then scripts/wine-setup.sh)" : false;
const options = { skip, timeout: 900_000 } as const;

const KEY_CODEX = "sk-CANARY-wine-codex-aaaa1111";
const KEY_AUTHKEEP = "sk-CANARY-wine-authkeep-bbbb2222";

const winPath = (path: string) => `Z:${path.replaceAll("/", "\\")}`;
const wineEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  WINEDEBUG: process.env.WINEDEBUG ?? "-all",
  WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=",
  DISPLAY: "",
  ...extra,
});

/** Runs a Windows program under Wine with files as stdio (node.exe dies on Unix pipes). */
function wine(dir: string, label: string, argv: string[], stdin = "", env: NodeJS.ProcessEnv = {}): { status: number | null; log: string } {
  const inPath = join(dir, `${label}.in`);
  const logPath = join(dir, `${label}.log`);
  writeFileSync(inPath, stdin);
  const input = openSync(inPath, "r");
  const output = openSync(logPath, "w");
  try {
    const child = spawnSync("wine", argv, { cwd: root, env: wineEnv(env), stdio: [input, output, output], timeout: 300_000 });
    return { status: child.status, log: readFileSync(logPath, "utf8") };
  } finally {
    closeSync(input);
    closeSync(output);
  }
}

function codex(dir: string, home: string, label: string, args: string[], stdin = "") {
  return wine(dir, label, [codexExe!, "-c", "cli_auth_credentials_store=keyring", ...args], stdin, { CODEX_HOME: winPath(home) });
}

interface Steps {
  steps: { op: string; key?: string | null; deleted?: boolean; ms: number; error?: string }[];
  backend: string;
  maxRssMiB: number;
  done: boolean;
}

function authkeep(dir: string, home: string, label: string, ops: string[]): Steps {
  const results = join(dir, `${label}.json`);
  const run = wine(dir, label, [wineNode!, winPath(winScript), winPath(results), winPath(home), ...ops]);
  assert.ok(existsSync(results), `node.exe did not finish (exit ${run.status}):\n${run.log}`);
  const parsed = JSON.parse(readFileSync(results, "utf8")) as Steps;
  for (const step of parsed.steps) assert.equal(step.error, undefined, `${label} ${step.op}: ${step.error}`);
  assert.ok(!run.log.includes("CANARY"), "no secret in node.exe's output");
  return parsed;
}

function workFactor(home: string): number {
  return Number(readFileSync(join(home, "secrets", "codex_auth.age"), "latin1").split("\n")[1]!.split(" ")[3]);
}

test("Wine: codex.exe and Windows node.exe read each other's encrypted store, overwrite it and log each other out", options, async (t) => {
  assert.ok(wineNode && existsSync(wineNode), "AUTHKEEP_WINE_NODE: run scripts/wine-setup.sh");
  assert.ok(codexExe && existsSync(codexExe), "AUTHKEEP_CODEX_EXE: run CODEX_WIN=1 scripts/codex-setup.sh");
  assert.ok(existsSync(join(dirname(codexExe), "bcryptprimitives.dll")), "the bcryptprimitives.dll stand-in: run scripts/wine-setup.sh after the Codex exports");
  assert.ok(existsSync(winScript), `${winScript} is missing: build with npx tsc -p tsconfig.json`);
  const dir = mkdtempSync(join(tmpdir(), "authkeep-wine-secrets-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  mkdirSync(home);

  await t.test("codex.exe login writes secrets/codex_auth.age and no auth.json", () => {
    const login = codex(dir, home, "login", ["login", "--with-api-key"], `${KEY_CODEX}\n`);
    assert.equal(login.status, 0, login.log);
    assert.ok(existsSync(join(home, "secrets", "codex_auth.age")));
    assert.equal(existsSync(join(home, "auth.json")), false);
    t.diagnostic(`codex.exe wrote scrypt work factor ${workFactor(home)}`);
  });

  await t.test("node.exe with no options reads it (secrets is the Windows default), then overwrites it", () => {
    const run = authkeep(dir, home, "read-write", ["load", "load", `save:${KEY_AUTHKEEP}`]);
    assert.equal(run.backend, "secrets");
    assert.equal(run.steps[0]!.key, KEY_CODEX);
    assert.equal(run.steps[1]!.key, KEY_CODEX);
    t.diagnostic(`node.exe: cold load ${run.steps[0]!.ms.toFixed(0)} ms, warm load ${run.steps[1]!.ms.toFixed(1)} ms, save ${run.steps[2]!.ms.toFixed(0)} ms, peak RSS ${run.maxRssMiB.toFixed(0)} MiB`);
  });

  await t.test("codex.exe login status reads what node.exe wrote", () => {
    const status = codex(dir, home, "status", ["login", "status"]);
    assert.equal(status.status, 0, status.log);
    assert.ok(status.log.includes(KEY_AUTHKEEP.slice(-4)), status.log);
  });

  await t.test("codex.exe logout, then node.exe sees logged out", () => {
    const logout = codex(dir, home, "logout", ["logout"]);
    assert.equal(logout.status, 0, logout.log);
    assert.equal(authkeep(dir, home, "after-logout", ["load"]).steps[0]!.key, null);
  });

  await t.test("codex.exe logs in again; node.exe's delete logs it out", () => {
    assert.equal(codex(dir, home, "login2", ["login", "--with-api-key"], `${KEY_CODEX}\n`).status, 0);
    assert.equal(authkeep(dir, home, "delete", ["delete"]).steps[0]!.deleted, true);
    const status = codex(dir, home, "status2", ["login", "status"]);
    assert.equal(status.status, 1, status.log);
    assert.match(status.log, /Not logged in/);
  });

  await t.test("at work factor 20 (1 GiB, Codex's calibration on a quiet machine): node.exe loads it cold, codex.exe reads it", () => {
    const home20 = join(dir, "home20");
    mkdirSync(home20);
    const run = authkeep(dir, home20, "logn20", [`seal:20:${KEY_AUTHKEEP}`, "forget", "load", "load"]);
    assert.equal(workFactor(home20), 20);
    assert.equal(run.steps[2]!.key, KEY_AUTHKEEP);
    assert.equal(run.steps[3]!.key, KEY_AUTHKEEP);
    t.diagnostic(`node.exe at logN 20: seal ${run.steps[0]!.ms.toFixed(0)} ms, cold load ${run.steps[2]!.ms.toFixed(0)} ms, warm load ${run.steps[3]!.ms.toFixed(1)} ms, peak RSS ${run.maxRssMiB.toFixed(0)} MiB`);
    const status = codex(dir, home20, "status20", ["login", "status"]);
    assert.equal(status.status, 0, status.log);
    assert.ok(status.log.includes(KEY_AUTHKEEP.slice(-4)), status.log);
  });
});
