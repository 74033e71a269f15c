/**
 * The doctor's probes: each backend gets its own throw-away entry (a hidden
 * file in the home, the keyring entry "authkeep doctor" / "probe|<pid>-<random>",
 * a private slot in process memory), which goes through save → load → delete
 * a few times for the latency, and is always removed, also on Ctrl-C.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { dirname, join } from "node:path";
import { serializeAuthJson } from "../document/auth-json.ts";
import { createAuthStorage } from "../storage/create-auth-storage.ts";
import { FlowStorage } from "../storage/_flow-storage.ts";
import { fileStorageFlows } from "../storage/file-storage.ts";
import { fileLocker } from "../storage/_file-locker.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { diagnoseKeyringError, type EnvironmentFacts } from "./_diagnose.ts";
import { type Latency, mismatch, type ProbeProblem, probeAuth, ReadBackError, roundTrips, storageOps, uniqueSuffix } from "./_round-trips.ts";

export type { Latency, ProbeProblem };
import { type ErrorInfo, errorInfo, keyringCall } from "./_stores.ts";

/** The keyring service of the doctor's probe entries (never Codex's "Codex Auth"). */
export const PROBE_SERVICE = "authkeep doctor";

/** One backend's probe result in `doctor --json`. */
export interface BackendReport {
  name: "file" | "keyring" | "ephemeral";
  ok: boolean;
  /** The platform backend (`libsecret`, `windows`, `macos`, `none`) for the keyring; the directory for the file. */
  backend: string;
  latencyMs?: Latency;
  problem?: ProbeProblem;
  error?: ErrorInfo;
  /** The probe entry that was used (for the keyring: service and account). */
  probe?: { service?: string; account?: string; file?: string };
  /** Set when the probe entry could not be removed. */
  cleanupFailed?: string;
  notes: string[];
}

/** Probes auth.json in `home` with a hidden file of its own; removes it and any directory it had to create. */
export async function probeFile(home: string, cleanups: Set<() => Promise<void>>): Promise<BackendReport> {
  const homeExisted = nodeFs().existsSync(home);
  const created = missingDirectories(home);
  const fileName = `.authkeep-doctor-${uniqueSuffix()}.json`;
  const report: BackendReport = { name: "file", ok: false, backend: home, probe: { file: join(home, fileName) }, notes: [] };
  // The file store's own warnings (a home others can write to) are exactly what the doctor should report.
  const warn = (message: string) => {
    if (!report.notes.includes(message)) report.notes.push(message);
  };
  // The probe file is not Codex's auth.json, so it takes none of Codex's locks (and leaves no lock files).
  const storage = new FlowStorage("file", home, fileName, fileStorageFlows({ home, fileName, warn, codexLocks: false }));
  const locking = fileLocker();
  if (locking.locker === null) {
    warn(`no file locking here (${locking.reason}): writes of auth.json are atomic but do not keep a concurrent Codex writer out`);
  }
  const auth = probeAuth();
  let stage = "save";
  const cleanup = async () => {
    await storage.delete().catch(() => {});
    // Remove the directories the probe created, innermost first, and only while they are empty.
    for (const dir of created) {
      try {
        nodeFs().rmdirSync(dir);
      } catch {
        break; // Not empty (something else wrote there meanwhile) or already gone.
      }
    }
  };
  cleanups.add(cleanup);
  try {
    report.latencyMs = await roundTrips(storageOps(storage, auth, "the file system"), (s) => (stage = s));
    report.ok = true;
    if (!homeExisted) report.notes.push("the home does not exist yet; it is created (0700) on the first login");
  } catch (error) {
    delete report.latencyMs;
    report.error = errorInfo(error);
    report.problem = error instanceof ReadBackError ? error.problem : fileProblem(error, home, stage);
  } finally {
    await cleanup();
    cleanups.delete(cleanup);
  }
  return report;
}

/** `home` and its ancestors that do not exist yet, innermost first. */
function missingDirectories(home: string): string[] {
  const missing: string[] = [];
  let dir = home;
  while (!nodeFs().existsSync(dir)) {
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return missing;
}

function fileProblem(error: unknown, home: string, stage: string): ProbeProblem {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case "EACCES":
    case "EPERM":
      return {
        id: "file-permission",
        summary: `cannot ${stage} files in ${home}`,
        reason: message,
        fix: [`make the home yours and private: chown "$USER" ${home} && chmod 700 ${home}`, "or point --home (CODEX_HOME) somewhere writable"],
      };
    case "EROFS":
      return { id: "file-read-only", summary: `${home} is on a read-only file system`, reason: message, fix: ["point --home (CODEX_HOME) at a writable directory"] };
    case "ENOSPC":
    case "EDQUOT":
      return { id: "file-no-space", summary: "the disk (or quota) is full", reason: message, fix: ["free some space"] };
    case "ENOTDIR":
    case "EEXIST":
      return { id: "file-not-a-directory", summary: `${home} is not a directory`, reason: message, fix: ["point --home (CODEX_HOME) at a directory"] };
    default:
      return { id: "file-error", summary: `the credentials file cannot be used (${stage} failed)`, reason: message, fix: ["run again with --debug for details"] };
  }
}

/** Probes the keyring with the entry "authkeep doctor" / "probe|<pid>-<random>", and removes it. */
export async function probeKeyring(
  keyring: KeyringStore,
  timeoutMs: number,
  facts: EnvironmentFacts,
  cleanups: Set<() => Promise<void>>,
): Promise<BackendReport> {
  const account = `probe|${uniqueSuffix()}`;
  const call = <T>(what: string, fn: () => Promise<T>) => keyringCall({ keyring, timeoutMs }, what, fn);
  const report: BackendReport = {
    name: "keyring",
    ok: false,
    backend: keyring.backend ?? "unknown",
    probe: { service: PROBE_SERVICE, account },
    notes: [],
  };
  const value = serializeAuthJson(probeAuth(), { pretty: false });
  let mayExist = false;
  const cleanup = async () => {
    if (!mayExist) return;
    try {
      await call("delete", () => keyring.delete(PROBE_SERVICE, account));
      mayExist = false;
    } catch (error) {
      report.cleanupFailed =
        `the keyring probe entry (service "${PROBE_SERVICE}", account "${account}") could not be removed: ${(error as Error).message}; ` +
        `remove it later with: secret-tool clear service "${PROBE_SERVICE}"`;
    }
  };
  cleanups.add(cleanup);
  try {
    report.latencyMs = await roundTrips({
      save: async () => {
        mayExist = true; // A save that times out may still land later.
        await call("save", () => keyring.save(PROBE_SERVICE, account, value));
      },
      verify: async () => {
        const loaded = await call("load", () => keyring.load(PROBE_SERVICE, account));
        if (loaded !== value) throw mismatch("the keyring", loaded, value);
      },
      remove: async () => {
        const removed = await call("delete", () => keyring.delete(PROBE_SERVICE, account));
        mayExist = false;
        return removed;
      },
    }, () => {});
    report.ok = true;
  } catch (error) {
    delete report.latencyMs;
    report.error = errorInfo(error);
    if (error instanceof ReadBackError) {
      report.problem = error.problem;
    } else {
      report.problem = diagnoseKeyringError(error, facts, timeoutMs);
      // Only a timeout (or an unknown failure) can leave a half-done save behind; the other problems mean nothing was stored.
      if (report.problem.id !== "timeout" && report.problem.id !== "other") mayExist = false;
    }
  } finally {
    await cleanup();
    cleanups.delete(cleanup);
  }
  return report;
}

/** Probes process memory (ephemeral mode) under a service name of its own. */
export async function probeEphemeral(home: string): Promise<BackendReport> {
  // Its own service name: the process-wide ephemeral map is never shared with real logins.
  const storage = createAuthStorage({ home, mode: "ephemeral", service: `${PROBE_SERVICE} ${uniqueSuffix()}` });
  const auth = probeAuth();
  const report: BackendReport = { name: "ephemeral", ok: false, backend: "memory", notes: ["process memory only: nothing outlives the process that saved it"] };
  try {
    report.latencyMs = await roundTrips(storageOps(storage, auth, "process memory"), () => {});
    report.ok = true;
  } catch (error) {
    report.error = errorInfo(error);
    report.problem = error instanceof ReadBackError
      ? error.problem
      : { id: "ephemeral-error", summary: "the in-memory store failed", reason: (error as Error).message, fix: ["run again with --debug for details"] };
  }
  return report;
}

/** Removes the probe entries when the user interrupts the doctor; returns the function that uninstalls the handlers. */
export function cleanUpOnSignal(cleanups: Set<() => Promise<void>>): () => void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const handler = (signal: NodeJS.Signals) => {
    const force = setTimeout(() => process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1)), 3000);
    force.unref();
    Promise.allSettled([...cleanups].map((fn) => fn())).finally(() => {
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}

