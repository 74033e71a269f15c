/**
 * The keyring libraries we compare against, loaded lazily so a missing one
 * only blanks its rows.
 *
 * @module
 */
import { createRequire } from "node:module";
import process from "node:process";
import type { BenchContext } from "./_context.ts";
import { loadOptional } from "./_context.ts";
import { describeError } from "./_harness.ts";

/** The slice of @napi-rs/keyring 2.x we use. */
export interface NapiKeyring {
  Entry: new (service: string, username: string, options?: NapiEntryOptions) => NapiEntry;
  AsyncEntry: new (service: string, username: string, options?: NapiEntryOptions) => NapiAsyncEntry;
}
export interface NapiEntryOptions {
  linux?: { store?: string };
}
export interface NapiEntry {
  getPassword(): string | null;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
export interface NapiAsyncEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
}

/** The slice of keytar 7.x we use. */
export interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/**
 * Pin @napi-rs/keyring to the Secret Service: without it, an unreachable
 * daemon silently sends it to the kernel keyutils store, which would compare
 * us against a different backend (see linux-secret-service.md §5).
 */
export const NAPI_OPTIONS: NapiEntryOptions = { linux: { store: "secret-service" } };

/** @napi-rs/keyring from the project's devDependencies. */
export function loadNapi(): { ok: true; value: NapiKeyring } | { ok: false; reason: string } {
  try {
    return { ok: true, value: createRequire(import.meta.url)("@napi-rs/keyring") as NapiKeyring };
  } catch (error) {
    return { ok: false, reason: `@napi-rs/keyring not loadable: ${describeError(error)}` };
  }
}

/** The folder scripts/bench.sh installs keytar into (never the project's node_modules). */
export const ANCHORS_DIRECTORY = ".cache/bench-anchors";

/** keytar, when scripts/bench.sh managed to build it; otherwise the reason it printed. */
export function loadKeytar(context: BenchContext): { ok: true; value: Keytar } | { ok: false; reason: string } {
  if (context.config.quick) return { ok: false, reason: "skipped in quick mode" };
  const skip = process.env.BENCH_KEYTAR_SKIP;
  if (skip) return { ok: false, reason: skip };
  return loadOptional<Keytar>(context.root, ANCHORS_DIRECTORY, "keytar");
}
