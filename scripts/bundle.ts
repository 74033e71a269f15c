/**
 * `npm run build`, second step: bundles tsc's output (dist/) into the few
 * files the package publishes (dist/bundle/), with esbuild.
 *
 * Why: on Node 20, each ES module costs the loader one to two milliseconds
 * (resolve, package scope lookup, an async read, translate), so importing the
 * 28 modules of dist/src cost 35-60 ms before any of our code ran. One file
 * per entry, not code splitting: the same entry split into five files (the
 * entry and four shared chunks) measured about twice the import time of one
 * file (bench/cold-start.ts measures the import in every run).
 *
 * Layout, chosen so that the paths the code computes from `import.meta.url`
 * still hold:
 * - `dist/bundle/src/index.js`: the package entry;
 * - `dist/bundle/src/cli.js`: the `authkeep` binary;
 * - `dist/bundle/native/{linux,windows,macos}/store.js`: the platform backends
 * (and `native/lock/store.js`, the file locks, required by `src/storage/_file-locker.ts`),
 *   required on first use by `src/keyring/platform-keyring-stores.ts` as
 *   `../native/<os>/store.js`, so whatever file that code lands in must sit in
 *   `dist/bundle/src/` (checked below);
 *
 * Each file is self-contained, so the backends carry their own copy of the
 * few src/ modules they use; `KeyringError` is the one whose identity
 * matters, and its `instanceof` holds across copies (src/contract/keyring-error.ts).
 *
 * koffi and `bun:ffi` stay outside (optional, loaded on first keyring use).
 * Types stay tsc's (`dist/src/*.d.ts`).
 *
 * @module
 */
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// This file runs as <build>/scripts/bundle.js: the build directory (dist/, or a
// private one such as bench's) is its parent.
const dist = fileURLToPath(new URL("../", import.meta.url));
const out = join(dist, "bundle");

/** The bundle's entries: output name (without .js) → tsc output it starts from. */
const ENTRIES: Record<string, string> = {
  "src/index": "src/index.js",
  "src/testing": "src/testing.js",
  "src/cli": "src/cli/main.js",
  "native/linux/store": "native/linux/store.js",
  "native/windows/store": "native/windows/store.js",
  "native/macos/store": "native/macos/store.js",
  "native/lock/store": "native/lock/store.js",
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: Object.entries(ENTRIES).map(([name, file]) => ({ in: join(dist, file), out: name })),
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "node",
  target: ["node20", "deno2", "esnext"],
  // node:* stays as written: esbuild would strip the prefix, which Deno requires.
  external: ["koffi", "bun:ffi", "node:*"],
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
  absWorkingDir: dist,
});

// The backends are found relative to the file the loader's code ends up in.
const outputs = Object.keys(result.metafile.outputs).map((file) => join(dist, file));
for (const file of outputs) {
  if (!readFileSync(file, "utf8").includes("../native/")) continue;
  const where = relative(out, file).split("\\").join("/");
  if (!/^src\/[^/]+\.js$/.test(where)) {
    throw new Error(`bundle: ${where} computes a ../native/ path but is not directly in dist/bundle/src/`);
  }
}
const files = readdirSync(out, { recursive: true }).filter((name) => String(name).endsWith(".js"));
console.error(`bundle: ${files.length} files in ${out}`);
