/**
 * No queueing behind a hanging token endpoint (#17): processes waiting on the
 * refresh lock while the holder's request hangs must not each spend a full
 * request timeout in turn (they used to fail at 2, 4, 6 and 8 s). Real
 * processes, a real server on 127.0.0.1 that never answers in time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStorm } from "./support/storm.ts";
import { TokenServer } from "./support/token-server.ts";

const REQUEST_TIMEOUT_MS = 2000;

test("4 processes behind a hanging token endpoint: one request is sent, every process fails typed within about one request timeout", { timeout: 120_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), "authkeep-queue-"));
  const server = await TokenServer.start({ delayMs: 60_000 });
  try {
    const report = await runStorm({ server, home, mode: "file", workers: 4, trigger: "401", call: "refresh", refreshTimeoutMs: REQUEST_TIMEOUT_MS });
    const errors = report.results.map((result) => result.error);
    assert.ok(errors.every((error) => error !== undefined), JSON.stringify(report.results));
    const outcome = JSON.stringify(report.results.map((result) => [Math.round(result.elapsedMs), result.error?.message]));
    for (const error of errors) {
      assert.ok(["RefreshError", "LockTimeoutError"].includes(error!.name), JSON.stringify(error));
      if (error!.name === "RefreshError") assert.equal(error!.permanent, false);
    }
    // The behaviour itself: waiters report the holder's failure instead of sending a request each in turn.
    assert.equal(report.refreshRequests, 1, `token requests: ${report.refreshRequests}; ${outcome}`);
    // Hang guard, far above the ~2 s expected; queueing took 8 s.
    const slowest = Math.max(...report.results.map((result) => result.elapsedMs));
    assert.ok(slowest < 3.5 * REQUEST_TIMEOUT_MS, `slowest process: ${Math.round(slowest)} ms; ${outcome}`);
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
});
