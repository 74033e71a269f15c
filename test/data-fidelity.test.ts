/**
 * Data fidelity: fields authkeep does not own come back exactly as they were
 * (the text of numbers, the order of keys) through a real load and save; a
 * known field given twice is refused where serde_json (Codex) refuses it; and
 * serializeAuthJson writes Codex's field order whatever the caller's. With
 * the real Codex CLI (AUTHKEEP_CODEX_BIN, from `npm test`), both programs
 * are checked to accept and refuse the same documents.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { type AuthDotJson, AuthFormatError, createAuthStorage, parseAuthJson, serializeAuthJson, type TokenData } from "../src/index.ts";
import { mergeRefreshed } from "../src/refresh/_auth-manager-snapshot.ts";
import { fakeJwt, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";

const ID_TOKEN = fakeJwt({ email: "fidelity@example.com" });
const NUMBERS = ["12345678901234567890", "1.0", "-0", "1E5", "0.1000", "1e400", "-1e-400", "100000000000000000000000000000.5", "0"];
const numbersDoc = (): string =>
  `{
  "auth_mode": "apikey",
  "OPENAI_API_KEY": "sk-fake-fidelity",
  "numbers": [
${NUMBERS.map((n) => `    ${n}`).join(",\n")}
  ],
  "by_name": {
${NUMBERS.map((n, i) => `    "n${i}": ${n}`).join(",\n")}
  },
  "index_keys": {
    "b": 1.50,
    "10": 2,
    "2": -0.0,
    "a": 3
  }
}`;

for (const style of ["sync", "async"] as const) {
  test(`${style === "sync" ? "loadSync() then saveSync()" : "load() then save()"} writes unknown fields back byte for byte: number texts and key order`, async () => {
    const home = makeHome();
    try {
      const path = join(home, "auth.json");
      writeFileSync(path, numbersDoc(), { mode: 0o600 });
      const storage = createAuthStorage({ home });
      if (style === "sync") storage.saveSync(storage.loadSync()!);
      else await storage.save((await storage.load())!);
      assert.equal(readFileSync(path, "utf8"), numbersDoc());
    } finally {
      removeHome(home);
    }
  });
}

test("a kept number text is dropped once the caller changes the value", () => {
  const auth = parseAuthJson('{"OPENAI_API_KEY": null, "n": 1.0, "m": 1.0}');
  auth.m = 2;
  assert.equal(serializeAuthJson(auth, { pretty: false }), '{"OPENAI_API_KEY":null,"n":1.0,"m":2}');
});

// What serde_json does with repeated keys in Codex's AuthDotJson / TokenData (checked against the
// real Codex CLI below): a known field twice is an error, an unknown key twice is ignored.
const DUPLICATES: [string, string, string | null][] = [
  ["OPENAI_API_KEY twice", '{"OPENAI_API_KEY": "sk-fake-a", "OPENAI_API_KEY": "sk-fake-b"}', "OPENAI_API_KEY"],
  ["auth_mode twice", '{"auth_mode": "apikey", "auth_mode": "apikey", "OPENAI_API_KEY": "sk-fake-a"}', "auth_mode"],
  ["tokens twice", `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": {}, "tokens": ${tokens()}, "last_refresh": "2025-01-01T00:00:00Z"}`, "tokens"],
  ["last_refresh twice", `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": ${tokens()}, "last_refresh": "2025-01-01T00:00:00Z", "last_refresh": "2025-01-01T00:00:00Z"}`, "last_refresh"],
  ["tokens.account_id twice", `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": ${tokens('"account_id": "a", "account_id": "b"')}, "last_refresh": "2025-01-01T00:00:00Z"}`, "tokens.account_id"],
  ["tokens.refresh_token twice", `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": ${tokens('"refresh_token": "fake-r2"')}, "last_refresh": "2025-01-01T00:00:00Z"}`, "tokens.refresh_token"],
  ["an unknown top-level key twice", '{"OPENAI_API_KEY": "sk-fake-a", "x": 1, "x": 2}', null],
  ["an unknown key twice inside tokens", `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": ${tokens('"u": 1, "u": 2')}, "last_refresh": "2025-01-01T00:00:00Z"}`, null],
  ["a known name twice inside an unknown object", '{"OPENAI_API_KEY": "sk-fake-a", "extra": {"OPENAI_API_KEY": 1, "OPENAI_API_KEY": 2}}', null],
];

function tokens(extra = '"account_id": "acct"'): string {
  return `{"id_token": "${ID_TOKEN}", "access_token": "fake-access", "refresh_token": "fake-refresh", ${extra}}`;
}

for (const [name, text, field] of DUPLICATES) {
  test(`parseAuthJson(): ${name} ${field ? "is an AuthFormatError naming the field" : "is accepted, the last value winning"}`, () => {
    if (field === null) {
      assert.ok(parseAuthJson(text));
      return;
    }
    assert.throws(() => parseAuthJson(text), (error: unknown) => {
      assert.ok(error instanceof AuthFormatError);
      assert.equal(error.field, field);
      assert.match(error.message, new RegExp(`duplicate field ${field.replace(".", "\\.")} at line 1, column \\d+`));
      assert.doesNotMatch(error.message, /sk-fake|fake-r2/, "no value in the message");
      return true;
    });
  });
}

const CODEX_ORDER = `{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "${ID_TOKEN}",
    "access_token": "fake-access",
    "refresh_token": "fake-refresh",
    "account_id": "acct",
    "later_token_field": 1
  },
  "last_refresh": "2025-01-01T00:00:00Z",
  "agent_identity": null,
  "z_unknown": [
    1.0
  ]
}`;

test("serializeAuthJson() writes Codex's order for known fields whatever the caller's order, unknown fields after in their own order", () => {
  const scrambled = {
    agent_identity: null,
    last_refresh: "2025-01-01T00:00:00Z",
    z_unknown: parseAuthJson('{"OPENAI_API_KEY": null, "v": [1.0]}').v,
    tokens: { later_token_field: 1, account_id: "acct", refresh_token: "fake-refresh", access_token: "fake-access", id_token: ID_TOKEN },
    OPENAI_API_KEY: null,
    auth_mode: "chatgpt",
  };
  assert.equal(serializeAuthJson(scrambled), CODEX_ORDER);
  assert.equal(serializeAuthJson(scrambled, { pretty: false }), JSON.stringify(JSON.parse(CODEX_ORDER)).replace('[1]', "[1.0]"));
});

const codexBin = process.env.AUTHKEEP_CODEX_BIN;
const codexSkip = slowTestsOff ? "slow tests disabled (child processes)" : codexBin ? false : "AUTHKEEP_CODEX_BIN is not set (npm test sets it: scripts/codex-setup.sh)";

/** Whether the real Codex CLI reads `<home>/auth.json` as a login. */
function codexAccepts(home: string): boolean {
  const result = spawnSync(codexBin!, ["login", "status"], { env: { ...process.env, CODEX_HOME: home }, encoding: "utf8", timeout: 60_000 });
  const output = `${result.stdout}${result.stderr}`;
  if (/failed to deserialize|invalid credential JSON/.test(output)) return false;
  assert.match(output, /Logged in|API key configured/, output);
  return true;
}

test("the real Codex CLI refuses and accepts the same repeated keys as authkeep, and reads authkeep's odd numbers", { skip: codexSkip }, () => {
  const home = makeHome();
  try {
    for (const [name, text, field] of DUPLICATES) {
      writeFileSync(join(home, "auth.json"), text, { mode: 0o600 });
      assert.equal(codexAccepts(home), field === null, `Codex on ${name}`);
    }
    writeFileSync(join(home, "auth.json"), numbersDoc(), { mode: 0o600 });
    assert.equal(codexAccepts(home), true, "Codex reads 1e400, -0 and 20-digit numbers in unknown fields");
  } finally {
    removeHome(home);
  }
});

test("a file the real Codex CLI wrote comes back byte for byte through authkeep, and Codex reads what authkeep wrote from a scrambled object", { skip: codexSkip }, () => {
  const home = makeHome();
  try {
    const login = spawnSync(codexBin!, ["login", "--with-api-key"], { input: "sk-fake-codex-written", env: { ...process.env, CODEX_HOME: home }, encoding: "utf8", timeout: 60_000 });
    assert.equal(login.status, 0, login.stderr);
    const path = join(home, "auth.json");
    const written = readFileSync(path, "utf8");
    const storage = createAuthStorage({ home });
    storage.saveSync(storage.loadSync()!);
    assert.equal(readFileSync(path, "utf8"), written);
    storage.saveSync({ OPENAI_API_KEY: "sk-fake-codex-written", auth_mode: "apikey" });
    assert.equal(readFileSync(path, "utf8"), written, "Codex's order whatever the caller's");
    assert.equal(codexAccepts(home), true);
  } finally {
    removeHome(home);
  }
});

test("a refresh's merge (mergeRefreshed, what AuthManager saves) keeps the number texts of unknown fields", () => {
  const current = parseAuthJson(`{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": ${tokens('"account_id": "acct", "t": 1.0')}, "last_refresh": "2025-01-01T00:00:00Z", "n": -0, "big": 12345678901234567890}`);
  const { auth } = mergeRefreshed(current as AuthDotJson & { tokens: TokenData }, { access_token: "fake-access-2" }, Date.UTC(2026, 0, 1));
  const text = serializeAuthJson(auth, { pretty: false });
  assert.match(text, /"t":1\.0\}/);
  assert.match(text, /"n":-0,"big":12345678901234567890\}$/);
  assert.match(text, /"access_token":"fake-access-2"/);
});
