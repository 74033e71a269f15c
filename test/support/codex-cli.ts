/**
 * Runs the real Codex CLI binary (scripts/codex-setup.sh exports its path as
 * `AUTHKEEP_CODEX_BIN`) against a fresh temporary `CODEX_HOME`, never the
 * user's ~/.codex, with the storage mode picked by
 * `-c cli_auth_credentials_store=…`, stdin from a file, and a hang guard.
 *
 * The keyring Codex sees is whatever `DBUS_SESSION_BUS_ADDRESS` names: the
 * suite's private gnome-keyring under `npm test`. Codex's output can quote
 * the tail of an API key, so every message built here is passed through
 * {@linkcode redact} first.
 *
 * Absent binary: the tests skip with the reason, except under `CI=true` or
 * `AUTHKEEP_REQUIRE_CODEX=1` (scripts/test.sh), where {@linkcode codexBin}
 * fails them.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import assert from "node:assert/strict";

/** A storage mode both programs understand. */
export type CodexStore = "file" | "keyring" | "auto";

/** The result of one Codex run. */
export interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether the hang guard killed it. */
  timedOut: boolean;
  /** Wall time in ms (for reports, never asserted). */
  ms: number;
}

/** Options of {@linkcode runCodex}. */
export interface CodexRunOptions {
  /** `CODEX_HOME` (also `HOME`, so nothing outside it is touched). */
  home: string;
  /** `cli_auth_credentials_store`; left out when undefined (Codex's default, file). */
  store?: CodexStore | undefined;
  /** Text fed on stdin (through a file, never a terminal). @default empty */
  stdin?: string;
  /** Extra environment, e.g. `CODEX_REFRESH_TOKEN_URL_OVERRIDE`. */
  env?: NodeJS.ProcessEnv;
  /** Kill it after this many ms. @default 60000 */
  timeoutMs?: number;
  /** The binary. @default codexBin() */
  bin?: string;
}

/** Whether an environment flag is set to something other than empty, `0` or `false`. */
export function envFlag(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/** Whether a missing binary fails the tests instead of skipping them. */
export const CODEX_REQUIRED = envFlag("CI") || envFlag("AUTHKEEP_REQUIRE_CODEX");

const configuredBin = process.env.AUTHKEEP_CODEX_BIN;
const setupHint = 'run `eval "$(bash scripts/codex-setup.sh)"` first (npm test does)';

/**
 * The reason to skip the Codex tests here, or `false` when they run: they
 * run when the binary is there, and when it is required (then they fail).
 */
export const CODEX_SKIP: string | false =
  (configuredBin !== undefined && existsSync(configuredBin)) || CODEX_REQUIRED
    ? false
    : `the real Codex CLI is not installed here (AUTHKEEP_CODEX_BIN ${configuredBin ? `=${configuredBin} does not exist` : "is not set"}); ${setupHint}`;

/** The Codex binary, or a test failure saying how to get it. */
export function codexBin(): string {
  assert.ok(configuredBin, `AUTHKEEP_CODEX_BIN is not set, and the Codex tests are required here; ${setupHint}`);
  assert.ok(existsSync(configuredBin), `AUTHKEEP_CODEX_BIN=${configuredBin} does not exist; ${setupHint}`);
  return configuredBin;
}

/** A fresh temporary Codex home, removed when the test ends. */
export function codexHome(t: { after(fn: () => void): void }): string {
  const home = mkdtempSync(join(tmpdir(), "authkeep-codex-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** The environment Codex runs in: ours, minus anything that would log it in or point it elsewhere. */
function codexEnv(home: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(OPENAI_|CODEX_|RUST_LOG$)/.test(name)) delete env[name];
  }
  return { ...env, CODEX_HOME: home, HOME: home, NO_COLOR: "1", ...extra };
}

/** Runs `codex [-c cli_auth_credentials_store=…] ...args` and collects its output. */
export function runCodex(args: readonly string[], options: CodexRunOptions): Promise<CodexRun> {
  const bin = options.bin ?? codexBin();
  const argv = [...(options.store ? ["-c", `cli_auth_credentials_store=${options.store}`] : []), ...args];
  // stdin from a file outside the home, so the home holds only what Codex writes.
  const inputDir = mkdtempSync(join(tmpdir(), "authkeep-codex-stdin-"));
  const inputPath = join(inputDir, "stdin");
  writeFileSync(inputPath, options.stdin ?? "", { mode: 0o600 });
  const fd = openSync(inputPath, "r");
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(bin, argv, { cwd: options.home, env: codexEnv(options.home, options.env ?? {}), stdio: [fd, "pipe", "pipe"] });
  } finally {
    closeSync(fd);
  }
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      rmSync(inputDir, { recursive: true, force: true });
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      rmSync(inputDir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    });
  });
}

/**
 * `text` with every secret, and every 8-character piece of one, replaced by
 * `[secret]`: Codex shows the tail of an API key, tests must not echo more.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    out = out.replaceAll(secret, "[secret]");
    for (let i = 0; i + 8 <= secret.length; i++) out = out.replaceAll(secret.slice(i, i + 8), "[secret]");
  }
  return out;
}

/** A one-paragraph account of a run for assertion messages, redacted. */
export function describeRun(run: CodexRun, secrets: readonly string[] = []): string {
  const how = run.timedOut ? "was killed by the hang guard" : `exited ${run.code ?? run.signal}`;
  return redact(`codex ${how} after ${Math.round(run.ms)} ms\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`, secrets);
}

/** What `codex login status` said: exit 0 and its first meaningful line, or exit 1 "Not logged in". */
export interface CodexLoginStatus {
  loggedIn: boolean;
  /** e.g. `Logged in using ChatGPT`, `API key configured - sk-proj-***…`, `Not logged in`. */
  line: string;
}

/** Runs `codex login status` (it prints to stderr and never refreshes). */
export async function codexLoginStatus(home: string, store: CodexStore | undefined, secrets: readonly string[] = []): Promise<CodexLoginStatus> {
  const run = await runCodex(["login", "status"], { home, store });
  assert.ok(!run.timedOut && (run.code === 0 || run.code === 1), describeRun(run, secrets));
  const line = run.stderr.split("\n").find((text) => text.trim() !== "" && !text.startsWith("WARNING:")) ?? "";
  return { loggedIn: run.code === 0, line: line.trim() };
}

/** One check of `codex doctor --json`. */
export interface CodexDoctorCheck {
  status: string;
  summary: string;
  details: Record<string, unknown>;
}

/**
 * Runs `codex doctor --json` and returns its checks. Its exit status is 1
 * here whatever the login, because chatgpt.com is unreachable offline, so
 * only the report counts. Doctor refreshes an expired ChatGPT access token,
 * through `CODEX_REFRESH_TOKEN_URL_OVERRIDE` when `tokenUrl` is given.
 */
export async function codexDoctor(
  home: string,
  store: CodexStore | undefined,
  options: { tokenUrl?: string; secrets?: readonly string[]; timeoutMs?: number } = {},
): Promise<{ run: CodexRun; checks: Record<string, CodexDoctorCheck> }> {
  const env = options.tokenUrl ? { CODEX_REFRESH_TOKEN_URL_OVERRIDE: options.tokenUrl } : {};
  const run = await runCodex(["doctor", "--json"], { home, store, env, timeoutMs: options.timeoutMs ?? 90_000 });
  let report: { checks?: Record<string, CodexDoctorCheck> };
  try {
    report = JSON.parse(run.stdout) as typeof report;
  } catch {
    assert.fail(`codex doctor --json printed no JSON report: ${describeRun(run, options.secrets)}`);
  }
  assert.ok(report.checks, `codex doctor --json has no checks: ${describeRun(run, options.secrets)}`);
  return { run, checks: report.checks };
}

/** The Windows spelling of a Linux path for programs under Wine (Wine maps / to Z:). */
export function winPath(path: string): string {
  return `Z:${path.replaceAll("/", "\\")}`;
}

/**
 * Runs a Windows program (codex.exe, node.exe) under Wine with stdin, stdout
 * and stderr on files: node.exe dies on a Unix pipe as stdio, and files work
 * for every program. Same result shape and hang guard as {@linkcode runCodex}.
 */
export async function runUnderWine(
  exe: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<CodexRun> {
  const dir = mkdtempSync(join(tmpdir(), "authkeep-wine-run-"));
  const paths = { stdin: join(dir, "stdin"), stdout: join(dir, "stdout"), stderr: join(dir, "stderr") };
  writeFileSync(paths.stdin, options.stdin ?? "", { mode: 0o600 });
  const fds = [openSync(paths.stdin, "r"), openSync(paths.stdout, "w"), openSync(paths.stderr, "w")] as const;
  const started = performance.now();
  let timedOut = false;
  try {
    const env = { ...process.env, WINEDEBUG: process.env.WINEDEBUG ?? "-all", WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=", DISPLAY: "", ...options.env };
    const child = spawn("wine", [exe, ...args], { env, stdio: [fds[0], fds[1], fds[2]] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 180_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    const read = (path: string) => readFileSync(path, "utf8");
    return { code, signal, stdout: read(paths.stdout), stderr: read(paths.stderr), timedOut, ms: performance.now() - started };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
