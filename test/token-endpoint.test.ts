/**
 * The token endpoint is not trusted: real hostile servers on 127.0.0.1 that
 * redirect (two ports, two origins), flood, stall, trickle and echo our
 * secrets back, against the real HttpTokenRefresher; and Codex 0.169's
 * request (body, User-Agent).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { CODEX_CLIENT_ID, HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { MAX_RESPONSE_BYTES } from "../src/refresh/_read-capped-body.ts";
import { MAX_TOKEN_LENGTH } from "../src/refresh/_refresh-response.ts";
import { REFRESH_TOKEN_REUSED_MESSAGE } from "../src/refresh/refresh-messages.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { AUTHKEEP_VERSION } from "../src/refresh/_user-agent.ts";
import { answer, HostileEndpoint, type HostileHandler, streamHugeToken } from "./support/hostile-endpoint.ts";

// Random cores, so that no 8-character window of a canary occurs in ordinary text (paths, messages).
const hex = (n: number): string => randomBytes(n).toString("hex");
const CANARY_RT = `rtQ${hex(8)}/${hex(4)}+${hex(4)}=`;
const CANARY_AT = `eyQ${hex(8)}.${hex(8)}_${hex(4)}.${hex(6)}-x`;
const CANARY_ID = `eyZ${hex(8)}.${hex(10)}.${hex(6)}`;
const CANARIES = [CANARY_RT, CANARY_AT, CANARY_ID];
let hostileCases = 0;

after(() => process.stdout.write(`# token-endpoint: ${hostileCases} hostile endpoint cases\n`));

/** Every place a secret could surface from an error: message, stack, cause chain, inspect, JSON. */
function errorSurface(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 10 }), JSON.stringify(error) ?? ""];
  for (let e: unknown = error, i = 0; e instanceof Error && i < 10; e = e.cause, i++) parts.push(e.message, e.stack ?? "");
  return parts.join("\n");
}

function assertNoCanary(error: unknown): void {
  const surface = errorSurface(error).toLowerCase();
  for (const canary of CANARIES) {
    for (let i = 0; i + 8 <= canary.length; i++) {
      const piece = canary.slice(i, i + 8).toLowerCase();
      assert.ok(!surface.includes(piece), `a piece of a canary (${i}) leaked`);
    }
  }
}

async function refreshError(refresher: HttpTokenRefresher): Promise<RefreshError> {
  const error = await refresher.refresh(CANARY_RT, { reason: "proactive_expiry", secrets: [CANARY_AT, CANARY_ID] }).then(
    (tokens) => assert.fail(`expected a RefreshError, got ${Object.keys(tokens).join(",")}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RefreshError, String(error));
  hostileCases++;
  return error;
}

async function withEndpoints(fn: (a: HostileEndpoint, b: HostileEndpoint) => Promise<void>): Promise<void> {
  const a = await HostileEndpoint.start();
  const b = await HostileEndpoint.start((_req, res) => answer(res, 200, JSON.stringify({ access_token: "from-b", refresh_token: "from-b" })));
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

test("HttpTokenRefresher: sends Codex 0.169's body (refresh_reason, no scope) and an honest User-Agent", async () => {
  await withEndpoints(async (a) => {
    a.handler = (_req, res) => answer(res, 200, JSON.stringify({ access_token: "new-at" }));
    for (const reason of ["proactive_expiry", "scheduled", "unauthorized_recovery", "forced"] as const) {
      await new HttpTokenRefresher({ url: a.url }).refresh("rt-1", { reason });
    }
    await new HttpTokenRefresher({ url: a.url }).refresh("rt-1");
    const bodies = a.received.map((r) => r.body);
    assert.deepEqual(bodies.map((b) => Object.keys(JSON.parse(b) as object)), Array(5).fill(["client_id", "grant_type", "refresh_reason", "refresh_token"]));
    assert.deepEqual(bodies.map((b) => (JSON.parse(b) as { refresh_reason: string }).refresh_reason), ["proactive_expiry", "scheduled", "unauthorized_recovery", "forced", "forced"]);
    assert.equal(bodies[0], JSON.stringify({ client_id: CODEX_CLIENT_ID, grant_type: "refresh_token", refresh_reason: "proactive_expiry", refresh_token: "rt-1" }));
    const { headers } = a.received[0]!;
    assert.match(headers["user-agent"] ?? "", /^authkeep\/\d+\.\d+\.\d+\S* \((node|bun|deno) [^;()]+; [a-z0-9]+ [a-z0-9_]+\)$/);
    assert.ok(headers["user-agent"]!.startsWith(`authkeep/${AUTHKEEP_VERSION} `));
    assert.equal(headers.originator, undefined);
    assert.equal(headers["content-type"], "application/json");
  });
});

test("HttpTokenRefresher: the User-Agent version is the package's; headers given by the caller win", async () => {
  const pkg = JSON.parse(readFileSync(new URL(import.meta.url.includes("/dist/") ? "../../package.json" : "../package.json", import.meta.url), "utf8")) as { version: string };
  assert.equal(AUTHKEEP_VERSION, pkg.version);
  await withEndpoints(async (a) => {
    a.handler = (_req, res) => answer(res, 200, "{}");
    const headers = { "user-agent": "mycli/2.0", originator: "mycli", "Content-Type": "text/plain" };
    await new HttpTokenRefresher({ url: a.url, headers }).refresh("rt-1");
    assert.equal(a.received[0]!.headers["user-agent"], "mycli/2.0");
    assert.equal(a.received[0]!.headers.originator, "mycli");
    assert.equal(a.received[0]!.headers["content-type"], "application/json");
  });
});

for (const status of [301, 302, 303, 307, 308]) {
  for (const target of ["another origin", "the same origin"] as const) {
    test(`HttpTokenRefresher: a ${status} to ${target} is not followed: the token goes nowhere else, nothing is accepted`, async () => {
      await withEndpoints(async (a, b) => {
        const location = target === "another origin" ? `${b.origin}/oauth/token` : `${a.origin}/elsewhere`;
        a.handler = (req, res, body) => {
          if (req.url === "/oauth/token") res.writeHead(status, { Location: location }).end(body);
          else answer(res, 200, JSON.stringify({ access_token: "from-elsewhere" }));
        };
        const error = await refreshError(new HttpTokenRefresher({ url: a.url }));
        assert.equal(error.permanent, false);
        assert.equal(error.reason, "transient");
        assert.equal(error.status, status);
        assert.match(error.message, /redirect/);
        assert.deepEqual(a.received.map((r) => r.path), ["/oauth/token"]);
        assert.deepEqual(b.received, []);
        assertNoCanary(error);
      });
    });
  }
}

for (const status of [302, 307, 308]) {
  test(`HttpTokenRefresher: with a fetch that follows redirects, a ${status} answer from another origin is refused`, async () => {
    await withEndpoints(async (a, b) => {
      a.handler = (_req, res) => res.writeHead(status, { Location: `${b.origin}/oauth/token` }).end();
      const following: typeof fetch = (input, init) => fetch(input, { ...init, redirect: "follow" });
      const error = await refreshError(new HttpTokenRefresher({ url: a.url, fetch: following }));
      assert.equal(error.reason, "transient");
      assert.match(error.message, /another URL/);
      assert.equal(b.received.length, 1); // the caller's fetch chose to go there; its answer is not used
      assertNoCanary(error);
    });
  });
}

test("HttpTokenRefresher: a body over the cap is refused, declared or streamed, and its token never accepted", async () => {
  await withEndpoints(async (a) => {
    const big = JSON.stringify({ access_token: "A".repeat(MAX_RESPONSE_BYTES + 10) });
    a.handler = (_req, res) => answer(res, 200, big); // Content-Length declared
    let error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.match(error.message, /larger than 1048576 bytes/);
    assert.equal(error.status, 200);

    a.handler = (_req, res) => streamHugeToken(res, 50 * 1024 * 1024);
    error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.match(error.message, /larger than/);
  });
});

test("HttpTokenRefresher: a token longer than the cap is refused; a large body of real size is read", async () => {
  await withEndpoints(async (a) => {
    a.handler = (_req, res) => answer(res, 200, JSON.stringify({ access_token: "t".repeat(MAX_TOKEN_LENGTH + 1) }));
    const error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.match(error.message, /access_token is longer than 65536 characters/);
    a.handler = (_req, res) => answer(res, 200, JSON.stringify({ access_token: "t".repeat(MAX_TOKEN_LENGTH), padding: "p".repeat(900_000) }));
    const tokens = await new HttpTokenRefresher({ url: a.url }).refresh("rt-1");
    assert.equal(tokens.access_token?.length, MAX_TOKEN_LENGTH);
  });
});

test("HttpTokenRefresher: a server that never answers, stalls mid-body or trickles bytes fails at the timeout", async () => {
  await withEndpoints(async (a) => {
    const behaviours: Array<[string, HostileHandler]> = [
      ["never answers", () => {}],
      ["stalls after the headers", (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" }).write('{"access_token":"');
      }],
      ["trickles a byte every 50 ms", (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" }).write('{"access_token":"');
        const timer = a.every(50, () => (res.destroyed ? clearInterval(timer) : res.write("x")));
      }],
    ];
    for (const [name, handler] of behaviours) {
      a.handler = handler;
      const started = performance.now();
      const error = await refreshError(new HttpTokenRefresher({ url: a.url, timeoutMs: 400 }));
      assert.equal(error.reason, "transient", name);
      assert.equal(error.message, "Failed to refresh token: timed out", name);
      // A hang guard, far above the 400 ms timeout.
      assert.ok(performance.now() - started < 15_000, `${name}: did not give up`);
    }
  });
});

const echoes: Array<[string, (secret: string) => string]> = [
  ["raw in error.message", (s) => JSON.stringify({ error: { message: `bad token ${s}` } })],
  ["with \\/ escapes", (s) => JSON.stringify({ error: { message: `bad ${s}` } }).replaceAll("/", "\\/")],
  ["all \\u00xx", (s) => `{"error":{"message":"bad ${[...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"}}`],
  ["mixed escapes", (s) => `{"error":{"message":"${[...s].map((c, i) => (i % 3 === 0 ? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}` : c === "/" ? "\\/" : c)).join("")}"}}`],
  ["inside error.code", (s) => JSON.stringify({ error: { code: s, message: "no" } })],
  ["as the error string", (s) => JSON.stringify({ error: s })],
  ["as top-level code", (s) => JSON.stringify({ code: s })],
  ["in a text body", (s) => `upstream rejected ${s} because`],
  ["cut in half by the message cap", (s) => `${"x".repeat(200 - Math.floor(s.length / 2))}${s} tail`],
  ["cut in half, JSON-escaped", (s) => JSON.stringify({ error: { message: `${"y".repeat(190)}${s}` } }).replaceAll("/", "\\/")],
];

for (const status of [400, 401, 403, 500, 503]) {
  test(`HttpTokenRefresher: a ${status} that echoes our tokens back never gets them into the error`, async () => {
    await withEndpoints(async (a) => {
      for (const [name, shape] of echoes) {
        for (const secret of CANARIES) {
          a.handler = (_req, res) => answer(res, status, shape(secret));
          const error = await refreshError(new HttpTokenRefresher({ url: a.url }));
          assert.equal(error.status, status, name);
          assert.equal(error.permanent, status === 401, name);
          assertNoCanary(error);
        }
      }
    });
  });
}

test("HttpTokenRefresher: scrubbing keeps Codex's classification and a helpful message", async () => {
  await withEndpoints(async (a) => {
    a.handler = (_req, res) => answer(res, 401, JSON.stringify({ error: { code: "refresh_token_reused", message: `token ${CANARY_RT} reused` } }));
    let error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.equal(error.reason, "exhausted");
    assert.equal(error.code, "refresh_token_reused");
    assert.equal(error.message, REFRESH_TOKEN_REUSED_MESSAGE);
    a.handler = (_req, res) => answer(res, 400, JSON.stringify({ error: { message: `the token ${CANARY_RT} is malformed` } }));
    error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.equal(error.message, "Failed to refresh token: 400: the token [redacted] is malformed");
    // A short refresh token is scrubbed too.
    a.handler = (_req, res, body) => answer(res, 500, `you sent ${(JSON.parse(body) as { refresh_token: string }).refresh_token}!`);
    const short = (await new HttpTokenRefresher({ url: a.url }).refresh("rt-9").catch((e: unknown) => e)) as RefreshError;
    assert.equal(short.message, "Failed to refresh token: 500: you sent [redacted]!");
  });
});

test("HttpTokenRefresher: a gzip bomb is capped by its decoded size", async () => {
  await withEndpoints(async (a) => {
    const bomb = gzipSync(`{"access_token":"${"B".repeat(50 * 1024 * 1024)}"}`);
    assert.ok(bomb.length < MAX_RESPONSE_BYTES); // its Content-Length passes the cap
    a.handler = (_req, res) => res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": bomb.length }).end(bomb);
    const error = await refreshError(new HttpTokenRefresher({ url: a.url }));
    assert.match(error.message, /larger than 1048576 bytes/);
  });
});

test("HttpTokenRefresher: odd success bodies are transient errors or harmless, never a bad token", async () => {
  await withEndpoints(async (a) => {
    const cases: Array<[string, string, RegExp]> = [
      ["a token with CR LF (header injection)", JSON.stringify({ access_token: "ok\r\nX-Injected: 1" }), /access_token has characters no token has/],
      ["a token with a space", JSON.stringify({ refresh_token: "two words" }), /refresh_token has characters no token has/],
      ["a non-ASCII token", JSON.stringify({ id_token: "tökén" }), /id_token has characters no token has/],
      ["deeply nested arrays", `${"[".repeat(200_000)}${"]".repeat(200_000)}`, /not a JSON object/],
      ["stray characters before the JSON", "\u00ff\u00fe{}", /not a JSON object/],
    ];
    for (const [name, body, message] of cases) {
      a.handler = (_req, res) => answer(res, 200, body);
      const error = await refreshError(new HttpTokenRefresher({ url: a.url }));
      assert.match(error.message, message, name);
      assertNoCanary(error);
    }
    // A "__proto__" key is an own property of the parsed body, not a source of tokens.
    a.handler = (_req, res) => answer(res, 200, '{"__proto__":{"access_token":"from-proto"}}');
    assert.deepEqual(await new HttpTokenRefresher({ url: a.url }).refresh("rt-1"), {});
    hostileCases++;
  });
});
