/**
 * One cold start, in a fresh process: `node dist/bench/_cold-child.js <case>`
 * (also run by Bun and Deno).
 * Prints `{"importMs":…, "callMs":…}` measured inside the process; the parent
 * also times the whole process from outside.
 *
 * Kept free of static imports, so the `empty` case costs only the runtime's
 * own start plus loading this file.
 *
 * @module
 */
/**
 * On Deno the arguments come from `Deno.args`: the first touch of `process` starts Deno's Node
 * compatibility layer (about 9 ms), which the timed code must pay itself if it needs it. With
 * `AUTHKEEP_COLD_NODE_COMPAT=1` the child starts it before the timer instead, as a program that
 * already uses Node APIs would have.
 */
interface DenoGlobal {
  args: string[];
  build: { os: string };
  env: { get(name: string): string | undefined };
  stdout: { writeSync(bytes: Uint8Array): number };
  exitCode: number;
}
const denoRuntime = (globalThis as { Deno?: DenoGlobal }).Deno;
const [which = "empty", root = ".", anchors = ".cache/bench-anchors", round = "0"] = denoRuntime?.args ?? process.argv.slice(2);
const envVar = (name: string): string | undefined => (denoRuntime ? denoRuntime.env.get(name) : process.env[name]);
if (denoRuntime && envVar("AUTHKEEP_COLD_NODE_COMPAT") === "1") void process.versions;
const service = "authkeep-bench";
const account = "bench|cold";
/** The stored 4 KB entry the first-load cases read (both libraries find the same item). */
const HIT_ACCOUNT = "bench|cold-hit";
/** The entries the first-save cases update, one per library. */
const SAVE_ACCOUNTS = { authkeep: "bench|cold-save-authkeep", napi: "bench|cold-save-napi" } as const;

/**
 * A 4 KB JSON value that differs by `round`, so every save really changes the data. On Windows
 * 0.2 KB: @napi-rs/keyring cannot store 4 KB there (a credential holds 2560 bytes of UTF-16).
 */
function coldValue(round: string): string {
  const windows = denoRuntime ? denoRuntime.build.os === "windows" : process.platform === "win32";
  return JSON.stringify({ round, padding: "x".repeat(windows ? 180 : 3650) });
}

/**
 * Prints the result line, or writes it to $AUTHKEEP_COLD_OUT: node.exe under Wine dies when its
 * stdout is a Unix pipe (bench/windows-wine-cold.ts reads the file).
 */
async function report(line: string): Promise<void> {
  // On Deno through Deno.stdout: process.stdout would start the Node compatibility layer after the
  // timer, inside the whole-process time, for a library that did not need it.
  if (denoRuntime) {
    denoRuntime.stdout.writeSync(new TextEncoder().encode(line));
    return;
  }
  const out = process.env.AUTHKEEP_COLD_OUT;
  if (!out) {
    process.stdout.write(line);
    return;
  }
  const { writeFileSync } = await import("node:fs");
  writeFileSync(out, line);
}

interface ColdResult {
  importMs?: number;
  callMs?: number;
  /** User + system CPU time of the whole process so far: less disturbed by other load than wall time. */
  cpuMs?: number;
  error?: string;
}

type Authkeep = typeof import("../src/index.ts");

/**
 * The package entry of the same build as this file (bundle/src/index.js, what "exports" names;
 * `authkeep-unbundled` takes tsc's dist/src/index.js; `before-*` the build in $AUTHKEEP_BENCH_BEFORE,
 * another commit's, for before/after rows in one run), by URL so that a private BENCH_BUILD_DIR
 * measures its own build. A variable specifier keeps tsc from resolving it.
 */
function entryUrl(): string {
  if (which.startsWith("before-")) return new URL(`file://${envVar("AUTHKEEP_BENCH_BEFORE")}/bundle/src/index.js`).href;
  if (which === "authkeep-unbundled") return new URL("../src/index.js", import.meta.url).href;
  // Deno resolves `npm:authkeep` through the "deno" export condition: the Deno entry.
  return new URL(denoRuntime ? "../bundle/src/deno.js" : "../bundle/src/index.js", import.meta.url).href;
}

/** The first keyring call of a case: `*-call` a missing entry, `*-hit` the stored one, `*-save` an update. */
function firstCall(authkeep: Authkeep): void {
  const store = authkeep.defaultKeyringStore();
  if (which.endsWith("-call")) store.loadSync(service, account);
  else if (which.endsWith("-hit")) {
    if (store.loadSync(service, HIT_ACCOUNT) === null) throw new Error("the stored entry is missing (run the prepare case)");
  } else if (which.endsWith("-save")) store.saveSync(service, SAVE_ACCOUNTS.authkeep, coldValue(round));
}

/** The GLib functions a floor child declares: `GDBusConnection *g_bus_get_sync(GBusType, GCancellable *, GError **)`. */
type BusGet = (busType: number, cancellable: null, error: null) => unknown;

/**
 * The floor of a first keyring call on this runtime's FFI (or koffi's, with
 * `AUTHKEEP_FFI=koffi`): load the FFI, dlopen libgio and declare one function;
 * `floor-connect` also connects to the session bus (`g_bus_get_sync`: the
 * socket, the auth handshake and `Hello`). No Secret Service call: what a
 * first load adds above this is authkeep's own (and the daemon's) work.
 * On Windows: koffi, advapi32.dll and `CredReadW` declared.
 */
async function floor(connect: boolean, root: string): Promise<void> {
  const gio = "libgio-2.0.so.0";
  const global = globalThis as { Bun?: unknown; Deno?: { dlopen(path: string, symbols: object): { symbols: Record<string, BusGet> } } };
  let busGet: BusGet;
  if (envVar("AUTHKEEP_FFI") !== "koffi" && global.Bun !== undefined) {
    const specifier = "bun:ffi"; // a variable specifier keeps tsc from resolving it
    const bun = (await import(specifier)) as { dlopen(path: string, symbols: object): { symbols: Record<string, BusGet> } };
    busGet = bun.dlopen(gio, { g_bus_get_sync: { args: ["i32", "ptr", "ptr"], returns: "ptr" } }).symbols.g_bus_get_sync!;
  } else if (envVar("AUTHKEEP_FFI") !== "koffi" && global.Deno !== undefined) {
    busGet = global.Deno.dlopen(gio, { g_bus_get_sync: { parameters: ["i32", "pointer", "pointer"], result: "pointer" } }).symbols.g_bus_get_sync!;
  } else {
    const { createRequire } = await import("node:module");
    const koffi = createRequire(`${root}/package.json`)("koffi") as { load(path: string): { func(signature: string): BusGet } };
    // Windows: the Credential Manager's DLL and its read function; there is no connection to make.
    if (process.platform === "win32") {
      koffi.load("advapi32.dll").func("bool __stdcall CredReadW(const char16_t *target, uint32_t type, uint32_t flags, _Out_ void **credential)");
      return;
    }
    busGet = koffi.load(gio).func("void *g_bus_get_sync(int, void *, void *)");
  }
  if (connect && !busGet(2, null, null)) throw new Error("g_bus_get_sync found no session bus");
}

async function main(): Promise<ColdResult> {
  const result: ColdResult = {};
  if (which === "empty") return result;
  const started = performance.now();
  if (which === "empty-import") {
    await import(new URL("./_empty-module.js", import.meta.url).href);
    result.importMs = performance.now() - started;
  } else if (which.startsWith("authkeep") || which.startsWith("before-")) {
    const authkeep = (await import(entryUrl())) as Authkeep;
    result.importMs = performance.now() - started;
    if (which !== "authkeep-import" && which !== "authkeep-unbundled") {
      const before = performance.now();
      firstCall(authkeep);
      result.callMs = performance.now() - before;
    }
  } else if (which === "floor-dlopen" || which === "floor-connect") {
    // All of it counts as the first call: these children import nothing of authkeep.
    result.importMs = 0;
    await floor(which === "floor-connect", root);
    result.callMs = performance.now() - started;
  } else if (which.startsWith("napi")) {
    const { createRequire } = await import("node:module");
    const napi = createRequire(`${root}/package.json`)("@napi-rs/keyring") as typeof import("@napi-rs/keyring");
    result.importMs = performance.now() - started;
    const options = { linux: { store: "secret-service" as const } };
    const before = performance.now();
    if (which === "napi-call") new napi.Entry(service, account, options).getPassword();
    else if (which === "napi-hit") {
      if (new napi.Entry(service, HIT_ACCOUNT, options).getPassword() == null) throw new Error("the stored entry is missing");
    } else if (which === "napi-save") new napi.Entry(service, SAVE_ACCOUNTS.napi, options).setPassword(coldValue(round));
    if (which !== "napi-import") result.callMs = performance.now() - before;
  } else if (which === "prepare" || which === "cleanup") {
    // Untimed: stores (or removes) the entries the cases read and update, each with its own library.
    const authkeep = (await import(entryUrl())) as Authkeep;
    const { createRequire } = await import("node:module");
    const napi = createRequire(`${root}/package.json`)("@napi-rs/keyring") as typeof import("@napi-rs/keyring");
    const store = authkeep.defaultKeyringStore();
    const napiSave = new napi.Entry(service, SAVE_ACCOUNTS.napi, { linux: { store: "secret-service" } });
    if (which === "prepare") {
      store.saveSync(service, HIT_ACCOUNT, coldValue("stored"));
      store.saveSync(service, SAVE_ACCOUNTS.authkeep, coldValue("stored"));
      napiSave.setPassword(coldValue("stored"));
    } else {
      store.deleteSync(service, HIT_ACCOUNT);
      store.deleteSync(service, SAVE_ACCOUNTS.authkeep);
      napiSave.deletePassword();
    }
  } else if (which.startsWith("keytar")) {
    const { createRequire } = await import("node:module");
    const keytar = createRequire(`${root}/${anchors}/package.json`)("keytar") as {
      getPassword(service: string, account: string): Promise<string | null>;
    };
    result.importMs = performance.now() - started;
    if (which === "keytar-call") {
      const before = performance.now();
      await keytar.getPassword(service, account);
      result.callMs = performance.now() - before;
    }
  } else {
    throw new Error(`unknown cold-start case ${which}`);
  }
  return result;
}

main().then(
  (result) => {
    // Deno has no CPU-time reading of its own: process.cpuUsage() would start Node compatibility.
    if (!denoRuntime) {
      const cpu = process.cpuUsage();
      result.cpuMs = (cpu.user + cpu.system) / 1000;
    }
    return report(`${JSON.stringify(result)}\n`);
  },
  async (error: unknown) => {
    if (denoRuntime) denoRuntime.exitCode = 1;
    else process.exitCode = 1;
    await report(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  },
);
