/**
 * The tour's terminal: its output (the CLI's own, so colour and redaction
 * match), section headings, and running the real `authkeep` CLI.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createOutput } from "../src/cli/_output.ts";

/** A sibling of this file: `name.js` when built, `name.ts` when run from the sources. */
export function sibling(relative: string): string {
  return fileURLToPath(new URL(`${relative}${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
}

/** The CLI next to the tour: dist/src/cli/main.js when built, src/cli/main.ts from the sources. */
const CLI = sibling("../src/cli/main");

/** The tour's output, as the CLI writes it (colour unless NO_COLOR or not a terminal). */
export const out = createOutput({ json: false });
/** The colour functions of {@linkcode out}. */
export const c = out.color;

/** Prints a section heading. */
export function heading(text: string): void {
  out.line();
  out.line(c.bold(`── ${text} ${"─".repeat(Math.max(0, 60 - text.length))}`));
}

/** Runs the real `authkeep` CLI with the terminal as its output, so colour and layout are what users see. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  out.line(c.dim(`$ authkeep ${args.map((a) => (/[\s|"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`));
  const result = spawnSync(process.execPath, [CLI, ...args], { stdio: "inherit", env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}
