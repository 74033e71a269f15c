/**
 * What the keyring path needs to know of the runtime (the OS, one
 * environment variable, which runtime this is), asked without Node's
 * compatibility layer where the runtime has its own answer.
 *
 * Why: on Deno the first touch of the `process` global, or of any `node:*`
 * module, initialises the Node compatibility layer, about 9 ms of a fresh
 * process (bench/README.md, "Deno and Bun, 2026-12-03"). A Deno
 * program that reads its credentials from the keyring never needs that layer,
 * so this module reads `Deno.build.os` and `Deno.env` there; everywhere else
 * `process` is a cheap global.
 *
 * @module
 */

interface DenoRuntime {
  build: { os: string };
  env: { get(name: string): string | undefined };
}

const deno = (globalThis as { Deno?: DenoRuntime }).Deno;

/** The JavaScript runtime this code runs on. */
export type JsRuntime = "node" | "bun" | "deno";

/**
 * Detects the JS runtime. Bun first: it also defines `process`, and Deno
 * defines `process` in npm compatibility mode.
 */
export function detectRuntime(): JsRuntime {
  const global = globalThis as { Bun?: unknown; Deno?: unknown };
  if (global.Bun !== undefined) return "bun";
  if (global.Deno !== undefined) return "deno";
  return "node";
}

/**
 * The OS as `process.platform` names it (`Deno.build.os` says "windows"
 * where Node says "win32"; the other names agree).
 */
export function platform(): string {
  if (deno === undefined) return process.platform;
  return deno.build.os === "windows" ? "win32" : deno.build.os;
}

/**
 * The environment variable `name`, or `undefined` when it is unset, empty,
 * or cannot be read (Deno without `--allow-env` for it).
 */
export function envVar(name: string): string | undefined {
  try {
    return (deno === undefined ? process.env[name] : deno.env.get(name)) || undefined;
  } catch {
    return undefined;
  }
}
