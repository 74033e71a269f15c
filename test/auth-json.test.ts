import { test } from "node:test";
import assert from "node:assert/strict";
import { AuthFormatError, parseAuthJson, serializeAuthJson, type AuthDotJson } from "../src/index.ts";

// A file as Codex writes it (serde_json::to_string_pretty: 2-space indent, no trailing
// newline), plus fields a newer Codex might add, which we must keep in place.
const CODEX_FILE = `{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFAZXhhbXBsZS5jb20ifQ.c2ln",
    "access_token": "fake-access-ü-🔑",
    "refresh_token": "fake-refresh",
    "account_id": "acc-1",
    "future_token_field": [
      1,
      2.5,
      {
        "nested": true
      }
    ]
  },
  "last_refresh": "2025-12-31T10:20:30.123456789Z",
  "agent_identity": {
    "kind": "example",
    "escaped": "line\\nbreak \\"quoted\\" \\u0001 / slash"
  },
  "personal_access_token": null
}`;

test("parseAuthJson() then serializeAuthJson() reproduces a Codex-written file byte for byte", () => {
  const auth = parseAuthJson(CODEX_FILE);
  assert.equal(serializeAuthJson(auth), CODEX_FILE);
  assert.equal(serializeAuthJson(auth, { pretty: false }), JSON.stringify(JSON.parse(CODEX_FILE)));
});

test("parseAuthJson() keeps unknown fields and their order; serializeAuthJson() writes them after the known fields", () => {
  const auth = parseAuthJson('{"zeta":1,"OPENAI_API_KEY":"k","alpha":{"b":2,"a":1}}');
  assert.deepEqual(Object.keys(auth), ["zeta", "OPENAI_API_KEY", "alpha"]);
  assert.equal(serializeAuthJson(auth, { pretty: false }), '{"OPENAI_API_KEY":"k","zeta":1,"alpha":{"b":2,"a":1}}');
});

test("serializeAuthJson() writes Codex's field order for objects the library builds", () => {
  const auth: AuthDotJson = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: "a.b.c", access_token: "x", refresh_token: "y", account_id: null },
    last_refresh: "2026-01-01T00:00:00Z",
  };
  assert.equal(
    serializeAuthJson(auth, { pretty: false }),
    '{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"a.b.c","access_token":"x","refresh_token":"y","account_id":null},"last_refresh":"2026-01-01T00:00:00Z"}',
  );
});

test("serializeAuthJson() always writes OPENAI_API_KEY and account_id, and omits other absent fields", () => {
  const auth = { tokens: { id_token: "a.b.c", access_token: "x", refresh_token: "y" } } as unknown as AuthDotJson;
  assert.equal(
    serializeAuthJson(auth, { pretty: false }),
    '{"OPENAI_API_KEY":null,"tokens":{"id_token":"a.b.c","access_token":"x","refresh_token":"y","account_id":null}}',
  );
  assert.equal(serializeAuthJson({ auth_mode: "apikey", OPENAI_API_KEY: "k", last_refresh: undefined }, { pretty: false }), '{"auth_mode":"apikey","OPENAI_API_KEY":"k"}');
});

test("serializeAuthJson() pretty output has a 2-space indent and no trailing newline", () => {
  const text = serializeAuthJson({ OPENAI_API_KEY: "k" });
  assert.equal(text, '{\n  "OPENAI_API_KEY": "k"\n}');
});

test("parseAuthJson() fills OPENAI_API_KEY after auth_mode when it is missing", () => {
  const auth = parseAuthJson('{"auth_mode":"chatgpt","last_refresh":"2026-01-01T00:00:00+02:00"}');
  assert.deepEqual(Object.keys(auth), ["auth_mode", "OPENAI_API_KEY", "last_refresh"]);
  assert.equal(auth.OPENAI_API_KEY, null);
});

test("parseAuthJson() accepts RFC 3339 timestamps with any offset and 0-9 fraction digits", () => {
  for (const stamp of ["2025-12-31T10:20:30Z", "2025-12-31T10:20:30.123Z", "2025-12-31T10:20:30.123456789Z", "2025-12-31T10:20:30+00:00", "2025-12-31T10:20:30.5-07:30"]) {
    assert.equal(parseAuthJson(JSON.stringify({ OPENAI_API_KEY: null, last_refresh: stamp })).last_refresh, stamp);
  }
});

test("parseAuthJson() ignores a leading byte-order mark", () => {
  assert.equal(parseAuthJson('\uFEFF{"OPENAI_API_KEY":"k"}').OPENAI_API_KEY, "k");
});

test("parseAuthJson() rejects bad documents with AuthFormatError naming the field", () => {
  const cases: Array<[string, string | undefined]> = [
    ['{"OPENAI_API_KEY": 42}', "OPENAI_API_KEY"],
    ['{"tokens": {"id_token": "a", "access_token": 1, "refresh_token": "r"}}', "tokens.access_token"],
    ['{"tokens": {"id_token": "a", "access_token": "x"}}', "tokens.refresh_token"],
    ['{"tokens": {"id_token": "a", "access_token": "x", "refresh_token": "r", "account_id": 5}}', "tokens.account_id"],
    ['{"tokens": "x"}', "tokens"],
    ['{"last_refresh": "yesterday"}', "last_refresh"],
    ['{"auth_mode": true}', "auth_mode"],
    ['{"OPENAI_API_KEY": "\\ud800"}', "OPENAI_API_KEY"],
    ["[]", undefined],
    ["null", undefined],
  ];
  for (const [text, field] of cases) {
    assert.throws(() => parseAuthJson(text), (error: unknown) => {
      assert.ok(error instanceof AuthFormatError, `${text} should throw AuthFormatError`);
      assert.equal(error.field, field);
      return true;
    });
  }
});

test("parseAuthJson() reports the line and column of a syntax error without quoting the input", () => {
  const secret = "sk-canary-do-not-print-7f3a";
  const text = `{\n  "OPENAI_API_KEY": "${secret}",\n  "tokens": tru\n}`;
  assert.throws(() => parseAuthJson(text), (error: unknown) => {
    assert.ok(error instanceof AuthFormatError);
    assert.equal(error.line, 3);
    assert.equal(error.column, 13);
    assert.ok(!error.message.includes(secret));
    assert.ok(!String(error.stack).includes(secret));
    assert.equal(error.cause, undefined);
    return true;
  });
});

test("parseAuthJson() reports truncated input (a concurrent truncating writer) as AuthFormatError", () => {
  const full = serializeAuthJson({ OPENAI_API_KEY: "k", last_refresh: "2026-01-01T00:00:00Z" });
  for (let cut = 0; cut < full.length; cut++) {
    assert.throws(() => parseAuthJson(full.slice(0, cut)), AuthFormatError);
  }
});

test("serializeAuthJson() refuses a document it could not read back", () => {
  assert.throws(() => serializeAuthJson({ OPENAI_API_KEY: 7 } as unknown as AuthDotJson), AuthFormatError);
});

test("parseAuthJson() keeps a __proto__ key as data without touching any prototype", () => {
  const auth = parseAuthJson('{"OPENAI_API_KEY":null,"__proto__":{"polluted":true}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(auth), Object.prototype);
  assert.deepEqual(Object.keys(auth), ["OPENAI_API_KEY", "__proto__"]);
  const missingKey = parseAuthJson('{"__proto__":{"polluted":true}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(missingKey), Object.prototype);
  assert.equal(serializeAuthJson(missingKey, { pretty: false }), '{"OPENAI_API_KEY":null,"__proto__":{"polluted":true}}');
});
