/**
 * The secret-leaks-*.test.ts files' harness: one LeakCollector per file, temp homes removed after
 * it, `observe` to record what a call throws, and the file's closing test that no canary appears
 * in anything it observed (printing the `# secret-leaks (area): …` line bench/reliability.ts reads).
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { after, test } from "node:test";
import { LeakCollector } from "./hardening-canary.ts";
import { makeHome, removeHome } from "./hardening-env.ts";

/** A file's collector, its temp homes, and `observe`. */
export interface LeakCheck {
  readonly collector: LeakCollector;
  /** A fresh temp home, removed after the file's tests. */
  home(): string;
  /** Runs `fn`, recording what it throws (or returns, when it is one of our objects). */
  observe(label: string, fn: () => unknown): Promise<unknown>;
}

/** A collector for this file; its homes are removed in an after() hook. */
export function leakCheck(): LeakCheck {
  const collector = new LeakCollector();
  const homes: string[] = [];
  function home(): string {
    const path = makeHome("authkeep-leaks-");
    homes.push(path);
    return path;
  }

  /** Runs `fn`, recording what it throws (or returns, when it is one of our objects). */
  async function observe(label: string, fn: () => unknown): Promise<unknown> {
    try {
      return await fn();
    } catch (error) {
      collector.error(label, error);
      return undefined;
    }
  }
  after(() => {
    for (const path of homes) removeHome(path);
  });
  return { collector, home, observe };
}

/**
 * The file's last test: no canary in anything `collector` recorded, which must be more than
 * `minimum` surfaces (else the file observed too little to mean anything). Skipped with `skip`.
 */
export function testNoLeaks(collector: LeakCollector, area: string, minimum: number, skip: string | false = false): void {
  test("no canary appears anywhere", { skip }, () => {
    const leaks = collector.leaks();
    process.stdout.write(`# secret-leaks (${area}): ${collector.surfaces} surfaces checked, ${leaks.length} canaries found\n`);
    assert.deepEqual(leaks, []);
    assert.ok(collector.surfaces > minimum, "the test observed too little to mean anything");
  });
}
