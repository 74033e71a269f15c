// Runs every TypeScript code block of the README and every JSDoc `@example` in src/ and native/
// as a real program that imports "authkeep" (the built package), so the docs cannot rot.
// The examples run with HOME pointing into a temporary directory, so defaultHome() never
// reaches the real ~/.codex.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

declare const Deno: unknown;
declare const Bun: unknown;

const here = fileURLToPath(new URL(".", import.meta.url));
// dist/test/ → project root is two levels up; test/ → one.
const root = here.includes(`${join("dist", "test")}`) ? join(here, "..", "..") : join(here, "..");

interface Example {
  where: string;
  code: string;
}

function readmeExamples(): Example[] {
  const text = readFileSync(join(root, "README.md"), "utf8");
  const examples: Example[] = [];
  const pattern = /^```ts\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const line = text.slice(0, match.index).split("\n").length;
    examples.push({ where: `README.md:${line}`, code: match[1]! });
  }
  return examples;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
  }
  return files;
}

function jsdocExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of [...sourceFiles(join(root, "src")), ...sourceFiles(join(root, "native"))]) {
    const text = readFileSync(file, "utf8");
    const pattern = /@example[^\n]*\n\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const line = text.slice(0, match.index).split("\n").length;
      const code = match[1]!.split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n");
      examples.push({ where: `${relative(root, file)}:${line}`, code });
    }
  }
  return examples;
}

/** A Node that runs .ts files: this one when it strips types, else one named by the environment. */
function typeScriptNode(): string | undefined {
  if ((process as unknown as { features: { typescript?: unknown } }).features.typescript) return process.execPath;
  return process.env.AUTHKEEP_TS_NODE || process.env.NODE22 || undefined;
}

function run(node: string, file: string, cwd: string, home: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [file], {
      cwd,
      env: { ...process.env, HOME: home, USERPROFILE: home, CODEX_HOME: "", NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve({ code, output }));
  });
}

const onNode = typeof Deno === "undefined" && typeof Bun === "undefined";
const node = onNode ? typeScriptNode() : undefined;
const skip = !onNode
  ? "documentation examples run once, on Node"
  : node === undefined
  ? "needs a Node with type stripping (>= 22.18): set AUTHKEEP_TS_NODE or NODE22"
  : false;

/** The modules an example may import: the package's two entries and the runtime's built-ins. */
function foreignImports(code: string): string[] {
  const specifiers = [...code.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)]
    .map((match) => match[1] ?? match[2] ?? match[3]!);
  return specifiers.filter((specifier) => specifier !== "authkeep" && specifier !== "authkeep/testing" && !specifier.startsWith("node:"));
}

test("every README code block and JSDoc @example imports only authkeep, authkeep/testing and node: built-ins", () => {
  const examples = [...readmeExamples(), ...jsdocExamples()];
  assert.ok(examples.length >= 20, `found only ${examples.length} examples`);
  const offenders = examples.flatMap((example) => foreignImports(example.code).map((specifier) => `${example.where}: ${specifier}`));
  assert.deepEqual(offenders, [], "examples show the public API: an internal module needs no @example");
});

test("the import check catches private paths, relative paths and other packages", () => {
  const code = [
    'import { a } from "./node_modules/authkeep/src/contract/engine.ts";',
    'import type { B } from "../src/index.ts";',
    'const c = await import("koffi");',
    'import "authkeep/dist/src/index.js";',
    'import { createAuthStorage } from "authkeep";',
    'import { MemoryKeyringStore } from "authkeep/testing";',
    'import { join } from "node:path";',
  ].join("\n");
  assert.deepEqual(foreignImports(code), [
    "./node_modules/authkeep/src/contract/engine.ts",
    "../src/index.ts",
    "koffi",
    "authkeep/dist/src/index.js",
  ]);
});

test("every README code block and JSDoc @example runs", { skip, timeout: 600_000 }, async (t) => {
  const examples = [...readmeExamples(), ...jsdocExamples()];
  assert.ok(examples.length >= 20, `found only ${examples.length} examples`);
  const work = mkdtempSync(join(tmpdir(), "authkeep-docs-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, "node_modules"));
  symlinkSync(root, join(work, "node_modules", "authkeep"), "dir");
  writeFileSync(join(work, "package.json"), '{"type":"module","private":true}');
  const home = join(work, "home");
  mkdirSync(home);
  const failures: string[] = [];
  // Four at a time: each is a fresh process.
  const queue = examples.map((example, index) => ({ example, index }));
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const file = join(work, `example-${item.index}.ts`);
      writeFileSync(file, item.example.code);
      const result = await run(node!, file, work, home);
      if (result.code !== 0) failures.push(`${item.example.where} exited ${result.code}:\n${result.output.slice(0, 2000)}`);
    }
  }));
  assert.deepEqual(failures, [], failures.join("\n\n"));
});
