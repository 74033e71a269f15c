/**
 * The phases of the Credential Manager crash test, in the Windows node.exe (run by
 * credential-manager.win.ts; the Linux side, test/windows-credential-manager.test.ts, kills the
 * Wine process in between): store an old chunked value, start a chunked overwrite and wait to be
 * killed after 3 chunks, then check the old value survived and the next save sweeps the debris.
 *
 * @module
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { runFlowSync, saveFlow, type CredStep } from "../../native/windows/_flow.ts";
import { check, SERVICE, store, valueOfUtf8Bytes } from "./credential-checks.ts";
import { chunksOf, raw } from "./raw-credentials.ts";

const CRASH_OLD = 16 * 1024;
const CRASH_NEW = 40 * 1024;

/** One phase of the crash test: `setup`, `write` (exits, or is killed) or `verify`. */
export async function crash(step: string, key: string, marker?: string): Promise<void> {
  const oldValue = valueOfUtf8Bytes(CRASH_OLD);
  if (step === "setup") {
    await check("crash test: the old 16 KiB value is stored", () => {
      store.saveSync(SERVICE, key, oldValue);
      assert.equal(store.loadSync(SERVICE, key), oldValue);
      assert.equal(chunksOf(SERVICE, key).length, 7);
    });
  } else if (step === "write") {
    let chunkWrites = 0;
    runFlowSync(saveFlow(SERVICE, key, valueOfUtf8Bytes(CRASH_NEW).replace("k", "n")), (s: CredStep) => {
      const result = raw.execSync(s);
      if (s.op === "write" && s.target.startsWith("authkeep:chunk:") && ++chunkWrites === 3) {
        writeFileSync(marker!, "3 chunks written");
        // Wait to be killed from outside: a hard kill of the Wine process between chunk writes.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
        process.exit(3); // only if nobody killed us
      }
      return result;
    });
    process.exit(4); // the write completed: the crash test did not crash
  } else if (step === "verify") {
    await check("crash test: after the Wine process was killed between chunk writes, the old value reads back exactly", async () => {
      assert.equal(chunksOf(SERVICE, key).length, 7 + 3, "7 old chunks and the 3 the killed writer left");
      assert.equal(store.loadSync(SERVICE, key), oldValue);
      assert.equal(await store.load(SERVICE, key), oldValue);
    });
    await check("crash test: the next save sweeps the killed writer's chunks, delete removes everything", () => {
      const next = valueOfUtf8Bytes(6000);
      store.saveSync(SERVICE, key, next);
      assert.equal(store.loadSync(SERVICE, key), next);
      assert.equal(chunksOf(SERVICE, key).length, 3);
      assert.equal(store.deleteSync(SERVICE, key), true);
      assert.deepEqual(chunksOf(SERVICE, key), []);
      assert.equal(store.loadSync(SERVICE, key), null);
    });
  }
}
