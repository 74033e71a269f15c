/**
 * Bun and Deno for the bench parts that run a child on them: from $BUN /
 * $DENO, else scripts/runtimes.sh's cache under .ci/rt.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** A JS runtime other than the Node running the suite. */
export interface OtherRuntime {
  /** "Bun" or "Deno". */
  readonly name: string;
  /** Its executable. */
  readonly binary: string;
  /** The arguments before a script path (`deno run -A --no-check`). */
  readonly runArgs: readonly string[];
  /** Its own FFI provider's name. */
  readonly provider: "bun" | "deno";
  /** Whether the binary is there. */
  readonly installed: boolean;
}

/**
 * Bun and Deno, installed or not.
 *
 * @param root The repository root.
 * @returns Both runtimes, in that order.
 */
export function otherRuntimes(root: string): OtherRuntime[] {
  const runtimes = [
    { name: "Bun", binary: process.env.BUN || join(root, ".ci/rt/node_modules/@oven/bun-linux-x64/bin/bun"), runArgs: [], provider: "bun" as const },
    { name: "Deno", binary: process.env.DENO || join(root, ".ci/rt/node_modules/@deno/linux-x64-glibc/deno"), runArgs: ["run", "-A", "--no-check"], provider: "deno" as const },
  ];
  return runtimes.map((runtime) => ({ ...runtime, installed: existsSync(runtime.binary) }));
}
