/**
 * The Linux keyring backend: the freedesktop Secret Service (gnome-keyring,
 * KeePassXC, KWallet's ksecretd) reached by calling `libsecret-1.so.0` and
 * glib directly, through the FFI provider interface (`ffi/`): koffi on Node,
 * `Deno.dlopen` on Deno, `bun:ffi` on Bun, or the provider named by the `ffi`
 * option / `AUTHKEEP_FFI`. No addon, no compiler, no `secret-tool`
 * subprocess; on Bun and Deno nothing from npm. Nothing is loaded until the
 * first call.
 *
 * The parts: `_libsecret-layout.ts` (the item layout, pure),
 * `_libsecret-errors.ts` (GError → KeyringError, pure),
 * `_libsecret-bindings.ts` (the C declarations), `_libsecret-calls.ts` (one
 * D-Bus call each) and `_libsecret-session.ts` (the connection, remembered
 * items and signals).
 *
 * ## Item layout (exact mapping)
 *
 * The layout is keyring-rs's, so Codex (keyring-rs 3.6), `@napi-rs/keyring`
 * and this store read and update each other's entries:
 *
 * | `KeyringStore`          | Secret Service item                                         |
 * | ----------------------- | ----------------------------------------------------------- |
 * | `service`               | attribute `service`                                         |
 * | `account`               | attribute `username`                                        |
 * | (constant)              | attribute `target` = `default` on items this store creates  |
 * | value                   | the secret: the UTF-8 bytes, content type `text/plain`      |
 * | (label)                 | `<account>@<service>:default (authkeep)` on created items   |
 * | (collection)            | new items go to the `default` alias (usually "login")       |
 *
 * - **Lookup** matches `{service, username}` in every collection, with no
 *   schema: libsecret adds no `xdg:schema` attribute, which is what
 *   `SECRET_SCHEMA_DONT_MATCH_NAME` does in the password API. Items may carry
 *   other attributes (`target`, `application`, `xdg:schema`), so items written
 *   by `@napi-rs/keyring` (`{service, username}` only) and by Codex's
 *   keyring-rs (`{service, username, target, application}`) are found.
 * - **Save** never has a moment without the secret: an existing item is
 *   updated in place (`SetSecret`, as keyring-rs and `@napi-rs/keyring` do);
 *   otherwise a new item is created (`CreateItem` with replace). Any other
 *   matching item is deleted only afterwards, so that exactly one matching
 *   item is left and keyring-rs never reports "Ambiguous". With several
 *   matches the oldest unlocked item (lowest object path) is kept.
 * - **Delete** removes every matching unlocked item; `true` if it removed one.
 * - Values keep every character, including embedded NUL (the secret is a
 *   byte string, not a C string). A value or name with a lone UTF-16
 *   surrogate, or a name with a NUL, is rejected with kind `invalid`; a
 *   stored secret that is not UTF-8 is reported with kind `invalid`.
 *
 * ## Locked, missing, absent
 *
 * A search returns unlocked and locked items separately. When nothing
 * matches, the default collection tells "not stored" (`null` / `false`) from
 * "locked" (`KeyringError` kind `locked`) and "no default collection" (kind
 * `unavailable`). No session bus, an unset `DBUS_SESSION_BUS_ADDRESS`, or no
 * Secret Service on the bus are kind `unavailable`. Every message says how to
 * fix it. This store never shows an unlock prompt.
 *
 * ## Time bounds
 *
 * - Async methods run each blocking libsecret call off the main thread (a
 *   koffi worker thread, or Deno's blocking pool with `nonblocking: true`)
 *   with a `GCancellable` that is cancelled at the deadline (`timeoutMs`,
 *   default 5000): the promise rejects then, and the event loop keeps running.
 *   A save that times out may or may not have reached the daemon.
 * - **On bun:ffi** (the default on Bun) no call can leave the main thread: an
 *   async method runs its calls synchronously and blocks the event loop, and
 *   the deadline timer can only fire after they return. There each D-Bus round
 *   trip of an async call is bounded by `min(timeoutMs, syncTimeoutMs)`
 *   instead, the explicit bound. Set `AUTHKEEP_FFI=koffi` (koffi installed) on
 *   Bun for truly asynchronous calls.
 * - Sync methods block the thread. Each D-Bus round trip gives up after
 *   `syncTimeoutMs` (default 2000, GDBus's own default is 25 s); a stuck
 *   daemon fails the first round trip, so a sync call against it returns after
 *   about `syncTimeoutMs`. Two calls are only bounded by GDBus's 25 s default:
 *   creating a new item and reading the default collection's state. Both run
 *   only right after a search that the daemon answered. A Secret Service that
 *   asks the user to confirm a new item (KeePassXC can) makes the first save
 *   of an entry wait for that answer; the async methods still end at their
 *   deadline.
 *
 * ## Speed
 *
 * The D-Bus connection, the `SecretService` proxy and its encrypted session
 * are opened once per process (about 15 ms) and reopened after the daemon
 * restarts. Each entry's item path is remembered:
 * - a repeated load is one round trip (`GetSecret` on that item); if the
 *   item is gone, the load searches again;
 * - loading or deleting a missing entry is one round trip (the search) while
 *   no collection changed (`CollectionChanged`) since the default collection
 *   was last seen unlocked; otherwise its state is read again (two more).
 * - a repeated save is one round trip (`SetSecret` on that path) as long as
 *   the Secret Service announced no new item (`ItemCreated`) since the search
 *   that found that item alone; otherwise it searches again and removes any
 *   duplicate, as on a first save. An item whose attributes another program
 *   edits until they match (no new item) is only noticed at that next search,
 *   and a Secret Service that never sends `ItemCreated` (the specification
 *   requires it) would let a duplicate made by another program outlive saves.
 *   The signals are received with koffi only (see `_libsecret-session.ts`):
 *   on `Deno.dlopen` and `bun:ffi` every save searches first (two round trips)
 *   and every miss reads the default collection's state (three).
 *
 * ## Why not libsecret's password API
 *
 * `secret_password_{lookupv,storev,clearv}_sync` are not variadic either, but
 * they cannot do the above: lookup returns NULL alike for locked, missing
 * and absent; store is "create with replace", which adds a second item next
 * to one written by `@napi-rs/keyring` (no `target` attribute); every lookup
 * searches (two round trips, 1.2x `@napi-rs/keyring`'s time); and the
 * service-level `GetSecrets` they use leaks about the secret's size per call
 * in libsecret 0.20.5. The C calls used instead are listed in
 * `_libsecret-bindings.ts`, all non-variadic (`Deno.dlopen` and `bun:ffi`
 * cannot call variadic functions).
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../../src/contract/keyring-store.ts";
import { type Flow, runAsync, runSync } from "../../src/contract/engine.ts";
import { inspectSymbol } from "../../src/contract/_redact.ts";
import { bindGio, type Gio } from "./_bindings.ts";
import type { FfiOptions, FfiProviderName } from "../ffi/index.ts";
import { FIX, keyringError } from "./_errors.ts";
import { checkName, encodeSecret, entryKey, pickItem } from "./_layout.ts";
import { createItem, deleteItem, getSecret, search, setSecret } from "./_calls.ts";
import type { FlowContext } from "./_variant.ts";
import { remember, requireUsableDefaultCollection, withSession } from "./_session.ts";

/** Options of {@linkcode createLinuxKeyringStore}: the timeouts, and the FFI provider (`ffi`). */
export interface LinuxKeyringStoreOptions extends KeyringStoreOptions, FfiOptions {
  /**
   * Deadline for one asynchronous call, in milliseconds. At the deadline the
   * pending libsecret call is cancelled and the promise rejects with a
   * {@linkcode KeyringError} of kind `unavailable`; the event loop keeps
   * running meanwhile (except on bun:ffi, see the module notes).
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * Reply timeout of each D-Bus round trip, in milliseconds. It is the only
   * bound of the synchronous methods, which block the thread; an async call
   * ends at whichever of this and `timeoutMs` comes first.
   * @default {2000}
   */
  syncTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_SYNC_TIMEOUT_MS = 2000;
/** How often a flow retries when an item vanishes under it (another process deleted it). */
const MAX_ATTEMPTS = 3;

/**
 * Creates the Linux keyring store (freedesktop Secret Service through
 * libsecret) on the FFI provider of this runtime. Creating it loads nothing;
 * the provider and libsecret are loaded on the first call.
 *
 * @param options The async deadline, the sync round-trip timeout, and the
 * FFI provider (`ffi`, else `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} whose `backend` is `"libsecret"`.
 * @throws {RangeError} when a timeout is not a positive number (`Infinity`
 * is accepted and means about 24.8 days, the longest timer).
 * @example Reading Codex's keyring entry directly
 * ```ts
 * import { computeStoreKey, defaultKeyringStore } from "authkeep";
 *
 * const keyring = defaultKeyringStore();
 * try {
 *   const json = keyring.loadSync("Codex Auth", computeStoreKey("/home/user/.codex"));
 *   console.log(json === null ? "no entry" : "found Codex's entry");
 * } catch (error) {
 *   console.log("no usable keyring here:", (error as Error).message);
 * }
 * ```
 */
export function createLinuxKeyringStore(options: LinuxKeyringStoreOptions = {}): KeyringStore {
  return new LibsecretKeyringStore(
    timeoutOption(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs"),
    timeoutOption(options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS, "syncTimeoutMs"),
    options.ffi,
  );
}

/** setTimeout's and GDBus's largest timeout (2^31 - 1 ms, about 24.8 days); larger values, `Infinity` included, mean this. */
const MAX_TIMEOUT_MS = 2_147_483_647;

function timeoutOption(value: number, name: string): number {
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return Math.min(Math.ceil(value), MAX_TIMEOUT_MS);
}

class LibsecretKeyringStore implements KeyringStore {
  readonly backend = "libsecret";
  readonly #timeoutMs: number;
  readonly #roundTripMs: number;
  readonly #ffi: FfiProviderName | undefined;
  /** The bound libsecret, once loaded: resolving the provider reads the environment, once is enough. */
  #lib: Gio | undefined;

  constructor(timeoutMs: number, roundTripMs: number, ffi: FfiProviderName | undefined) {
    this.#timeoutMs = timeoutMs;
    this.#roundTripMs = roundTripMs;
    this.#ffi = ffi;
  }

  /** Reads the secret, or `null` when there is none. */
  async load(service: string, account: string): Promise<string | null> {
    checkName(service, "service");
    checkName(account, "account");
    return await this.#runAsync("reading the keyring entry", (context) => loadFlow(context, service, account));
  }

  /** Synchronous twin of {@linkcode LibsecretKeyringStore.load}. */
  loadSync(service: string, account: string): string | null {
    checkName(service, "service");
    checkName(account, "account");
    return this.#runSync("reading the keyring entry", (context) => loadFlow(context, service, account));
  }

  /** Stores the secret, replacing any existing one. */
  async save(service: string, account: string, value: string): Promise<void> {
    checkName(service, "service");
    checkName(account, "account");
    const bytes = encodeSecret(value);
    try {
      await this.#runAsync("saving the keyring entry", (context) => saveFlow(context, service, account, bytes));
    } finally {
      bytes.fill(0);
    }
  }

  /** Synchronous twin of {@linkcode LibsecretKeyringStore.save}. */
  saveSync(service: string, account: string, value: string): void {
    checkName(service, "service");
    checkName(account, "account");
    const bytes = encodeSecret(value);
    try {
      this.#runSync("saving the keyring entry", (context) => saveFlow(context, service, account, bytes));
    } finally {
      bytes.fill(0);
    }
  }

  /** Deletes the secret; returns whether one existed. */
  async delete(service: string, account: string): Promise<boolean> {
    checkName(service, "service");
    checkName(account, "account");
    return await this.#runAsync("deleting the keyring entry", (context) => deleteFlow(context, service, account));
  }

  /** Synchronous twin of {@linkcode LibsecretKeyringStore.delete}. */
  deleteSync(service: string, account: string): boolean {
    checkName(service, "service");
    checkName(account, "account");
    return this.#runSync("deleting the keyring entry", (context) => deleteFlow(context, service, account));
  }

  #runSync<T>(what: string, makeFlow: (context: FlowContext) => Flow<T>): T {
    const lib = (this.#lib ??= bindGio({ ffi: this.#ffi }));
    try {
      return runSync(makeFlow({ lib, cancellable: null, roundTripMs: this.#roundTripMs }));
    } catch (error) {
      throw asKeyringError(error, what);
    }
  }

  /**
   * Runs a flow off the main thread with a cancellable that is cancelled at the
   * deadline; the promise rejects at the deadline even if the flow needs a
   * moment more to unwind (it then frees what it holds and its result is dropped).
   * Where the provider cannot leave the main thread (bun:ffi), the timer
   * cannot interrupt a call, so each round trip is bounded by the deadline too.
   */
  async #runAsync<T>(what: string, makeFlow: (context: FlowContext) => Flow<T>): Promise<T> {
    const lib = (this.#lib ??= bindGio({ ffi: this.#ffi }));
    const cancellable = lib.g_cancellable_new();
    const roundTripMs = lib.ffi.offThread ? this.#roundTripMs : Math.min(this.#roundTripMs, this.#timeoutMs);
    const done = runAsync(makeFlow({ lib, cancellable, roundTripMs })).catch((error: unknown) => {
      throw asKeyringError(error, what);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        lib.g_cancellable_cancel(cancellable);
        reject(new KeyringError(`libsecret: ${what} failed: ${FIX.timeout} (no answer within ${this.#timeoutMs} ms)`, {
          kind: "unavailable",
          reason: "timeout",
          backend: "libsecret",
        }));
      }, this.#timeoutMs);
    });
    done.then(release, release);
    function release(): void {
      clearTimeout(timer);
      lib.g_object_unref(cancellable);
    }
    return await Promise.race([done, deadline]);
  }

  /** Shows the backend and its timeouts; a store holds no secrets. */
  [inspectSymbol](): string {
    const ffi = this.#ffi === undefined ? "" : `, ffi: '${this.#ffi}'`;
    return `LinuxKeyringStore { backend: 'libsecret'${ffi}, timeoutMs: ${this.#timeoutMs}, syncTimeoutMs: ${this.#roundTripMs} }`;
  }
}

/** Every failure is a KeyringError: anything else (a provider's error, say) becomes kind `failure`. */
function asKeyringError(error: unknown, what: string): KeyringError {
  if (error instanceof KeyringError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new KeyringError(`libsecret: ${what} failed: ${detail}`, { kind: "failure", reason: "other", backend: "libsecret", cause: error });
}

// ---------------------------------------------------------------------------
// Flows: each is written once and run by runSync (direct C calls) or runAsync
// (the same calls through the provider's `.async`).

function* loadFlow(context: FlowContext, service: string, account: string): Flow<string | null> {
  const key = entryKey(service, account);
  const what = "reading the keyring entry";
  return yield* withSession(context, function* (session) {
    const known = session.paths.get(key);
    if (known !== undefined) {
      const value = yield* getSecret(context, session, known.path);
      if (value !== undefined) return value;
      session.paths.delete(key); // deleted or moved since: search again
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const mark = session.itemsCreated;
      const found = yield* search(context, session, service, account);
      const path = pickItem(found.unlocked);
      if (path === undefined) {
        if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
        yield* requireUsableDefaultCollection(context, session, what);
        return null;
      }
      const value = yield* getSecret(context, session, path);
      if (value !== undefined) {
        remember(session, key, path, found.unlocked.length === 1 && found.locked.length === 0 ? mark : -1);
        return value;
      }
    }
    throw keyringError("failure", what, "the entry kept disappearing while it was read; try again");
  });
}

function* saveFlow(context: FlowContext, service: string, account: string, bytes: Uint8Array): Flow<void> {
  const key = entryKey(service, account);
  const what = "saving the keyring entry";
  yield* withSession(context, function* (session) {
    const known = session.paths.get(key);
    if (known !== undefined && known.checkedAt === session.itemsCreated) {
      // A search found this item alone and no item was created anywhere since: update it directly.
      if (yield* setSecret(context, session, known.path, bytes)) return;
      session.paths.delete(key);
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let mark = session.itemsCreated;
      const found = yield* search(context, session, service, account);
      if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
      let matches = found.unlocked;
      let keep = pickItem(matches);
      let update = true;
      if (keep === undefined) {
        yield* createItem(context, session, service, account, bytes);
        // Another process may have created one at the same time; both then keep the same (oldest) item.
        mark = session.itemsCreated;
        matches = (yield* search(context, session, service, account)).unlocked;
        keep = pickItem(matches);
        if (keep === undefined) continue; // deleted at once by someone else: start over
        update = matches.length > 1; // the kept item may be the other writer's
      }
      if (update && !(yield* setSecret(context, session, keep, bytes))) continue; // vanished: start over
      for (const path of matches) {
        if (path !== keep) yield* deleteItem(context, session, path, "removing a duplicate keyring entry");
      }
      remember(session, key, keep, mark);
      return;
    }
    throw keyringError("failure", what, "the entry kept disappearing while it was written; try again");
  });
}

function* deleteFlow(context: FlowContext, service: string, account: string): Flow<boolean> {
  const key = entryKey(service, account);
  const what = "deleting the keyring entry";
  return yield* withSession(context, function* (session) {
    session.paths.delete(key);
    const found = yield* search(context, session, service, account);
    if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
    if (found.unlocked.length === 0) {
      yield* requireUsableDefaultCollection(context, session, what);
      return false;
    }
    let deleted = false;
    for (const path of found.unlocked) {
      if (yield* deleteItem(context, session, path, what)) deleted = true;
    }
    return deleted;
  });
}
