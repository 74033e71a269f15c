/**
 * The Linux backend's one D-Bus connection and encrypted Secret Service
 * session per process (per round-trip timeout), opened on first use
 * and reopened when it goes stale (the daemon restarted, the bus went away and
 * came back).
 *
 * A session also remembers, per entry, the object path of its item, and
 * (from its first save or miss on, see {@linkcode watch}) watches the Secret
 * Service's `ItemCreated` and collection signals, so that:
 * - a load of a remembered entry is one round trip (`GetSecret` on the item);
 * - a save of a remembered entry is one round trip (`SetSecret` on the path)
 *   as long as no item was created anywhere since the search that found that
 *   item alone; otherwise the save searches again (and removes duplicates);
 * - a missing entry costs one round trip (the search) as long as no collection
 *   changed (`CollectionChanged`, sent when one is locked or unlocked) since
 *   the default collection was last seen unlocked; otherwise its state is read
 *   again, to tell "not stored" from "locked" and "no default collection".
 *
 * Signals are delivered on a main context of this module's own, which only
 * {@linkcode drainSignals} iterates: without blocking, on the JS thread, at
 * the start of every call. Not glib's global default context: every JS
 * context (a Worker, a Deno test file) that loads this module subscribes with
 * a callback into its own isolate, and one that dispatched another's after
 * that worker ended would call into a disposed isolate and crash.
 * (In a process that runs its own GLib main loop on the JS thread, such as a
 * node-gtk app, this also dispatches that loop's pending sources, as any
 * GLib call that iterates the default context would.)
 *
 * Sessions are kept per FFI provider (a process may use two stores with
 * different `ffi` options), since each provider has its own pointer
 * representation.
 *
 * Only koffi gets the signal subscriptions. glib may run a signal callback
 * on whichever thread happens to iterate the context, including the worker
 * thread of an async call; koffi hands such a call to
 * the JS thread, but a `Deno.UnsafeCallback` or a bun `JSCallback` called
 * there crashes the runtime (seen with Deno 2.9.6: "Check failed:
 * IsOnCentralStack()"). Without the subscription nothing tells the session
 * that no duplicate item appeared or that no collection was locked, so on
 * Deno and Bun a save always searches first (two round trips instead of one)
 * and a missing entry always reads the default collection's state (three
 * instead of one); loads of stored entries are unchanged.
 *
 * @module
 */
import { type Flow, io } from "../../src/contract/engine.ts";
import type { Gio } from "./_bindings.ts";
import type { NativeCallback } from "../ffi/index.ts";
import { FIX, isStaleConnectionError, keyringError } from "./_errors.ts";
import { type Connected, openSecretSession, requireUnlockedDefaultCollection } from "./_calls.ts";
import { call, type FlowContext, type Pointer, SECRETS_BUS_NAME, throwGError } from "./_variant.ts";

/** An open session: the connection, and what it remembers about entries. */
export interface Session extends Connected {
  /** Entry key → its item's path, and the {@linkcode Session.itemsCreated} count before the search that found it alone (-1: not alone). */
  readonly paths: Map<string, { path: string; checkedAt: number }>;
  /** How many `ItemCreated` signals this session has seen. */
  itemsCreated: number;
  /** How many `CollectionCreated/Changed/Deleted` signals (a collection locked, unlocked, added, removed) it has seen. */
  collectionsChanged: number;
  /** The {@linkcode Session.collectionsChanged} count when the default collection was last seen unlocked; -1: not known. */
  defaultUnlockedAt: number;
  /** The signal subscriptions, for unsubscribing; none on providers other than koffi. */
  readonly subscriptions: number[];
  /** Flows using this session now. */
  users: number;
  /** Dropped after a stale-connection error; freed once unused. */
  retired: boolean;
}

/** Remembered item paths per session; the oldest is forgotten beyond this. */
const MAX_REMEMBERED_PATHS = 256;
const G_BUS_TYPE_SESSION = 2;
const G_DBUS_SIGNAL_FLAGS_NONE = 0;
const SECRETS_PATH = "/org/freedesktop/secrets";
const COLLECTION_INTERFACE = "org.freedesktop.Secret.Collection";
const SERVICE_INTERFACE = "org.freedesktop.Secret.Service";

/** Open sessions by provider and round-trip timeout. */
const sessions = new Map<string, Session>();
/** Sessions by the id passed as the signal callback's `user_data`. */
const watched = new Map<bigint, Session>();
let nextWatchId = 1n;
/** The `GDBusSignalCallback` of this module, one per provider, created once and never released. */
const signalCallbacks = new Map<string, NativeCallback>();
/** The main context the signals are dispatched on, one per provider (see the module notes). */
const signalContexts = new Map<string, Pointer>();

/** Remembers `path` as the item of `key`; `checkedAt` is -1 unless a search found it alone. */
export function remember(session: Session, key: string, path: string, checkedAt: number): void {
  session.paths.delete(key);
  // Unwatched, a remembered item can never be known to be the only match: saves search again.
  session.paths.set(key, { path, checkedAt: session.subscriptions.length === 0 ? -1 : checkedAt });
  if (session.paths.size > MAX_REMEMBERED_PATHS) {
    const oldest = session.paths.keys().next().value;
    if (oldest !== undefined) session.paths.delete(oldest);
  }
}

/**
 * Dispatches our signals (on this module's own main context) and what glib
 * queued on its global default main context: GDBus's "closed" notification
 * of a dead bus connection (which holds a reference to it; until it runs,
 * glib keeps handing out the dead connection as the session bus). Never
 * blocks.
 */
export function drainSignals(lib: Gio): void {
  const own = signalContexts.get(lib.ffi.name);
  if (own) for (let i = 0; i < 256 && lib.g_main_context_iteration(own, 0); i++);
  for (let i = 0; i < 256 && lib.g_main_context_iteration(null, 0); i++);
}

/** This module's main context for `lib`'s provider, created on first use and kept. */
function signalContext(lib: Gio): Pointer {
  let context = signalContexts.get(lib.ffi.name);
  if (!context) {
    context = lib.g_main_context_new();
    signalContexts.set(lib.ffi.name, context);
  }
  return context;
}

/**
 * Runs `body` with the session, opening it if needed. If the connection or
 * the session turns out to be stale, it is dropped and `body` runs once more
 * on a fresh one.
 */
export function* withSession<T>(context: FlowContext, body: (session: Session) => Flow<T>): Flow<T> {
  drainSignals(context.lib);
  for (let attempt = 0; ; attempt++) {
    const session = yield* openSession(context);
    session.users++;
    try {
      return yield* body(session);
    } catch (error) {
      if (attempt > 0 || !isStaleConnectionError(error)) throw error;
      retire(context.lib, session);
    } finally {
      session.users--;
      if (session.retired && session.users === 0) free(context.lib, session);
    }
  }
}

function retire(lib: Gio, session: Session): void {
  session.retired = true;
  for (const [key, value] of sessions) if (value === session) sessions.delete(key);
  if (session.users === 0) free(lib, session);
}

function free(lib: Gio, session: Session): void {
  session.paths.clear();
  for (const [id, value] of watched) if (value === session) watched.delete(id);
  for (const id of session.subscriptions) lib.g_dbus_connection_signal_unsubscribe(session.connection, id);
  session.aesKey.fill(0);
  lib.g_object_unref(session.connection);
  drainSignals(lib);
}

/**
 * Nothing matched: fine if the default collection is there and unlocked,
 * else say why nothing can be found. Skips the check (two round trips) while
 * no collection changed since it last found the default collection unlocked;
 * never skips it unwatched (no signals tell of a lock).
 */
export function* requireUsableDefaultCollection(context: FlowContext, session: Session, what: string): Flow<void> {
  watch(context.lib, session);
  const watchedSession = session.subscriptions.length > 0;
  if (watchedSession && session.defaultUnlockedAt === session.collectionsChanged) return;
  const mark = session.collectionsChanged;
  yield* requireUnlockedDefaultCollection(context, session, what);
  if (watchedSession) session.defaultUnlockedAt = mark;
}

/** The provider's `GDBusSignalCallback`, created on first use. */
function signalCallback(lib: Gio): NativeCallback {
  let callback = signalCallbacks.get(lib.ffi.name);
  if (callback === undefined) {
    // void (*GDBusSignalCallback)(GDBusConnection *connection, const gchar *sender_name, const gchar *object_path,
    //                             const gchar *interface_name, const gchar *signal_name, GVariant *parameters, gpointer user_data)
    callback = lib.ffi.callback(
      { args: ["pointer", "cstring", "cstring", "cstring", "cstring", "pointer", "pointer"], returns: "void" },
      (_connection, _sender, _path, interfaceName, signal, _parameters, userData) => {
        const session = watched.get(lib.ffi.address(userData));
        if (session === undefined) return;
        if (interfaceName === COLLECTION_INTERFACE && signal === "ItemCreated") session.itemsCreated++;
        else if (interfaceName === SERVICE_INTERFACE && signal?.startsWith("Collection")) session.collectionsChanged++;
      },
    );
    signalCallbacks.set(lib.ffi.name, callback);
  }
  return callback;
}

function* openSession(context: FlowContext): Flow<Session> {
  const key = `${context.lib.ffi.name}:${context.roundTripMs}`;
  const current = sessions.get(key);
  if (current !== undefined && !current.retired) return current;
  const { lib } = context;
  const what = "connecting to the Secret Service";
  const error = new BigUint64Array(1);
  const connection = yield* io(call<Pointer>(lib.g_bus_get_sync, G_BUS_TYPE_SESSION, context.cancellable, error));
  throwGError(lib, error, what);
  if (!connection) throw keyringError("unavailable", what, FIX.noBus);
  let opened: { sessionPath: string; aesKey: Uint8Array };
  try {
    // glib's shared connection would raise(SIGTERM) in this process when the bus goes away.
    lib.g_dbus_connection_set_exit_on_close(connection, 0);
    opened = yield* openSecretSession(context, connection);
  } catch (thrown) {
    lib.g_object_unref(connection);
    throw thrown;
  }
  const raced = sessions.get(key); // another async call opened one meanwhile
  if (raced !== undefined && !raced.retired) {
    opened.aesKey.fill(0);
    lib.g_object_unref(connection);
    return raced;
  }
  const session: Session = {
    connection,
    ...opened,
    paths: new Map(),
    itemsCreated: 0,
    collectionsChanged: 0,
    defaultUnlockedAt: -1,
    subscriptions: [],
    users: 0,
    retired: false,
  };
  sessions.set(key, session);
  return session;
}

/**
 * Subscribes the session to `ItemCreated` and the collection signals, once,
 * before the first search whose answer a later call trusts (a save, a delete,
 * a miss). A load of a stored entry needs none, so a process that only reads
 * never registers the callback (about 1 ms of a cold start). koffi only (see
 * the module notes).
 */
export function watch(lib: Gio, session: Session): void {
  if (session.subscriptions.length > 0 || lib.ffi.name !== "koffi" || session.retired) return;
  // A subscription's callback runs on the thread-default main context of the subscribing
  // thread: made ours here (flows run on the JS thread; only their C calls go elsewhere), so
  // only drainSignals() dispatches it.
  const watchId = nextWatchId++;
  const subscribe = (interfaceName: string, member: string | null, path: string | null): number =>
    lib.g_dbus_connection_signal_subscribe(
      session.connection, SECRETS_BUS_NAME, interfaceName, member, path, null, G_DBUS_SIGNAL_FLAGS_NONE,
      signalCallback(lib).pointer, lib.ffi.fromAddress(watchId), null,
    );
  const own = signalContext(lib);
  lib.g_main_context_push_thread_default(own);
  try {
    session.subscriptions.push(subscribe(COLLECTION_INTERFACE, "ItemCreated", null), subscribe(SERVICE_INTERFACE, null, SECRETS_PATH));
  } finally {
    lib.g_main_context_pop_thread_default(own);
  }
  watched.set(watchId, session);
}
