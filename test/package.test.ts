// The package as users meet it: `npm pack`, installed offline into fresh projects, consumed
// every way people consume a package. Slow (several npm installs), so it runs once, on Node.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

declare const Deno: unknown;
declare const Bun: unknown;

const here = fileURLToPath(new URL(".", import.meta.url));
const root = here.includes(join("dist", "test")) ? join(here, "..", "..") : join(here, "..");
const onNode = typeof Deno === "undefined" && typeof Bun === "undefined";
const skip = !onNode ? "packaging is checked once, on Node" : process.env.AUTHKEEP_SLOW_TESTS === "0" ? "slow tests disabled" : false;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function sh(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 180_000 });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe("the published package", { skip, timeout: 900_000 }, () => {
  let work: string;
  let tarball: string;
  let files: string[];

  before(() => {
    work = mkdtempSync(join(tmpdir(), "authkeep-pack-"));
    process.on("exit", () => rmSync(work, { recursive: true, force: true }));
    const packed = JSON.parse(ok(sh(npm, ["pack", "--json", "--pack-destination", work], root), "npm pack")) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, packed[0]!.filename);
    files = packed[0]!.files.map((file) => file.path);
  });

  /** A fresh project with the tarball installed from the npm cache only. */
  function consumer(name: string, extraArgs: string[] = []): string {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
    ok(sh(npm, ["install", "--offline", "--no-audit", "--no-fund", ...extraArgs, tarball], dir), `npm install in ${name}`);
    return dir;
  }

  test("the tarball holds the bundle, types and maps, docs and licence, and nothing else", () => {
    const required = [
      "package.json", "README.md", "LICENSE", "CHANGELOG.md",
      "dist/bundle/src/index.js", "dist/bundle/src/testing.js", "dist/bundle/src/cli.js", "dist/bundle/native/linux/store.js", "dist/bundle/native/windows/store.js", "dist/bundle/native/macos/store.js",
      "dist/src/index.d.ts", "dist/src/index.d.ts.map", "dist/native/linux/store.d.ts",
    ];
    for (const file of required) assert.ok(files.includes(file), `${file} is missing from the tarball`);
    // tsc's unbundled JS is for the tests only: the package runs the bundle.
    assert.deepEqual(files.filter((file) => /^dist\/(src|native)\/.*\.js$/.test(file)), []);
    const stray = files.filter((file) =>
      !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(file) && !/^(dist\/(bundle|src|native)|src|native)\//.test(file)
    );
    assert.deepEqual(stray, [], "unexpected files in the tarball");
    assert.ok(!files.some((file) => /(^|\/)test\/|\.test\.|^bench\/|^scripts\/|^\.ci\//.test(file)));
  });

  test("the package has no install-time scripts and no runtime dependencies", () => {
    const manifest = JSON.parse(execFileSync("tar", ["-xOzf", tarball, "package/package.json"], { encoding: "utf8" })) as Record<string, Record<string, string> | undefined>;
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(manifest.scripts?.[hook], undefined, hook);
    assert.equal(manifest.dependencies, undefined);
    assert.deepEqual(Object.keys(manifest.optionalDependencies ?? {}), ["koffi"]);
  });

  describe("installed with its optional koffi", () => {
    let dir: string;
    before(() => {
      dir = consumer("consumer-full");
    });

    test("ESM import works on Node", () => {
      const out = ok(sh(process.execPath, ["--input-type=module", "-e", `
        import { computeStoreKey, createAuthStorage } from "authkeep";
        import { mkdtempSync } from "node:fs";
        const home = mkdtempSync("${join(work, "esm-home-")}");
        const storage = createAuthStorage({ home });
        storage.saveSync({ OPENAI_API_KEY: null });
        console.log(computeStoreKey("~/.codex"), JSON.stringify(storage.loadSync()));
      `], dir), "ESM import");
      assert.equal(out.trim(), 'cli|940db7b1d0e4eb40 {"OPENAI_API_KEY":null}');
    });

    test("CommonJS require works on Node (require(esm))", () => {
      const out = ok(sh(process.execPath, ["-e", `
        const { computeStoreKey, KeyringError } = require("authkeep");
        console.log(computeStoreKey("~/.codex"), typeof KeyringError);
      `], dir), "CommonJS require");
      assert.equal(out.trim(), "cli|940db7b1d0e4eb40 function");
    });

    for (const moduleResolution of ["nodenext", "bundler"] as const) {
      test(`a strict TypeScript project type-checks against the shipped types (${moduleResolution})`, () => {
        const project = join(dir, `ts-${moduleResolution}`);
        mkdirSync(project);
        mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
        try {
          symlinkSync(join(root, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"), "dir");
        } catch {
          // Already linked by the other resolution mode.
        }
        writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: "es2022",
            module: moduleResolution === "nodenext" ? "nodenext" : "esnext",
            moduleResolution,
            types: ["node"],
            skipLibCheck: false,
          },
          include: ["main.ts"],
        }));
        writeFileSync(join(project, "main.ts"), `
          import { createAuthStorage, type AuthDotJson, type KeyringStore, KeyringError, AuthManager } from "authkeep";
          const auth: AuthDotJson = { OPENAI_API_KEY: null };
          const storage = createAuthStorage({ home: "/tmp/x", mode: "auto" });
          const kind: KeyringError["kind"] = "locked";
          const store: KeyringStore | undefined = undefined;
          void [auth, storage, kind, store, AuthManager];
          // @ts-expect-error: the mode is checked
          createAuthStorage({ home: "/tmp/x", mode: "cloud" });
        `);
        ok(sh(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project], project), `tsc (${moduleResolution})`);
      });
    }

    test("npx authkeep --help prints the usage", () => {
      const out = ok(sh(npm, ["exec", "--offline", "--", "authkeep", "--help"], dir), "npx authkeep --help");
      assert.match(out, /authkeep/);
      assert.match(out, /status/);
    });

    test("Bun imports the installed package", { skip: process.env.BUN ? false : "set BUN (scripts/runtimes.sh) to run" }, () => {
      const file = join(dir, "bun-check.mjs");
      writeFileSync(file, 'import { computeStoreKey } from "authkeep";\nconsole.log(computeStoreKey("~/.codex"));\n');
      assert.equal(ok(sh(process.env.BUN!, [file], dir), "bun").trim(), "cli|940db7b1d0e4eb40");
    });

    test("Deno imports the installed package through npm: with a local node_modules", { skip: process.env.DENO ? false : "set DENO (scripts/runtimes.sh) to run" }, () => {
      const file = join(dir, "deno-check.mjs");
      writeFileSync(file, 'import { computeStoreKey } from "npm:authkeep";\nconsole.log(computeStoreKey("~/.codex"));\n');
      const out = ok(sh(process.env.DENO!, ["run", "--node-modules-dir=manual", "--allow-read", "--allow-env", file], dir), "deno");
      assert.equal(out.trim(), "cli|940db7b1d0e4eb40");
    });
  });

  test("without optional dependencies the file store works and keyrings say how to install koffi", () => {
    const dir = consumer("consumer-no-optional", ["--omit=optional"]);
    const out = ok(sh(process.execPath, ["--input-type=module", "-e", `
      import { createAuthStorage, defaultKeyringStore, KeyringError } from "authkeep";
      import { mkdtempSync } from "node:fs";
      const home = mkdtempSync("${join(work, "noopt-home-")}");
      createAuthStorage({ home }).saveSync({ OPENAI_API_KEY: null });
      try {
        defaultKeyringStore().loadSync("authkeep-package-test", "nobody");
        console.log("keyring unexpectedly worked");
      } catch (error) {
        console.log(error instanceof KeyringError, error.kind, /npm install koffi/.test(error.message));
      }
    `], dir), "no-optional consumer");
    assert.equal(out.trim(), "true unavailable true");
  });
});
