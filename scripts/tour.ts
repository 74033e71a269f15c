/**
 * `npm start`: a tour of authkeep on this machine, in a temporary home, so
 * the user's real credentials are never read or touched.
 *
 * 1. `authkeep doctor`: what works here, and why not;
 * 2. save and load through each mode that works (file, ephemeral, keyring,
 *    auto), tokens redacted, then the CLI (`status`, `migrate`, `logout`) on
 *    the same home (`_tour-modes.ts`);
 * 3. the concurrent refresh: several processes (`_tour-worker.ts`) with an
 *    expired access token against the shared local token server on
 *    127.0.0.1, first without the cross-process lock (Codex's behaviour: a
 *    stampede, and every process but one is logged out), then with it (one
 *    refresh; everyone adopts it) (`_tour-refresh.ts`);
 * 4. cleanup: the temporary home and its keyring entry are removed.
 *
 * Works with no keyring daemon: it says so, shows the file fallback, and
 * points to `bash scripts/with-keyring.sh npm start`.
 *
 * Run as `node dist/scripts/tour.js` (after `npm run build`).
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { computeStoreKey, DEFAULT_KEYRING_SERVICE, defaultKeyringStore, KeyringError } from "../src/index.ts";
import { cliWalkthrough, saveAndLoad } from "./_tour-modes.ts";
import { refreshDemo } from "./_tour-refresh.ts";
import { c, heading, out, runCli } from "./_tour-shell.ts";

const KEYRING_TIMEOUT_MS = 5000;

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
    const keyringWorks = await saveAndLoad(home, keyring, KEYRING_TIMEOUT_MS);
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

tour().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tour: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
