/**
 * `npm start`: a tour of authkeep on this machine, in a temporary home, so
 * the user's real credentials are never read or touched.
 *
 * 1. `authkeep doctor`: what works here, and why not;
 * 2. save and load through each mode that works (file, ephemeral, keyring,
 *    auto), tokens redacted, then the CLI (`status`, `migrate`, `logout`) on
 *    the same home;
 * 3. the concurrent refresh: several processes with an expired access token
 *    against a local token server on 127.0.0.1, first without the
 *    cross-process lock (Codex's behaviour: a stampede, and every process but
 *    one is logged out), then with it (one refresh; everyone adopts it);
 * 4. cleanup: the temporary home and its keyring entry are removed.
 *
 * Works with no keyring daemon: it says so, shows the file fallback, and
 * points to `bash scripts/with-keyring.sh npm start`.
 *
 * Run as `node dist/scripts/tour.js` (after `npm run build`). The same file
 * is the refresh demo's worker (`--refresh-worker`, internal).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import {
  AuthManager,
  type AuthCredentialsStoreMode,
  type AuthDotJson,
  computeStoreKey,
  createAuthStorage,
  DEFAULT_KEYRING_SERVICE,
  defaultKeyringStore,
  HttpTokenRefresher,
  KeyringError,
  parseIdToken,
  type RefreshedTokens,
  RefreshError,
  serializeAuthJson,
} from "../src/index.ts";
import { diagnoseKeyringError, environmentFacts } from "../src/cli/_diagnose.ts";
import { createOutput, showSecret } from "../src/cli/_output.ts";

/** The CLI next to this file: dist/src/cli/main.js when built, src/cli/main.ts when run from the sources. */
const CLI = fileURLToPath(new URL(`../src/cli/main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const out = createOutput({ json: false });
const c = out.color;
const KEYRING_TIMEOUT_MS = 5000;
const WORKERS = 4;

// ---------------------------------------------------------------------------
// The tour

async function tour(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), "authkeep-tour-"));
  const keyring = defaultKeyringStore({ timeoutMs: KEYRING_TIMEOUT_MS });
  const account = computeStoreKey(home);
  let failures = 0;
  out.line(c.bold("authkeep tour"));
  out.line(`A temporary home, so your real credentials are never touched: ${home}`);
  out.line(c.dim(`(its keyring entry would be "${DEFAULT_KEYRING_SERVICE}" / ${account}; it is removed at the end)`));
  try {
    heading("1. doctor: what works on this machine");
    const doctor = runCli(["doctor", "--home", home, "--mode", "auto"]);
    if (doctor !== 0 && doctor !== 4) failures++;

    heading("2. save and load through each mode");
    const keyringWorks = await saveAndLoad(home, keyring);
    failures += keyringWorks.failures;

    heading("2b. the CLI on the same home");
    failures += await cliWalkthrough(home, keyringWorks.ok);

    heading("3. concurrent refresh across processes");
    failures += await refreshDemo(home, keyringWorks.ok ? "auto" : "file");
  } finally {
    heading("4. cleanup");
    await cleanup(home, keyring, account);
  }
  out.line();
  out.line(failures === 0 ? c.ok("Tour complete.") : c.bad(`Tour finished with ${failures} unexpected result(s); see above.`));
  return failures === 0 ? 0 : 1;
}

function heading(text: string): void {
  out.line();
  out.line(c.bold(`── ${text} ${"─".repeat(Math.max(0, 60 - text.length))}`));
}

/** Runs the real `authkeep` CLI with the terminal as its output, so colour and layout are what users see. */
function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  out.line(c.dim(`$ authkeep ${args.map((a) => (/[\s|"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`));
  const result = spawnSync(process.execPath, [CLI, ...args], { stdio: "inherit", env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Fake but realistic ChatGPT credentials (unsigned JWTs); every value is random. */
function sampleAuth(options: { accessExpiresInSec?: number; refreshToken?: string } = {}): AuthDotJson {
  const now = Math.floor(Date.now() / 1000);
  const auth = { chatgpt_account_id: "acct-tour", chatgpt_plan_type: "plus", chatgpt_user_id: "user-tour" };
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: jwt({ email: "tour@example.com", exp: now + 3600, "https://api.openai.com/auth": auth }),
      access_token: jwt({ sub: "user-tour", exp: now + (options.accessExpiresInSec ?? 3600), "https://api.openai.com/auth": auth }),
      refresh_token: options.refreshToken ?? `rt_${randomBytes(16).toString("hex")}`,
      account_id: "acct-tour",
    },
    last_refresh: new Date().toISOString(),
  };
}

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.${randomBytes(32).toString("base64url")}`;
}

/** A short, non-reversible name for a token: safe to print, and equal for equal tokens. */
function fingerprint(token: string | undefined): string {
  return token === undefined ? "none" : createHash("sha256").update(token).digest("hex").slice(0, 8);
}

function describe(auth: AuthDotJson | null): string {
  if (auth === null) return "nothing";
  const claims = auth.tokens ? parseIdToken(auth.tokens.id_token) : undefined;
  return [
    `account ${auth.tokens?.account_id ?? "?"}`,
    claims?.email ? `email ${claims.email}` : "",
    claims?.chatgptPlanType ? `plan ${claims.chatgptPlanType}` : "",
    `access token ${showSecret(auth.tokens?.access_token)}`,
    `refresh token ${showSecret(auth.tokens?.refresh_token)}`,
  ].filter(Boolean).join(", ");
}

async function saveAndLoad(home: string, keyring: ReturnType<typeof defaultKeyringStore>): Promise<{ ok: boolean; failures: number }> {
  let failures = 0;
  const auth = sampleAuth();
  const file = join(home, "auth.json");
  const inKeyring = async () => (await keyring.load(DEFAULT_KEYRING_SERVICE, computeStoreKey(home)).catch(() => null)) !== null;
  const check = (mode: string, loaded: AuthDotJson | null, where: string) => {
    const same = loaded !== null && serializeAuthJson(loaded) === serializeAuthJson(auth);
    if (!same) failures++;
    out.line(`  ${same ? c.ok("✓") : c.bad("✗")} ${mode.padEnd(9)} saved to ${where}; loaded back ${same ? "identical" : c.bad("DIFFERENT")}`);
  };
  out.line(`Credentials used: ${describe(auth)}`);
  out.line(c.dim("(fake tokens; shown redacted, as everywhere in authkeep: the first 4 characters and …)"));
  out.line();

  // file
  {
    const storage = createAuthStorage({ home, mode: "file" });
    await storage.save(auth);
    const mode = (statSync(file).mode & 0o777).toString(8);
    check("file", await storage.load(), `${file} (mode ${mode}, written atomically)`);
    await storage.delete();
  }
  // ephemeral
  {
    const storage = createAuthStorage({ home, mode: "ephemeral" });
    await storage.save(auth);
    check("ephemeral", await storage.load(), `this process's memory only (auth.json exists: ${existsSync(file)})`);
    await storage.delete();
  }
  // keyring
  let keyringOk = false;
  let problem: string | undefined;
  {
    const storage = createAuthStorage({ home, mode: "keyring", keyring });
    try {
      await storage.save(auth);
      check("keyring", await storage.load(), `${keyring.backend ?? "the keyring"} "${DEFAULT_KEYRING_SERVICE}" / ${computeStoreKey(home)} (auth.json exists: ${existsSync(file)})`);
      await storage.delete();
      keyringOk = true;
    } catch (error) {
      if (!(error instanceof KeyringError)) throw error;
      problem = diagnoseKeyringError(error, environmentFacts(), KEYRING_TIMEOUT_MS).summary;
      out.line(`  ${c.warn("!")} ${"keyring".padEnd(9)} does not work here: ${problem}`);
    }
  }
  // auto
  {
    const warnings: string[] = [];
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: (w) => warnings.push(w) });
    await storage.save(auth);
    const where = (await inKeyring()) ? "the keyring (auth.json removed)" : existsSync(file) ? `${file}, the fallback` : "nowhere?";
    check("auto", await storage.load(), where);
    for (const warning of warnings) out.line(c.dim(`      auto warned: ${warning.length > 160 ? `${warning.slice(0, 157)}…` : warning}`));
    await storage.delete().catch(() => createAuthStorage({ home, mode: "file" }).delete());
  }
  if (!keyringOk) {
    out.line();
    out.line(`No working keyring here (${problem}), so auto mode used auth.json instead, and said so.`);
    if (process.platform === "linux") {
      out.line(`To see the keyring part of this tour, run it with a private headless keyring:`);
      out.line(`  ${c.bold("bash scripts/with-keyring.sh npm start")}`);
      out.line(c.dim("  (scripts/keyring-up.sh starts a D-Bus session bus and an unlocked gnome-keyring; both are stopped afterwards)"));
    } else {
      out.line("The doctor above says why, and how to fix it.");
    }
  }
  return { ok: keyringOk, failures };
}

async function cliWalkthrough(home: string, keyringOk: boolean): Promise<number> {
  let failures = 0;
  const expect = (code: number, wanted: number) => {
    if (code !== wanted) {
      failures++;
      out.line(c.bad(`  (exit status ${code}, expected ${wanted})`));
    }
  };
  await createAuthStorage({ home, mode: "file" }).save(sampleAuth());
  out.line(c.dim("Saved a login to auth.json; now the CLI:"));
  expect(runCli(["status", "--home", home]), 0);
  if (keyringOk) {
    out.line();
    expect(runCli(["migrate", "--to", "keyring", "--home", home]), 0);
    out.line();
    expect(runCli(["status", "--home", home, "--mode", "auto"]), 0);
  }
  out.line();
  expect(runCli(["logout", "--home", home]), 0);
  return failures;
}

// ---------------------------------------------------------------------------
// The concurrent refresh demonstration

/** A token endpoint on 127.0.0.1 that rotates refresh tokens and rejects a reused one, as OpenAI's does. */
async function startTokenServer(initialDelayMs: number) {
  let delayMs = initialDelayMs;
  const live = new Map<string, boolean>(); // refresh token → already used
  const stats = { requests: 0, rotated: 0, reused: 0 };
  const issue = (): RefreshedTokens => {
    const auth = sampleAuth();
    live.set(auth.tokens!.refresh_token, false);
    return { id_token: auth.tokens!.id_token, access_token: auth.tokens!.access_token, refresh_token: auth.tokens!.refresh_token };
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      stats.requests++;
      setTimeout(() => {
        let presented: unknown;
        try {
          presented = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
        } catch {
          presented = undefined;
        }
        const used = typeof presented === "string" ? live.get(presented) : undefined;
        res.setHeader("Content-Type", "application/json");
        if (used === undefined || used) {
          stats.reused++;
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { code: used ? "refresh_token_reused" : "refresh_token_invalidated", message: "refresh token rejected" } }));
          return;
        }
        live.set(presented as string, true);
        stats.rotated++;
        res.end(JSON.stringify(issue()));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    stats,
    /** Sets how long each answer takes. */
    setDelay(ms: number): void {
      delayMs = ms;
    },
    /** A login whose access token has already expired, with a live refresh token. */
    seed(): AuthDotJson {
      const refreshToken = `rt_${randomBytes(16).toString("hex")}`;
      live.set(refreshToken, false);
      return sampleAuth({ accessExpiresInSec: -60, refreshToken });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface WorkerResult {
  pid: number;
  /** network: its own refresh worked; storage: it adopted another process's; rejected: its refresh was refused, then it adopted; failed: it ended with no working token. */
  via: "network" | "storage" | "rejected" | "failed";
  access: string;
  ms: number;
  error?: string;
}

async function refreshDemo(home: string, mode: AuthCredentialsStoreMode): Promise<number> {
  const server = await startTokenServer(300);
  let failures = 0;
  try {
    out.line(`${WORKERS} processes share one login whose access token has just expired. Each calls`);
    out.line(`AuthManager.auth() at the same moment; the token endpoint (127.0.0.1, a few hundred ms per answer)`);
    out.line(`rotates the refresh token and rejects a reused one, as the real one does.`);

    for (const locked of [false, true]) {
      out.line();
      out.line(c.bold(
        locked
          ? `With authkeep's cross-process lock (mode ${mode}; the lock file sits beside auth.json):`
          : "Without a cross-process lock (AuthManager with lock: false; every process refreshes on its own, as Codex CLI does):",
      ));
      // Without the lock, a slower endpoint makes the race plain even on a busy machine.
      server.setDelay(locked ? 300 : 800);
      const storage = createAuthStorage({ home, mode: locked ? mode : "file", onWarning: () => {} });
      await storage.save(server.seed());
      const before = { ...server.stats };
      const results = await runWorkers(home, server.url, locked ? mode : "file", locked);
      const requests = server.stats.requests - before.requests;
      const rejected = server.stats.reused - before.reused;
      for (const r of results.sort((a, b) => a.ms - b.ms)) {
        const what = r.via === "network"
          ? `refreshed over the network`
          : r.via === "storage"
          ? `adopted the refreshed tokens from storage, no network call`
          : r.via === "rejected"
          ? c.warn(`its refresh was rejected (token already used), then it adopted another process's tokens`)
          : c.bad(`failed: ${r.error}`);
        out.line(`  pid ${String(r.pid).padEnd(7)} ${what} ${c.dim(`(${Math.round(r.ms)} ms)`)}${r.via === "failed" ? "" : ` → access token #${r.access}`}`);
      }
      const tokens = new Set(results.filter((r) => r.via !== "failed").map((r) => r.access));
      const final = await storage.load();
      const finalFp = fingerprint(final?.tokens?.access_token);
      const ok = results.filter((r) => r.via !== "failed").length;
      out.line(
        `  token endpoint: ${requests} refresh request${requests === 1 ? "" : "s"}, ${rejected} rejected as reused; ` +
          `${ok} of ${results.length} processes hold a working token${tokens.size === 1 && tokens.has(finalFp) ? `, all the stored one (#${finalFp})` : ""}.`,
      );
      if (locked) {
        const good = requests === 1 && rejected === 0 && ok === results.length && tokens.size === 1;
        if (!good) failures++;
        out.line(good ? c.ok("  One refresh, and every process adopted it.") : c.bad("  Expected exactly one refresh adopted by every process."));
      } else if (rejected > 0) {
        const failed = results.filter((r) => r.via === "failed").length;
        out.line(c.warn(
          `  A stampede: ${requests} requests for one refresh token, ${rejected} refused as already used` +
            (failed > 0
              ? `; ${failed} process${failed === 1 ? " was" : "es were"} told to sign in again.`
              : `. Each refusal would log a Codex CLI process out; AuthManager recovered here by re-reading the storage.`),
        ));
      }
      await storage.delete().catch(() => {});
    }
  } finally {
    await server.close();
  }
  return failures;
}

async function runWorkers(home: string, url: string, mode: AuthCredentialsStoreMode, locked: boolean): Promise<WorkerResult[]> {
  const startAt = Date.now() + 700; // every worker has started node and loaded authkeep by then
  const children = Array.from({ length: WORKERS }, () => {
    const child = spawn(process.execPath, [SELF, "--refresh-worker", home, url, mode, locked ? "lock" : "no-lock", String(startAt)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    return new Promise<WorkerResult>((resolve) => {
      child.on("close", (code) => {
        try {
          resolve(JSON.parse(stdout) as WorkerResult);
        } catch {
          resolve({ pid: child.pid ?? 0, via: "failed", access: "none", ms: 0, error: `worker exited with ${code}: ${stderr.trim().split("\n")[0] ?? ""}` });
        }
      });
    });
  });
  return await Promise.all(children);
}

/** One process of the demo: waits for the common start, then asks its AuthManager for the auth. */
async function worker(args: string[]): Promise<number> {
  const [home, url, mode, lock, startAt] = args as [string, string, AuthCredentialsStoreMode, string, string];
  let refreshed = 0;
  let refused = 0;
  const http = new HttpTokenRefresher({ url, timeoutMs: 10_000 });
  const manager = new AuthManager({
    storage: createAuthStorage({ home, mode, onWarning: () => {} }),
    refresher: {
      async refresh(token) {
        try {
          const tokens = await http.refresh(token);
          refreshed++;
          return tokens;
        } catch (error) {
          refused++;
          throw error;
        }
      },
    },
    lock: lock === "lock" ? { pollMs: 5 } : false,
  });
  // A running CLI has its login loaded already; only the refresh races.
  await manager.reload();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const start = performance.now();
  let result: WorkerResult;
  try {
    const auth = await manager.auth();
    result = {
      pid: process.pid,
      via: refreshed > 0 ? "network" : refused > 0 ? "rejected" : "storage",
      access: fingerprint(auth?.tokens?.access_token),
      ms: performance.now() - start,
    };
    const error = manager.lastRefreshError;
    if (error !== undefined) result = { ...result, via: "failed", error: (error as Error).message };
  } catch (error) {
    const message = error instanceof RefreshError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    result = { pid: process.pid, via: "failed", access: "none", ms: performance.now() - start, error: message };
  }
  process.stdout.write(JSON.stringify(result));
  return 0;
}

// ---------------------------------------------------------------------------
// Cleanup

async function cleanup(home: string, keyring: ReturnType<typeof defaultKeyringStore>, account: string): Promise<void> {
  let entry = "no keyring entry to remove";
  try {
    entry = (await keyring.delete(DEFAULT_KEYRING_SERVICE, account)) ? "removed its keyring entry" : "no keyring entry left";
  } catch (error) {
    if (!(error instanceof KeyringError && error.kind === "unavailable")) entry = `could not check the keyring: ${(error as Error).message}`;
  }
  rmSync(home, { recursive: true, force: true });
  out.line(`Removed ${home} (${existsSync(home) ? c.bad("still there!") : "gone"}); ${entry}.`);
}

// ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const run = argv[0] === "--refresh-worker" ? worker(argv.slice(1)) : tour();
run.then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tour: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
