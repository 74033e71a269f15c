/**
 * The C functions the Linux backend calls: libsecret-1 and the few glib, gio
 * and gobject helpers it needs, declared once through koffi on first use.
 *
 * The set is small on purpose and has no variadic function, so that it can be
 * ported to `bun:ffi` and `Deno.dlopen`, which cannot call variadic functions
 * (and koffi cannot call them with `.async` either). Every function that can
 * block on D-Bus takes a `GCancellable` and is called on a koffi worker thread
 * by the async methods; the others never block.
 *
 * Pointers are koffi 3 BigInts (or `null`); no koffi type leaves `native/`.
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import { type Koffi, loadKoffi } from "./_koffi.ts";

/** A C pointer as koffi 3 returns it: a BigInt, or `null` for NULL. */
export type Pointer = bigint | null;

/** A declared C function: callable directly, or on a worker thread through `.async`. */
export interface CFunction {
  (...args: unknown[]): unknown;
  /** Calls on a koffi worker thread; the last argument is `(error, result) => void`. */
  async(...args: unknown[]): void;
}

/** The bound functions, named after their C symbols. */
export interface Libsecret {
  readonly koffi: Koffi;
  /** `GError`, for `koffi.decode`. */
  readonly GError: unknown;
  /** The `GType` of `SecretService`, for `secret_service_open_sync`. */
  readonly secretServiceType: unknown;
  // glib
  readonly g_hash_table_new_full: CFunction;
  readonly g_hash_table_insert: CFunction;
  readonly g_hash_table_unref: CFunction;
  readonly g_strdup: CFunction;
  readonly g_free: CFunction;
  readonly g_strfreev: CFunction;
  readonly g_error_free: CFunction;
  readonly g_quark_to_string: CFunction;
  readonly g_variant_new_tuple: CFunction;
  readonly g_variant_new_object_path: CFunction;
  readonly g_variant_get_child_value: CFunction;
  readonly g_variant_get_string: CFunction;
  readonly g_variant_unref: CFunction;
  readonly g_main_context_iteration: CFunction;
  /** `g_str_hash`, `g_str_equal` and `g_free` as function pointers, for `g_hash_table_new_full`. */
  readonly strHash: Pointer;
  readonly strEqual: Pointer;
  readonly free: Pointer;
  // gobject
  readonly g_object_unref: CFunction;
  // gio
  readonly g_cancellable_new: CFunction;
  readonly g_cancellable_cancel: CFunction;
  readonly g_bus_get_sync: CFunction;
  readonly g_dbus_connection_set_exit_on_close: CFunction;
  readonly g_dbus_connection_call_sync: CFunction;
  readonly g_dbus_proxy_set_default_timeout: CFunction;
  readonly g_dbus_proxy_get_name_owner: CFunction;
  readonly g_dbus_connection_signal_subscribe: CFunction;
  readonly g_dbus_connection_signal_unsubscribe: CFunction;
  /** `GDBusSignalCallback` as a function pointer type, for `koffi.register`. */
  readonly GDBusSignalCallback: unknown;
  // libsecret
  readonly secret_service_open_sync: CFunction;
  readonly secret_service_ensure_session_sync: CFunction;
  readonly secret_service_search_for_dbus_paths_sync: CFunction;
  readonly secret_service_get_session_dbus_path: CFunction;
  readonly secret_service_decode_dbus_secret: CFunction;
  readonly secret_service_store_sync: CFunction;
  readonly secret_service_encode_dbus_secret: CFunction;
  readonly secret_collection_for_alias_sync: CFunction;
  readonly secret_collection_get_locked: CFunction;
  readonly secret_value_new: CFunction;
  readonly secret_value_get: CFunction;
  readonly secret_value_unref: CFunction;
}

/** The sonames tried, in order (Debian/Ubuntu/Fedora/Arch, then the BSDs' unversioned names). */
const LIBSECRET_NAMES = ["libsecret-1.so.0", "libsecret-1.so"];
const GLIB_NAMES = ["libglib-2.0.so.0", "libglib-2.0.so"];
const GOBJECT_NAMES = ["libgobject-2.0.so.0", "libgobject-2.0.so"];
const GIO_NAMES = ["libgio-2.0.so.0", "libgio-2.0.so"];

let bound: Libsecret | undefined;
let bindFailure: KeyringError | undefined;

/**
 * Loads koffi, libsecret and glib, and declares the functions; memoised, so
 * only the first call pays (about 30 ms, most of it koffi itself).
 *
 * @throws {KeyringError} kind `unavailable` when koffi or libsecret cannot be
 * loaded, saying what to install.
 */
export function bindLibsecret(): Libsecret {
  if (bound !== undefined) return bound;
  if (bindFailure !== undefined) throw bindFailure;
  const koffi = loadKoffi("libsecret");
  try {
    bound = declare(koffi);
    return bound;
  } catch (error) {
    bindFailure = new KeyringError(
      "the Linux keyring needs libsecret, which could not be loaded; install it with `apt-get install libsecret-1-0` " +
        "(Fedora: `dnf install libsecret`, Arch: `pacman -S libsecret`), or use the file store",
      { kind: "unavailable", backend: "libsecret", cause: error },
    );
    throw bindFailure;
  }
}

function open(koffi: Koffi, names: readonly string[]): ReturnType<Koffi["load"]> {
  let first: unknown;
  for (const name of names) {
    try {
      return koffi.load(name);
    } catch (error) {
      first ??= error;
    }
  }
  throw first;
}

function declare(koffi: Koffi): Libsecret {
  // libsecret first: its absence is the likely failure, and it pulls in glib.
  const secret = open(koffi, LIBSECRET_NAMES);
  const glib = open(koffi, GLIB_NAMES);
  const gobject = open(koffi, GOBJECT_NAMES);
  const gio = open(koffi, GIO_NAMES);

  // Types. Anonymous on purpose: koffi's type names are process-wide, and two
  // copies of authkeep in one process must not collide.
  const GError = koffi.struct({ domain: "uint32_t", code: "int", message: "char *" });
  // void (*GDBusSignalCallback)(GDBusConnection *connection, const gchar *sender_name, const gchar *object_path,
  //                             const gchar *interface_name, const gchar *signal_name, GVariant *parameters, gpointer user_data)
  const GDBusSignalCallback = koffi.pointer(
    koffi.proto("void", ["void *", "const char *", "const char *", "const char *", "const char *", "void *", "void *"]),
  );

  const f = {
    // glib
    g_hash_table_new_full: glib.func("void *g_hash_table_new_full(void *hash_func, void *key_equal_func, void *key_destroy_func, void *value_destroy_func)"),
    g_hash_table_insert: glib.func("int g_hash_table_insert(void *hash_table, void *key, void *value)"),
    g_hash_table_unref: glib.func("void g_hash_table_unref(void *hash_table)"),
    g_strdup: glib.func("void *g_strdup(const char *str)"),
    g_free: glib.func("void g_free(void *mem)"),
    g_strfreev: glib.func("void g_strfreev(void *str_array)"),
    g_error_free: glib.func("void g_error_free(void *error)"),
    g_quark_to_string: glib.func("const char *g_quark_to_string(uint32_t quark)"),
    g_variant_new_tuple: glib.func("void *g_variant_new_tuple(void **children, size_t n_children)"),
    g_variant_new_object_path: glib.func("void *g_variant_new_object_path(const char *object_path)"),
    g_variant_get_child_value: glib.func("void *g_variant_get_child_value(void *value, size_t index)"),
    g_variant_get_string: glib.func("const char *g_variant_get_string(void *value, void *length)"),
    g_variant_unref: glib.func("void g_variant_unref(void *value)"),
    g_main_context_iteration: glib.func("int g_main_context_iteration(void *context, int may_block)"),
    // gobject
    g_object_unref: gobject.func("void g_object_unref(void *object)"),
    // gio
    g_cancellable_new: gio.func("void *g_cancellable_new()"),
    g_cancellable_cancel: gio.func("void g_cancellable_cancel(void *cancellable)"),
    g_bus_get_sync: gio.func("void *g_bus_get_sync(int bus_type, void *cancellable, _Out_ void **error)"),
    g_dbus_connection_set_exit_on_close: gio.func("void g_dbus_connection_set_exit_on_close(void *connection, int exit_on_close)"),
    g_dbus_connection_call_sync: gio.func(
      "void *g_dbus_connection_call_sync(void *connection, const char *bus_name, const char *object_path, " +
        "const char *interface_name, const char *method_name, void *parameters, void *reply_type, int flags, " +
        "int timeout_msec, void *cancellable, _Out_ void **error)",
    ),
    g_dbus_proxy_set_default_timeout: gio.func("void g_dbus_proxy_set_default_timeout(void *proxy, int timeout_msec)"),
    g_dbus_proxy_get_name_owner: gio.func("void *g_dbus_proxy_get_name_owner(void *proxy)"),
    g_dbus_connection_signal_subscribe: gio.func(
      "unsigned int g_dbus_connection_signal_subscribe(void *connection, const char *sender, const char *interface_name, " +
        "const char *member, const char *object_path, const char *arg0, int flags, void *callback, void *user_data, " +
        "void *user_data_free_func)",
    ),
    g_dbus_connection_signal_unsubscribe: gio.func("void g_dbus_connection_signal_unsubscribe(void *connection, unsigned int subscription_id)"),
    // libsecret
    secret_service_get_type: secret.func("size_t secret_service_get_type()"),
    secret_service_open_sync: secret.func(
      "void *secret_service_open_sync(size_t service_gtype, const char *service_bus_name, int flags, void *cancellable, _Out_ void **error)",
    ),
    secret_service_ensure_session_sync: secret.func("int secret_service_ensure_session_sync(void *service, void *cancellable, _Out_ void **error)"),
    secret_service_search_for_dbus_paths_sync: secret.func(
      "int secret_service_search_for_dbus_paths_sync(void *service, void *schema, void *attributes, void *cancellable, " +
        "_Out_ void **unlocked, _Out_ void **locked, _Out_ void **error)",
    ),
    secret_service_get_session_dbus_path: secret.func("const char *secret_service_get_session_dbus_path(void *service)"),
    secret_service_decode_dbus_secret: secret.func("void *secret_service_decode_dbus_secret(void *service, void *value)"),
    secret_service_store_sync: secret.func(
      "int secret_service_store_sync(void *service, void *schema, void *attributes, const char *collection, " +
        "const char *label, void *value, void *cancellable, _Out_ void **error)",
    ),
    secret_service_encode_dbus_secret: secret.func("void *secret_service_encode_dbus_secret(void *service, void *value)"),
    secret_collection_for_alias_sync: secret.func(
      "void *secret_collection_for_alias_sync(void *service, const char *alias, int flags, void *cancellable, _Out_ void **error)",
    ),
    secret_collection_get_locked: secret.func("int secret_collection_get_locked(void *collection)"),
    secret_value_new: secret.func("void *secret_value_new(const void *secret, intptr_t length, const char *content_type)"),
    secret_value_get: secret.func("void *secret_value_get(void *value, _Out_ size_t *length)"),
    secret_value_unref: secret.func("void secret_value_unref(void *value)"),
  };
  const { secret_service_get_type, ...functions } = f;
  return {
    koffi,
    GError,
    GDBusSignalCallback,
    secretServiceType: secret_service_get_type(),
    strHash: glib.symbol("g_str_hash"),
    strEqual: glib.symbol("g_str_equal"),
    free: glib.symbol("g_free"),
    ...(functions as unknown as Omit<Libsecret, "koffi" | "GError" | "GDBusSignalCallback" | "secretServiceType" | "strHash" | "strEqual" | "free">),
  };
}
