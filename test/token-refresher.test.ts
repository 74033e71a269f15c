import process from "node:process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { CODEX_CLIENT_ID, HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { classifyRefreshFailure } from "../src/refresh/_refresh-response.ts";
import {
  REFRESH_TOKEN_EXPIRED_MESSAGE,
  REFRESH_TOKEN_INVALIDATED_MESSAGE,
  REFRESH_TOKEN_REUSED_MESSAGE,
  REFRESH_TOKEN_UNKNOWN_MESSAGE,
} from "../src/refresh/refresh-messages.ts";
import { RefreshError, type RefreshFailedReason } from "../src/contract/refresh-error.ts";
import { TokenServer } from "./support/token-server.ts";

async function withServer(fn: (server: TokenServer) => Promise<void>): Promise<void> {
  const server = await TokenServer.start();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

test("HttpTokenRefresher: sends Codex's request and returns the rotated tokens", async () => {
  await withServer(async (server) => {
    const login = server.login("acct-1");
    const refresher = new HttpTokenRefresher({ url: server.url });
    const tokens = await refresher.refresh(login.tokens!.refresh_token);
    assert.equal(server.refreshCount, 1);
    const request = server.requests[0]!;
    assert.equal(request.contentType, "application/json");
    assert.deepEqual(request.body, {
      client_id: CODEX_CLIENT_ID,
      grant_type: "refresh_token",
      refresh_reason: "forced",
      refresh_token: login.tokens!.refresh_token,
    });
    assert.equal(typeof tokens.access_token, "string");
    assert.equal(typeof tokens.id_token, "string");
    assert.notEqual(tokens.refresh_token, login.tokens!.refresh_token);
  });
});

test("HttpTokenRefresher: the default client id and URL are Codex's", () => {
  const saved = process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE;
  delete process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE;
  try {
    const refresher = new HttpTokenRefresher();
    assert.equal(refresher.clientId, "app_EMoamEEZ73f0CkXaXp7hrann");
    assert.equal(refresher.url, "https://auth.openai.com/oauth/token");
  } finally {
    if (saved !== undefined) process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = saved;
  }
});

test("HttpTokenRefresher: CODEX_REFRESH_TOKEN_URL_OVERRIDE redirects the request; an explicit url wins", async () => {
  await withServer(async (server) => {
    const saved = process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE;
    process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = server.url;
    try {
      const login = server.login("acct-1");
      const viaEnv = new HttpTokenRefresher({ clientId: "my-client" });
      assert.equal(viaEnv.url, server.url);
      await viaEnv.refresh(login.tokens!.refresh_token);
      assert.equal(server.refreshCount, 1);
      assert.equal((server.requests[0]!.body as { client_id: string }).client_id, "my-client");
      assert.equal(new HttpTokenRefresher({ url: "http://127.0.0.1:1/x" }).url, "http://127.0.0.1:1/x");
    } finally {
      if (saved === undefined) delete process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE;
      else process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = saved;
    }
  });
});

const permanentCases: Array<{ name: string; body: string; reason: RefreshFailedReason; message: string; code?: string }> = [
  { name: "nested error.code expired", body: '{"error":{"code":"refresh_token_expired","message":"x"}}', reason: "expired", message: REFRESH_TOKEN_EXPIRED_MESSAGE, code: "refresh_token_expired" },
  { name: "nested error.code reused", body: '{"error":{"code":"refresh_token_reused"}}', reason: "exhausted", message: REFRESH_TOKEN_REUSED_MESSAGE, code: "refresh_token_reused" },
  { name: "nested error.code invalidated", body: '{"error":{"code":"refresh_token_invalidated"}}', reason: "revoked", message: REFRESH_TOKEN_INVALIDATED_MESSAGE, code: "refresh_token_invalidated" },
  { name: "error as a string", body: '{"error":"refresh_token_reused","error_description":"used"}', reason: "exhausted", message: REFRESH_TOKEN_REUSED_MESSAGE, code: "refresh_token_reused" },
  { name: "top-level code", body: '{"code":"refresh_token_expired"}', reason: "expired", message: REFRESH_TOKEN_EXPIRED_MESSAGE, code: "refresh_token_expired" },
  { name: "upper-case code is lowercased", body: '{"error":{"code":"REFRESH_TOKEN_INVALIDATED"}}', reason: "revoked", message: REFRESH_TOKEN_INVALIDATED_MESSAGE, code: "refresh_token_invalidated" },
  { name: "unknown code", body: '{"error":{"code":"invalid_grant"}}', reason: "other", message: REFRESH_TOKEN_UNKNOWN_MESSAGE, code: "invalid_grant" },
  { name: "no code", body: '{"error":{"message":"nope"}}', reason: "other", message: REFRESH_TOKEN_UNKNOWN_MESSAGE },
  { name: "non-JSON body", body: "<html>Unauthorized</html>", reason: "other", message: REFRESH_TOKEN_UNKNOWN_MESSAGE },
];

for (const c of permanentCases) {
  test(`HttpTokenRefresher: a 401 with ${c.name} is permanent "${c.reason}" with Codex's message`, async () => {
    await withServer(async (server) => {
      server.respondNext(401, c.body);
      const error = await new HttpTokenRefresher({ url: server.url }).refresh("rt-dead").then(
        () => assert.fail("expected a RefreshError"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RefreshError);
      assert.equal(error.permanent, true);
      assert.equal(error.reason, c.reason);
      assert.equal(error.message, c.message);
      assert.equal(error.status, 401);
      assert.equal(error.code, c.code);
    });
  });
}

const transientCases: Array<{ name: string; status: number; body: string; message: string }> = [
  { name: "a 400 with error.message", status: 400, body: '{"error":{"message":"Bad request body","code":"invalid_request"}}', message: "Failed to refresh token: 400: Bad request body" },
  { name: "a 500 with an empty body", status: 500, body: "", message: "Failed to refresh token: 500: Unknown error" },
  { name: "a 503 with a text body", status: 503, body: "upstream busy", message: "Failed to refresh token: 503: upstream busy" },
  { name: "a 403 with a reused code (only 401 is permanent, as Codex)", status: 403, body: '{"error":{"code":"refresh_token_reused"}}', message: 'Failed to refresh token: 403: {"error":{"code":"refresh_token_reused"}}' },
];

for (const c of transientCases) {
  test(`HttpTokenRefresher: ${c.name} is transient`, async () => {
    await withServer(async (server) => {
      server.respondNext(c.status, c.body);
      const error = await new HttpTokenRefresher({ url: server.url }).refresh("rt-x").catch((e: unknown) => e);
      assert.ok(error instanceof RefreshError);
      assert.equal(error.permanent, false);
      assert.equal(error.reason, "transient");
      assert.equal(error.status, c.status);
      assert.equal(error.message, c.message);
    });
  });
}

test("HttpTokenRefresher: a success that is not JSON is transient", async () => {
  await withServer(async (server) => {
    server.respondNext(200, "not json");
    const error = await new HttpTokenRefresher({ url: server.url }).refresh("rt-x").catch((e: unknown) => e);
    assert.ok(error instanceof RefreshError);
    assert.equal(error.permanent, false);
    assert.equal(error.status, 200);
  });
});

test("HttpTokenRefresher: a network error is transient", async () => {
  const server = await TokenServer.start();
  const url = server.url;
  await server.close(); // nothing listens on that port any more
  const error = await new HttpTokenRefresher({ url }).refresh("rt-x").catch((e: unknown) => e);
  assert.ok(error instanceof RefreshError);
  assert.equal(error.permanent, false);
  assert.equal(error.reason, "transient");
  assert.equal(error.status, undefined);
});

test("HttpTokenRefresher: a rotated refresh token used again gets the server's refresh_token_reused", async () => {
  await withServer(async (server) => {
    const login = server.login("acct-1");
    const refresher = new HttpTokenRefresher({ url: server.url });
    await refresher.refresh(login.tokens!.refresh_token);
    const error = await refresher.refresh(login.tokens!.refresh_token).catch((e: unknown) => e);
    assert.ok(error instanceof RefreshError);
    assert.equal(error.reason, "exhausted");
    assert.equal(error.message, REFRESH_TOKEN_REUSED_MESSAGE);
    assert.equal(server.reusedCount, 1);
  });
});

test("HttpTokenRefresher: an error body that echoes the refresh token does not put it in the message", async () => {
  await withServer(async (server) => {
    const secret = "rt-super-secret-value-123456";
    server.respondNext(502, `{"error":{"message":"bad token ${secret}"}}`);
    const error = await new HttpTokenRefresher({ url: server.url }).refresh(secret).catch((e: unknown) => e);
    assert.ok(error instanceof RefreshError);
    assert.ok(!error.message.includes(secret));
    assert.ok(!inspect(error).includes(secret));
  });
});

test("classifyRefreshFailure: classifies without a network", () => {
  const e = classifyRefreshFailure(401, '{"error":{"code":"refresh_token_expired"}}');
  assert.equal(e.permanent, true);
  assert.equal(e.reason, "expired");
  assert.equal(classifyRefreshFailure(429, "").permanent, false);
});

test("classifyRefreshFailure() keeps tokens a server quotes back out of the message", () => {
  const jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ";
  const opaque = "rt_canaryOpaqueToken0123456789abcdefghijklmnop";
  for (const body of [
    JSON.stringify({ error: { message: `token ${jwt} rejected` } }),
    `upstream said: ${opaque} is bad`,
    `<html>${"x".repeat(1000)}</html>`,
  ]) {
    const error = classifyRefreshFailure(500, body);
    assert.equal(error.permanent, false);
    assert.ok(!error.message.includes(jwt) && !error.message.includes(opaque), error.message);
    assert.ok(error.message.length < 300);
  }
});
