/**
 * The C functions of the Linux backend (libsecret-1 and the glib, gio and
 * gobject helpers it needs), declared once per FFI provider through
 * `native/ffi/`, so that the same backend runs on koffi, `Deno.dlopen` and
 * `bun:ffi`. The set is small on purpose and has no variadic function, which
 * `Deno.dlopen` and `bun:ffi` cannot call (nor koffi's `.async`). Every
 * function that can block on D-Bus takes a `GCancellable` and is called with
 * `.async` by the async methods; the others never block.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import {
  type FfiLibrary,
  type FfiOptions,
  type FfiProvider,
  type FfiSymbols,
  loadFfiProviderFor,
  type Pointer,
} from "../ffi/index.ts";
import { memoizePerProvider } from "../ffi/_bindings-cache.ts";
import { pinLoadedLibraries } from "../ffi/_pin.ts";

const GLIB = {
  g_hash_table_new_full: { args: ["pointer", "pointer", "pointer", "pointer"], returns: "pointer" },
  g_hash_table_insert: { args: ["pointer", "pointer", "pointer"], returns: "i32" },
  g_hash_table_unref: { args: ["pointer"], returns: "void" },
  g_strdup: { args: ["cstring"], returns: "pointer" },
  g_free: { args: ["pointer"], returns: "void" },
  g_strfreev: { args: ["pointer"], returns: "void" },
  g_error_free: { args: ["pointer"], returns: "void" },
  g_quark_to_string: { args: ["u32"], returns: "cstring" },
  g_variant_new_tuple: { args: ["buffer", "u64"], returns: "pointer" },
  g_variant_new_object_path: { args: ["cstring"], returns: "pointer" },
  g_variant_get_child_value: { args: ["pointer", "u64"], returns: "pointer" },
  g_variant_get_string: { args: ["pointer", "buffer"], returns: "cstring" },
  g_variant_unref: { args: ["pointer"], returns: "void" },
  g_main_context_iteration: { args: ["pointer", "i32"], returns: "i32" },
  g_main_context_new: { args: [], returns: "pointer" },
  g_main_context_push_thread_default: { args: ["pointer"], returns: "void" },
  g_main_context_pop_thread_default: { args: ["pointer"], returns: "void" },
} as const satisfies FfiSymbols;

const GOBJECT = {
  g_object_unref: { args: ["pointer"], returns: "void" },
} as const satisfies FfiSymbols;

const GIO = {
  g_cancellable_new: { args: [], returns: "pointer" },
  g_cancellable_cancel: { args: ["pointer"], returns: "void" },
  g_bus_get_sync: { args: ["i32", "pointer", "buffer"], returns: "pointer" },
  g_dbus_connection_set_exit_on_close: { args: ["pointer", "i32"], returns: "void" },
  // connection, bus_name, object_path, interface_name, method_name, parameters, reply_type, flags,
  // timeout_msec, cancellable, GError **error
  g_dbus_connection_call_sync: {
    args: ["pointer", "cstring", "cstring", "cstring", "cstring", "pointer", "pointer", "i32", "i32", "pointer", "buffer"],
    returns: "pointer",
  },
  g_dbus_proxy_set_default_timeout: { args: ["pointer", "i32"], returns: "void" },
  g_dbus_proxy_get_name_owner: { args: ["pointer"], returns: "pointer" },
  // connection, sender, interface_name, member, object_path, arg0, flags, callback, user_data, user_data_free_func
  g_dbus_connection_signal_subscribe: {
    args: ["pointer", "cstring", "cstring", "cstring", "cstring", "cstring", "i32", "pointer", "pointer", "pointer"],
    returns: "u32",
  },
  g_dbus_connection_signal_unsubscribe: { args: ["pointer", "u32"], returns: "void" },
} as const satisfies FfiSymbols;

const SECRET = {
  secret_service_get_type: { args: [], returns: "u64" },
  secret_service_open_sync: { args: ["u64", "cstring", "i32", "pointer", "buffer"], returns: "pointer" },
  secret_service_ensure_session_sync: { args: ["pointer", "pointer", "buffer"], returns: "i32" },
  // service, schema, attributes, cancellable, gchar ***unlocked, gchar ***locked, GError **error
  secret_service_search_for_dbus_paths_sync: {
    args: ["pointer", "pointer", "pointer", "pointer", "buffer", "buffer", "buffer"],
    returns: "i32",
  },
  secret_service_get_session_dbus_path: { args: ["pointer"], returns: "cstring" },
  secret_service_decode_dbus_secret: { args: ["pointer", "pointer"], returns: "pointer" },
  // service, schema, attributes, collection, label, value, cancellable, GError **error
  secret_service_store_sync: {
    args: ["pointer", "pointer", "pointer", "cstring", "cstring", "pointer", "pointer", "buffer"],
    returns: "i32",
  },
  secret_service_encode_dbus_secret: { args: ["pointer", "pointer"], returns: "pointer" },
  secret_collection_for_alias_sync: { args: ["pointer", "cstring", "i32", "pointer", "buffer"], returns: "pointer" },
  secret_collection_get_locked: { args: ["pointer"], returns: "i32" },
  secret_value_new: { args: ["buffer", "i64", "cstring"], returns: "pointer" },
  secret_value_get: { args: ["pointer", "buffer"], returns: "pointer" },
  secret_value_unref: { args: ["pointer"], returns: "void" },
} as const satisfies FfiSymbols;

/** The sonames tried, in order (Debian/Ubuntu/Fedora/Arch, then the BSDs' unversioned names). */
const LIBSECRET_NAMES = ["libsecret-1.so.0", "libsecret-1.so"];
const GLIB_NAMES = ["libglib-2.0.so.0", "libglib-2.0.so"];
const GOBJECT_NAMES = ["libgobject-2.0.so.0", "libgobject-2.0.so"];
const GIO_NAMES = ["libgio-2.0.so.0", "libgio-2.0.so"];

type Functions = FfiLibrary<typeof GLIB>["symbols"]
  & FfiLibrary<typeof GOBJECT>["symbols"]
  & FfiLibrary<typeof GIO>["symbols"]
  & FfiLibrary<typeof SECRET>["symbols"];

/** The bound functions, named after their C symbols, and the provider they run on. */
export interface Libsecret extends Functions {
  /** The FFI provider: memory access, and whether `.async` leaves the main thread. */
  readonly ffi: FfiProvider;
  /** The `GType` of `SecretService`, for `secret_service_open_sync`. */
  readonly secretServiceType: bigint;
  /** `g_str_hash`, `g_str_equal` and `g_free` as function pointers, for `g_hash_table_new_full`. */
  readonly strHash: Pointer;
  readonly strEqual: Pointer;
  readonly free: Pointer;
}

const bindOnProvider = memoizePerProvider((ffi): Libsecret => {
  try {
    return declare(ffi);
  } catch (error) {
    throw new KeyringError(
      "the Linux keyring needs libsecret, which could not be loaded; install it with `apt-get install libsecret-1-0` " +
        "(Fedora: `dnf install libsecret`, Arch: `pacman -S libsecret`), or use the file store",
      { kind: "unavailable", backend: "libsecret", cause: error },
    );
  }
});

/**
 * Loads the FFI provider, libsecret and glib, and declares the functions;
 * memoised per provider.
 *
 * @throws {KeyringError} kind `unavailable` when the provider or libsecret
 * cannot be loaded, saying what to install.
 */
export function bindLibsecret(options: FfiOptions): Libsecret {
  return bindOnProvider(loadFfiProviderFor("libsecret", options));
}

/** Opens the first of `names` that loads; `opened` collects the name that did. */
function open<const D extends FfiSymbols>(ffi: FfiProvider, names: readonly string[], symbols: D, opened: string[]): FfiLibrary<D> {
  let first: unknown;
  for (const name of names) {
    try {
      const library = ffi.open(name, symbols);
      opened.push(name);
      return library;
    } catch (error) {
      first ??= error;
    }
  }
  throw first;
}

function declare(ffi: FfiProvider): Libsecret {
  const opened: string[] = [];
  // libsecret first: its absence is the likely failure, and it pulls in glib.
  const secret = open(ffi, LIBSECRET_NAMES, SECRET, opened);
  const glib = open(ffi, GLIB_NAMES, GLIB, opened);
  const gobject = open(ffi, GOBJECT_NAMES, GOBJECT, opened);
  const gio = open(ffi, GIO_NAMES, GIO, opened);
  // They register GObject types: unmapped (a Deno worker ending) and loaded
  // again, they would register them twice and break. Kept mapped instead.
  pinLoadedLibraries(ffi, opened);
  return {
    ffi,
    ...glib.symbols,
    ...gobject.symbols,
    ...gio.symbols,
    ...secret.symbols,
    secretServiceType: secret.symbols.secret_service_get_type(),
    strHash: glib.symbol("g_str_hash"),
    strEqual: glib.symbol("g_str_equal"),
    free: glib.symbol("g_free"),
  };
}
