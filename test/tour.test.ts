// `npm start` (scripts/tour.ts) on a machine with no keyring daemon and with the real gnome-keyring:
// it always finishes, never leaves its temporary home or keyring entry behind, says what it could not
// show and how to see it, and its refresh demonstration shows one refresh adopted by every process.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { defaultKeyringStore } from "../src/index.ts";
import { noKeyringEnv, testKeyring } from "./fixtures/cli-harness.ts";

const TOUR = fileURLToPath(new URL(`../scripts/tour${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
const isNode = !("Bun" in globalThis) && !("Deno" in globalThis);
const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});

function runTour(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TOUR], { env: { ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 170_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The temporary home and its keyring account, as the tour announces them. */
function tourHome(stdout: string): { home: string; account: string } {
  const home = /your real credentials are never touched: (\S+)/.exec(stdout)?.[1];
  const account = /its keyring entry would be "Codex Auth" \/ (cli\|[0-9a-f]{16})/.exec(stdout)?.[1];
  assert.ok(home && account, `the tour names its home and keyring entry:\n${stdout}`);
  return { home, account };
}

function assertRefreshDemo(stdout: string): void {
  assert.match(stdout, /Without a cross-process lock \(AuthManager with lock: false; every process refreshes on its own, as Codex CLI does\):/);
  // The race itself depends on timing; how it went is reported either way.
  assert.match(stdout, /token endpoint: \d+ refresh requests?, \d+ rejected as reused; \d of 4 processes hold a working token/);
  assert.match(stdout, /With authkeep's cross-process lock/);
  assert.match(stdout, /token endpoint: 1 refresh request, 0 rejected as reused; 4 of 4 processes hold a working token, all the stored one/);
  assert.match(stdout, /One refresh, and every process adopted it\./);
  assert.equal((stdout.match(/adopted the refreshed tokens from storage, no network call/g) ?? []).length >= 3, true);
}

const skip = !isNode
  ? "the tour is run by npm start on Node"
  : process.env.AUTHKEEP_SLOW_TESTS === "0"
  ? "slow (several CLI and worker processes); runs in npm test"
  : false;

describe("npm start (the tour)", { skip }, () => {
  test("with no keyring daemon: says so, shows the file fallback, points to with-keyring.sh, cleans up", { timeout: 180_000 }, async () => {
    const result = await runTour(noKeyringEnv());
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const { home } = tourHome(result.stdout);
    assert.match(result.stdout, /\$ authkeep doctor --home \S+ --mode auto/);
    assert.match(result.stdout, /✓ file\s+saved to \S+auth\.json \(mode 600, written atomically\); loaded back identical/);
    assert.match(result.stdout, /✓ ephemeral saved to this process's memory only/);
    if (process.platform === "linux") {
      assert.match(result.stdout, /! keyring\s+does not work here: there is no D-Bus session bus/);
      assert.match(result.stdout, /✓ auto\s+saved to \S+auth\.json, the fallback; loaded back identical/);
      assert.match(result.stdout, /No working keyring here .*so auto mode used auth\.json instead/);
      assert.match(result.stdout, /bash scripts\/with-keyring\.sh npm start/);
    }
    assertRefreshDemo(result.stdout);
    assert.match(result.stdout, /Tour complete\./);
    assert.equal(existsSync(home), false, "the temporary home is removed");
  });

  test("with the keyring: every mode, the CLI's migrate, and no entry left behind", { timeout: 180_000 }, async (t) => {
    if ("skip" in kr) return t.skip(kr.skip);
    const result = await runTour(kr.keyring.env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const { home, account } = tourHome(result.stdout);
    assert.match(result.stdout, /✓ keyring\s+saved to libsecret "Codex Auth" \/ cli\|[0-9a-f]{16} \(auth\.json exists: false\); loaded back identical/);
    assert.match(result.stdout, /✓ auto\s+saved to the keyring \(auth\.json removed\); loaded back identical/);
    assert.match(result.stdout, /\$ authkeep migrate --to keyring --home /);
    assert.match(result.stdout, /Done: the credentials are now only in the keyring entry\./);
    assert.doesNotMatch(result.stdout, /with-keyring\.sh/);
    assertRefreshDemo(result.stdout);
    assert.match(result.stdout, /With authkeep's cross-process lock \(mode auto;/);
    assert.match(result.stdout, /Tour complete\./);
    assert.equal(existsSync(home), false, "the temporary home is removed");
    assert.equal(await defaultKeyringStore().load("Codex Auth", account), null, "the tour's keyring entry is removed");
  });
});
