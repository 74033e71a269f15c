/**
 * The C functions of the Linux backend (GLib's gio, glib and gobject: a D-Bus
 * connection and GVariants; libsecret itself is not needed), declared once per FFI provider through
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
} from "../ffi/index.ts";
import { memoizePerProvider } from "../ffi/_bindings-cache.ts";
import { pinLoadedLibraries } from "../ffi/_pin.ts";

const GLIB = {
  g_free: { args: ["pointer"], returns: "void" },
  g_error_free: { args: ["pointer"], returns: "void" },
  g_quark_to_string: { args: ["u32"], returns: "cstring" },
  // Builders: each returns a floating GVariant that the container or call it is passed to takes.
  // A `GVariantType *` is its type string (G_VARIANT_TYPE is a cast), hence "cstring".
  g_variant_new_tuple: { args: ["buffer", "u64"], returns: "pointer" },
  g_variant_new_array: { args: ["cstring", "buffer", "u64"], returns: "pointer" },
  g_variant_new_dict_entry: { args: ["pointer", "pointer"], returns: "pointer" },
  g_variant_new_variant: { args: ["pointer"], returns: "pointer" },
  g_variant_new_string: { args: ["cstring"], returns: "pointer" },
  g_variant_new_object_path: { args: ["cstring"], returns: "pointer" },
  g_variant_new_boolean: { args: ["i32"], returns: "pointer" },
  g_variant_new_fixed_array: { args: ["cstring", "buffer", "u64", "u64"], returns: "pointer" },
  // Readers of a reply whose type GDBus checked.
  g_variant_get_child_value: { args: ["pointer", "u64"], returns: "pointer" },
  g_variant_n_children: { args: ["pointer"], returns: "u64" },
  g_variant_get_string: { args: ["pointer", "buffer"], returns: "cstring" },
  g_variant_get_variant: { args: ["pointer"], returns: "pointer" },
  g_variant_is_of_type: { args: ["pointer", "cstring"], returns: "i32" },
  g_variant_get_boolean: { args: ["pointer"], returns: "i32" },
  g_variant_get_fixed_array: { args: ["pointer", "buffer", "u64"], returns: "pointer" },
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
    args: ["pointer", "cstring", "cstring", "cstring", "cstring", "pointer", "cstring", "i32", "i32", "pointer", "buffer"],
    returns: "pointer",
  },
  // connection, sender, interface_name, member, object_path, arg0, flags, callback, user_data, user_data_free_func
  g_dbus_connection_signal_subscribe: {
    args: ["pointer", "cstring", "cstring", "cstring", "cstring", "cstring", "i32", "pointer", "pointer", "pointer"],
    returns: "u32",
  },
  g_dbus_connection_signal_unsubscribe: { args: ["pointer", "u32"], returns: "void" },
} as const satisfies FfiSymbols;

/** The sonames tried, in order (Debian/Ubuntu/Fedora/Arch, then the BSDs' unversioned names). */
const GLIB_NAMES = ["libglib-2.0.so.0", "libglib-2.0.so"];
const GOBJECT_NAMES = ["libgobject-2.0.so.0", "libgobject-2.0.so"];
const GIO_NAMES = ["libgio-2.0.so.0", "libgio-2.0.so"];

type Functions = FfiLibrary<typeof GLIB>["symbols"]
  & FfiLibrary<typeof GOBJECT>["symbols"]
  & FfiLibrary<typeof GIO>["symbols"];

/** The bound functions, named after their C symbols, and the provider they run on. */
export interface Gio extends Functions {
  /** The FFI provider: memory access, and whether `.async` leaves the main thread. */
  readonly ffi: FfiProvider;
}

const bindOnProvider = memoizePerProvider((ffi): Gio => {
  try {
    return declare(ffi);
  } catch (error) {
    throw new KeyringError(
      "the Linux keyring needs GLib's libgio-2.0 (which libsecret brings), and it could not be loaded; install it with " +
        "`apt-get install libsecret-1-0` (Fedora: `dnf install libsecret`, Arch: `pacman -S libsecret`), or use the file store",
      { kind: "unavailable", reason: "no-library", backend: "libsecret", cause: error },
    );
  }
});

/**
 * Loads the FFI provider and GLib's gio, glib and gobject, and declares the
 * functions; memoised per provider.
 *
 * @throws {KeyringError} kind `unavailable` (reason `no-ffi` or `no-library`)
 * when the provider or the libraries cannot be loaded, saying what to install.
 */
export function bindGio(options: FfiOptions): Gio {
  let ffi: FfiProvider;
  try {
    ffi = loadFfiProviderFor("libsecret", options);
  } catch (error) {
    if (!(error instanceof KeyringError)) throw error;
    throw new KeyringError(error.message, { kind: error.kind, reason: "no-ffi", backend: "libsecret", code: error.code, cause: error.cause ?? error });
  }
  return bindOnProvider(ffi);
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

function declare(ffi: FfiProvider): Gio {
  const opened: string[] = [];
  // gio first: its absence is the likely failure, and it pulls in glib and gobject.
  const gio = open(ffi, GIO_NAMES, GIO, opened);
  const glib = open(ffi, GLIB_NAMES, GLIB, opened);
  const gobject = open(ffi, GOBJECT_NAMES, GOBJECT, opened);
  // They register GObject types: unmapped (a Deno worker ending) and loaded
  // again, they would register them twice and break. Kept mapped instead.
  pinLoadedLibraries(ffi, opened);
  return { ffi, ...glib.symbols, ...gobject.symbols, ...gio.symbols };
}
