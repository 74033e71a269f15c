/**
 * Auto-mode rows: load and save with the keyring up, and with the keyring
 * unreachable (the fallback to auth.json). The unreachable case runs in a
 * child process whose DBUS_SESSION_BUS_ADDRESS names a socket that does not
 * exist, so libsecret fails the way it does on a headless box without a
 * Secret Service.
 *
 * @module
 */
import process from "node:process";
import { createAuthStorage } from "../src/index.ts";
import type { BenchContext } from "./_context.ts";
import { ignoreWarning, makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import { describeError, measureGroup } from "./_harness.ts";
import { addOutcomes, compare, section, type Section } from "./_report.ts";
import { BENCH_SERVICE, probeAuthkeepStore } from "./keyring.ts";

/** Auto mode against the running private keyring (in this process). */
export async function runAutoKeyringUp(context: BenchContext): Promise<Section[]> {
  const result = section("auto-up", "auto mode: keyring up");
  const probe = probeAuthkeepStore();
  if (!probe.ok) {
    for (const name of ["auto loadSync", "auto saveSync", "auto load (async)", "auto save (async)"]) {
      result.rows.push({ name, unavailable: `unavailable: keyring store does not work here (${probe.reason}); the fallback rows below cover this case` });
    }
    return [result];
  }
  const home = makeHome("auto-up");
  const storage = createAuthStorage({ home, mode: "auto", keyring: probe.store, service: BENCH_SERVICE, onWarning: ignoreWarning });
  const file = createAuthStorage({ home: `${home}/file`, mode: "file", onWarning: ignoreWarning });
  const docs = [makeAuth(1), makeAuth(2)];
  let turn = 0;
  try {
    storage.saveSync(docs[0]!);
    file.saveSync(docs[0]!);
    addOutcomes(result, await measureGroup([
      { name: "auto loadSync", fn: () => storage.loadSync() },
      { name: "auto saveSync", fn: () => storage.saveSync(docs[turn++ & 1]!) },
      { name: "auto load (async)", fn: () => storage.load(), async: true },
      { name: "auto save (async)", fn: () => storage.save(docs[turn++ & 1]!), async: true },
      { name: "file loadSync (same run)", fn: () => file.loadSync() },
      { name: "file saveSync (same run)", fn: () => file.saveSync(docs[turn++ & 1]!) },
    ], context.config));
  } finally {
    try {
      storage.deleteSync();
    } catch {
      // best effort
    }
    removeHome(home);
  }
  compare(result, "auto loadSync / file loadSync", "auto loadSync", "file loadSync (same run)");
  compare(result, "auto saveSync / file saveSync", "auto saveSync", "file saveSync (same run)");
  return [result];
}

/**
 * Auto mode with the keyring unreachable. Meant to run in a child whose
 * DBUS_SESSION_BUS_ADDRESS points at a missing socket (see run.ts).
 */
export async function runAutoKeyringDown(context: BenchContext): Promise<Section[]> {
  const result = section("auto-down", "auto mode: keyring unavailable (fallback to auth.json)");
  const home = makeHome("auto-down");
  const fileHome = makeHome("auto-down-file");
  const warnings: string[] = [];
  const storage = createAuthStorage({
    home,
    mode: "auto",
    service: BENCH_SERVICE,
    onWarning: (message) => {
      if (warnings.length < 1) warnings.push(message);
    },
  });
  const file = createAuthStorage({ home: fileHome, mode: "file", onWarning: ignoreWarning });
  const docs = [makeAuth(1), makeAuth(2)];
  let turn = 0;
  try {
    storage.saveSync(docs[0]!);
    file.saveSync(docs[0]!);
    addOutcomes(result, await measureGroup([
      { name: "auto loadSync (fallback)", fn: () => storage.loadSync() },
      { name: "auto saveSync (fallback)", fn: () => storage.saveSync(docs[turn++ & 1]!) },
      { name: "auto load (async, fallback)", fn: () => storage.load(), async: true },
      { name: "auto save (async, fallback)", fn: () => storage.save(docs[turn++ & 1]!), async: true },
      { name: "file loadSync", fn: () => file.loadSync() },
      { name: "file saveSync", fn: () => file.saveSync(docs[turn++ & 1]!) },
      { name: "file load (async)", fn: () => file.load(), async: true },
      { name: "file save (async)", fn: () => file.save(docs[turn++ & 1]!), async: true },
    ], context.config));
  } catch (error) {
    result.notes.push(`failed: ${describeError(error)}`);
  } finally {
    removeHome(home);
    removeHome(fileHome);
  }
  compare(result, "fallback loadSync − file loadSync", "auto loadSync (fallback)", "file loadSync", { unit: "ms" });
  compare(result, "fallback saveSync − file saveSync", "auto saveSync (fallback)", "file saveSync", { unit: "ms" });
  compare(result, "fallback load − file load (async)", "auto load (async, fallback)", "file load (async)", { unit: "ms" });
  compare(result, "fallback save − file save (async)", "auto save (async, fallback)", "file save (async)", { unit: "ms" });
  result.notes.push(
    `DBUS_SESSION_BUS_ADDRESS=${process.env.DBUS_SESSION_BUS_ADDRESS ?? "(unset)"}; a fallback save also tries to delete the stale keyring entry`,
    `first warning: ${warnings[0] ?? "(none)"}`,
  );
  return [result];
}
