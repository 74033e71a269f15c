/**
 * The Secret Service operations of the Linux backend, one D-Bus round trip
 * each (raw `g_dbus_connection_call_sync` on one connection, every call with
 * our own reply timeout), written as flow steps (see `src/contract/engine.ts`).
 * Secrets cross the bus encrypted with the session's AES key (`_dh-aes.ts`).
 *
 * @module
 */
import type { KeyringError } from "../../src/contract/keyring-error.ts";
import type { Flow } from "../../src/contract/engine.ts";
import type { Pointer as FfiPointer } from "../ffi/index.ts";
import { decryptAesCbc, deriveAesKey, DH_ALGORITHM, encryptAesCbc, generateDhKeys } from "./_dh-aes.ts";
import { randomBytes } from "../../src/contract/_crypto.ts";
import { FIX, isNoSuchObject, isStaleConnectionError, keyringError, keyringErrorFromGError, staleSessionError } from "./_errors.ts";
import { CONTENT_TYPE, createAttributes, decodeSecret, itemLabel, lookupAttributes } from "./_layout.ts";
import {
  byteArray,
  callMethod,
  callOrThrow,
  child,
  dictionary,
  type FlowContext,
  readByteArray,
  readStrings,
  stringChild,
  tuple,
} from "./_variant.ts";

/** What the operations need of an open session. */
export interface Connected {
  /** `GDBusConnection *` (the process's shared session bus connection). */
  readonly connection: FfiPointer;
  /** The Secret Service session's object path. */
  readonly sessionPath: string;
  /** The session's AES-128 key. */
  readonly aesKey: Uint8Array;
}

const SECRETS_PATH = "/org/freedesktop/secrets";
/** The default collection by alias, as libsecret addresses it. */
const DEFAULT_ALIAS_PATH = "/org/freedesktop/secrets/aliases/default";
const SERVICE = "org.freedesktop.Secret.Service";
const COLLECTION = "org.freedesktop.Secret.Collection";
const ITEM = "org.freedesktop.Secret.Item";
const PROPERTIES = "org.freedesktop.DBus.Properties";

/** Opens an encrypted session (`OpenSession` with Diffie-Hellman): its path and AES key. */
export function* openSecretSession(context: FlowContext, connection: FfiPointer): Flow<{ sessionPath: string; aesKey: Uint8Array }> {
  const { lib } = context;
  const what = "connecting to the Secret Service";
  const keys = generateDhKeys();
  const parameters = tuple(lib, lib.g_variant_new_string(DH_ALGORITHM) as FfiPointer, lib.g_variant_new_variant(byteArray(lib, keys.publicKey)) as FfiPointer);
  const reply = yield* callOrThrow(what, context, connection, SECRETS_PATH, SERVICE, "OpenSession", parameters, "(vo)");
  try {
    const output = child(lib, reply, 0);
    const inner = lib.g_variant_get_variant(output) as FfiPointer;
    lib.g_variant_unref(output);
    let peer: Uint8Array;
    try {
      if (!lib.g_variant_is_of_type(inner, "ay")) throw keyringError("failure", what, "the Secret Service answered OpenSession with no public key");
      peer = readByteArray(lib, inner);
    } finally {
      lib.g_variant_unref(inner);
    }
    let aesKey: Uint8Array;
    try {
      aesKey = deriveAesKey(keys, peer);
    } catch (error) {
      throw keyringError("failure", what, (error as Error).message);
    }
    return { sessionPath: stringChild(lib, reply, 1), aesKey };
  } finally {
    lib.g_variant_unref(reply);
  }
}

/** The paths of the items matching `{service, username}` in every collection (`SearchItems`), unlocked and locked. */
export function* search(context: FlowContext, session: Connected, service: string, account: string): Flow<{ unlocked: string[]; locked: string[] }> {
  const { lib } = context;
  const attributes = Object.fromEntries(Object.entries(lookupAttributes(service, account)).map(([k, v]) => [k, lib.g_variant_new_string(v) as FfiPointer]));
  const parameters = tuple(lib, dictionary(lib, "a{ss}", attributes));
  const reply = yield* callOrThrow("searching the keyring", context, session.connection, SECRETS_PATH, SERVICE, "SearchItems", parameters, "(aoao)");
  try {
    const lists = [0, 1].map((index) => {
      const list = child(lib, reply, index);
      try {
        return readStrings(lib, list);
      } finally {
        lib.g_variant_unref(list);
      }
    });
    return { unlocked: lists[0]!, locked: lists[1]! };
  } finally {
    lib.g_variant_unref(reply);
  }
}

/**
 * Calls `method` of the item at `path`. Returns the reply (to unref), or
 * `null` when the item does not exist (any more).
 * @throws {KeyringError} for every other error.
 */
function* callItem(context: FlowContext, session: Connected, path: string, method: string, parameters: FfiPointer | null, replyType: string, what: string): Flow<FfiPointer | null> {
  const result = yield* callMethod(context, session.connection, path, ITEM, method, parameters, replyType);
  if (!result.error) return result.reply;
  if (isNoSuchObject(result.error)) return null;
  throw keyringErrorFromGError(result.error, what);
}

/** The `(oayays)` secret struct of `bytes`, encrypted under the session key with a fresh IV (floating). */
function encodeSecret(context: FlowContext, session: Connected, bytes: Uint8Array): FfiPointer {
  const { lib } = context;
  const iv = randomBytes(16);
  const cipher = encryptAesCbc(session.aesKey, iv, bytes);
  return tuple(
    lib,
    lib.g_variant_new_object_path(session.sessionPath) as FfiPointer,
    byteArray(lib, iv),
    byteArray(lib, cipher),
    lib.g_variant_new_string(CONTENT_TYPE) as FfiPointer,
  );
}

/** The secret of the item at `path` (`Item.GetSecret`); `undefined` when the item is gone. */
export function* getSecret(context: FlowContext, session: Connected, path: string): Flow<string | undefined> {
  const { lib } = context;
  const what = "reading the keyring entry";
  const parameters = tuple(lib, lib.g_variant_new_object_path(session.sessionPath) as FfiPointer);
  const reply = yield* callItem(context, session, path, "GetSecret", parameters, "((oayays))", what);
  if (!reply) return undefined;
  let iv: Uint8Array, cipher: Uint8Array;
  const secret = child(lib, reply, 0);
  try {
    const [ivValue, cipherValue] = [child(lib, secret, 1), child(lib, secret, 2)];
    iv = readByteArray(lib, ivValue);
    cipher = readByteArray(lib, cipherValue);
    lib.g_variant_unref(ivValue);
    lib.g_variant_unref(cipherValue);
  } finally {
    lib.g_variant_unref(secret);
    lib.g_variant_unref(reply);
  }
  let bytes: Uint8Array;
  try {
    bytes = decryptAesCbc(session.aesKey, iv, cipher);
  } catch {
    throw staleSessionError(what, "the secret could not be decrypted with this session");
  }
  try {
    return decodeSecret(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** Replaces the secret of the item at `path` in place (`Item.SetSecret`); `false` when the item is gone. */
export function* setSecret(context: FlowContext, session: Connected, path: string, bytes: Uint8Array): Flow<boolean> {
  const { lib } = context;
  const reply = yield* callItem(context, session, path, "SetSecret", tuple(lib, encodeSecret(context, session, bytes)), "()", "saving the keyring entry");
  if (!reply) return false;
  lib.g_variant_unref(reply);
  return true;
}

/** Deletes the item at `path` (`Item.Delete`); `false` when it was already gone. */
export function* deleteItem(context: FlowContext, session: Connected, path: string, what: string): Flow<boolean> {
  const { lib } = context;
  const reply = yield* callItem(context, session, path, "Delete", null, "(o)", what);
  if (!reply) return false;
  // The reply is "/" when done, or a prompt the user would have to answer.
  const prompt = stringChild(lib, reply, 0);
  lib.g_variant_unref(reply);
  if (prompt !== "/") throw keyringError("locked", what, FIX.locked);
  return true;
}

/** Creates the item in the default collection (`CreateItem` with replace), bounded like every other call. */
export function* createItem(context: FlowContext, session: Connected, service: string, account: string, bytes: Uint8Array): Flow<void> {
  const { lib } = context;
  const what = "saving the keyring entry";
  const attributes = Object.fromEntries(Object.entries(createAttributes(service, account)).map(([k, v]) => [k, lib.g_variant_new_string(v) as FfiPointer]));
  const properties = dictionary(lib, "a{sv}", {
    "org.freedesktop.Secret.Item.Label": lib.g_variant_new_string(itemLabel(service, account)) as FfiPointer,
    "org.freedesktop.Secret.Item.Attributes": dictionary(lib, "a{ss}", attributes),
  });
  const parameters = tuple(lib, properties, encodeSecret(context, session, bytes), lib.g_variant_new_boolean(1) as FfiPointer);
  const result = yield* callMethod(context, session.connection, DEFAULT_ALIAS_PATH, COLLECTION, "CreateItem", parameters, "(oo)");
  if (!result.error) {
    const prompt = stringChild(lib, result.reply, 1);
    lib.g_variant_unref(result.reply);
    if (prompt !== "/") throw keyringError("locked", what, FIX.prompt);
    return;
  }
  const failure = keyringErrorFromGError(result.error, what);
  if (isStaleConnectionError(failure) || failure.kind === "unavailable") throw failure;
  // A locked or missing default collection also fails CreateItem; say which.
  let state: "unlocked" | "locked" | "missing";
  try {
    state = yield* defaultCollectionState(context, session);
  } catch {
    throw failure;
  }
  throw stateError(state, what) ?? failure;
}

/** The error for a default collection that is missing or locked, if it is. */
function stateError(state: "unlocked" | "locked" | "missing", what: string): KeyringError | undefined {
  if (state === "missing") return keyringError("unavailable", what, FIX.noDefaultCollection);
  if (state === "locked") return keyringError("locked", what, FIX.locked);
  return undefined;
}

/**
 * Whether the `default` alias names a collection, and whether it is locked:
 * one `Properties.Get` on the alias path; where a Secret Service does not
 * serve alias paths, `ReadAlias` and then the collection's property.
 */
export function* defaultCollectionState(context: FlowContext, session: Connected): Flow<"unlocked" | "locked" | "missing"> {
  const { lib } = context;
  const what = "reading the default collection";
  const locked = () => tuple(lib, lib.g_variant_new_string(COLLECTION) as FfiPointer, lib.g_variant_new_string("Locked") as FfiPointer);
  let result = yield* callMethod(context, session.connection, DEFAULT_ALIAS_PATH, PROPERTIES, "Get", locked(), "(v)");
  if (result.error) {
    if (!isNoSuchObject(result.error)) throw keyringErrorFromGError(result.error, what);
    const alias = yield* callOrThrow(what, context, session.connection, SECRETS_PATH, SERVICE, "ReadAlias", tuple(lib, lib.g_variant_new_string("default") as FfiPointer), "(o)");
    const path = stringChild(lib, alias, 0);
    lib.g_variant_unref(alias);
    if (path === "/") return "missing";
    result = yield* callMethod(context, session.connection, path, PROPERTIES, "Get", locked(), "(v)");
    if (result.error) {
      if (isNoSuchObject(result.error)) return "missing";
      throw keyringErrorFromGError(result.error, what);
    }
  }
  const boxed = child(lib, result.reply, 0);
  const value = lib.g_variant_get_variant(boxed) as FfiPointer;
  lib.g_variant_unref(boxed);
  lib.g_variant_unref(result.reply);
  try {
    return lib.g_variant_is_of_type(value, "b") && lib.g_variant_get_boolean(value) === 0 ? "unlocked" : "locked";
  } finally {
    lib.g_variant_unref(value);
  }
}

/** Nothing matched: fine if the default collection is there and unlocked, else say why nothing can be found. */
export function* requireUnlockedDefaultCollection(context: FlowContext, session: Connected, what: string): Flow<void> {
  const failure = stateError(yield* defaultCollectionState(context, session), what);
  if (failure) throw failure;
}
