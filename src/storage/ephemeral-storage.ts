/**
 * `ephemeral` mode: credentials kept only in this process's memory, in one
 * process-wide map keyed by service and store key (Codex's ephemeral store).
 * Values are kept serialized, so callers never share mutable objects.
 *
 * @module
 */
import type { AuthDotJson } from "../document/auth-types.ts";
import { parseAuthJson, serializeAuthJson } from "../document/auth-json.ts";
import type { Flow } from "../contract/engine.ts";
import { computeStoreKey } from "../document/store-key.ts";
import type { StorageFlows } from "./_flow-storage.ts";

const processWideStore = new Map<string, string>();

/** The flows of `ephemeral` mode. */
export function ephemeralStorageFlows(home: string, service: string): StorageFlows {
  const key = (): string => `${service}\u0000${computeStoreKey(home)}`;
  return {
    // deno-lint-ignore require-yield
    *load(): Flow<AuthDotJson | null> {
      const value = processWideStore.get(key());
      return value === undefined ? null : parseAuthJson(value);
    },
    // deno-lint-ignore require-yield
    *save(auth: AuthDotJson): Flow<void> {
      processWideStore.set(key(), serializeAuthJson(auth, { pretty: false }));
    },
    // deno-lint-ignore require-yield
    *delete(): Flow<boolean> {
      return processWideStore.delete(key());
    },
  };
}
