/**
 * Why a keyring does not work here, and the fix: a mapping from a
 * {@linkcode KeyringError}'s `kind` and `reason` (refined by this machine's
 * {@linkcode EnvironmentFacts}) to a named problem. Pure. Every backend sets
 * `reason`, so no message is ever read to find the problem.
 *
 * @module
 */
import type { KeyringErrorReason } from "../contract/keyring-error.ts";
import { type EnvironmentFacts, environmentFacts } from "./_environment.ts";
import { ffiPackageSpec } from "./_package.ts";
import type { ErrorInfo } from "./_stores.ts";

export { type EnvironmentFacts, environmentFacts };

/** The named reasons a keyring does not work. New ones may be added. */
export type KeyringProblemId =
  | "ffi-missing"
  | "libsecret-missing"
  | "no-dbus-session"
  | "dbus-unreachable"
  | "no-secret-service"
  | "no-default-collection"
  | "locked"
  | "timeout"
  | "no-logon-session"
  | "interaction-not-allowed"
  | "too-large"
  | "read-back-mismatch"
  | "unsupported-platform"
  | "other";

/** A diagnosed keyring problem. */
export interface KeyringProblem {
  id: KeyringProblemId;
  /** One line: what is wrong. */
  summary: string;
  /** Why, in terms of this machine. */
  reason: string;
  /** What to do about it (one or more lines). */
  fix: string[];
}

const HEADLESS_RECIPE =
  "dbus-run-session -- sh -c 'printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets --daemonize; <your command>'";

/**
 * Names the problem behind a keyring error.
 *
 * @param error The error (a KeyringError, or its {@linkcode ErrorInfo}).
 * @param facts This machine's facts, which refine the diagnosis.
 * @param timeoutMs The deadline that was used, for the timeout message.
 */
export function diagnoseKeyringError(error: unknown, facts: EnvironmentFacts, timeoutMs: number): KeyringProblem {
  const info = normalize(error);
  const linux = facts.platform === "linux" || facts.platform === "freebsd" || facts.platform === "openbsd";
  return describe(problemId(info.reason, info, facts, linux), info, facts, timeoutMs);
}

/** The problem a reason means on this machine. */
function problemId(reason: KeyringErrorReason | undefined, info: Normalized, facts: EnvironmentFacts, linux: boolean): KeyringProblemId {
  switch (reason) {
    case "no-ffi":
      return "ffi-missing";
    case "no-library":
      return info.backend === "none" ? "unsupported-platform" : linux ? "libsecret-missing" : "other";
    case "no-bus":
      return facts.dbusSessionBusAddress === null ? "no-dbus-session" : "dbus-unreachable";
    case "no-service":
      return linux ? "no-secret-service" : "other";
    case "no-default-collection":
      return linux ? "no-default-collection" : "other";
    case "locked":
      return info.backend === "macos" && info.code === -25308 ? "interaction-not-allowed" : "locked";
    case "denied":
      return "locked";
    case "timeout":
      return "timeout";
    case "no-session":
      return "no-logon-session";
    case "too-large":
      return "too-large";
    default:
      if (info.kind === "locked") return "locked";
      if (info.kind === "too-large") return "too-large";
      return info.backend === "none" ? "unsupported-platform" : "other";
  }
}

/** The summary, the reason and the fix of a problem, in terms of this machine. */
function describe(id: KeyringProblemId, info: Normalized, facts: EnvironmentFacts, timeoutMs: number): KeyringProblem {
  const where = [facts.ssh ? "an SSH session" : "", facts.wsl ? "WSL" : "", facts.container ? "a container" : ""].filter(Boolean).join(", ");
  const problem = (summary: string, reason: string, fix: string[]): KeyringProblem => ({ id, summary, reason, fix });
  switch (id) {
    case "ffi-missing": {
      const spec = ffiPackageSpec();
      return problem(
        "the FFI library authkeep uses to reach the keyring is not installed",
        `authkeep calls the OS keyring through its optional dependency ${spec}, which could not be loaded (installed with --omit=optional or --no-optional, or its platform package is missing).`,
        [`npm install ${spec}`, "or use --mode file"],
      );
    }
    case "libsecret-missing":
      return problem(
        "libsecret (libsecret-1.so.0) is not installed",
        "authkeep talks to the Secret Service through libsecret, and the dynamic loader cannot find libsecret-1.so.0.",
        [
          "Debian/Ubuntu: sudo apt-get install libsecret-1-0",
          "Fedora: sudo dnf install libsecret · Arch: sudo pacman -S libsecret · Alpine: sudo apk add libsecret",
        ],
      );
    case "timeout":
      return problem(
        `the keyring did not answer within ${timeoutMs} ms`,
        "The Secret Service daemon is hung, overloaded, or waiting for an unlock prompt that nobody can see (no display).",
        [
          "check that the daemon answers: secret-tool search --all service x",
          "restart it: gnome-keyring-daemon --replace --components=secrets --daemonize (or log in to the desktop to answer the prompt)",
          "or raise --timeout, or use --mode file",
        ],
      );
    case "no-secret-service":
      return problem(
        "no Secret Service (org.freedesktop.secrets) on the session bus",
        "The bus is up, but no keyring daemon provides the Secret Service and none can be started on demand.",
        [
          "install and start one: sudo apt-get install gnome-keyring, then gnome-keyring-daemon --start --components=secrets",
          "(KeePassXC with Secret Service integration, or KWallet 5.97+, also work)",
          "or use --mode file",
        ],
      );
    case "no-default-collection":
      return problem(
        "the Secret Service has no default keyring (collection)",
        `A keyring daemon is running but has no default collection to store into${facts.wsl ? " (usual on WSL)" : ""}: it was started by D-Bus activation without a login keyring, or no keyring was ever created.`,
        [
          "create one and make it the default (Seahorse, \"Passwords and Keys\": File → New → Password Keyring, then Set as Default),",
          "or restart the daemon with a password so that it creates and unlocks \"login\":",
          "  printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets --daemonize",
          "or use --mode file",
        ],
      );
    case "locked":
      if (facts.platform === "linux" || facts.platform === "freebsd" || facts.platform === "openbsd") {
        return problem(
          "the default keyring is locked",
          `The keyring exists but is locked, and authkeep never shows an unlock prompt${facts.display === null ? " (there is no display here anyway)" : ""}.`,
          [
            "unlock it in the desktop session (log in graphically, or unlock \"Login\" in Seahorse), or restart the daemon with its password:",
            "  printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets --daemonize",
            "or use --mode file",
          ],
        );
      }
      return problem("the keyring is locked", "A keyring exists but is locked, or access to it was refused.", [
        "unlock it from the desktop session (or: security unlock-keychain on macOS)",
        "or use --mode file",
      ]);
    case "no-dbus-session":
      return problem(
        "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
        `The Secret Service is reached over the D-Bus session bus, and this process has none${where ? ` (${where})` : facts.display === null ? " (no desktop session: headless, cron, CI)" : ""}.`,
        [
          "run inside a desktop session, or start a bus and a keyring for one command:",
          `  ${HEADLESS_RECIPE}`,
          "or use --mode file (or auto, which falls back to auth.json)",
        ],
      );
    case "dbus-unreachable":
      return problem(
        "the D-Bus session bus in DBUS_SESSION_BUS_ADDRESS does not answer",
        `DBUS_SESSION_BUS_ADDRESS=${facts.dbusSessionBusAddress} points to a bus that is not running${facts.dbusSocketExists === false ? " (its socket does not exist)" : ""}: the session that started it has ended, or the variable is stale (inherited by tmux or screen).`,
        ["start a new login session, or refresh the variable (in tmux: tmux update-environment), or unset it", "or use --mode file"],
      );
    case "no-logon-session":
      return problem(
        "there is no logon session with a Credential Manager here",
        "Windows has no credential vault for this session (a service account, a scheduled task without a profile, or a network logon).",
        ["run as the interactive user, or use --mode file"],
      );
    case "interaction-not-allowed":
      return problem(
        "the keychain needs a prompt that cannot be shown here",
        "macOS refuses keychain prompts in this session (typically over SSH or in a launchd job).",
        ["security unlock-keychain ~/Library/Keychains/login.keychain-db", "or use --mode file"],
      );
    case "too-large":
      return problem("the value is too large for this keyring", info.message, ["use --mode file"]);
    case "unsupported-platform":
      return problem(`authkeep has no keyring backend for ${facts.platform}`, info.message, ["use --mode file"]);
    default:
      return problem(
        `the keyring failed (${info.kind ?? "error"}${info.code !== undefined ? ` ${info.code}` : ""})`,
        info.message,
        ["run again with --debug for details", "or use --mode file"],
      );
  }
}

interface Normalized {
  message: string;
  kind: string | undefined;
  reason: KeyringErrorReason | undefined;
  code: string | number | undefined;
  backend: string | undefined;
}

function normalize(error: unknown): Normalized {
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as Partial<ErrorInfo>;
  return {
    message: typeof e.message === "string" ? e.message : "",
    kind: e.kind,
    reason: e.reason as KeyringErrorReason | undefined,
    code: e.code,
    backend: e.backend,
  };
}
