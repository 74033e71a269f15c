/**
 * A stopgap for keyring errors that carry no `reason` yet: it recovers one
 * from the message and the GError code. Only the Linux backend still throws
 * such errors (its error table gains reasons separately); delete this module
 * when every `native/linux` throw site sets `reason`.
 *
 * The Linux cases and their GErrors are those of `linux-secret-service.md` §4
 * (libsecret 0.20.5 through FFI):
 *
 * | reason | typical error |
 * |---|---|
 * | `no-ffi` | the optional FFI dependency cannot be loaded (`MODULE_NOT_FOUND`) |
 * | `no-library` | `libsecret-1.so.0: cannot open shared object file` |
 * | `no-bus` | `Cannot autolaunch D-Bus without X11 $DISPLAY [g-io-error-quark:0]`, `Could not connect [g-io-error-quark:1]` |
 * | `no-service` | `The name org.freedesktop.secrets was not provided by any .service files [g-dbus-error-quark:2]` |
 * | `no-default-collection` | `Object does not exist at path "/org/freedesktop/secrets/collection/login" [g-dbus-error-quark:19]` |
 * | `locked` | `Cannot create an item in a locked collection [secret-error:2]` |
 * | `timeout` | `Timeout was reached [g-io-error-quark:24]`, `Operation was cancelled [g-io-error-quark:19]` |
 *
 * @module
 */
import type { KeyringErrorReason } from "../contract/keyring-error.ts";

/** What the stopgap reads of an error. */
export interface MessageFacts {
  message: string;
  kind: string | undefined;
  code: string | number | undefined;
  causeCode: string | undefined;
  causeText: string;
  /** Whether this machine is Linux-like (the GError patterns apply). */
  linux: boolean;
  /** Whether `DBUS_SESSION_BUS_ADDRESS` is set. */
  hasBusAddress: boolean;
}

/** The reason a reason-less error most likely has, or `undefined` when nothing matches. */
export function reasonFromMessage(facts: MessageFacts): KeyringErrorReason | undefined {
  const text = `${facts.message} ${String(facts.code ?? "")} ${facts.causeText}`;
  const has = (pattern: RegExp): boolean => pattern.test(text);
  if (facts.causeCode === "MODULE_NOT_FOUND" || facts.causeCode === "ERR_MODULE_NOT_FOUND" || has(/optional dependency/i)) return "no-ffi";
  if (has(/needs libsecret|libsecret[^ ]*\.so|cannot open shared object|libsecret.*(not found|not installed|missing)/i)) return "no-library";
  if (
    facts.kind !== "locked" &&
    (facts.code === "timeout" ||
      has(/time(d)? ?out|timeout was reached|g-io-error-quark:(19|24)\b|g-dbus-error-quark:(4|12|20)\b|did not (answer|reply)|no answer within|operation was cancelled/i))
  ) {
    return "timeout";
  }
  if (!facts.linux) return undefined;
  if (has(/no secret service|org\.freedesktop\.secrets was not provided|serviceunknown|service ?unknown|namehasnoowner|g-dbus-error-quark:(2|3|2[3-9]|3[0-4])\b/i)) {
    return "no-service";
  }
  if (has(/default collection|no such collection|collection\/login|object does not exist at path|no result found/i)) return "no-default-collection";
  if (facts.kind === "locked" || has(/locked collection|is locked|prompt was dismissed|secret-error:2\b/i)) return "locked";
  const noBus = has(
    /no D-Bus session bus|autolaunch|could not connect|connection refused|g-spawn-(exit-)?error-quark|g-io-error-quark:(0|1|14|18|39|44|45)\b|g-dbus-error-quark:(5|6|10|11|15)\b/i,
  );
  if (noBus || (!facts.hasBusAddress && facts.kind === "unavailable")) return "no-bus";
  return undefined;
}
