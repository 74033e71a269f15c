/**
 * Crash safety: a child saves auth.json in a loop and is killed with SIGKILL
 * at random moments (AUTHKEEP_CRASH_KILLS times, 200 by default). After every
 * kill the file must parse and hold the old or the new value; temp files a
 * kill leaves behind must be removed by the next save.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { envCount, makeHome, removeHome } from "./support/hardening-env.ts";
import { runCrashTrial } from "./support/hardening-crash.ts";

const kills = envCount("AUTHKEEP_CRASH_KILLS", 200);

// Each round starts a Node process: allow a slow, busy machine 1.5 s per kill.
test("SIGKILL during saves never tears auth.json, and the next save removes the temp files", { timeout: 120_000 + kills * 1_500 }, async () => {
  const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
  const home = makeHome();
  try {
    const figures = await runCrashTrial(home, kills, seed);
    process.stdout.write(`# crash-safety (seed ${seed}): ${JSON.stringify({ ...figures, problems: undefined })}\n`);
    assert.equal(figures.kills, kills);
    assert.deepEqual(figures.problems, []);
    assert.equal(figures.tornFiles, 0, "torn files");
    assert.equal(figures.tempsNotCleanedByNextSave, 0, "temp files the next save did not remove");
    assert.equal(figures.tempsAfterFinalSave, 0, "temp files left after a clean save");
    // The trial must really have hit saves in progress, or it proved nothing.
    assert.ok(figures.killsDuringSave > kills / 4, `only ${figures.killsDuringSave} kills landed inside a save`);
  } finally {
    removeHome(home);
  }
});
