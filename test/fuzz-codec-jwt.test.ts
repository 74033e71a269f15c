/**
 * Property-based fuzzing of parseIdToken with fast-check: the claims of generated JWTs are read
 * exactly; anything JWT-like, or not a string at all, gives only AuthFormatError.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AuthFormatError, parseAuthJson, parseIdToken } from "../src/index.ts";
import { fakeJwt } from "./support/hardening-env.ts";
import { idTokenClaims, jwtLike } from "./support/hardening-fuzz-arbitraries.ts";
import { formatErrorOrResult, fuzzCases, noPollution, runs, seed } from "./support/fuzz-codec-checks.ts";

const fuzz = fuzzCases("jwt");

test("JWTs: claims are read exactly; anything else gives only AuthFormatError", () => {
  fc.assert(
    fc.property(idTokenClaims, (claims) => {
      fuzz.cases++;
      const payload: Record<string, unknown> = {};
      if (claims.email !== undefined) payload.email = claims.email;
      if (claims.exp !== undefined) payload.exp = claims.exp;
      if (claims.auth !== undefined) payload["https://api.openai.com/auth"] = claims.auth;
      if (claims.profileEmail !== undefined) payload["https://api.openai.com/profile"] = { email: claims.profileEmail };
      const jwt = fakeJwt(payload);
      const info = parseIdToken(jwt);
      assert.equal(info.rawJwt, jwt);
      assert.equal(info.email, claims.email ?? claims.profileEmail);
      assert.equal(info.chatgptPlanType, claims.auth?.chatgpt_plan_type);
      assert.equal(info.chatgptUserId, claims.auth?.chatgpt_user_id ?? claims.auth?.user_id);
      assert.equal(info.chatgptAccountId, claims.auth?.chatgpt_account_id);
      assert.equal(info.exp?.getTime(), claims.exp === undefined ? undefined : claims.exp * 1000);
    }),
    { numRuns: runs(0.05), seed },
  );
  fc.assert(
    fc.property(jwtLike, (jwt) => {
      fuzz.cases++;
      const info = formatErrorOrResult(() => parseIdToken(jwt));
      if (info !== undefined) {
        assert.equal(info.rawJwt, jwt);
        for (const key of ["email", "chatgptPlanType", "chatgptUserId", "chatgptAccountId"] as const) {
          assert.ok(info[key] === undefined || typeof info[key] === "string");
        }
        assert.ok(info.exp === undefined || !Number.isNaN(info.exp.getTime()));
      }
      noPollution();
    }),
    { numRuns: runs(0.1), seed },
  );
  for (const value of [undefined, null, 42, {}, ["a", "b", "c"]]) {
    fuzz.cases++;
    assert.throws(() => parseIdToken(value as unknown as string), AuthFormatError);
    assert.throws(() => parseAuthJson(value as unknown as string), AuthFormatError);
  }
});
