/**
 * A 50 MB answer from the token endpoint costs a bounded amount of memory:
 * a real child process refreshes against a real server on 127.0.0.1 that
 * streams a 50 MB "token", and reports its peak resident set.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { collect, fixturePath, spawnFixture } from "./support/child-process.ts";
import { answer, HostileEndpoint, streamHugeToken } from "./support/hostile-endpoint.ts";

interface Report {
  maxRssMiB: number;
  accepted: number | null;
  error: string | null;
}

async function refreshInChild(url: string): Promise<Report> {
  const result = await collect(spawnFixture(fixturePath("endpoint-huge-body", import.meta.url), [url]));
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Report;
}

const skip = typeof process.resourceUsage !== "function" ? "process.resourceUsage() is not available" : false;

test("HttpTokenRefresher: a 50 MB answer is refused early; the peak memory stays near a small refresh's", { skip }, async () => {
  const endpoint = await HostileEndpoint.start((_req, res) => answer(res, 200, JSON.stringify({ access_token: "small-token" })));
  try {
    const small = await refreshInChild(endpoint.url);
    assert.equal(small.accepted, "small-token".length);

    endpoint.handler = (_req, res) => streamHugeToken(res, 50 * 1024 * 1024);
    const huge = await refreshInChild(endpoint.url);
    process.stdout.write(`# peak RSS: small answer ${small.maxRssMiB} MiB, 50 MB answer ${huge.maxRssMiB} MiB\n`);
    assert.equal(huge.accepted, null, "the 50 MB token was accepted");
    assert.match(huge.error ?? "", /larger than 1048576 bytes/);
    // Buffering the body would cost well over 100 MiB more (measured before the cap: +210 MiB).
    assert.ok(huge.maxRssMiB < small.maxRssMiB + 40, `peak ${huge.maxRssMiB} MiB vs ${small.maxRssMiB} MiB`);
  } finally {
    await endpoint.close();
  }
});
