/**
 * Maps a glib `GError` (domain, code, message) from libsecret or GDBus to a
 * {@linkcode KeyringError} whose message says how to fix the problem. Pure:
 * no FFI here, so the table is unit-tested without a keyring.
 *
 * @module
 */
import { KeyringError, type KeyringErrorKind, type KeyringErrorReason } from "../../src/contract/keyring-error.ts";

/** A decoded `GError`. `domain` is the quark's string, e.g. `"g-io-error-quark"`. */
export interface GErrorInfo {
  domain: string;
  code: number;
  message: string;
}

/** What to do about each condition; every message ends with one of these. */
export const FIX = {
  noBus:
    "no D-Bus session bus is reachable (DBUS_SESSION_BUS_ADDRESS is unset, empty or points at a dead socket); " +
    "run inside a desktop session, or start a session bus with a Secret Service, e.g. " +
    "`dbus-run-session -- sh -c 'printf %s PASSWORD | gnome-keyring-daemon --unlock --components=secrets --daemonize; <command>'`, " +
    "or use the file store",
  noService:
    "no Secret Service (org.freedesktop.secrets) answers on the session bus; install and start one, " +
    "e.g. `apt-get install gnome-keyring` then `gnome-keyring-daemon --start --components=secrets`, " +
    "or KeePassXC with Secret Service integration, or use the file store",
  noDefaultCollection:
    "the Secret Service has no default collection (keyring) to keep secrets in; create one: log in to a desktop session " +
    "(which creates the \"login\" keyring), or start gnome-keyring-daemon yourself with `--unlock` and a password on stdin " +
    "before anything activates it, or create a keyring in Seahorse (\"Passwords and Keys\") and make it the default",
  locked:
    "the keyring collection is locked; unlock it: log in to the desktop session, unlock the \"Login\" keyring in Seahorse " +
    "(\"Passwords and Keys\"), or restart gnome-keyring-daemon with `--replace --unlock` and the password on stdin; " +
    "authkeep never shows an unlock prompt itself",
  timeout:
    "the Secret Service did not answer in time; its daemon may be stuck (check gnome-keyring-daemon, or restart it " +
    "with `gnome-keyring-daemon --replace`)",
  prompt:
    "the Secret Service wants the user to confirm creating the item (a prompt), and authkeep never shows prompts; " +
    "allow access without confirmation in its settings (KeePassXC: Secret Service Integration), or use the file store",
} as const;

/** The machine-readable reason behind each fix. */
const REASON_OF_FIX = new Map<string, KeyringErrorReason>([
  [FIX.noBus, "no-bus"],
  [FIX.noService, "no-service"],
  [FIX.noDefaultCollection, "no-default-collection"],
  [FIX.locked, "locked"],
  [FIX.timeout, "timeout"],
  [FIX.prompt, "denied"],
]);

/** The reason of an error with `kind` and `fix` (or none). */
function reasonOf(kind: KeyringErrorKind, fix: string | undefined): KeyringErrorReason {
  const reason = fix === undefined ? undefined : REASON_OF_FIX.get(fix);
  if (reason !== undefined) return reason;
  return kind === "too-large" || kind === "invalid" ? kind : kind === "locked" ? "denied" : "other";
}

/** D-Bus error names that mean our connection or session belongs to a daemon that is gone. */
const STALE_REMOTE = new Set([
  "org.freedesktop.Secret.Error.NoSession",
  "org.freedesktop.DBus.Error.ServiceUnknown",
  "org.freedesktop.DBus.Error.NameHasNoOwner",
  "org.freedesktop.DBus.Error.Disconnected",
]);

/**
 * The `domain:code` pairs after which the cached connection, service proxy
 * and session are dropped and the operation is retried once on a fresh one
 * (the daemon was restarted, or the bus went away and may be back).
 */
const STALE_CODES = new Set([
  "g-io-error-quark:18", // G_IO_ERROR_CLOSED: the bus connection is closed
  "g-io-error-quark:44", // G_IO_ERROR_BROKEN_PIPE (= CONNECTION_CLOSED)
  "g-io-error-quark:45", // G_IO_ERROR_NOT_CONNECTED
  "g-dbus-error-quark:2", // G_DBUS_ERROR_SERVICE_UNKNOWN: the unique name we talk to is gone
  "g-dbus-error-quark:3", // G_DBUS_ERROR_NAME_HAS_NO_OWNER
  "g-dbus-error-quark:15", // G_DBUS_ERROR_DISCONNECTED
]);

/** The D-Bus error name a remote error carries in its message (`GDBus.Error:<name>: …`), if any. */
export function remoteErrorName(message: string): string | undefined {
  return /^GDBus\.Error:([A-Za-z0-9_.-]+):/.exec(message)?.[1];
}

/** The message without GDBus's `GDBus.Error:<name>: ` prefix. */
function plainMessage(message: string): string {
  return message.replace(/^GDBus\.Error:[A-Za-z0-9_.-]+:\s*/, "");
}

const staleErrors = new WeakSet<KeyringError>();

/** A {@linkcode KeyringError} of kind `unavailable` that also makes the flow reopen the session and retry once. */
export function staleSessionError(what: string, detail: string): KeyringError {
  const error = new KeyringError(`libsecret: ${what} failed: ${FIX.noService} (${detail})`, {
    kind: "unavailable",
    reason: "no-service",
    backend: "libsecret",
  });
  staleErrors.add(error);
  return error;
}

/** Whether `error` means the cached service connection or session is stale (retry on a fresh one). */
export function isStaleConnectionError(error: unknown): boolean {
  if (!(error instanceof KeyringError)) return false;
  if (staleErrors.has(error)) return true;
  if (typeof error.code !== "string") return false;
  if (STALE_CODES.has(error.code)) return true;
  const cause = error.cause as GErrorInfo | undefined;
  if (!cause || typeof cause.message !== "string") return false;
  // libsecret strips the remote error name from some errors, leaving G_IO_ERROR_DBUS_ERROR and the text.
  if (cause.domain === "g-io-error-quark" && cause.code === 36 && /session does not exist/i.test(cause.message)) return true;
  const name = remoteErrorName(cause.message);
  return name !== undefined && STALE_REMOTE.has(name);
}

/** Whether the GError says the D-Bus object (an item path) does not exist (any more). */
export function isNoSuchObject(info: GErrorInfo): boolean {
  if (info.domain === "secret-error" && info.code === 3) return true; // SECRET_ERROR_NO_SUCH_OBJECT
  if (info.domain === "g-dbus-error-quark" && (info.code === 19 || info.code === 41)) return true; // UNKNOWN_METHOD, UNKNOWN_OBJECT
  const name = remoteErrorName(info.message);
  return name === "org.freedesktop.Secret.Error.NoSuchObject" || name === "org.freedesktop.DBus.Error.UnknownObject" ||
    name === "org.freedesktop.DBus.Error.UnknownMethod";
}

/**
 * Classifies a GError: the kind and the fix to print. Codes are glib's enums:
 * `GIOErrorEnum` (g-io-error-quark), `GDBusError` (g-dbus-error-quark),
 * `SecretError` (secret-error).
 */
export function classifyGError(info: GErrorInfo): { kind: KeyringErrorKind; fix?: string; reason?: KeyringErrorReason } {
  const { domain, code, message } = info;
  const remote = remoteErrorName(message);
  if (remote === "org.freedesktop.Secret.Error.IsLocked") return { kind: "locked", fix: FIX.locked };
  if (remote === "org.freedesktop.Secret.Error.NoSession") return { kind: "unavailable", fix: FIX.noService };
  switch (domain) {
    case "g-io-error-quark":
      switch (code) {
        case 0: // G_IO_ERROR_FAILED: "Cannot autolaunch D-Bus without X11 $DISPLAY", bad address, …
          return /autolaunch|DBUS_SESSION_BUS_ADDRESS|address|D-Bus/i.test(message)
            ? { kind: "unavailable", fix: FIX.noBus }
            : { kind: "failure" };
        case 13: // G_IO_ERROR_INVALID_ARGUMENT: "The given address is empty" (DBUS_SESSION_BUS_ADDRESS=""), a malformed address
          return /address/i.test(message) ? { kind: "unavailable", fix: FIX.noBus } : { kind: "failure" };
        case 1: // G_IO_ERROR_NOT_FOUND: "Could not connect: No such file or directory"
        case 14: // G_IO_ERROR_PERMISSION_DENIED: the bus socket is not ours
        case 39: // G_IO_ERROR_CONNECTION_REFUSED
        case 18: // G_IO_ERROR_CLOSED
        case 44: // G_IO_ERROR_BROKEN_PIPE
        case 45: // G_IO_ERROR_NOT_CONNECTED
          return { kind: "unavailable", fix: FIX.noBus };
        case 19: // G_IO_ERROR_CANCELLED: our deadline cancelled the call
        case 24: // G_IO_ERROR_TIMED_OUT: GDBus's reply timeout
          return { kind: "unavailable", fix: FIX.timeout };
        case 46: // G_IO_ERROR_MESSAGE_TOO_LARGE
          return { kind: "too-large" };
        default:
          return { kind: "failure" };
      }
    case "g-dbus-error-quark":
      switch (code) {
        case 2: // G_DBUS_ERROR_SERVICE_UNKNOWN: nothing provides org.freedesktop.secrets
        case 3: // G_DBUS_ERROR_NAME_HAS_NO_OWNER
          return { kind: "unavailable", fix: FIX.noService };
        case 4: // G_DBUS_ERROR_NO_REPLY: a timeout, unless the bus says the service left without replying
          if (/disconnected/i.test(message)) return { kind: "unavailable", fix: FIX.noService };
          return { kind: "unavailable", fix: FIX.timeout };
        case 12: // G_DBUS_ERROR_TIMEOUT
        case 20: // G_DBUS_ERROR_TIMED_OUT
          return { kind: "unavailable", fix: FIX.timeout };
        case 8: // G_DBUS_ERROR_LIMITS_EXCEEDED: the message is larger than the bus allows
          return { kind: "too-large" };
        case 9: // G_DBUS_ERROR_ACCESS_DENIED: the user or a policy refused
          return { kind: "locked", fix: FIX.locked, reason: "denied" };
        case 5: // G_DBUS_ERROR_IO_ERROR
        case 6: // G_DBUS_ERROR_BAD_ADDRESS
        case 10: // G_DBUS_ERROR_AUTH_FAILED
        case 11: // G_DBUS_ERROR_NO_SERVER
        case 15: // G_DBUS_ERROR_DISCONNECTED
          return { kind: "unavailable", fix: FIX.noBus };
        default:
          // 23..34: G_DBUS_ERROR_SPAWN_*: activating the Secret Service failed.
          if (code >= 23 && code <= 34) return { kind: "unavailable", fix: FIX.noService };
          return { kind: "failure" };
      }
    case "secret-error":
      switch (code) {
        case 2: // SECRET_ERROR_IS_LOCKED
          return { kind: "locked", fix: FIX.locked };
        default: // SECRET_ERROR_PROTOCOL (1), NO_SUCH_OBJECT (3), ALREADY_EXISTS (4), …
          return { kind: "failure" };
      }
    case "g-spawn-exit-error-quark": // dbus-launch (autolaunch with $DISPLAY set) failed
    case "g-spawn-error-quark":
      return { kind: "unavailable", fix: FIX.noBus };
    default:
      return { kind: "failure" };
  }
}

/**
 * The {@linkcode KeyringError} for a GError raised while doing `what`
 * (e.g. `"reading the keyring entry"`). The GError itself is the `cause` and
 * `"domain:code"` the `code`; no secret is ever part of a GError.
 */
export function keyringErrorFromGError(info: GErrorInfo, what: string): KeyringError {
  const { kind, fix, reason } = classifyGError(info);
  const detail = `${plainMessage(info.message)} [${info.domain}:${info.code}]`;
  const message = fix === undefined ? `libsecret: ${what} failed: ${detail}` : `libsecret: ${what} failed: ${fix} (${detail})`;
  const cause = Object.assign(new Error(info.message), { name: "GError", domain: info.domain, code: info.code });
  return new KeyringError(message, { kind, reason: reason ?? reasonOf(kind, fix), backend: "libsecret", code: `${info.domain}:${info.code}`, cause });
}

/** A {@linkcode KeyringError} for a condition found without a GError (locked collection, no default collection, …). */
export function keyringError(kind: KeyringErrorKind, what: string, fix: string): KeyringError {
  return new KeyringError(`libsecret: ${what} failed: ${fix}`, { kind, reason: reasonOf(kind, fix), backend: "libsecret" });
}
