/**
 * The doctor's probes: each backend gets its own throw-away entry (a hidden
 * file in the home, the keyring entry "authkeep doctor" / "probe|<pid>-<random>",
 * a private slot in process memory), which goes through save → load → delete
 * a few times for the latency, and is always removed, also on Ctrl-C.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { nodeFs } from "../contract/_node-builtins.ts";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { Buffer } from "node:buffer";
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { serializeAuthJson } from "../document/auth-json.ts";
import { createAuthStorage } from "../storage/create-auth-storage.ts";
import { FlowStorage } from "../storage/_flow-storage.ts";
import { fileStorageFlows } from "../storage/file-storage.ts";
import { fileLocker } from "../storage/_file-locker.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { diagnoseKeyringError, type EnvironmentFacts, type KeyringProblem } from "./_diagnose.ts";
import { type ErrorInfo, errorInfo, keyringCall } from "./_stores.ts";

/** The keyring service of the doctor's probe entries (never Codex's "Codex Auth"). */
export const PROBE_SERVICE = "authkeep doctor";

/** Round-trip timings of a working backend, in milliseconds. */
export interface Latency {
  /** Median of the warm round trips. */
  save: number;
  load: number;
  delete: number;
  /** save + load + delete. */
  total: number;
  /** The first round trip, which also loads the libraries and connects. */
  first: number;
}

/** One backend's probe result in `doctor --json`. */
export interface BackendReport {
  name: "file" | "keyring" | "ephemeral";
  ok: boolean;
  /** The platform backend (`libsecret`, `windows`, `macos`, `none`) for the keyring; the directory for the file. */
  backend: string;
  latencyMs?: Latency;
  problem?: KeyringProblem | { id: string; summary: string; reason: string; fix: string[] };
  error?: ErrorInfo;
  /** The probe entry that was used (for the keyring: service and account). */
  probe?: { service?: string; account?: string; file?: string };
  /** Set when the probe entry could not be removed. */
  cleanupFailed?: string;
  notes: string[];
}

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** A realistic login (about 3.5 KB, like a ChatGPT auth.json) made of random bytes: sizes matter on Windows. */
function probeAuth(): AuthDotJson {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const jwt = (claims: Record<string, unknown>) => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.${randomBytes(256).toString("base64url")}`;
  const filler = randomBytes(600).toString("base64url");
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: jwt({ email: "probe@authkeep.invalid", filler, "https://api.openai.com/auth": { chatgpt_account_id: "probe" } }),
      access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600, filler }),
      refresh_token: `probe-${randomBytes(48).toString("base64url")}`,
      account_id: "probe",
    },
    last_refresh: new Date().toISOString(),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Round trips per probe: the first pays for loading libraries and connecting; the others are the steady state. */
const ROUNDS = 3;

/** A probe entry that did not read back what was written. */
class ReadBackError extends Error {
  readonly problem: NonNullable<BackendReport["problem"]>;
  constructor(problem: NonNullable<BackendReport["problem"]>) {
    super(problem.summary);
    this.name = "ReadBackError";
    this.problem = problem;
  }
}

/** One backend's three operations on its probe entry. */
interface ProbeOps {
  save(): Promise<void>;
  /** Reads the entry back; throws {@linkcode ReadBackError} when it differs. */
  verify(): Promise<void>;
  remove(): Promise<boolean>;
}

/** Runs {@linkcode ROUNDS} save → load → delete round trips; reports the median of the warm ones and the first. */
async function roundTrips(ops: ProbeOps, onStage: (stage: "save" | "load" | "delete") => void): Promise<Latency> {
  const runs: [number, number, number][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    onStage("save");
    const [, save] = await timed(() => ops.save());
    onStage("load");
    const [, load] = await timed(() => ops.verify());
    onStage("delete");
    const [removed, del] = await timed(() => ops.remove());
    if (!removed) {
      throw new ReadBackError({
        id: "read-back-mismatch",
        summary: "the probe entry was gone before it was deleted",
        reason: "Something else removed it between the save and the delete, or the store dropped it.",
        fix: ["run `authkeep doctor` again; if it persists, use --mode file"],
      });
    }
    runs.push([save, load, del]);
  }
  const warm = runs.length > 1 ? runs.slice(1) : runs;
  const median = (i: 0 | 1 | 2) => {
    const sorted = warm.map((run) => run[i]).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const [save, load, del] = [median(0), median(1), median(2)];
  const first = runs[0]!;
  return { save, load, delete: del, total: save + load + del, first: first[0] + first[1] + first[2] };
}

function mismatch(what: string, loaded: string | null, expected: string): ReadBackError {
  return new ReadBackError({
    id: "read-back-mismatch",
    summary: loaded === null ? `${what} accepted the probe entry but returned nothing for it` : `${what} returned something else than what was stored`,
    reason:
      loaded === null
        ? "A locked keyring, or one without a default collection, can silently drop reads."
        : `The value came back changed (${loaded.length} characters instead of ${expected.length}).`,
    fix: ["run `authkeep doctor` again; if it persists, use --mode file"],
  });
}

/** The probe operations of an {@linkcode AuthStorage} (file or ephemeral mode). */
function storageOps(storage: AuthStorage, auth: AuthDotJson, what: string): ProbeOps {
  const expected = serializeAuthJson(auth);
  return {
    save: () => storage.save(auth),
    verify: async () => {
      const loaded = await storage.load();
      const text = loaded === null ? null : serializeAuthJson(loaded);
      if (text !== expected) throw mismatch(what, text, expected);
    },
    remove: () => storage.delete(),
  };
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

function fileProblem(error: unknown, home: string, stage: string): NonNullable<BackendReport["problem"]> {
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

