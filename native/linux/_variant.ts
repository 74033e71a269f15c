/**
 * The small FFI helpers of the Linux backend: one bounded D-Bus method call
 * as a flow step, GVariant building and reading, and GError decoding, all on
 * the FFI provider interface (`ffi/`), so that they run on koffi,
 * `Deno.dlopen` and `bun:ffi` alike.
 *
 * @module
 */
import { type Flow, io, type Step } from "../../src/contract/engine.ts";
import type { Gio } from "./_bindings.ts";
import type { Pointer as FfiPointer } from "../ffi/index.ts";
import { type GErrorInfo, keyringErrorFromGError } from "./_errors.ts";

/** A C pointer, or `null` for NULL (the provider's opaque pointer). */
export type Pointer = FfiPointer | null;

/** The state a flow runs with. */
export interface FlowContext {
  readonly lib: Gio;
  /** `GCancellable *` of an async call, cancelled at its deadline; `null` for sync calls. */
  readonly cancellable: Pointer;
  /** Reply timeout of each D-Bus round trip (`syncTimeoutMs`). */
  readonly roundTripMs: number;
}

/** The Secret Service's well-known bus name. */
export const SECRETS_BUS_NAME = "org.freedesktop.secrets";

/** Any declared C function; the flows pass the arguments `_bindings.ts` declares. */
// deno-lint-ignore no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: each bound function has its own argument types; this is their common shape
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

/** A method call's reply (to unref), or the error it failed with. */
export type Reply = { reply: FfiPointer; error?: undefined } | { reply?: undefined; error: GErrorInfo };

/**
 * Calls `method` on the Secret Service, bounded by the round-trip timeout.
 * GDBus checks the reply against `replyType`, so the readers below never see
 * another shape. `parameters` is a floating GVariant (or NULL); the call takes it.
 */
export function* callMethod(
  context: FlowContext,
  connection: FfiPointer,
  path: string,
  interfaceName: string,
  method: string,
  parameters: Pointer,
  replyType: string,
): Flow<Reply> {
  const { lib } = context;
  const error = new BigUint64Array(1);
  const reply = yield* io(call<Pointer>(
    lib.g_dbus_connection_call_sync,
    connection, SECRETS_BUS_NAME, path, interfaceName, method, parameters, replyType, 0, context.roundTripMs, context.cancellable, error,
  ));
  const gerror = takeGError(lib, error);
  if (gerror === undefined && reply) return { reply };
  if (reply) lib.g_variant_unref(reply);
  return { error: gerror ?? { domain: "g-io-error-quark", code: 0, message: `${method}: no reply` } };
}

/** {@linkcode callMethod}, throwing the {@linkcode KeyringError} of a failure (while doing `what`). */
export function* callOrThrow(what: string, ...args: Parameters<typeof callMethod>): Flow<FfiPointer> {
  const result = yield* callMethod(...args);
  if (result.error) throw keyringErrorFromGError(result.error, what);
  return result.reply;
}

/** A floating tuple of `children` (floating GVariants). */
export function tuple(lib: Gio, ...children: FfiPointer[]): FfiPointer {
  return lib.g_variant_new_tuple(BigUint64Array.from(children, (child) => lib.ffi.address(child)), children.length) as FfiPointer;
}

/** A floating `a{ss}` or `a{sv}` dictionary; values of `a{sv}` are wrapped in variants here. */
export function dictionary(lib: Gio, type: "a{ss}" | "a{sv}", entries: Record<string, FfiPointer>): FfiPointer {
  const pairs = Object.entries(entries).map(([key, value]) =>
    lib.ffi.address(lib.g_variant_new_dict_entry(lib.g_variant_new_string(key), type === "a{sv}" ? lib.g_variant_new_variant(value) : value))
  );
  return lib.g_variant_new_array(type.slice(1), BigUint64Array.from(pairs), pairs.length) as FfiPointer;
}

/** A floating `ay` holding a copy of `bytes`. */
export function byteArray(lib: Gio, bytes: Uint8Array): FfiPointer {
  return lib.g_variant_new_fixed_array("y", bytes.length === 0 ? null : bytes, bytes.length, 1) as FfiPointer;
}

/** Child `index` of a container (to unref). */
export function child(lib: Gio, value: FfiPointer, index: number): FfiPointer {
  return lib.g_variant_get_child_value(value, index) as FfiPointer;
}

/** The string (or object path) child `index` of a container. */
export function stringChild(lib: Gio, value: FfiPointer, index: number): string {
  const item = child(lib, value, index);
  try {
    return lib.g_variant_get_string(item, null) ?? "";
  } finally {
    lib.g_variant_unref(item);
  }
}

/** A copy of the bytes of an `ay` value. */
export function readByteArray(lib: Gio, value: FfiPointer): Uint8Array {
  const length = new BigUint64Array(1);
  const data = lib.g_variant_get_fixed_array(value, length, 1);
  const size = Number(length[0]);
  return data === null || size === 0 ? new Uint8Array(0) : lib.ffi.readBytes(data, size);
}

/** The strings of an `as`/`ao` value. */
export function readStrings(lib: Gio, value: FfiPointer): string[] {
  const count = Number(lib.g_variant_n_children(value));
  const strings: string[] = [];
  for (let index = 0; index < count; index++) strings.push(stringChild(lib, value, index));
  return strings;
}

/**
 * Decodes and frees a `GError *` out-parameter, and sets it back to NULL
 * (glib wants `*error == NULL` on entry; call sites reuse one buffer).
 */
export function takeGError(lib: Gio, out: BigUint64Array): GErrorInfo | undefined {
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
export function throwGError(lib: Gio, out: BigUint64Array, what: string): void {
  const gerror = takeGError(lib, out);
  if (gerror !== undefined) throw keyringErrorFromGError(gerror, what);
}
