/**
 * `npm run build`, second step: bundles tsc's output (dist/) into the few
 * files the package publishes (dist/bundle/), with esbuild.
 *
 * Why bundle: on Node 20, each ES module costs the loader one to two
 * milliseconds (resolve, package scope lookup, an async read, translate), so
 * importing the 28 modules of dist/src cost 35-60 ms before any of our code
 * ran. Why not esbuild's code splitting: the entry split into five files (the
 * entry and four shared chunks) measured about twice the import time of one
 * file (bench/cold-start.ts measures the import in every run).
 *
 * So the library is one file, and the CLI, the test doubles and the backends
 * import it instead of carrying a copy (the package once shipped the library
 * twice, in the library's and in the CLI's bundle). Measured on Node 20 and
 * Bun (import, median): a one-line public entry re-exporting a separate core
 * file cost about 1 ms more than one file, so the entry is the core:
 * - `dist/bundle/src/index.js`: the package entry, every library module (src/
 *   but the CLI); besides the public names it exports one object that no
 *   `.d.ts` declares, each library module's namespace by `<folder>/<name>`,
 *   which the other files read what they need from;
 * - `dist/bundle/src/testing.js`: `authkeep/testing`, a few lines;
 * - `dist/bundle/src/cli.js`: the `authkeep` binary, the CLI's own code;
 * - `dist/bundle/native/{linux,windows,macos,lock}/store.js`: the platform
 *   backends, required on first use by `src/keyring/platform-keyring-stores.ts`
 *   as `../native/<os>/store.js` from `index.js` (checked below), and
 *   `dist/bundle/native/_shared/*.js`, the FFI layer they share (one esbuild
 *   chunk; the few lines each backend reads from the library entry, and the
 *   per-provider memo, are copied into the backends instead of becoming
 *   200-byte chunks: each file a first keyring call loads costs about a
 *   millisecond, 6.6 against 5.4 ms for the Linux backend's import).
 *
 * koffi and `bun:ffi` stay outside (optional, loaded on first keyring use).
 * Whitespace is minified (names are kept, so stack traces still name
 * functions): it took 11 KB off the packed package.
 *
 * Types: tsc's `.d.ts`, only those the two entries reach (a third of them), copied
 * to `dist/types/` in the same layout, without maps (the package ships no
 * sources). Bundling them into one file per entry would need a bundler built
 * on TypeScript 5's JS API, which the project's TypeScript 7 does not have.
 *
 * @module
 */
import { build, type Plugin } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// This file runs as <build>/scripts/bundle.js: the build directory (dist/, or a
// private one such as bench's) is its parent.
const dist = fileURLToPath(new URL("../", import.meta.url));
const out = join(dist, "bundle");
const entriesDir = join(dist, ".bundle-entries");
const libraryEntry = join(out, "src", "index.js");
/** The library entry's one export that is not public (no `.d.ts` declares it). */
const INTERNALS = "__authkeepInternals";

const slash = (path: string): string => path.split("\\").join("/");
const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith(".js")).map((name) => join(dir, name));

/** The library's modules (tsc's output of src/ but the CLI and the entries), by `<folder>/<name>`. */
const libraryModules = new Map<string, string>();
for (const file of jsFiles(join(dist, "src"))) {
  const where = slash(relative(join(dist, "src"), file));
  if (where.includes("/") && !where.startsWith("cli/")) libraryModules.set(file, where.replace(/\.js$/, ""));
}

/**
 * What the CLI, the test doubles and the backends import from library modules: module key →
 * names, read from tsc's output (named imports and re-exports only; anything else stops the
 * build, since the internals below could not serve it).
 */
const used = new Map<string, Set<string>>();
const consumers = [...jsFiles(join(dist, "src", "cli")), join(dist, "src", "testing.js"), join(dist, "src", "deno.js"), ...jsFiles(join(dist, "native"))];
for (const file of consumers) {
  const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const match of code.matchAll(/^(import|export)\b([^;]*?)\bfrom\s*"(\.\.?\/[^"]+)"/gm)) {
    const key = libraryModules.get(join(dirname(file), match[3]!));
    if (key === undefined) continue;
    const names = /^\s*\{([^}]*)\}\s*$/.exec(match[2]!);
    if (names === null) throw new Error(`bundle: ${slash(relative(dist, file))}: only named imports of library modules are supported: ${match[0]}`);
    const set = used.get(key) ?? used.set(key, new Set()).get(key)!;
    for (const name of names[1]!.split(",").map((part) => part.trim().split(/\s+as\s+/)[0]!).filter(Boolean)) set.add(name);
  }
}

// The library entry: the public names, and what the other files use, under one export that no
// .d.ts declares, as plain data (`{ "<folder>/<name>": { name: value } }`).
rmSync(out, { recursive: true, force: true });
rmSync(entriesDir, { recursive: true, force: true });
mkdirSync(entriesDir, { recursive: true });
const fileOf = new Map([...libraryModules].map(([file, key]) => [key, file]));
const modules = [...used].sort(([a], [b]) => a.localeCompare(b)).map(([key, names], i) => ({ key, names: [...names].sort(), local: `m${i}` }));
writeFileSync(join(entriesDir, "index.js"), [
  `export * from ${JSON.stringify(slash(relative(entriesDir, join(dist, "src", "index.js"))))};`,
  ...modules.map(({ key, names, local }) =>
    `import { ${names.map((name) => `${name} as ${local}_${name}`).join(", ")} } from ${JSON.stringify(slash(relative(entriesDir, fileOf.get(key)!)))};`
  ),
  `export const ${INTERNALS} = {`,
  ...modules.map(({ key, names, local }) => `  ${JSON.stringify(key)}: { ${names.map((name) => `${name}: ${local}_${name}`).join(", ")} },`),
  "};",
].join("\n"));
await build({ entryPoints: [{ in: join(entriesDir, "index.js"), out: "src/index" }], ...common() });

/**
 * Imports of library modules become reads from the library entry's internals: a module of
 * `const` exports taken from `${INTERNALS}[<module>]`, the entry imported relative to `fromDir`.
 */
/** The folder under native/ that `importer` sits in (`linux`, `ffi`, ...), or `""`. */
const backendOf = (importer: string): string => /[\\/]native[\\/]([^\\/]+)[\\/]/.exec(importer)?.[1] ?? "";

function importLibrary(fromDir: string, perBackend = false): Plugin {
  const entry = slash(relative(fromDir, libraryEntry)).replace(/^(?!\.)/, "./");
  return {
    name: "import-library",
    setup(plugin) {
      plugin.onResolve({ filter: /^\.\.?\// }, (args) => {
        const key = libraryModules.get(join(args.resolveDir, args.path));
        if (key === undefined) return undefined;
        // Per backend folder, so that a backend's few lines of reads sit in its own file instead of
        // a 200-byte chunk shared with another backend: each chunk a first keyring call loads cost
        // about a millisecond (a resolve, a read and a compile; more under Wine).
        const group = perBackend ? backendOf(args.importer) : "";
        return { path: key, namespace: "library", suffix: group === "" ? undefined : `?${group}` };
      });
      plugin.onLoad({ filter: /.*/, namespace: "library" }, (args) => {
        const names = [...used.get(args.path) ?? []];
        const contents = [
          `import { ${INTERNALS} } from ${JSON.stringify(entry)};`,
          `const module = ${INTERNALS}[${JSON.stringify(args.path)}];`,
          ...names.map((name) => `export const ${name} = module.${name};`),
        ].join("\n");
        return { contents, loader: "js" as const };
      });
      // The per-provider memo is a few lines that three backends use and the FFI layer does not: a
      // copy in each backend, rather than a chunk of its own.
      if (perBackend) {
        plugin.onResolve({ filter: /_bindings-cache\.js$/ }, (args) => {
          const group = backendOf(args.importer);
          return { path: join(args.resolveDir, args.path), suffix: `?${group}` };
        });
      }
      plugin.onResolve({ filter: /\/index\.js$/, namespace: "library" }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * The Deno entry's own imports stay imports: the library entry it re-exports (`./index.js`) and
 * the native modules (`../native/<name>/store.js`), which sit at the same relative paths in the
 * bundle as in tsc's output.
 */
function denoEntryImports(): Plugin {
  return {
    name: "deno-entry-imports",
    setup(plugin) {
      plugin.onResolve({ filter: /^(\.\/index|\.\.\/native\/[a-z]+\/store)\.js$/ }, (args) =>
        args.importer === join(dist, "src", "deno.js") ? { path: args.path, external: true } : undefined);
    },
  };
}

const others = await build({
  entryPoints: [
    { in: join(dist, "src", "cli", "main.js"), out: "src/cli" },
    { in: join(dist, "src", "testing.js"), out: "src/testing" },
    { in: join(dist, "src", "deno.js"), out: "src/deno" },
  ],
  plugins: [importLibrary(join(out, "src")), denoEntryImports()],
  ...common(),
});

// The backends share their FFI layer; chunks sit as deep as the stores, so one relative path to
// the library entry holds for both.
const backends = await build({
  entryPoints: ["linux", "windows", "macos", "lock"].map((os) => ({ in: join(dist, "native", os, "store.js"), out: `native/${os}/store` })),
  splitting: true,
  chunkNames: "native/_shared/[name]-[hash]",
  plugins: [importLibrary(join(out, "native", "linux"), true)],
  ...common(),
});

function common() {
  return {
    outdir: out,
    bundle: true,
    format: "esm" as const,
    platform: "node" as const,
    target: ["node20", "deno2", "esnext"],
    // node:* stays as written: esbuild would strip the prefix, which Deno requires.
    external: ["koffi", "bun:ffi", "node:*"],
    legalComments: "none" as const,
    // Bun's pragma for code it may run as written (what `bun build --target=bun` emits): Bun then
    // skips its own transpiler for the file. Without it, each file Bun's transpiler cache does
    // not hold (a first run after an install or an upgrade, a container without a persistent
    // cache) is transpiled on load: importing the library and requiring the Linux backend took
    // 10.9 ms that way, 4.9 ms with the pragma (4.8 and 5.1 ms with a warm cache, medians of 11,
    // Bun 1.4.5). A comment to Node and Deno; esbuild keeps a hashbang above it.
    banner: { js: "// @bun" },
    // Minified for size (the package was 116 kB packed with whitespace minified only): local
    // names are shortened; error classes set their own `name`, so messages and instanceof hold.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    logLevel: "warning" as const,
    absWorkingDir: dist,
    metafile: true as const,
  };
}
rmSync(entriesDir, { recursive: true, force: true });

// The backends are found relative to the file the loader's code ends up in (and the Deno entry,
// beside it, imports them by the same paths).
const files = jsFiles(out);
for (const file of files) {
  if (!readFileSync(file, "utf8").includes("../native/")) continue;
  const where = slash(relative(out, file));
  if (where !== "src/index.js" && where !== "src/deno.js") throw new Error(`bundle: ${where} computes a ../native/ path but is neither dist/bundle/src/index.js nor the Deno entry beside it`);
}
// Nothing but the library entry may hold library code: a module bundled twice would exist twice.
for (const [output, { inputs }] of Object.entries({ ...others.metafile.outputs, ...backends.metafile.outputs })) {
  const copied = Object.keys(inputs).filter((input) => libraryModules.has(join(dist, input)));
  if (copied.length > 0) throw new Error(`bundle: ${output} holds a copy of ${copied.join(", ")}`);
}

// The declarations the entries reach, by their import specifiers (`./x.ts` or `./x.js`).
const types = join(dist, "types");
rmSync(types, { recursive: true, force: true });
const reached = new Set<string>();
const pending = ["src/index.d.ts", "src/testing.d.ts"];
for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
  if (reached.has(file)) continue;
  reached.add(file);
  const text = readFileSync(join(dist, file), "utf8");
  mkdirSync(dirname(join(types, file)), { recursive: true });
  writeFileSync(join(types, file), text.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n"));
  // Specifiers in import and export statements only, not in JSDoc examples.
  for (const match of text.replace(/\/\*[\s\S]*?\*\//g, "").matchAll(/(?:\bfrom|\bimport\()\s*"(\.\.?\/[^"]+)\.[jt]s"/g)) {
    pending.push(slash(join(dirname(file), `${match[1]}.d.ts`)));
  }
}
console.error(`bundle: ${reached.size} declaration files in ${types}`);
console.error(`bundle: ${files.length} files in ${out} (${files.map((file) => slash(relative(out, file))).join(", ")})`);
