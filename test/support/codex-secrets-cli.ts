/**
 * Runs the real Codex CLI (scripts/codex-setup.sh exports AUTHKEEP_CODEX_BIN)
 * against a fresh CODEX_HOME, never the user's ~/.codex. Output is captured
 * in full; each run is bounded by a hang guard.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

/** The Linux Codex binary, or undefined when the set-up did not run. */
export const codexBin: string | undefined = process.env.AUTHKEEP_CODEX_BIN || undefined;

/** Codex's encrypted auth store on Linux: keyring mode with the feature flag. */
export const SECRETS_FLAGS = ["-c", "features.secret_auth_storage=true", "-c", "cli_auth_credentials_store=keyring"];

/** One Codex run's result. */
export interface CodexRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `codex <args>` with CODEX_HOME = `home`, feeding `input` on stdin. */
export function runCodex(home: string, args: readonly string[], input = ""): CodexRun {
  if (codexBin === undefined) throw new Error("AUTHKEEP_CODEX_BIN is not set: eval \"$(bash scripts/codex-setup.sh)\"");
  const result = spawnSync(codexBin, args, {
    input,
    encoding: "utf8",
    env: { ...process.env, CODEX_HOME: home, RUST_LOG: "error", NO_COLOR: "1" },
    timeout: 120_000, // hang guard: one scrypt at logN 20 takes a few seconds
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
