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
const [, , which = "empty", root = ".", anchors = ".cache/bench-anchors"] = process.argv;
const service = "authkeep-bench";
const account = "bench|cold";

interface ColdResult {
  importMs?: number;
  callMs?: number;
  /** User + system CPU time of the whole process so far: less disturbed by other load than wall time. */
  cpuMs?: number;
  error?: string;
}

async function main(): Promise<ColdResult> {
  const result: ColdResult = {};
  if (which === "empty") return result;
  const started = performance.now();
  if (which === "empty-import") {
    await import(new URL("./_empty-module.js", import.meta.url).href);
    result.importMs = performance.now() - started;
  } else if (which.startsWith("authkeep")) {
    // The package entry of the same build as this file (bundle/src/index.js, what "exports" names;
    // `authkeep-unbundled` takes tsc's dist/src/index.js instead), by URL so that a private
    // BENCH_BUILD_DIR measures its own build. A variable specifier keeps tsc from resolving it.
    const entry = new URL(which === "authkeep-unbundled" ? "../src/index.js" : "../bundle/src/index.js", import.meta.url).href;
    const authkeep = (await import(entry)) as typeof import("../src/index.ts");
    result.importMs = performance.now() - started;
    if (which === "authkeep-call") {
      const before = performance.now();
      authkeep.defaultKeyringStore().loadSync(service, account);
      result.callMs = performance.now() - before;
    }
  } else if (which.startsWith("napi")) {
    const { createRequire } = await import("node:module");
    const napi = createRequire(`${root}/package.json`)("@napi-rs/keyring") as typeof import("@napi-rs/keyring");
    result.importMs = performance.now() - started;
    if (which === "napi-call") {
      const before = performance.now();
      new napi.Entry(service, account, { linux: { store: "secret-service" } }).getPassword();
      result.callMs = performance.now() - before;
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
    const cpu = process.cpuUsage();
    result.cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  },
);
