/**
 * The keyring load and save rows on the runtime running this script: run by
 * bench/external.ts under Bun and Deno, from the sources, with each FFI
 * provider (AUTHKEEP_FFI=bun|deno, and koffi). Prints `BENCH_JSON <rows>`.
 *
 * @module
 */
import process from "node:process";
import { defaultKeyringStore } from "../src/index.ts";
import { benchConfig, measureGroup } from "./_harness.ts";
import type { Row } from "./_report.ts";

declare const Bun: unknown;
declare const Deno: unknown;

const runtime = typeof Bun !== "undefined" ? "Bun" : typeof Deno !== "undefined" ? "Deno" : "Node";
const provider = process.env.AUTHKEEP_FFI || (runtime === "Bun" ? "bun" : runtime === "Deno" ? "deno" : "koffi");
const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const service = `authkeep-bench-runtime-${process.pid}`;
const account = "cli|0123456789abcdef";
// The same 4 KB payload shape as the Node keyring rows; two of them, so every save changes the item.
const values = [0, 1].map((n) => JSON.stringify({ OPENAI_API_KEY: null, tokens: { access_token: `${n}`.repeat(4000) } }));

const keyring = defaultKeyringStore({ timeoutMs: 10_000 });
const label = `${runtime} (${provider})`;
const rows: Row[] = [];
try {
  keyring.saveSync(service, account, values[0]!);
  let flip = 0;
  const outcomes = await measureGroup([
    { name: `${label}: loadSync`, fn: () => keyring.loadSync(service, account) },
    { name: `${label}: saveSync`, fn: () => keyring.saveSync(service, account, values[flip ^= 1]!) },
    { name: `${label}: load (async)`, fn: () => keyring.load(service, account), async: true },
    { name: `${label}: save (async)`, fn: () => keyring.save(service, account, values[flip ^= 1]!), async: true },
  ], benchConfig(quick), { timeMs: quick ? 20 : 400, iterations: quick ? 5 : 60 });
  for (const [name, outcome] of outcomes) {
    rows.push(outcome.ok ? { name, measured: outcome.measured } : { name, unavailable: `failed: ${outcome.error}` });
  }
} catch (error) {
  rows.push({ name: `${label}: keyring`, unavailable: `unavailable: ${(error as Error).message}` });
} finally {
  try {
    keyring.deleteSync(service, account);
  } catch {
    // The keyring was not usable at all; the row above says why.
  }
}
console.log(`BENCH_JSON ${JSON.stringify({ rows })}`);
