/**
 * The Node built-ins whose ES-module import is expensive, taken with
 * `process.getBuiltinModule` instead.
 *
 * Why: `import … from "node:fs"` (or `"node:process"`) makes the runtime
 * build a namespace of every export, which runs the module's lazy getters:
 * `fs.promises` and the stream classes for `node:fs`, `process.stdout` and
 * `process.stdin` (tty, net, streams) for `node:process`. On Node 20 each
 * cost several milliseconds of a cold start, more than all of authkeep's own
 * modules. `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno 2) returns
 * the plain module object and runs none of them; `process` itself is used as
 * the global it is on every supported runtime.
 *
 * Each is taken on first use, not at import: `node:fs/promises` loads its
 * stream machinery when first required, and Bun and Deno build their
 * `node:fs`, `node:os` and `node:path` on first request.
 *
 * @module
 */

let fs: typeof import("node:fs") | undefined;
let promises: typeof import("node:fs/promises") | undefined;
let os: typeof import("node:os") | undefined;
let path: typeof import("node:path") | undefined;

/**
 * `node:fs`, without its ES-module namespace, taken on first use: on Node it
 * is loaded before any user code anyway, but Bun and Deno build their
 * `node:fs` on first request (measured: several milliseconds on Bun).
 *
 * @returns The `node:fs` module.
 */
export function nodeFs(): typeof import("node:fs") {
  // Cached: this sits on the load and save paths, several calls per operation.
  fs ??= process.getBuiltinModule("node:fs");
  return fs;
}

/**
 * `node:fs/promises`, loaded on first use.
 *
 * @returns The `node:fs/promises` module.
 */
export function fsPromises(): typeof import("node:fs/promises") {
  promises ??= process.getBuiltinModule("node:fs/promises");
  return promises;
}

/**
 * `node:os`, loaded on first use (for `homedir()` and `hostname()`).
 *
 * @returns The `node:os` module.
 */
export function nodeOs(): typeof import("node:os") {
  os ??= process.getBuiltinModule("node:os");
  return os;
}

/**
 * `node:path`, taken on first use (Bun builds it on first request).
 *
 * @returns The `node:path` module.
 */
export function nodePath(): typeof import("node:path") {
  path ??= process.getBuiltinModule("node:path");
  return path;
}
