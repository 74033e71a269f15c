/**
 * What the fuzz-codec-*.test.ts files share: the run budget (AUTHKEEP_FUZZ_RUNS, 10,000 by
 * default, split across the properties of all the files by the share each passes to `runs`;
 * AUTHKEEP_SEED replays a run), a case counter per file printed after it
 * (`# fuzz-codec (topic, seed N): N cases`, read by bench/reliability.ts), and the checks: no
 * prototype pollution, only well-formed AuthFormatErrors, exact round trips.
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { after } from "node:test";
import { AuthFormatError, type AuthDotJson, parseAuthJson, serializeAuthJson } from "../../src/index.ts";
import { envCount } from "./hardening-env.ts";
import { FUZZ_CANARY } from "./hardening-fuzz-arbitraries.ts";

const totalRuns = envCount("AUTHKEEP_FUZZ_RUNS", 10_000);
/** The fast-check seed: AUTHKEEP_SEED, else one from the clock. */
export const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
/** A property's runs: its share of AUTHKEEP_FUZZ_RUNS. */
export const runs = (share: number): number => Math.max(1, Math.round(totalRuns * share));
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** This file's case counter, printed in an after() hook as `# fuzz-codec (topic, seed N): N cases`. */
export function fuzzCases(topic: string): { cases: number } {
  const counter = { cases: 0 };
  after(() => {
    process.stdout.write(`# fuzz-codec (${topic}, seed ${seed}): ${counter.cases} cases\n`);
  });
  return counter;
}

/** Object.prototype is as it was when this module loaded. */
export function noPollution(): void {
  assert.equal((({}) as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

/** Runs `fn`; any throw other than a well-formed AuthFormatError fails the test. */
export function formatErrorOrResult<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof AuthFormatError)) {
      throw new Error(`expected only AuthFormatError, got ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 200)}`);
    }
    assert.ok(!error.message.includes(FUZZ_CANARY), "an error message echoes a document value");
    assert.ok(!String(error.stack).includes(FUZZ_CANARY), "an error stack echoes a document value");
    if (error.line !== undefined) assert.ok(error.line >= 1 && (error.column ?? 0) >= 1);
    return undefined;
  }
}

/** -0 and 0 are the same JSON number. */
function plainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** parse ∘ serialize is the identity on a valid document and serialize is a fixpoint. */
export function assertRoundTrip(doc: AuthDotJson): void {
  for (const pretty of [true, false]) {
    const text = serializeAuthJson(doc, { pretty });
    const parsed = parseAuthJson(text);
    assert.equal(serializeAuthJson(parsed, { pretty }), text);
    for (const [key, value] of Object.entries(doc)) {
      if (value === undefined) continue;
      if (key === "tokens" && value !== null) {
        const tokens = value as Record<string, unknown>;
        for (const [name, inner] of Object.entries(tokens)) assert.deepEqual(plainJson(parsed.tokens![name]), plainJson(inner));
        assert.equal(parsed.tokens!.account_id, tokens.account_id ?? null);
        continue;
      }
      assert.ok(Object.hasOwn(parsed, key), "a field was lost");
      assert.deepEqual(plainJson(parsed[key]), plainJson(value));
    }
    assert.equal(parsed.OPENAI_API_KEY, doc.OPENAI_API_KEY ?? null);
    // Reading the same document with a BOM, other whitespace or another indentation changes nothing.
    // (Tabs replace the indentation of our own output: JSON.stringify would write a kept `1e400` as null.)
    const tabbed = serializeAuthJson(doc).replace(/\n((?: {2})+)/g, (_, indent: string) => `\n${"\t".repeat(indent.length / 2)}`);
    assert.deepEqual(parseAuthJson(`\uFEFF${tabbed}\n`), parseAuthJson(text));
  }
}
