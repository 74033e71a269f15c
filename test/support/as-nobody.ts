/**
 * Runs one storage operation as uid 65534 (test/fixtures/hardening-as-nobody.ts, a child process
 * that loads authkeep as root and drops to nobody), for the tests that need a user other than root:
 * the mode bits refuse nothing to root.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import process from "node:process";
import { childCommand, childEnv, fixturePath, slowTestsOff } from "./hardening-env.ts";

/** What the child reports: the outcome, and for an error its name, type and fields. */
export interface NobodyResult {
  uid?: number;
  outcome: "ok" | "error";
  value?: unknown;
  name?: string;
  typed?: boolean;
  operation?: string;
  code?: string;
  path?: string;
  message?: string;
}

/** Runs `operation` (e.g. `save-sync`, `load-async`, `delete-sync`) on `home` as uid 65534. */
export function runAsNobody(home: string, operation: string): NobodyResult {
  const [command, args] = childCommand(fixturePath("hardening-as-nobody"), [home, operation]);
  const out = execFileSync(command, args, { encoding: "utf8", env: childEnv() });
  return JSON.parse(out) as NobodyResult;
}

const canSetuid = process.platform !== "win32" && typeof process.getuid === "function" && process.getuid() === 0;
/**
 * The skip reason for a test that needs {@linkcode runAsNobody}, or false when it can run. Child
 * processes as uid 65534: run in npm test (Node 20), not in the runtime matrix's fast pass.
 */
export const nobodySkip = slowTestsOff ? "slow tests disabled (child processes)" : !canSetuid ? "needs root to drop to uid 65534" : false;
