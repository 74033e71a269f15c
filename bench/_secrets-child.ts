/**
 * One encrypted-store measurement in a fresh process, so its peak RSS is the
 * operation's own: `node dist/bench/_secrets-child.js <load|save|direct> <home>`.
 * The parent seeded `<home>` (file and passphrase) beforehand. Prints one
 * JSON line of milliseconds and `maxRssMiB`.
 *
 * @module
 */
import process from "node:process";
import { createAuthStorage } from "../src/index.ts";
import { makeAuth } from "./_fixtures.ts";

const [, , which = "load", home = ""] = process.argv;
const timed = async (fn: () => unknown): Promise<number> => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};

async function main(): Promise<Record<string, number>> {
  const backend = which === "direct" ? "direct" : "secrets";
  const storage = createAuthStorage({ home, mode: "keyring", keyringBackend: backend, onWarning: () => {} });
  const result: Record<string, number> = {};
  if (which === "load") {
    result.coldMs = await timed(() => storage.loadSync());
    result.warmMs = await timed(() => storage.loadSync());
    result.warmAsyncMs = await timed(() => storage.load());
  } else {
    // A save reads the store first (read-modify-write): cold, that is a derivation to open it and one
    // for the new salt; warm, only the new salt's.
    result.coldMs = await timed(() => storage.saveSync(makeAuth(1)));
    result.warmMs = await timed(() => storage.saveSync(makeAuth(2)));
    result.warmAsyncMs = await timed(() => storage.save(makeAuth(3)));
    if (which === "direct") result.loadMs = await timed(() => storage.loadSync());
  }
  result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  return result;
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  },
);
