/**
 * Concurrent writers and readers: 8 processes (AUTHKEEP_CONCURRENT_PROCESSES)
 * each run a fixed number of operations (AUTHKEEP_CONCURRENT_OPS, 150 by
 * default) on one home, mixing sync/async saves and loads. No load may fail
 * to parse, no document may mix two writers, nothing may be left behind.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { envCount, makeHome, removeHome } from "./support/hardening-env.ts";
import { runConcurrencyTrial } from "./support/hardening-concurrency.ts";

test("8 processes saving and loading one home never see a torn or mixed auth.json", { timeout: 240_000 }, async () => {
  const processes = envCount("AUTHKEEP_CONCURRENT_PROCESSES", 8);
  const ops = envCount("AUTHKEEP_CONCURRENT_OPS", 150);
  const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
  const home = makeHome();
  try {
    const figures = await runConcurrencyTrial(home, processes, ops, seed);
    process.stdout.write(`# concurrent-access (seed ${seed}): ${JSON.stringify(figures)}\n`);
    assert.equal(figures.saves + figures.loads + figures.rawReads, processes * ops);
    assert.ok(figures.saves > 0 && figures.loads > 0 && figures.rawReads > 0);
    assert.deepEqual(figures.otherErrors, []);
    assert.equal(figures.parseFailures, 0, "loads that failed to parse");
    assert.equal(figures.rawParseFailures, 0, "raw single reads that failed to parse");
    assert.equal(figures.mixedVersions, 0, "documents mixing two writers");
    assert.equal(figures.leftoverTemps, 0, "temp files left behind");
  } finally {
    removeHome(home);
  }
});
