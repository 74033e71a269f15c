/**
 * Secrets never leak from the CLI: status, doctor, migrate and logout run as child processes on
 * canary credentials, good and corrupt, with and without a keyring, with --debug stack traces;
 * no canary, nor any 8 characters of its random part, may appear in their output. The library's
 * own surfaces: secret-leaks-storage and secret-leaks-refresh.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { serializeAuthJson } from "../src/index.ts";
import { canaryAuth, makeCanaries } from "./support/hardening-canary.ts";
import { childCommand, childEnv, slowTestsOff } from "./support/hardening-env.ts";
import { leakCheck, testNoLeaks } from "./support/leak-check.ts";

const { collector, home } = leakCheck();

/** The CLI entry point next to the compiled sources (or the TypeScript source). */
function cliPath(): string {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`../src/cli/main${ext}`, import.meta.url));
}

function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const [command, childArgs] = childCommand(cliPath(), args);
    const child = spawn(command, childArgs, { env: childEnv({ NO_COLOR: "1", ...env }), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

const cliSkip = slowTestsOff ? "slow tests disabled (CLI subprocesses run in npm test)" : !existsSync(cliPath()) ? "the CLI is not built here" : false;

test("the CLI: status, doctor, migrate and logout, on good and corrupt credentials, with and without a keyring", {
  timeout: 300_000,
  skip: cliSkip,
}, async () => {
  const canaries = collector.watch(makeCanaries(4_000_000_000));
  const dir = home();
  const good = serializeAuthJson(canaryAuth(canaries));
  const noKeyring = { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/authkeep-leak-test" };
  const runs: [string, string[], Record<string, string | undefined>?][] = [
    ["status --json", ["status", "--home", dir, "--json", "--debug"]],
    ["status keyring, no keyring", ["status", "--home", dir, "--mode", "keyring", "--debug"], noKeyring],
    ["migrate to keyring, no keyring", ["migrate", "--to", "keyring", "--home", dir, "--debug"], noKeyring],
    ["migrate to keyring", ["migrate", "--to", "keyring", "--home", dir, "--json", "--timeout", "3000"]],
    ["status auto", ["status", "--home", dir, "--mode", "auto", "--timeout", "3000"]],
    ["migrate to file", ["migrate", "--to", "file", "--home", dir, "--timeout", "3000", "--debug"]],
    ["doctor", ["doctor", "--home", dir, "--json", "--timeout", "3000"]],
  ];
  writeFileSync(join(dir, "auth.json"), good, { mode: 0o600 });
  for (const [label, args, env] of runs) {
    const { status, output } = await runCli(args, env);
    collector.text(`cli ${label}`, output);
    // The CLI really ran: status found the credentials (exit 0) and printed its JSON document.
    if (label === "status --json") assert.equal(status, 0, "authkeep status failed");
  }
  // Corrupt credentials, with --debug stack traces; then logout.
  for (const [cut, args] of [
    [30, ["status", "--debug"]],
    [good.length - 5, ["migrate", "--to", "keyring", "--debug", "--timeout", "3000"]],
    [200, ["logout", "--json", "--debug", "--timeout", "3000"]],
  ] as const) {
    writeFileSync(join(dir, "auth.json"), good.slice(0, cut), { mode: 0o600 });
    const { output } = await runCli([...args, "--home", dir]);
    collector.text(`cli ${args.join(" ")} on a file cut at ${cut}`, output);
  }
  await runCli(["logout", "--home", dir, "--timeout", "3000"]);
});

// Seven runs on good credentials and three on corrupt ones: each one output.
testNoLeaks(collector, "CLI", 9, cliSkip);
