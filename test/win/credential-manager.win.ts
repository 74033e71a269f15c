/**
 * Windows-side checks of the Credential Manager store, run by the official
 * Windows node.exe under Wine (from dist/, driven by
 * test/windows-credential-manager.test.ts). Not a *.test.ts file: the Linux
 * runner must not pick it up.
 *
 * Usage: node.exe credential-manager.win.js <phase> <results.json> [args...]
 *   main [<key>]                  every check that fits in one process; with <key>, also stores
 *                                 the "old" chunked value for the crash test (crash-setup alone does only that)
 *   crash-setup <key>             stores the "old" chunked value for the crash test
 *   crash-write <key> <marker>    starts a chunked overwrite, creates <marker> after 3 chunks
 *                                 and waits there for the Linux side to kill the Wine process
 *   crash-verify <key>            the old value must still read back exactly, then cleanup
 *
 * The checks live in groups beside this file: credential-store-checks.ts (round trips, layout,
 * chunks, limits), credential-error-checks.ts (Win32 errors, target names, the ffi option, store
 * keys), credential-interop-checks.ts (createAuthStorage, @napi-rs/keyring, latency) and
 * credential-crash.ts (the crash phases); credential-checks.ts and raw-credentials.ts are what
 * they share. Only this file is launched.
 *
 * Each check records `{ name, ok, detail }`; no secret value is ever printed
 * (details give lengths and kinds only). The results file is written at the
 * end with `done: true`, so a crash shows up as missing results.
 *
 * @module
 */
import process from "node:process";
import { writeFileSync } from "node:fs";
import { checks, timings } from "./credential-checks.ts";
import { crash } from "./credential-crash.ts";
import { errorChecks } from "./credential-error-checks.ts";
import { interopChecks } from "./credential-interop-checks.ts";
import { storeChecks } from "./credential-store-checks.ts";

const [phase = "main", resultsPath = "results.json", ...rest] = process.argv.slice(2);

function save(): void {
  writeFileSync(resultsPath, JSON.stringify({ phase, checks, timings, done: true }, null, 2));
}

async function main(): Promise<void> {
  await storeChecks();
  await errorChecks();
  await interopChecks();
}

if (phase === "main") {
  await main();
  if (rest[0] !== undefined) await crash("setup", rest[0]);
}
else if (phase.startsWith("crash-")) await crash(phase.slice("crash-".length), rest[0]!, rest[1]);
else throw new Error(`unknown phase ${phase}`);
save();
