/**
 * The one loader of the native layer: the platform keyrings
 * (`platform-keyring-stores.ts`) and the advisory-lock binding
 * (`src/storage/_file-locker.ts`) take their module from here, on first use.
 *
 * Two ways in:
 * - an entry that imports the native modules statically hands them over with
 *   {@linkcode provideNativeModules} (`src/deno.ts`, the Deno entry: there a
 *   `require` needs Deno's Node compatibility layer, about 9 ms of a fresh
 *   process, and the `require` itself 2–5 ms, against 0.4 ms for the static
 *   import of the Linux backend);
 * - otherwise the module is `require`d, synchronously, because every store
 *   has synchronous twins (`node:module` through `getBuiltinModule`: its
 *   ES-module import costs start-up time, see `src/contract/_node-builtins.ts`).
 *
 * @module
 */
import type * as Linux from "../../native/linux/store.ts";
import type * as Lock from "../../native/lock/store.ts";
import type * as Macos from "../../native/macos/store.ts";
import type * as Windows from "../../native/windows/store.ts";

/** The native modules, by the folder they sit in under `native/`. */
export interface NativeModules {
  linux: typeof Linux;
  windows: typeof Windows;
  macos: typeof Macos;
  lock: typeof Lock;
}

const provided: Partial<NativeModules> = {};

/** Takes native modules an entry imported statically; later loads return them instead of requiring. */
export function provideNativeModules(modules: Partial<NativeModules>): void {
  Object.assign(provided, modules);
}

// Sources run as .ts (Node >= 22.18, Bun, Deno); the published package as .js.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
// The sources and tsc's output sit two folders below the root (src/keyring/); the bundle puts this
// code in dist/bundle/src/index.js, one below. Both mirror native/<name>/store.
const nativeRoot = /\/src\/keyring\/[^/]+$/.test(import.meta.url) ? "../../native/" : "../native/";

/** Whether {@linkcode loadNativeModule} can reach `name`: provided, or a local file to require. */
export function canLoadNativeModule(name: keyof NativeModules): boolean {
  return provided[name] !== undefined || import.meta.url.startsWith("file:");
}

/**
 * The native module `name`: the one provided, else `require`d from
 * `native/<name>/store` beside this package.
 * @throws {Error} whatever the `require` throws (a module imported by URL,
 * from JSR say, has no local files: see {@linkcode canLoadNativeModule}).
 */
export function loadNativeModule<K extends keyof NativeModules>(name: K): NativeModules[K] {
  return provided[name] ?? (process.getBuiltinModule("node:module").createRequire(import.meta.url)(`${nativeRoot}${name}/store${extension}`) as NativeModules[K]);
}
