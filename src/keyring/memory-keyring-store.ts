/**
 * An in-memory {@linkcode KeyringStore}: the test double, with fault injection
 * (after Codex's `MockKeyringStore` and keyring-rs's `mock` module).
 *
 * @module
 */
import { KeyringError } from "../contract/keyring-error.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { inspectSymbol } from "../contract/_redact.ts";

/** A keyring operation, for targeted fault injection. */
export type KeyringOperation = "load" | "save" | "delete";

/** How long an injected error stays and which operations it hits. */
export interface InjectedErrorOptions {
  /**
   * Fail only these operations.
   * @default {["load", "save", "delete"]}
   */
  operations?: readonly KeyringOperation[];
  /**
   * Clear the error after it has been thrown once (keyring-rs's mock semantics).
   * @default {false}
   */
  once?: boolean;
}

interface InjectedError {
  error: Error;
  operations: ReadonlySet<KeyringOperation>;
  once: boolean;
}

/**
 * A keyring kept in process memory. It is a **test double**: use it in tests
 * and where no real keyring can run. Values are keyed by `(service, account)`;
 * the inspection helpers take the account (and optionally the service).
 *
 * @example Basic usage
 * ```ts
 * import { KeyringError } from "authkeep";
 * import { MemoryKeyringStore } from "authkeep/testing";
 *
 * const keyring = new MemoryKeyringStore();
 * keyring.setError("cli|0123456789abcdef", new KeyringError("locked", { kind: "locked", backend: "memory" }));
 * await keyring.load("Codex Auth", "cli|0123456789abcdef").catch((e) => console.log(e.kind)); // "locked"
 * keyring.clearError("cli|0123456789abcdef");
 * ```
 */
export class MemoryKeyringStore implements KeyringStore {
  /** Always `"memory"`. */
  readonly backend = "memory";
  readonly #values = new Map<string, Map<string, string>>();
  readonly #errors = new Map<string, InjectedError>();

  /**
   * Makes operations on `account` throw `error` until {@linkcode MemoryKeyringStore.clearError}.
   *
   * @param account The account whose operations fail.
   * @param error The error to throw (usually a {@linkcode KeyringError}).
   * @param options Which operations fail, and whether only once.
   * @example Basic usage
   * ```ts
   * import { KeyringError } from "authkeep";
   * import { MemoryKeyringStore } from "authkeep/testing";
   * const keyring = new MemoryKeyringStore();
   * keyring.setError("a", new KeyringError("no bus", { kind: "unavailable", backend: "memory" }), { operations: ["save"], once: true });
   * ```
   */
  setError(account: string, error: Error, options: InjectedErrorOptions = {}): void {
    this.#errors.set(account, {
      error,
      operations: new Set(options.operations ?? ["load", "save", "delete"]),
      once: options.once ?? false,
    });
  }

  /**
   * Removes the error injected for `account`.
   *
   * @example Basic usage
   * ```ts
   * import { MemoryKeyringStore } from "authkeep/testing";
   * new MemoryKeyringStore().clearError("a");
   * ```
   */
  clearError(account: string): void {
    this.#errors.delete(account);
  }

  /**
   * The stored value for `account` (in `service`, or in any service), or `undefined`.
   *
   * @example Basic usage
   * ```ts
   * import { MemoryKeyringStore } from "authkeep/testing";
   * const keyring = new MemoryKeyringStore();
   * keyring.saveSync("Codex Auth", "a", "v");
   * console.log(keyring.savedValue("a")); // "v"
   * ```
   */
  savedValue(account: string, service?: string): string | undefined {
    if (service !== undefined) return this.#values.get(service)?.get(account);
    for (const accounts of this.#values.values()) {
      const value = accounts.get(account);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /**
   * Whether a value is stored for `account` (in `service`, or in any service).
   *
   * @example Basic usage
   * ```ts
   * import { MemoryKeyringStore } from "authkeep/testing";
   * console.log(new MemoryKeyringStore().contains("a")); // false
   * ```
   */
  contains(account: string, service?: string): boolean {
    return this.savedValue(account, service) !== undefined;
  }

  /** Reads the secret, or `null` when there is none. */
  load(service: string, account: string): Promise<string | null> {
    return settle(() => this.loadSync(service, account));
  }

  /** Stores the secret, replacing any existing one. */
  save(service: string, account: string, value: string): Promise<void> {
    return settle(() => this.saveSync(service, account, value));
  }

  /** Deletes the secret; returns whether one existed. */
  delete(service: string, account: string): Promise<boolean> {
    return settle(() => this.deleteSync(service, account));
  }

  /** Synchronous twin of {@linkcode MemoryKeyringStore.load}. */
  loadSync(service: string, account: string): string | null {
    this.#throwInjected(account, "load");
    return this.#values.get(service)?.get(account) ?? null;
  }

  /** Synchronous twin of {@linkcode MemoryKeyringStore.save}. */
  saveSync(service: string, account: string, value: string): void {
    this.#throwInjected(account, "save");
    if (typeof value !== "string") {
      throw new KeyringError("the value must be a string", { kind: "invalid", reason: "invalid", backend: this.backend });
    }
    let accounts = this.#values.get(service);
    if (accounts === undefined) this.#values.set(service, (accounts = new Map()));
    accounts.set(account, value);
  }

  /** Synchronous twin of {@linkcode MemoryKeyringStore.delete}. */
  deleteSync(service: string, account: string): boolean {
    this.#throwInjected(account, "delete");
    return this.#values.get(service)?.delete(account) ?? false;
  }

  #throwInjected(account: string, operation: KeyringOperation): void {
    const injected = this.#errors.get(account);
    if (injected === undefined || !injected.operations.has(operation)) return;
    if (injected.once) this.#errors.delete(account);
    throw injected.error;
  }

  /** Shows how many entries there are, never their values. */
  [inspectSymbol](): string {
    let count = 0;
    for (const accounts of this.#values.values()) count += accounts.size;
    return `MemoryKeyringStore { entries: ${count} }`;
  }

  /** `JSON.stringify` shows the same summary as `util.inspect`. */
  toJSON(): { backend: string; entries: number } {
    let entries = 0;
    for (const accounts of this.#values.values()) entries += accounts.size;
    return { backend: this.backend, entries };
  }
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}
