// authkeep beside the real Codex CLI binary (scripts/codex-setup.sh, 0.169.0 under npm test; the
// drift check runs the same file against the newest release): fresh homes, the suite's real
// gnome-keyring, file, keyring and auto modes, both directions, logout both ways, and a ChatGPT
// login that authkeep writes and Codex reads (and rewrites when it refreshes).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import process from "node:process";
import { type AuthDotJson, createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { canaryAuth, runCli, testKeyring } from "./fixtures/cli-harness.ts";
import { CODEX_SKIP, type CodexStore, codexDoctor, codexHome, codexLoginStatus, describeRun, redact, runCodex } from "./support/codex-cli.ts";
import { TokenServer } from "./support/token-server.ts";

const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});

const STORES: CodexStore[] = ["file", "keyring", "auto"];

/** Skips when Codex is absent (outside CI), or when a keyring store has no keyring here. */
function skipReason(store: CodexStore): string | false {
  if (CODEX_SKIP) return CODEX_SKIP;
  if (store !== "file" && "skip" in kr) return kr.skip;
  return false;
}

/** A fresh home whose keyring entry is removed when the test ends. */
function home(t: { after(fn: () => unknown): void }): string {
  const dir = codexHome(t);
  if ("keyring" in kr) t.after(() => kr.keyring.remove(dir));
  return dir;
}

const apiKey = () => `sk-proj-CANARY${randomBytes(16).toString("hex")}`;
const authFile = (dir: string) => join(dir, "auth.json");
/** The stored document where `store` keeps it (auto: the keyring here, which works). */
async function stored(dir: string, store: CodexStore): Promise<AuthDotJson | null> {
  return createAuthStorage({ home: dir, mode: store }).load();
}
/** The raw keyring value of this home, or null. */
async function keyringValue(dir: string): Promise<AuthDotJson | null> {
  return "keyring" in kr ? kr.keyring.read(dir) : null;
}

for (const store of STORES) {
  describe(`Codex CLI and authkeep, ${store} mode`, { skip: skipReason(store), timeout: 180_000 }, () => {
    test(`codex login --with-api-key (${store}): authkeep loads the same document, and saving it back changes nothing`, async (t) => {
      const dir = home(t);
      const key = apiKey();
      const login = await runCodex(["login", "--with-api-key"], { home: dir, store, stdin: key });
      assert.equal(login.code, 0, describeRun(login, [key]));

      const loaded = await stored(dir, store);
      assert.deepEqual(loaded, { auth_mode: "apikey", OPENAI_API_KEY: key }, "authkeep reads what Codex wrote");
      if (store === "file") {
        const codexBytes = readFileSync(authFile(dir), "utf8");
        assert.equal(serializeAuthJson(loaded!), codexBytes, "authkeep's serialization is Codex's, byte for byte");
        await createAuthStorage({ home: dir, mode: store }).save(loaded!);
        assert.equal(readFileSync(authFile(dir), "utf8"), codexBytes, "a save of the same document rewrites the same bytes");
      } else {
        assert.equal(existsSync(authFile(dir)), false, "Codex wrote no auth.json in keyring and auto mode (the keyring works)");
        assert.deepEqual(await keyringValue(dir), loaded);
      }
      // Codex still reads it after authkeep's save.
      const status = await codexLoginStatus(dir, store, [key]);
      assert.ok(status.loggedIn, redact(status.line, [key]));
    });

    test(`authkeep saves an API key (${store}): codex login status says so (exit 0), and codex logout removes it for authkeep too`, async (t) => {
      const dir = home(t);
      const key = apiKey();
      const storage = createAuthStorage({ home: dir, mode: store });
      await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: key });

      const status = await codexLoginStatus(dir, store, [key]);
      assert.ok(status.loggedIn, redact(status.line, [key]));
      assert.match(status.line, /^API key configured - sk-proj-\*\*\*/, redact(status.line, [key]));
      assert.ok(!status.line.includes(key.slice(8)), "Codex shows only the key's tail");

      const logout = await runCodex(["logout"], { home: dir, store });
      assert.equal(logout.code, 0, describeRun(logout, [key]));
      assert.equal(await storage.load(), null, "authkeep sees the logout");
      assert.equal(existsSync(authFile(dir)), false);
      assert.equal(await keyringValue(dir), null, "no keyring entry is left");
      const after = await codexLoginStatus(dir, store, [key]);
      assert.deepEqual(after, { loggedIn: false, line: "Not logged in" });
    });

    test(`authkeep saves a ChatGPT login (${store}): codex login status and codex doctor read it, unchanged`, async (t) => {
      const dir = home(t);
      const { auth, secrets } = canaryAuth({ expiresInSec: 3600 });
      const storage = createAuthStorage({ home: dir, mode: store });
      await storage.save(auth);
      const fileBefore = existsSync(authFile(dir)) ? readFileSync(authFile(dir), "utf8") : null;

      const status = await codexLoginStatus(dir, store, secrets);
      assert.deepEqual(status, { loggedIn: true, line: "Logged in using ChatGPT" });
      const { run, checks } = await codexDoctor(dir, store, { secrets });
      const credentials = checks["auth.credentials"];
      assert.equal(credentials?.status, "ok", describeRun(run, secrets));
      assert.equal(credentials.details["stored ChatGPT tokens"], "true");
      assert.equal(credentials.details["stored auth mode"], "chatgpt");
      assert.equal(credentials.details["auth storage mode"], { file: "File", keyring: "Keyring", auto: "Auto" }[store]);

      // The token was still valid: Codex changed nothing.
      assert.deepEqual(await storage.load(), auth);
      assert.equal(existsSync(authFile(dir)) ? readFileSync(authFile(dir), "utf8") : null, fileBefore);
    });

    test(`codex saves (${store}): storage.delete() logs Codex out too`, async (t) => {
      const dir = home(t);
      const key = apiKey();
      const login = await runCodex(["login", "--with-api-key"], { home: dir, store, stdin: key });
      assert.equal(login.code, 0, describeRun(login, [key]));
      assert.equal(await createAuthStorage({ home: dir, mode: store }).delete(), true);
      assert.deepEqual(await codexLoginStatus(dir, store, [key]), { loggedIn: false, line: "Not logged in" });
      assert.equal(await keyringValue(dir), null);
    });

    test(`codex saves (${store}): authkeep logout (the CLI) logs Codex out, and leaves Codex's lock files alone`, async (t) => {
      const dir = home(t);
      const key = apiKey();
      const login = await runCodex(["login", "--with-api-key"], { home: dir, store, stdin: key });
      assert.equal(login.code, 0, describeRun(login, [key]));
      const started = performance.now();
      const logout = await runCli(["logout", "--home", dir, "--mode", store], { env: { ...process.env, NO_COLOR: "1" }, timeoutMs: 60_000 });
      const ms = performance.now() - started;
      t.diagnostic(`authkeep logout right after a Codex save (${store}): ${ms.toFixed(0)} ms`);
      assert.equal(logout.code, 0, redact(`${logout.stdout}\n${logout.stderr}`, [key]));
      assert.deepEqual(await codexLoginStatus(dir, store, [key]), { loggedIn: false, line: "Not logged in" });
      assert.equal(await keyringValue(dir), null);
      assert.ok(existsSync(join(dir, "auth.lock")), `Codex's auth.lock is still there (${readdirSync(dir).join(", ")})`);
    });
  });
}

describe("Codex rewrites a login authkeep saved (file mode)", { skip: CODEX_SKIP, timeout: 180_000 }, () => {
  test("codex doctor refreshes an expired ChatGPT login: authkeep reads Codex's new tokens, byte for byte", async (t) => {
    const dir = home(t);
    const server = await TokenServer.start();
    t.after(() => server.close());
    const login = server.login("acct-rewrite", { accessExpiresInSec: -60 });
    const storage = createAuthStorage({ home: dir, mode: "file" });
    await storage.save(login);
    const secrets = [login.tokens!.refresh_token, login.tokens!.access_token, login.tokens!.id_token];

    const { run } = await codexDoctor(dir, "file", { tokenUrl: server.url, secrets });
    assert.equal(server.refreshCount, 1, `Codex refreshed once: ${describeRun(run, secrets)}`);
    const body = server.requests[0]!.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["client_id", "grant_type", "refresh_reason", "refresh_token"]);
    assert.equal(body.refresh_reason, "proactive_expiry");

    const codexBytes = readFileSync(authFile(dir), "utf8");
    const reread = await storage.load();
    assert.ok(reread?.tokens && server.refreshTokenState(reread.tokens.refresh_token) === "live", "authkeep reads the rotated tokens");
    assert.equal(reread.tokens.account_id, "acct-rewrite");
    assert.notEqual(reread.last_refresh, login.last_refresh);
    assert.deepEqual(parseAuthJson(codexBytes), reread);
    assert.equal(serializeAuthJson(reread), codexBytes, "authkeep writes Codex's refreshed document back byte for byte");
  });
});
