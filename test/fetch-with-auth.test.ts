/**
 * fetchWithAuth(): the bearer token on each request, and the 401 recovery through an AuthManager
 * (at most three sends; none for an API-key login).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fetchWithAuth } from "../src/refresh/fetch-with-auth.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { rejection, setup } from "./support/auth-manager-setup.ts";

test("fetchWithAuth(): sends the bearer token and recovers from a 401 with one refresh", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  assert.equal((await fetchWithAuth(m, server.apiUrl)).status, 200);
  assert.equal(server.apiOk, 1);
  server.expireAccessTokens();
  const response = await fetchWithAuth(m, server.apiUrl, { headers: { "X-Test": "1" } });
  assert.equal(response.status, 200);
  assert.equal(server.refreshCount, 1);
  assert.equal(server.apiUnauthorized, 2, "first send, retry after reload; third send succeeds");
});

test("fetchWithAuth(): a dead refresh token surfaces the permanent error after at most three sends", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  server.revoke(login.tokens!.refresh_token);
  server.expireAccessTokens();
  const error = await rejection(fetchWithAuth(manager(), server.apiUrl));
  assert.ok(error instanceof RefreshError);
  assert.equal(error.reason, "revoked");
  assert.equal(server.apiUnauthorized, 2);
  assert.equal(server.refreshCount, 1);
});

test("fetchWithAuth(): an API-key login gets no recovery; the 401 is returned", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test" });
  const response = await fetchWithAuth(manager(), server.apiUrl);
  assert.equal(response.status, 401);
  assert.equal(server.apiUnauthorized, 1);
  assert.equal(server.refreshCount, 0);
});
