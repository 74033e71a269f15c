/**
 * Windows-side half of test/windows-locks.test.ts, run by the Windows
 * node.exe under Wine (from dist/). Not a *.test.ts file.
 *
 * Usage: node.exe locks.win.js <phase> <results.json> <home> [arg]
 *   hold <marker>        locks <home>\auth.json.lock through authkeep's LockFileEx binding,
 *                        creates <marker>, and holds it until <home>\release exists
 *   save <timeoutMs>     saveSync() and save() of a file-mode storage with that lock bound
 *   hostile              a directory at <home>\auth.lock: the typed error, sync and async
 *
 * Results: `{ outcomes: [{ call, name, lock, code, path, ok }], done: true }`; no secret is printed.
 *
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createFileLocker } from "../../native/lock/store.ts";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";

const [phase, resultsPath, home, arg] = process.argv.slice(2) as [string, string, string, string | undefined];
const outcomes: Record<string, unknown>[] = [];
const done = (extra: Record<string, unknown> = {}) => writeFileSync(resultsPath, JSON.stringify({ phase, outcomes, ...extra, done: true }));

async function attempt(call: string, run: () => unknown): Promise<void> {
  try {
    await run();
    outcomes.push({ call, ok: true });
  } catch (error) {
    const e = error as { name?: string; lock?: string; code?: string; path?: string; message?: string };
    outcomes.push({ call, ok: false, name: e.name, lock: e.lock, code: e.code, path: e.path, message: e.message });
  }
}

if (phase === "hold") {
  const locker = createFileLocker();
  const file = locker.open(join(home, "auth.json.lock"), 0o600);
  const locked = locker.tryLock(file);
  writeFileSync(arg!, locked ? "locked" : "busy");
  while (!existsSync(join(home, "release"))) await new Promise((resolve) => setTimeout(resolve, 20));
  locker.close(file);
  done({ mechanism: locker.mechanism, locked });
} else if (phase === "save") {
  const storage = createAuthStorage({ home, mode: "file", lockTimeoutMs: Number(arg), onWarning: () => {} });
  await attempt("saveSync", () => storage.saveSync({ OPENAI_API_KEY: "sk-authkeep-wine-sync" }));
  await attempt("save", () => storage.save({ OPENAI_API_KEY: "sk-authkeep-wine-async" }));
  done();
} else if (phase === "hostile") {
  mkdirSync(join(home, "auth.lock"));
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  await attempt("saveSync", () => storage.saveSync({ OPENAI_API_KEY: "sk-authkeep-wine-hostile" }));
  await attempt("save", () => storage.save({ OPENAI_API_KEY: "sk-authkeep-wine-hostile" }));
  done();
} else {
  throw new Error(`unknown phase ${phase}`);
}
