/**
 * Test doubles for code that uses authkeep: an in-memory {@linkcode KeyringStore}
 * with fault injection, so a program's keyring paths can be tested without a
 * real keyring daemon.
 *
 * @example Basic usage
 * ```ts
 * import { computeStoreKey, createAuthStorage, KeyringError } from "authkeep";
 * import { MemoryKeyringStore } from "authkeep/testing";
 *
 * const keyring = new MemoryKeyringStore();
 * const home = "/nonexistent/authkeep-home";
 * const storage = createAuthStorage({ home, mode: "keyring", keyring });
 * keyring.setError(computeStoreKey(home), new KeyringError("no bus", { kind: "unavailable", backend: "memory" }));
 * await storage.load().catch((error) => console.log(error.name)); // AuthStorageError
 * ```
 *
 * @module
 */
export { type InjectedErrorOptions, type KeyringOperation, MemoryKeyringStore } from "./keyring/memory-keyring-store.ts";
export type { KeyringStore } from "./contract/keyring-store.ts";
