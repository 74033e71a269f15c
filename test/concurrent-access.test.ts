/**
 * Concurrent writers and readers: 8 processes (AUTHKEEP_CONCURRENT_PROCESSES)
 * each run a fixed number of operations (AUTHKEEP_CONCURRENT_OPS, 150 by
 * default) on one home, mixing sync/async saves and loads. No load may fail
 * to parse, no document may mix two writers, nothing may be left behind.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { readdirSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { envCount, fixturePath, isTempFileName, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";
import { runConcurrencyTrial } from "./support/hardening-concurrency.ts";

const processes = envCount("AUTHKEEP_CONCURRENT_PROCESSES", 8);
const ops = envCount("AUTHKEEP_CONCURRENT_OPS", 150);
// Generous for a busy machine; it only bounds a hang.
const timeout = 120_000 + processes * ops * 100;

test("8 processes saving and loading one home never see a torn or mixed auth.json", { timeout }, async () => {
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

/** Whether the platform keyring answers here (the suite's private gnome-keyring on Linux). */
async function keyringReason(): Promise<string | false> {
  try {
    const { defaultKeyringStore } = await import("../src/index.ts");
    const keyring = defaultKeyringStore();
    await keyring.save("authkeep hardening probe", "probe", "probe");
    await keyring.delete("authkeep hardening probe", "probe");
    return false;
  } catch (error) {
    return `no working keyring here (${(error as Error).name})`;
  }
}

for (const mode of ["keyring", "auto"] as const) {
  test(`${mode} mode: processes saving and loading one home through the real keyring never see a torn or mixed value`, { timeout }, async (t) => {
    const reason = slowTestsOff ? "slow tests disabled" : await keyringReason();
    if (reason) return t.skip(reason);
    const keyringOps = Math.max(1, Math.round(ops / 3));
    const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
    const home = makeHome();
    try {
      const figures = await runConcurrencyTrial(home, processes, keyringOps, seed, mode);
      process.stdout.write(`# concurrent-access ${mode} (seed ${seed}): ${JSON.stringify(figures)}\n`);
      assert.deepEqual(figures.otherErrors, []);
      assert.equal(figures.parseFailures, 0, "loads that failed to parse");
      assert.equal(figures.mixedVersions, 0, "values mixing two writers");
      assert.equal(figures.leftoverTemps, 0, "temp files left behind");
    } finally {
      const { createAuthStorage } = await import("../src/index.ts");
      await createAuthStorage({ home, mode: "keyring" }).delete().catch(() => {});
      removeHome(home);
    }
  });
}

test("worker threads of one process (sharing its pid) saving one home never break each other's saves", { timeout }, async () => {
  const home = makeHome();
  try {
    const results = await Promise.all(
      [0, 1, 2, 3].map((id) =>
        new Promise<{ saves: number; loads: number; errors: string[] }>((resolve, reject) => {
          const worker = new Worker(fixturePath("hardening-thread"), { workerData: { home, id, ops: 90 } });
          worker.once("message", resolve);
          worker.once("error", reject);
        })),
    );
    process.stdout.write(`# concurrent-access threads: ${JSON.stringify(results.map(({ saves, loads, errors }) => ({ saves, loads, errors: errors.length })))}\n`);
    assert.deepEqual(results.flatMap(({ errors }) => errors), []);
    assert.equal(results.reduce((sum, { saves }) => sum + saves, 0), 4 * 60);
    assert.deepEqual(readdirSync(home).filter((name) => isTempFileName(name)), []);
  } finally {
    removeHome(home);
  }
});
