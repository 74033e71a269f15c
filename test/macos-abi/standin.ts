/**
 * Builds the macOS ABI stand-in (`security-standin.c`, a test double for
 * Security.framework + CoreFoundation) with the system C compiler and binds
 * its control functions. Not a test file itself.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadKoffi } from "../../native/_koffi.ts";

/** The control side of the stand-in library. */
export interface StandIn {
  /** Path of the built shared library: pass it as both framework paths. */
  readonly libraryPath: string;
  /** Forgets items, queued statuses, the delay and the counters (not live objects). */
  reset(): void;
  /** Queues the status the next SecItem call returns; `0` lets that call behave normally. */
  queueStatus(status: number): void;
  /** Makes every SecItem call wait this long (a stand-in for a keychain prompt). */
  setDelayMs(ms: number): void;
  /** Makes SecCopyErrorMessageString return NULL. */
  setMessageNull(on: boolean): void;
  /** CF objects created and not yet released (constants excluded). */
  liveObjects(): number;
  /** Ownership mistakes seen: a release too many, a NULL release, a dictionary without kCFType callbacks. */
  misuseCount(): number;
  /** The last ownership mistake, for assertion messages. */
  lastMisuse(): string;
  /** SecItem calls still running on some thread. */
  inFlight(): number;
  /** How many times each SecItem function was called since the last reset. */
  calls(): { copyMatching: number; add: number; update: number; delete: number };
  /** The item's creation marker (kept by an update, new for an add), or -1 when absent. */
  itemSerial(service: string, account: string): number;
  /** The item's label, or `null` when absent. */
  itemLabel(service: string, account: string): string | null;
  /** Stores raw bytes as the item's data, as another program could. */
  putRaw(service: string, account: string, data: Uint8Array): void;
  /** Deletes the build directory. */
  dispose(): void;
}

/** Finds the C source whether this file runs from `test/macos-abi/` or from `dist/test/macos-abi/`. */
function sourcePath(): string {
  const candidates = [
    new URL("./security-standin.c", import.meta.url),
    new URL("../../../test/macos-abi/security-standin.c", import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(`security-standin.c not found next to ${fileURLToPath(import.meta.url)} or in the project's test/macos-abi/`);
}

/**
 * Compiles the stand-in into a temporary shared library and binds it.
 * @throws {Error} when the compiler (`$CC`, default `cc`) fails or is missing.
 */
export function buildStandIn(): StandIn {
  const dir = mkdtempSync(join(tmpdir(), "authkeep-macos-abi-"));
  const libraryPath = join(dir, "libsecurity-standin.so");
  const cc = process.env.CC || "cc";
  try {
    execFileSync(cc, ["-shared", "-fPIC", "-pthread", "-O1", "-Wall", "-Wextra", "-Werror", "-o", libraryPath, sourcePath()], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`could not build the macOS ABI stand-in with ${cc} (install gcc and libc6-dev): ${stderr || String(error)}`);
  }
  const koffi = loadKoffi("macos");
  const lib = koffi.load(libraryPath);
  const fn = (definition: string) => lib.func(definition);
  const reset = fn("void standin_reset(void)");
  const queueStatus = fn("void standin_queue_status(int32_t status)");
  const setDelay = fn("void standin_set_delay_ms(long ms)");
  const setMessageNull = fn("void standin_set_message_null(int on)");
  const live = fn("long standin_live_objects(void)");
  const misuse = fn("long standin_misuse_count(void)");
  const lastMisuse = fn("const char *standin_last_misuse(void)");
  const inFlight = fn("long standin_in_flight(void)");
  const calls = fn("long standin_calls(int which)");
  const serial = fn("long standin_item_serial(const char *service, const char *account)");
  const label = fn("long standin_item_label(const char *service, const char *account, _Out_ uint8_t *buffer, long size)");
  const putRaw = fn("void standin_put_raw(const char *service, const char *account, const uint8_t *data, long length)");
  return {
    libraryPath,
    reset: () => reset(),
    queueStatus: (status) => queueStatus(status),
    setDelayMs: (ms) => setDelay(ms),
    setMessageNull: (on) => setMessageNull(on ? 1 : 0),
    liveObjects: () => Number(live()),
    misuseCount: () => Number(misuse()),
    lastMisuse: () => String(lastMisuse()),
    inFlight: () => Number(inFlight()),
    calls: () => ({
      copyMatching: Number(calls(0)),
      add: Number(calls(1)),
      update: Number(calls(2)),
      delete: Number(calls(3)),
    }),
    itemSerial: (service, account) => Number(serial(service, account)),
    itemLabel: (service, account) => {
      const buffer = new Uint8Array(4096);
      const length = Number(label(service, account, buffer, buffer.length));
      return length < 0 ? null : new TextDecoder().decode(buffer.subarray(0, length));
    },
    putRaw: (service, account, data) => putRaw(service, account, data, data.length),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
