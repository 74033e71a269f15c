/**
 * What every benchmark module receives from the runner.
 *
 * @module
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import type { BenchConfig } from "./_harness.ts";

/** The runner's settings. */
export interface BenchContext {
  config: BenchConfig;
  /** The repository root (holds node_modules, dist, scripts). */
  root: string;
  /** Whether a private keyring was started for this run (DBUS_SESSION_BUS_ADDRESS set). */
  keyringUp: boolean;
}

/** The repository root, from dist/bench/<file>.js or bench/<file>.ts. */
export function repositoryRoot(moduleUrl: string): string {
  const here = new URL(".", moduleUrl).pathname;
  return here.includes("/dist/bench/") ? join(here, "..", "..") : join(here, "..");
}

/**
 * Loads an optional comparison library (keytar from `.cache/bench-anchors`),
 * or returns why it could not be loaded.
 */
export function loadOptional<T>(root: string, fromDirectory: string, name: string): { ok: true; value: T } | { ok: false; reason: string } {
  try {
    const require = createRequire(join(root, fromDirectory, "package.json"));
    return { ok: true, value: require(name) as T };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, reason: `${name} not loadable from ${fromDirectory}: ${message}` };
  }
}
