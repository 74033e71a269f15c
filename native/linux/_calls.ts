/**
 * The Secret Service operations of the Linux backend, one D-Bus round trip
 * each, written as flow steps (see `src/contract/engine.ts`), and the small FFI helpers
 * they share: GError and string decoding, attribute tables, all on the FFI
 * provider interface (`ffi/`), so that they run on koffi, `Deno.dlopen` and
 * `bun:ffi` alike.
 *
 * Every blocking C call is a {@linkcode call} step: run directly by the sync
 * methods, or with the provider's `.async` by the async ones (with the
 * call's `GCancellable`): on a koffi worker thread or Deno's blocking pool;
 * on bun:ffi, which cannot leave the main thread, synchronously. Everything
 * else here never blocks.
 *
 * @module
 */
import type { KeyringError } from "../../src/contract/keyring-error.ts";
import { type Flow, io, type Step } from "../../src/contract/engine.ts";
import type { Libsecret } from "./_bindings.ts";
import { POINTER_SIZE, type Pointer as FfiPointer } from "../ffi/index.ts";
import {
  FIX,
  type GErrorInfo,
  isNoSuchObject,
  isStaleConnectionError,
  keyringError,
  keyringErrorFromGError,
  staleSessionError,
} from "./_errors.ts";
import { CONTENT_TYPE, createAttributes, decodeSecret, DEFAULT_COLLECTION, itemLabel, lookupAttributes } from "./_layout.ts";

/** A C pointer, or `null` for NULL (the provider's opaque pointer). */
export type Pointer = FfiPointer | null;

/** The state a flow runs with. */
export interface FlowContext {
  readonly lib: Libsecret;
  /** `GCancellable *` of an async call, cancelled at its deadline; `null` for sync calls. */
  readonly cancellable: Pointer;
  /** Reply timeout of each D-Bus round trip (`syncTimeoutMs`). */
  readonly roundTripMs: number;
}

/** What the operations need of an open session. */
export interface Connected {
  /** `GDBusConnection *` (the process's shared session bus connection). */
  readonly connection: FfiPointer;
  /** `SecretService *`, with an open (DH-encrypted) session. */
  readonly service: FfiPointer;
  /** The daemon's unique bus name; raw calls go there, so they fail instead of reaching a restarted daemon. */
  readonly owner: string;
}

const G_DBUS_CALL_FLAGS_NONE = 0;
const SECRET_COLLECTION_NONE = 0;
const ITEM_INTERFACE = "org.freedesktop.Secret.Item";

/** The paths of the items matching `{service, username}` in every collection (`SearchItems`), unlocked and locked. */
export function* search(
  context: FlowContext,
  session: Connected,
  service: string,
  account: string,
): Flow<{ unlocked: string[]; locked: string[] }> {
  const { lib } = context;
  const attributes = attributeTable(lib, lookupAttributes(service, account));
  const unlocked = new BigUint64Array(1);
  const locked = new BigUint64Array(1);
  const error = new BigUint64Array(1);
  try {
    yield* io(call<number>(
      lib.secret_service_search_for_dbus_paths_sync,
      session.service, null, attributes, context.cancellable, unlocked, locked, error,
    ));
  } finally {
    lib.g_hash_table_unref(attributes);
  }
  const result = { unlocked: takeStrv(lib, lib.ffi.readPointer(unlocked)), locked: takeStrv(lib, lib.ffi.readPointer(locked)) };
  throwGError(lib, error, "searching the keyring");
  return result;
}

/**
 * Calls `method` of the Secret Service item at `path`, addressed to the
 * daemon's unique name with our own reply timeout. Returns the reply
 * (to unref), or `null` when the item does not exist (any more).
 * `parameters` is a floating GVariant (or NULL); the call consumes it.
 *
 * @throws {KeyringError} for every other error.
 */
function* callItem(
  context: FlowContext,
  session: Connected,
  path: string,
  method: string,
  parameters: Pointer,
  what: string,
): Flow<Pointer> {
  const { lib } = context;
  const error = new BigUint64Array(1);
  const reply = yield* io(call<Pointer>(
    lib.g_dbus_connection_call_sync,
    session.connection, session.owner, path, ITEM_INTERFACE, method,
    parameters, null, G_DBUS_CALL_FLAGS_NONE, context.roundTripMs, context.cancellable, error,
  ));
  const gerror = takeGError(lib, error);
  if (gerror === undefined && reply) return reply;
  if (reply) lib.g_variant_unref(reply);
  if (gerror === undefined || isNoSuchObject(gerror)) return null;
  throw keyringErrorFromGError(gerror, what);
}

/**
 * The secret of the item at `path` (`Item.GetSecret`); `undefined` when the
 * item is gone. Called on the item itself rather than through libsecret's
 * `secret_service_get_secret_for_dbus_path_sync`, which leaks about the size
 * of the secret on every call (libsecret 0.20.5, measured).
 */
export function* getSecret(context: FlowContext, session: Connected, path: string): Flow<string | undefined> {
  const { lib } = context;
  const what = "reading the keyring entry";
  const sessionPath = lib.secret_service_get_session_dbus_path(session.service) as string | null;
  if (!sessionPath) throw staleSessionError(what, "no open Secret Service session");
  const parameters = lib.g_variant_new_tuple(pointerArray(lib, lib.g_variant_new_object_path(sessionPath)), 1);
  const reply = yield* callItem(context, session, path, "GetSecret", parameters, what);
  if (!reply) return undefined;
  let value: Pointer;
  const secret = lib.g_variant_get_child_value(reply, 0) as Pointer; // (oayays)
  try {
    value = lib.secret_service_decode_dbus_secret(session.service, secret) as Pointer;
  } finally {
    lib.g_variant_unref(secret);
    lib.g_variant_unref(reply);
  }
  if (!value) throw staleSessionError(what, "the secret could not be decrypted with this session");
  try {
    const length = new BigUint64Array(1);
    const data = lib.secret_value_get(value, length);
    const size = Number(length[0]);
    if (!data || size === 0) return "";
    // A copy, wiped once decoded.
    const bytes = lib.ffi.readBytes(data, size);
    try {
      return decodeSecret(bytes);
    } finally {
      bytes.fill(0);
    }
  } finally {
    lib.secret_value_unref(value); // wipes the memory the secret was decrypted into
  }
}

/** Replaces the secret of the item at `path` in place (`Item.SetSecret`); `false` when the item is gone. */
export function* setSecret(context: FlowContext, session: Connected, path: string, bytes: Uint8Array): Flow<boolean> {
  const { lib } = context;
  const what = "saving the keyring entry";
  const value = lib.secret_value_new(bytes, bytes.length, CONTENT_TYPE) as Pointer;
  let secret: Pointer;
  try {
    secret = lib.secret_service_encode_dbus_secret(session.service, value) as Pointer; // floating, encrypted
  } finally {
    lib.secret_value_unref(value);
  }
  if (!secret) throw staleSessionError(what, "no open Secret Service session");
  const reply = yield* callItem(context, session, path, "SetSecret", lib.g_variant_new_tuple(pointerArray(lib, secret), 1), what);
  if (!reply) return false;
  lib.g_variant_unref(reply);
  return true;
}

/** Deletes the item at `path` (`Item.Delete`); `false` when it was already gone. */
export function* deleteItem(context: FlowContext, session: Connected, path: string, what: string): Flow<boolean> {
  const { lib } = context;
  const reply = yield* callItem(context, session, path, "Delete", null, what);
  if (!reply) return false;
  // The reply is `(o)`: "/" when done, or a prompt the user would have to answer.
  const child = lib.g_variant_get_child_value(reply, 0) as Pointer;
  const prompt = lib.g_variant_get_string(child, null) as string;
  lib.g_variant_unref(child);
  lib.g_variant_unref(reply);
  if (prompt !== "/") throw keyringError("locked", what, FIX.locked);
  return true;
}

/** Creates the item in the default collection (CreateItem, replacing an identical one). */
export function* createItem(context: FlowContext, session: Connected, service: string, account: string, bytes: Uint8Array): Flow<void> {
  const { lib } = context;
  const what = "saving the keyring entry";
  const attributes = attributeTable(lib, createAttributes(service, account));
  const value = lib.secret_value_new(bytes, bytes.length, CONTENT_TYPE) as Pointer;
  const error = new BigUint64Array(1);
  try {
    yield* io(call<number>(
      lib.secret_service_store_sync,
      session.service, null, attributes, DEFAULT_COLLECTION, itemLabel(service, account), value, context.cancellable, error,
    ));
  } finally {
    lib.secret_value_unref(value);
    lib.g_hash_table_unref(attributes);
  }
  const gerror = takeGError(lib, error);
  if (gerror === undefined) return;
  const failure = keyringErrorFromGError(gerror, what);
  if (isStaleConnectionError(failure) || failure.kind === "unavailable") throw failure;
  // A locked or missing default collection also fails CreateItem; say which.
  let state: "unlocked" | "locked" | "missing";
  try {
    state = yield* defaultCollectionState(context, session);
  } catch {
    throw failure;
  }
  if (state === "missing") throw keyringError("unavailable", what, FIX.noDefaultCollection);
  if (state === "locked") throw keyringError("locked", what, FIX.locked);
  throw failure;
}

/** Whether the `default` alias points at a collection, and whether it is locked (`ReadAlias`, then the collection's properties). */
export function* defaultCollectionState(context: FlowContext, session: Connected): Flow<"unlocked" | "locked" | "missing"> {
  const { lib } = context;
  const error = new BigUint64Array(1);
  const collection = yield* io(call<Pointer>(
    lib.secret_collection_for_alias_sync, session.service, DEFAULT_COLLECTION, SECRET_COLLECTION_NONE, context.cancellable, error,
  ));
  throwGError(lib, error, "reading the default collection");
  if (!collection) return "missing";
  try {
    return lib.secret_collection_get_locked(collection) ? "locked" : "unlocked";
  } finally {
    lib.g_object_unref(collection);
  }
}

/** Nothing matched: fine if the default collection is there and unlocked, else say why nothing can be found. */
export function* requireUnlockedDefaultCollection(context: FlowContext, session: Connected, what: string): Flow<void> {
  const state = yield* defaultCollectionState(context, session);
  if (state === "missing") throw keyringError("unavailable", what, FIX.noDefaultCollection);
  if (state === "locked") throw keyringError("locked", what, FIX.locked);
}

// ---------------------------------------------------------------------------
// Small FFI helpers

/** Any declared C function; the flows pass the arguments `_libsecret-bindings.ts` declares. */
// deno-lint-ignore no-explicit-any
type AnyNativeFunction = ((...args: any[]) => unknown) & { async(...args: any[]): Promise<unknown> };

/**
 * A C call as a flow step: direct for runSync; for runAsync, the provider's
 * `.async` (off the main thread, except on bun:ffi where it blocks it).
 */
export function call<R>(fn: AnyNativeFunction, ...args: unknown[]): Step<R> {
  return {
    sync: () => fn(...args) as R,
    async: () => fn.async(...args) as Promise<R>,
  };
}

/** A C array of pointers (`GVariant **children`), as a buffer argument. */
function pointerArray(lib: Libsecret, ...pointers: Pointer[]): BigUint64Array {
  return BigUint64Array.from(pointers, (pointer) => lib.ffi.address(pointer));
}

/** `GHashTable<char *, char *>` owning copies of the attributes. */
export function attributeTable(lib: Libsecret, attributes: Record<string, string>): FfiPointer {
  const table = lib.g_hash_table_new_full(lib.strHash, lib.strEqual, lib.free, lib.free);
  if (table === null) throw new RangeError("g_hash_table_new_full returned NULL");
  for (const [name, value] of Object.entries(attributes)) {
    lib.g_hash_table_insert(table, lib.g_strdup(name), lib.g_strdup(value));
  }
  return table;
}

/**
 * Decodes and frees a `GError *` out-parameter, and sets it back to NULL
 * (glib wants `*error == NULL` on entry; call sites reuse one buffer).
 */
export function takeGError(lib: Libsecret, out: BigUint64Array): GErrorInfo | undefined {
  const pointer = lib.ffi.readPointer(out);
  if (pointer === null) return undefined;
  out[0] = 0n;
  try {
    // struct GError { GQuark domain; gint code; gchar *message; }
    const fields = lib.ffi.view(pointer, 8);
    const domainQuark = fields.getUint32(0, true);
    const code = fields.getInt32(4, true);
    const message = lib.ffi.readPointer(pointer, 8);
    const domain = lib.g_quark_to_string(domainQuark) ?? `quark-${domainQuark}`;
    return { domain, code, message: message === null ? "" : lib.ffi.readCString(message) };
  } finally {
    lib.g_error_free(pointer);
  }
}

/** Throws the {@linkcode KeyringError} for a `GError *` out-parameter, if it is set (and frees it). */
export function throwGError(lib: Libsecret, out: BigUint64Array, what: string): void {
  const gerror = takeGError(lib, out);
  if (gerror !== undefined) throw keyringErrorFromGError(gerror, what);
}

/** Decodes and frees a `gchar **` (NULL-terminated) out-parameter. */
export function takeStrv(lib: Libsecret, pointer: Pointer): string[] {
  if (pointer === null) return [];
  const strings: string[] = [];
  try {
    for (let index = 0; ; index++) {
      const item = lib.ffi.readPointer(pointer, index * POINTER_SIZE);
      if (item === null) break;
      strings.push(lib.ffi.readCString(item));
    }
  } finally {
    lib.g_strfreev(pointer);
  }
  return strings;
}

/** Decodes and frees a `gchar *` returned with ownership. */
export function takeString(lib: Libsecret, pointer: Pointer): string | null {
  if (pointer === null) return null;
  try {
    return lib.ffi.readCString(pointer);
  } finally {
    lib.g_free(pointer);
  }
}
