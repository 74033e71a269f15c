import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AuthFormatError, parseIdToken } from "../src/index.ts";
import { fakeJwt } from "./support/auth-fixtures.ts";

test("parseIdToken() reads email, plan, user and account from the OpenAI claims", () => {
  const jwt = fakeJwt({
    email: "user@example.com",
    exp: 1_900_000_000,
    "https://api.openai.com/auth": { chatgpt_plan_type: "pro", chatgpt_user_id: "user-1", chatgpt_account_id: "acc-1" },
  });
  assert.deepEqual(parseIdToken(jwt), {
    rawJwt: jwt,
    email: "user@example.com",
    chatgptPlanType: "pro",
    chatgptUserId: "user-1",
    chatgptAccountId: "acc-1",
    exp: new Date(1_900_000_000_000),
  });
});

test("parseIdToken() falls back to the profile email and to user_id", () => {
  const info = parseIdToken(fakeJwt({
    "https://api.openai.com/profile": { email: "profile@example.com" },
    "https://api.openai.com/auth": { user_id: "legacy-user" },
  }));
  assert.equal(info.email, "profile@example.com");
  assert.equal(info.chatgptUserId, "legacy-user");
  assert.equal(info.chatgptAccountId, undefined);
});

test("parseIdToken() rejects malformed JWTs with AuthFormatError", () => {
  const payload = Buffer.from("{}").toString("base64url");
  for (const jwt of ["", "a.b", "a..c", `.${payload}.c`, `a.${payload}.`, "a.b.c.d", "a.!!!.c", `a.${Buffer.from("[1]").toString("base64url")}.c`, `a.${Buffer.from([0xff, 0xfe]).toString("base64url")}.c`]) {
    assert.throws(() => parseIdToken(jwt), AuthFormatError, jwt);
  }
});

test("parseIdToken() never puts the token in its error", () => {
  const jwt = "canary-header.canary-payload-secret%%.canary-sig";
  assert.throws(() => parseIdToken(jwt), (error: unknown) => {
    assert.ok(error instanceof AuthFormatError);
    assert.ok(!error.message.includes("canary"));
    return true;
  });
});
