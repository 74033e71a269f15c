// `authkeep migrate` is never left with zero copies: the CLI runs as a real subprocess against the
// real gnome-keyring and is SIGKILLed after each of its steps (AUTHKEEP_TEST_PAUSE_AFTER_STEP), and
// then at random moments; after every kill at least one store holds the credentials exactly, no store
// holds anything else, and a second run completes the move (taking over the dead process's lock).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { type AuthDotJson, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { runtimeArgv } from "./support/child-process.ts";
import { authText, canaryAuth, CLI_PATH, runCli, type TestKeyring, tempHome, testKeyring } from "./fixtures/cli-harness.ts";
import { MIGRATE_STEPS } from "../src/cli/migrate.ts";

const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});
const skip = process.env.AUTHKEEP_SLOW_TESTS === "0" ? "slow (real processes killed between steps); runs in npm test" : "skip" in kr ? kr.skip : false;
const ITERATIONS = Number(process.env.AUTHKEEP_CRASH_ITERATIONS ?? 12);

type Store = "file" | "keyring";
const other = (store: Store): Store => (store === "file" ? "keyring" : "file");

async function readStore(keyring: TestKeyring, home: string, store: Store): Promise<AuthDotJson | null> {
  if (store === "keyring") return await keyring.read(home);
  const path = join(home, "auth.json");
  if (!existsSync(path)) return null;
  // A torn or foreign file is a broken invariant: parse strictly and let the test fail.
  return parseAuthJson(readFileSync(path, "utf8"));
}

async function seed(keyring: TestKeyring, home: string, store: Store, auth: AuthDotJson): Promise<void> {
  if (store === "keyring") await keyring.write(home, auth);
  else writeFileSync(join(home, "auth.json"), authText(auth), { mode: 0o600 });
}

/** Every store holds the credentials exactly or nothing, and at least one holds them; returns which do. */
async function assertNeverZeroCopies(keyring: TestKeyring, home: string, auth: AuthDotJson, when: string): Promise<Store[]> {
  const expected = serializeAuthJson(auth, { pretty: false });
  const holding: Store[] = [];
  for (const store of ["file", "keyring"] as const) {
    const value = await readStore(keyring, home, store);
    if (value === null) continue;
    assert.equal(serializeAuthJson(value, { pretty: false }), expected, `${when}: the ${store} holds something other than the credentials`);
    holding.push(store);
  }
  assert.ok(holding.length > 0, `${when}: zero copies left`);
  return holding;
}

/** Starts `authkeep migrate`, calls `onOutput` on its output as it comes, and resolves when it exits. */
function startMigrate(keyring: TestKeyring, home: string, to: Store, env: NodeJS.ProcessEnv = {}) {
  const [command, argv] = runtimeArgv(CLI_PATH, ["migrate", "--to", to, "--home", home]);
  const child = spawn(command, argv, { env: { ...keyring.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const listeners: (() => void)[] = [];
  const onData = (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding("utf8").on("data", onData);
  child.stderr.setEncoding("utf8").on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => output,
    /** Resolves once the output matches `pattern` (rejects if the process exits first). */
    waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)), timeoutMs);
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        listeners.push(check);
        check();
        exited.then(({ code }) => {
          clearTimeout(timer);
          if (!pattern.test(output)) reject(new Error(`migrate exited (${code}) before ${pattern}:\n${output}`));
        });
      });
    },
  };
}

/** After a kill: a normal run finishes the move (and takes over the dead run's lock at once). */
async function completeMove(keyring: TestKeyring, home: string, to: Store, auth: AuthDotJson, when: string): Promise<void> {
  const start = Date.now();
  const result = await runCli(["migrate", "--to", to, "--home", home], { env: keyring.env });
  assert.equal(result.code, 0, `${when}: the second run failed:\n${result.stdout}${result.stderr}`);
  assert.ok(Date.now() - start < 10_000, `${when}: the second run waited ${Date.now() - start} ms (the dead run's lock should be taken over)`);
  assert.deepEqual(await assertNeverZeroCopies(keyring, home, auth, `${when}, after the second run`), [to]);
  assert.equal(existsSync(join(home, "auth.json.authkeep-refresh.lock")), false, `${when}: the lock file is gone`);
}

describe("authkeep migrate, killed between its steps", { skip }, () => {
  const keyring = "keyring" in kr ? kr.keyring : (undefined as never);
  for (const to of ["keyring", "file"] as const) {
    const from = other(to);
    for (const step of MIGRATE_STEPS) {
      test(`--to ${to}, SIGKILL after "${step}": never zero copies; a second run completes the move`, async (t) => {
        const home = tempHome(t);
        t.after(() => keyring.remove(home));
        const { auth } = canaryAuth({ marker: `${to}-${step}` });
        await seed(keyring, home, from, auth);
        const run = startMigrate(keyring, home, to, { AUTHKEEP_TEST_PAUSE_AFTER_STEP: step });
        await run.waitFor(new RegExp(`paused after ${step}\\n`));
        run.child.kill("SIGKILL");
        assert.equal((await run.exited).signal, "SIGKILL");
        const holding = await assertNeverZeroCopies(keyring, home, auth, `killed after ${step}`);
        const expected: Store[] = step === "lock" || step === "read"
          ? [from]
          : step === "remove-source"
          ? [to]
          : ["file", "keyring"];
        assert.deepEqual(holding, expected, `killed after ${step}: the copies are where the step left them`);
        await completeMove(keyring, home, to, auth, `killed after ${step}`);
      });
    }
  }

  test(`killed at random moments (${ITERATIONS} runs, both directions): never zero copies`, async (t) => {
    const home = tempHome(t);
    t.after(() => keyring.remove(home));
    const { auth } = canaryAuth({ marker: "random" });
    await seed(keyring, home, "file", auth);
    const seen = new Set<string>();
    for (let i = 0; i < ITERATIONS; i++) {
      const to: Store = i % 2 === 0 ? "keyring" : "file";
      const holding = await assertNeverZeroCopies(keyring, home, auth, `before run ${i}`);
      const run = startMigrate(keyring, home, to);
      // Killing inside the lock's own takeover is the lock's business (its own tests); here the kill lands
      // after the lock is held: anywhere in the first read (loading the keyring library and connecting
      // take a few hundred ms), or anywhere in write → verify → remove (tens of ms) after it.
      const [marker, spread] = i % 4 < 2 ? [/took the refresh lock/, 400] : [/✓ read /, 60];
      await run.waitFor(marker).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, Math.random() * spread));
      run.child.kill("SIGKILL");
      const { signal } = await run.exited;
      const after = await assertNeverZeroCopies(keyring, home, auth, `run ${i} (--to ${to}, ${signal ? "killed" : "finished"})`);
      seen.add(`${holding.join("+")} → ${after.join("+")}${signal ? "" : " (finished)"}`);
      if (i % 3 === 2) await completeMove(keyring, home, to, auth, `run ${i}`);
    }
    t.diagnostic(`states seen: ${[...seen].join(", ")}`);
  });
});
