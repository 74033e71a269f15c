/**
 * The Linux keyring backend: the freedesktop Secret Service (gnome-keyring,
 * KeePassXC, KWallet's ksecretd), spoken to with raw GDBus calls through the
 * FFI provider interface (`ffi/`): koffi on Node, `Deno.dlopen` on Deno,
 * `bun:ffi` on Bun. Nothing is loaded until the first call. The item layout
 * is keyring-rs's (`{service, username}`, `target=default` on created items),
 * so Codex, `@napi-rs/keyring` and this store share entries. The design (layout,
 * locked and missing collections, time bounds, speed) is in
 * docs/linux-secret-service.md.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../../src/contract/keyring-store.ts";
import { type Flow, resolveDeadline, runAsync, runSync } from "../../src/contract/engine.ts";
import { inspectSymbol } from "../../src/contract/_redact.ts";
import { bindGio, type Gio } from "./_bindings.ts";
import type { FfiOptions, FfiProviderName } from "../ffi/index.ts";
import { FIX } from "./_errors.ts";
import { checkName, encodeSecret } from "./_layout.ts";
import { deleteFlow, loadFlow, saveFlow } from "./_flows.ts";
import type { FlowContext } from "./_variant.ts";

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

/**
 * Creates the Linux keyring store (freedesktop Secret Service through
 * libsecret) on the FFI provider of this runtime. Creating it loads nothing;
 * the provider and libsecret are loaded on the first call.
 *
 * @param options The async deadline, the sync round-trip timeout, and the
 * FFI provider (`ffi`, else `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} whose `backend` is `"libsecret"`.
 * @throws {RangeError} when a timeout is not a positive number (the policy
 * of `resolveDeadline`: `Infinity` and anything above about 24.8 days, the
 * longest timer, mean that longest timer).
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
    resolveDeadline(options.timeoutMs, DEFAULT_TIMEOUT_MS, "timeoutMs"),
    resolveDeadline(options.syncTimeoutMs, DEFAULT_SYNC_TIMEOUT_MS, "syncTimeoutMs"),
    options.ffi,
  );
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
