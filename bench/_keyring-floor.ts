/**
 * The floor of a warm keyring save (issue 20): one `Item.SetSecret` D-Bus call
 * on the connection and session authkeep's store uses, with the two values
 * encrypted once beforehand (untimed), so that the row is the round trip plus
 * what the Secret Service does with a new secret (gnome-keyring re-encrypts and
 * rewrites its keyring file) and nothing of authkeep's own work: no flow, no
 * AES in TypeScript, no checks. A store save that costs about this is at the
 * floor; what napi's save costs beyond it is its own work (it also searches).
 * `getSecretSync` is the same for a warm load: one `Item.GetSecret`, its
 * reply not even decrypted.
 *
 * @module
 */
import { runSync } from "../src/contract/engine.ts";
import { randomBytes } from "../src/contract/_crypto.ts";
import { bindGio } from "../native/linux/_bindings.ts";
import { search } from "../native/linux/_calls.ts";
import { encryptAesCbc } from "../native/linux/_dh-aes.ts";
import { encodeSecret } from "../native/linux/_layout.ts";
import { type Session, withSession } from "../native/linux/_session.ts";
import { byteArray, type FlowContext, SECRETS_BUS_NAME, tuple } from "../native/linux/_variant.ts";
import type { Pointer as FfiPointer } from "../native/ffi/index.ts";

/** One raw call per use: SetSecret alternating the two values, or GetSecret with the reply left encrypted. */
export interface SecretCallFloor {
  setSecretSync(): void;
  getSecretSync(): void;
}

/**
 * Prepares the floor for an item that already exists (the caller saved it
 * through the store): finds its path with one search, untimed.
 */
export function rawSecretCallFloor(service: string, account: string, values: readonly string[]): SecretCallFloor {
  // The same provider and round-trip timeout as defaultKeyringStore(): withSession hands out the store's own session.
  const context: FlowContext = { lib: bindGio({}), cancellable: null, roundTripMs: 2000 };
  const { lib } = context;
  const { session, path } = runSync(withSession(context, function* (open: Session) {
    const found = yield* search(context, open, service, account);
    return { session: open, path: found.unlocked[0] };
  }));
  if (path === undefined) throw new Error(`no unlocked item for ${account}`);
  const secrets = values.map((value) => {
    const iv = randomBytes(16);
    return { iv, cipher: encryptAesCbc(session.aesKey, iv, encodeSecret(value)) };
  });
  let turn = 0;
  return {
    setSecretSync: () => {
      const { iv, cipher } = secrets[turn++ % secrets.length]!;
      const secret = tuple(
        lib,
        lib.g_variant_new_object_path(session.sessionPath) as FfiPointer,
        byteArray(lib, iv),
        byteArray(lib, cipher),
        lib.g_variant_new_string("text/plain") as FfiPointer,
      );
      const error = new BigUint64Array(1);
      const reply = lib.g_dbus_connection_call_sync(
        session.connection, SECRETS_BUS_NAME, path, "org.freedesktop.Secret.Item", "SetSecret", tuple(lib, secret), "()", 0, 2000, null, error,
      ) as FfiPointer | null;
      if (!reply) throw new Error("SetSecret failed");
      lib.g_variant_unref(reply);
    },
    getSecretSync: () => {
      const error = new BigUint64Array(1);
      const parameters = tuple(lib, lib.g_variant_new_object_path(session.sessionPath) as FfiPointer);
      const reply = lib.g_dbus_connection_call_sync(
        session.connection, SECRETS_BUS_NAME, path, "org.freedesktop.Secret.Item", "GetSecret", parameters, "((oayays))", 0, 2000, null, error,
      ) as FfiPointer | null;
      if (!reply) throw new Error("GetSecret failed");
      lib.g_variant_unref(reply);
    },
  };
}
