/**
 * A backend's bound functions, memoised per FFI provider: a process may use
 * two stores with different `ffi` options, and a library that failed to load
 * keeps failing the same way without being opened again.
 *
 * @module
 */
import type { FfiProvider, FfiProviderName } from "./provider.ts";

/** Binds a backend's functions on one provider, or throws the backend's own error. */
export type BindOnProvider<T> = (ffi: FfiProvider) => T;

/**
 * Returns `bind` memoised per provider name, success and failure alike.
 *
 * @param bind Opens the backend's libraries on the provider and declares its functions.
 * @returns A function with the same contract, which calls `bind` at most once per provider.
 */
export function memoizePerProvider<T>(bind: BindOnProvider<T>): BindOnProvider<T> {
  const bound = new Map<FfiProviderName, T>();
  const failures = new Map<FfiProviderName, unknown>();
  return (ffi) => {
    const cached = bound.get(ffi.name);
    if (cached !== undefined) return cached;
    if (failures.has(ffi.name)) throw failures.get(ffi.name);
    try {
      const value = bind(ffi);
      bound.set(ffi.name, value);
      return value;
    } catch (error) {
      failures.set(ffi.name, error);
      throw error;
    }
  };
}
