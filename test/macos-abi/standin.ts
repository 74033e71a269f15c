/**
 * Builds the macOS ABI stand-in (`security-standin.c`, a test double for
 * Security.framework + CoreFoundation) with the system C compiler and binds
 * its control functions through the runtime's FFI provider (so that Bun and
 * Deno need no koffi for them). Not a test file itself.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type FfiSymbols, loadFfiProvider } from "../../native/ffi/index.ts";

const CONTROL = {
  standin_reset: { args: [], returns: "void" },
  standin_queue_status: { args: ["i32"], returns: "void" },
  standin_set_delay_ms: { args: ["i64"], returns: "void" },
  standin_set_message_null: { args: ["i32"], returns: "void" },
  standin_live_objects: { args: [], returns: "i64" },
  standin_misuse_count: { args: [], returns: "i64" },
  standin_last_misuse: { args: [], returns: "cstring" },
  standin_in_flight: { args: [], returns: "i64" },
  standin_calls: { args: ["i32"], returns: "i64" },
  standin_item_serial: { args: ["cstring", "cstring"], returns: "i64" },
  // service, account, buffer (written by C), its size
  standin_item_label: { args: ["cstring", "cstring", "buffer", "i64"], returns: "i64" },
  // service, account, data, length
  standin_put_raw: { args: ["cstring", "cstring", "buffer", "i64"], returns: "void" },
} as const satisfies FfiSymbols;

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
  // The runtime's own provider (AUTHKEEP_FFI may override it); the backend under test may use another:
  // both load the same file, so they share the stand-in's state.
  const lib = loadFfiProvider().open(libraryPath, CONTROL);
  const c = lib.symbols;
  return {
    libraryPath,
    reset: () => c.standin_reset(),
    queueStatus: (status) => c.standin_queue_status(status),
    setDelayMs: (ms) => c.standin_set_delay_ms(ms),
    setMessageNull: (on) => c.standin_set_message_null(on ? 1 : 0),
    liveObjects: () => Number(c.standin_live_objects()),
    misuseCount: () => Number(c.standin_misuse_count()),
    lastMisuse: () => String(c.standin_last_misuse()),
    inFlight: () => Number(c.standin_in_flight()),
    calls: () => ({
      copyMatching: Number(c.standin_calls(0)),
      add: Number(c.standin_calls(1)),
      update: Number(c.standin_calls(2)),
      delete: Number(c.standin_calls(3)),
    }),
    itemSerial: (service, account) => Number(c.standin_item_serial(service, account)),
    itemLabel: (service, account) => {
      const buffer = new Uint8Array(4096);
      const length = Number(c.standin_item_label(service, account, buffer, buffer.length));
      return length < 0 ? null : new TextDecoder().decode(buffer.subarray(0, length));
    },
    putRaw: (service, account, data) => c.standin_put_raw(service, account, data.length === 0 ? null : data, data.length),
    dispose: () => {
      lib.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
