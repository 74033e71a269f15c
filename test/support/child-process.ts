/**
 * Runs a test fixture script in a fresh process of the same runtime that runs
 * the tests (Node from dist/ or sources, Bun, or Deno).
 *
 * @module
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

declare const Deno: unknown;

/** The path of `test/fixtures/<name>` next to the calling test, as .ts or .js like the caller. */
export function fixturePath(name: string, callerUrl: string): string {
  const extension = callerUrl.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`./fixtures/${name}${extension}`, callerUrl));
}

/** The argv that runs `script` with this runtime. */
export function runtimeArgv(script: string, args: readonly string[] = []): [string, string[]] {
  if (typeof Deno !== "undefined") return [process.execPath, ["run", "-A", "--no-check", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** Spawns a fixture script with this runtime. */
export function spawnFixture(script: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  const [command, argv] = runtimeArgv(script, args);
  return spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], ...options });
}

/** Waits for a child to exit and collects its output. */
export function collect(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
