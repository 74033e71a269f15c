/**
 * Codex's 401 recovery ladder (`unauthorized_recovery`): `reload` →
 * `refresh_token` → `done`, built by {@linkcode AuthManager.unauthorizedRecovery}.
 *
 * @module
 */
import type { AuthDotJson } from "../document/auth-types.ts";
import { accountOf, isRefreshable } from "./_auth-manager-snapshot.ts";
import { accountMismatchError } from "./refresh-messages.ts";

/** The result of reloading during a 401 recovery (Codex's `ReloadOutcome`). */
export type ReloadOutcome = "ReloadedChanged" | "ReloadedNoChange" | "Skipped";

/** The steps of a 401 recovery, named as in Codex. */
export type UnauthorizedRecoveryStep = "reload" | "refresh_token" | "done";

/**
 * What one {@linkcode UnauthorizedRecovery.next} call did:
 * - `ReloadedChanged` / `ReloadedNoChange`: the reload step adopted the stored auth;
 * - `Refreshed`: the refresh step got new tokens over the network;
 * - `Adopted`: the refresh step found tokens another process (or caller) had
 *   just refreshed, with no network call;
 * - `Done`: nothing left to do.
 */
export type RecoveryStepResult = "ReloadedChanged" | "ReloadedNoChange" | "Refreshed" | "Adopted" | "Done";

/** A 401 recovery ladder: `reload` → `refresh_token` → `done`. */
export interface UnauthorizedRecovery {
  /** The step the next {@linkcode UnauthorizedRecovery.next} call runs. */
  readonly step: UnauthorizedRecoveryStep;
  /** Whether a step is left and the login is a refreshable ChatGPT login. */
  hasNext(): boolean;
  /**
   * Runs the current step; retry the request afterwards.
   * @throws {RefreshError} permanent `account-mismatch` when the reload is
   * skipped (logged out, another account, or no `account_id`); the refresh
   * step throws the refresher's errors.
   */
  next(): Promise<RecoveryStepResult>;
}

/** What the ladder needs of its manager. */
export interface RecoveryHost {
  /** The cached auth now. */
  cached(): AuthDotJson | null | undefined;
  /** Codex's `reload_if_account_id_matches`. */
  reloadIfAccountMatches(expected: string | null): Promise<ReloadOutcome>;
  /** The guarded, single-flight refresh (`refresh_reason: unauthorized_recovery`); how the tokens came. */
  refresh(): Promise<"network" | "adopted" | "none">;
}

/** A ladder for the account of the auth cached now (the one the failed request used). */
export function createUnauthorizedRecovery(host: RecoveryHost): UnauthorizedRecovery {
  const expected = accountOf(host.cached()) ?? null;
  let step: UnauthorizedRecoveryStep = "reload";
  return {
    get step() {
      return step;
    },
    hasNext: () => step !== "done" && isRefreshable(host.cached()),
    next: async () => {
      if (step === "reload") {
        const outcome = await host.reloadIfAccountMatches(expected);
        if (outcome === "Skipped") {
          step = "done";
          throw accountMismatchError();
        }
        step = "refresh_token";
        return outcome;
      }
      if (step === "refresh_token") {
        step = "done";
        return (await host.refresh()) === "network" ? "Refreshed" : "Adopted";
      }
      return "Done";
    },
  };
}
