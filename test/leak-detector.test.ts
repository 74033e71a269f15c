/**
 * The leak detector the secret-leaks-*.test.ts files rely on (test/support/hardening-canary.ts):
 * it must find a planted canary, a fragment of one, and one deep in a cause chain, or their
 * "no canary appears anywhere" would pass without looking.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LeakCollector, makeCanaries } from "./support/hardening-canary.ts";

test("the leak detector itself finds a planted canary, a fragment of one, and one deep in a cause chain", () => {
  const probe = new LeakCollector();
  const canaries = probe.watch(makeCanaries());
  probe.text("clean", "nothing to see");
  probe.text("whole", `token=${canaries.refreshToken}`);
  probe.text("fragment", `token=${canaries.accessToken.split(".")[2]!.slice(-10)}…`);
  probe.error("cause", new Error("outer", { cause: new Error("inner", { cause: new Error(canaries.apiKey) }) }));
  probe.object("inspect", { nested: { deeper: [canaries.idToken] } });
  const leaks = probe.leaks();
  assert.ok(!leaks.includes("clean"));
  for (const label of ["whole", "fragment", "cause.cause.cause.message", "inspect inspect"]) assert.ok(leaks.includes(label), label);
});
