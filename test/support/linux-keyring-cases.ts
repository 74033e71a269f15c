/**
 * What the `linux-keyring-*.test.ts` files share: when the shared headless
 * keyring is there, fresh service and account names, the store command sent
 * to the keyring child, and a `@napi-rs/keyring` entry to check interop with.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Entry } from "@napi-rs/keyring";

/**
 * Why the tests of `callerUrl` that need the shared keyring (the one `npm test` starts with
 * `scripts/keyring-up.sh`; `DBUS_SESSION_BUS_ADDRESS` points at it) are skipped, or false.
 */
export function sharedKeyringSkip(callerUrl: string): string | false {
  const file = basename(fileURLToPath(callerUrl)).replace(/\.ts$/, ".js");
  return process.platform !== "linux"
    ? "the libsecret backend is Linux-only"
    : !process.env.DBUS_SESSION_BUS_ADDRESS
      ? `no test keyring: run through \`npm test\` or \`bash scripts/with-keyring.sh node --test dist/test/${file}\``
      : false;
}

/** A service name no other test uses. */
export const service = (): string => `authkeep-linux-${randomBytes(4).toString("hex")}`;
/** An account name no other test uses. */
export const account = (): string => `cli|${randomBytes(8).toString("hex")}`;
/** `@napi-rs/keyring`, pinned to the Secret Service so it never falls back to keyutils silently. */
export const napiEntry = (s: string, a: string): Entry => new Entry(s, a, { linux: { store: "secret-service" } });

/** A command for `startKeyringChild(...).send()`: one call of the child's `createLinuxKeyringStore(options)`. */
export const storeCall = (method: string, s: string, a: string, value = "v", options?: Record<string, unknown>) => ({
  op: "store",
  method,
  service: s,
  account: a,
  value,
  options,
});
