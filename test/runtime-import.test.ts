/**
 * Importing authkeep, and creating storages and keyring stores without
 * calling them, loads no FFI provider: no koffi, no provider module, no
 * native library. Checked in a fresh child process of the same runtime
 * (Node, Bun or Deno), because a test process has usually loaded koffi
 * already; the child also proves the check can see a provider once one is
 * loaded. The child prints how long the import took (no timing assertion).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";

// Sources run as .ts (Node >= 22, Bun, Deno), the build from dist/ as .js.
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const sourceEntry = new URL(`../src/index${ext}`, import.meta.url).href;
// The published package runs the bundle (scripts/bundle.ts); it is checked too where it was built.
const bundleEntry = ext === ".js" ? new URL("../bundle/src/index.js", import.meta.url) : null;
const entries = [sourceEntry, ...(bundleEntry && existsSync(bundleEntry) ? [bundleEntry.href] : [])];
const ffiIndex = new URL(`../native/ffi/index${ext}`, import.meta.url).href;
const repo = fileURLToPath(new URL(ext === ".ts" ? "../" : "../../", import.meta.url));
const runtime = (globalThis as { Bun?: unknown }).Bun !== undefined ? "bun"
  : (globalThis as { Deno?: unknown }).Deno !== undefined ? "deno"
  : "node";

// What the import must not load: koffi's package or native addon, any module
// under native/ (backends and FFI providers), or a keyring library mapped in.
// Paths use either separator, for Windows.
const NATIVE_MODULE = /node_modules[\\/]koffi[\\/]|koffi\.node$|[\\/]native[\\/]/;
// Once a store exists, its platform backend's JS may be loaded (with the provider modules it
// imports, which load nothing themselves); an FFI is loaded only when koffi or a library is.
const LOADED_FFI = /node_modules[\\/]koffi[\\/]|koffi\.node$/;
const NATIVE_LIBRARY = /koffi\.node|libsecret-1\.so|libglib-2\.0\.so/;

const CHILD = `
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
const [entry, ffiIndex] = process.argv.slice(-2);
const require = createRequire(import.meta.url);
const snapshot = () => ({
  modules: Object.keys(require.cache ?? {}).filter((name) => ${NATIVE_MODULE}.test(name)),
  libraries: existsSync("/proc/self/maps")
    ? [...new Set(readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => ${NATIVE_LIBRARY}.test(l)).map((l) => l.split(/\\s+/).pop()))]
    : null,
});
const start = performance.now();
const authkeep = await import(entry);
const importMs = performance.now() - start;
const afterImport = snapshot();
authkeep.createAuthStorage({ home: tmpdir(), mode: "auto" });
authkeep.createAuthStorage({ home: tmpdir(), mode: "keyring" });
authkeep.defaultKeyringStore();
const afterCreate = snapshot();
// Positive control: load the koffi provider and a library, and see them.
const ffi = (await import(ffiIndex)).loadFfiProvider({ ffi: "koffi" });
const glib = process.platform === "linux" ? ffi.open("libglib-2.0.so.0", { g_free: { args: ["pointer"], returns: "void" } }) : null;
const afterLoad = snapshot();
glib?.close();
console.log(JSON.stringify({ importMs, afterImport, afterCreate, afterLoad }));
`;

interface Snapshot {
  modules: string[];
  libraries: string[] | null;
}
interface Report {
  importMs: number;
  afterImport: Snapshot;
  afterCreate: Snapshot;
  afterLoad: Snapshot;
}

const dir = mkdtempSync(join(tmpdir(), "authkeep-import-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function runChild(entry: string): Report {
  const script = join(dir, "child.mjs");
  writeFileSync(script, CHILD);
  const args = runtime === "deno"
    // -A: Deno reads /proc/self/maps only with every permission.
    ? ["run", "--no-check", "-A", script, entry, ffiIndex]
    : [script, entry, ffiIndex];
  // cwd = the repository, so that Deno finds package.json and node_modules (for the koffi control).
  const out = execFileSync(process.execPath, args, {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, AUTHKEEP_FFI: "", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = out.trim().split("\n").pop()!;
  return JSON.parse(line) as Report;
}

const label = (entry: string): string => fileURLToPath(entry).slice(repo.length).split("\\").join("/");

for (const entry of entries) describe(`importing authkeep (${label(entry)}) on ${runtime}`, () => {
  let report: Report | undefined;
  const get = (): Report => (report ??= runChild(entry));

  it("loads no FFI provider module and no native library", (t) => {
    const { importMs, afterImport } = get();
    t.diagnostic(`import of ${label(entry)} took ${importMs.toFixed(1)} ms on ${runtime}`);
    assert.deepEqual(afterImport.modules, []);
    if (afterImport.libraries !== null) assert.deepEqual(afterImport.libraries, []);
  });

  it("creates storages and the default keyring store without loading one either", () => {
    const { afterCreate } = get();
    assert.deepEqual(afterCreate.modules.filter((name) => LOADED_FFI.test(name)), []);
    if (afterCreate.libraries !== null) assert.deepEqual(afterCreate.libraries, []);
  });

  it("does see a provider once one is loaded (the check is not blind)", () => {
    const { afterLoad } = get();
    // The provider modules are ES-module imports of native/ffi/index (not in require.cache); koffi's package is.
    assert.ok(afterLoad.modules.some((name) => /node_modules[\\/]koffi[\\/]/.test(name)), JSON.stringify(afterLoad.modules));
    if (afterLoad.libraries !== null) {
      assert.ok(afterLoad.libraries.some((name) => /koffi\.node$/.test(name)), JSON.stringify(afterLoad.libraries));
      assert.ok(afterLoad.libraries.some((name) => /libglib-2\.0\.so/.test(name)), JSON.stringify(afterLoad.libraries));
    }
  });
});
