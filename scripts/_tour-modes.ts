/**
 * The tour's second part: one login saved and loaded back through each
 * storage mode that works here (file, ephemeral, keyring, auto), tokens
 * redacted, then the CLI (`status`, `migrate`, `logout`) on the same home.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  type AuthDotJson,
  computeStoreKey,
  createAuthStorage,
  DEFAULT_KEYRING_SERVICE,
  type defaultKeyringStore,
  KeyringError,
  parseIdToken,
  serializeAuthJson,
} from "../src/index.ts";
import { diagnoseKeyringError, environmentFacts } from "../src/cli/_diagnose.ts";
import { showSecret } from "../src/cli/_output.ts";
import { makeJwt } from "../test/support/token-server.ts";
import { c, out, runCli } from "./_tour-shell.ts";

/** Fake but realistic ChatGPT credentials (unsigned JWTs, a random refresh token). */
function sampleAuth(): AuthDotJson {
  const now = Math.floor(Date.now() / 1000);
  const auth = { chatgpt_account_id: "acct-tour", chatgpt_plan_type: "plus", chatgpt_user_id: "user-tour" };
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: makeJwt({ email: "tour@example.com", exp: now + 3600, "https://api.openai.com/auth": auth }),
      access_token: makeJwt({ sub: "user-tour", exp: now + 3600, jti: randomBytes(16).toString("hex"), "https://api.openai.com/auth": auth }),
      refresh_token: `rt_${randomBytes(16).toString("hex")}`,
      account_id: "acct-tour",
    },
    last_refresh: new Date().toISOString(),
  };
}

/** The login in one line, tokens redacted. */
function describe(auth: AuthDotJson | null): string {
  if (auth === null) return "nothing";
  const claims = auth.tokens ? parseIdToken(auth.tokens.id_token) : undefined;
  return [
    `account ${auth.tokens?.account_id ?? "?"}`,
    claims?.email ? `email ${claims.email}` : "",
    claims?.chatgptPlanType ? `plan ${claims.chatgptPlanType}` : "",
    `access token ${showSecret(auth.tokens?.access_token)}`,
    `refresh token ${showSecret(auth.tokens?.refresh_token)}`,
  ].filter(Boolean).join(", ");
}

/**
 * Saves and loads one login through each mode; `ok` says whether the keyring worked.
 *
 * @param keyringTimeoutMs The keyring's deadline, for the doctor's wording of a timeout.
 */
export async function saveAndLoad(
  home: string,
  keyring: ReturnType<typeof defaultKeyringStore>,
  keyringTimeoutMs: number,
): Promise<{ ok: boolean; failures: number }> {
  let failures = 0;
  const auth = sampleAuth();
  const file = join(home, "auth.json");
  const inKeyring = async () => (await keyring.load(DEFAULT_KEYRING_SERVICE, computeStoreKey(home)).catch(() => null)) !== null;
  const check = (mode: string, loaded: AuthDotJson | null, where: string) => {
    const same = loaded !== null && serializeAuthJson(loaded) === serializeAuthJson(auth);
    if (!same) failures++;
    out.line(`  ${same ? c.ok("✓") : c.bad("✗")} ${mode.padEnd(9)} saved to ${where}; loaded back ${same ? "identical" : c.bad("DIFFERENT")}`);
  };
  out.line(`Credentials used: ${describe(auth)}`);
  out.line(c.dim("(fake tokens; shown redacted, as everywhere in authkeep: the first 4 characters and …)"));
  out.line();

  // file
  {
    const storage = createAuthStorage({ home, mode: "file" });
    await storage.save(auth);
    const mode = (statSync(file).mode & 0o777).toString(8);
    check("file", await storage.load(), `${file} (mode ${mode}, written atomically)`);
    await storage.delete();
  }
  // ephemeral
  {
    const storage = createAuthStorage({ home, mode: "ephemeral" });
    await storage.save(auth);
    check("ephemeral", await storage.load(), `this process's memory only (auth.json exists: ${existsSync(file)})`);
    await storage.delete();
  }
  // keyring
  let keyringOk = false;
  let problem: string | undefined;
  {
    const storage = createAuthStorage({ home, mode: "keyring", keyring });
    try {
      await storage.save(auth);
      check("keyring", await storage.load(), `${keyring.backend ?? "the keyring"} "${DEFAULT_KEYRING_SERVICE}" / ${computeStoreKey(home)} (auth.json exists: ${existsSync(file)})`);
      await storage.delete();
      keyringOk = true;
    } catch (error) {
      if (!(error instanceof KeyringError)) throw error;
      problem = diagnoseKeyringError(error, environmentFacts(), keyringTimeoutMs).summary;
      out.line(`  ${c.warn("!")} ${"keyring".padEnd(9)} does not work here: ${problem}`);
    }
  }
  // auto
  {
    const warnings: string[] = [];
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: (w) => warnings.push(w) });
    await storage.save(auth);
    const where = (await inKeyring()) ? "the keyring (auth.json removed)" : existsSync(file) ? `${file}, the fallback` : "nowhere?";
    check("auto", await storage.load(), where);
    for (const warning of warnings) out.line(c.dim(`      auto warned: ${warning.length > 160 ? `${warning.slice(0, 157)}…` : warning}`));
    await storage.delete().catch(() => createAuthStorage({ home, mode: "file" }).delete());
  }
  if (!keyringOk) {
    out.line();
    out.line(`No working keyring here (${problem}), so auto mode used auth.json instead, and said so.`);
    if (process.platform === "linux") {
      out.line(`To see the keyring part of this tour, run it with a private headless keyring:`);
      out.line(`  ${c.bold("bash scripts/with-keyring.sh npm start")}`);
      out.line(c.dim("  (scripts/keyring-up.sh starts a D-Bus session bus and an unlocked gnome-keyring; both are stopped afterwards)"));
    } else {
      out.line("The doctor above says why, and how to fix it.");
    }
  }
  return { ok: keyringOk, failures };
}

/** Runs `status`, `migrate --to keyring` (when the keyring works) and `logout` on the home; returns the unexpected exit statuses. */
export async function cliWalkthrough(home: string, keyringOk: boolean): Promise<number> {
  let failures = 0;
  const expect = (code: number, wanted: number) => {
    if (code !== wanted) {
      failures++;
      out.line(c.bad(`  (exit status ${code}, expected ${wanted})`));
    }
  };
  await createAuthStorage({ home, mode: "file" }).save(sampleAuth());
  out.line(c.dim("Saved a login to auth.json; now the CLI:"));
  expect(runCli(["status", "--home", home]), 0);
  if (keyringOk) {
    out.line();
    expect(runCli(["migrate", "--to", "keyring", "--home", home]), 0);
    out.line();
    expect(runCli(["status", "--home", home, "--mode", "auto"]), 0);
  }
  out.line();
  expect(runCli(["logout", "--home", home]), 0);
  return failures;
}
