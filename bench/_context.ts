/**
 * What every benchmark module receives from the runner.
 *
 * @module
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./_harness.ts";

/** The runner's settings. */
export interface BenchContext {
  config: BenchConfig;
  /** The repository root (holds node_modules, dist, scripts). */
  root: string;
  /** Whether a private keyring was started for this run (DBUS_SESSION_BUS_ADDRESS set). */
  keyringUp: boolean;
}

/**
 * The repository root: the nearest directory above this module whose
 * package.json is authkeep's (the build may live in dist/ or, for runs that
 * must not race other builds of dist/, in a private BENCH_BUILD_DIR).
 */
export function repositoryRoot(moduleUrl: string): string {
  let directory = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { name?: string };
      if (manifest.name === "authkeep") return directory;
    } catch {
      // no package.json here
    }
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`no authkeep package.json above ${moduleUrl}`);
    directory = parent;
  }
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
