import process from "node:process";
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthCredentialsStoreMode, AuthDotJson } from "../src/document/auth-types.ts";
import { REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE } from "../src/refresh/refresh-messages.ts";
import { createAuthStorage } from "../src/storage/create-auth-storage.ts";
import { runStorm, type StormReport } from "./support/storm.ts";
import { TokenServer } from "./support/token-server.ts";

const WORKERS = 8;

/**
 * Auto mode only means something over a working keyring: probe the real
 * default keyring (keyring mode, so a silent file fallback cannot pass) with
 * a save/load/delete round trip, in a child process so that a crashing
 * native backend skips the case instead of killing this file.
 */
function keyringProblemOrNull(): string | null {
  const storageModule = new URL(
    import.meta.url.endsWith(".ts") ? "../src/storage/create-auth-storage.ts" : "../src/storage/create-auth-storage.js",
    import.meta.url,
  ).href;
  const code = `
    import { mkdtempSync, rmSync } from "node:fs";
    import { tmpdir } from "node:os";
    import { join } from "node:path";
    const { createAuthStorage } = await import(${JSON.stringify(storageModule)});
    const home = mkdtempSync(join(tmpdir(), "authkeep-storm-probe-"));
    try {
      const storage = createAuthStorage({ home, mode: "keyring", onWarning: () => {} });
      await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-authkeep-storm-probe" });
      const back = await storage.load();
      await storage.delete();
      process.stdout.write(back?.OPENAI_API_KEY === "sk-authkeep-storm-probe" ? "ok" : "mismatch");
    } catch (error) {
      process.stdout.write(String(error?.name) + ": " + String(error?.message));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }`;
  const args = "Deno" in globalThis ? ["eval", code] : "Bun" in globalThis ? ["-e", code] : ["--input-type=module", "-e", code];
  const probe = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  if (probe.stdout === "ok") return null;
  return probe.stdout || `probe exited with ${probe.signal ?? probe.status}`;
}

const keyringProblem = keyringProblemOrNull();

function describe(report: StormReport): string {
  const outcomes = report.results.map((r) => (r.error ? `${r.error.name}:${r.error.reason ?? r.error.message}` : r.status));
  return `refreshes=${report.refreshRequests} reused=${report.reusedAnswers} outcomes=${JSON.stringify(outcomes)} stderr=${report.stderr.join("").slice(0, 1500)}`;
}

const cases: Array<{ mode: AuthCredentialsStoreMode; trigger: "401" | "expired" }> = [
  { mode: "file", trigger: "401" },
  { mode: "file", trigger: "expired" },
  { mode: "auto", trigger: "401" },
];

for (const { mode, trigger } of cases) {
  const skip = mode !== "file" && keyringProblem !== null ? `no working keyring for ${mode} mode (${keyringProblem}); run under npm test or scripts/with-keyring.sh` : false;
  const what = trigger === "401" ? "get a 401 at the same moment" : "start with an expired access token";
  test(`refresh storm (${mode} mode): ${WORKERS} processes that ${what} cause exactly one refresh and all end with the new token`, { skip, timeout: 120_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), `authkeep-storm-${mode}-`));
    const server = await TokenServer.start();
    try {
      const report = await runStorm({ server, home, mode, workers: WORKERS, trigger });
      assert.equal(report.results.length, WORKERS);
      assert.equal(report.refreshRequests, 1, describe(report));
      assert.equal(report.reusedAnswers, 0, describe(report));
      for (const result of report.results) {
        assert.equal(result.error, undefined, describe(report));
        assert.equal(result.status, 200, describe(report));
        assert.equal(result.accessFingerprint, report.latestAccessFingerprint, "every process ends with the new access token");
      }
    } finally {
      await createAuthStorage({ home, mode, onWarning: () => {} }).delete().catch(() => {});
      await server.close();
      await rm(home, { recursive: true, force: true });
    }
  });
}

test("account guard across processes: after a logout and a login to another account, processes holding the old login get the mismatch and overwrite nothing", { timeout: 120_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), "authkeep-guard-"));
  const server = await TokenServer.start();
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  try {
    let second: AuthDotJson | undefined;
    const report = await runStorm({
      server,
      home,
      mode: "file",
      workers: 3,
      accountId: "acct-1",
      beforeGo: async () => {
        // Another CLI logs out and signs in to another account while the workers still hold acct-1.
        await storage.delete();
        second = server.login("acct-2");
        await storage.save(second);
      },
    });
    for (const result of report.results) {
      assert.equal(result.error?.name, "RefreshError", describe(report));
      assert.equal(result.error?.reason, "account-mismatch");
      assert.equal(result.error?.message, REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE);
    }
    assert.equal(report.refreshRequests, 0);
    assert.deepEqual(await storage.load(), second);
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
});
