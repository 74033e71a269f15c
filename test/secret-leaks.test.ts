/**
 * Secrets never leak: canary values in every token field (id, access and
 * refresh token, API key), every public API driven through success and
 * failure (bad JSON, bad JWTs, disk errors, keyring errors of every kind,
 * refresh errors from a real HTTP server on 127.0.0.1, lock timeouts,
 * fetchWithAuth) and the CLI; no canary, nor any 8 characters of its random
 * part, may appear in an error message, stack, cause chain, warning,
 * util.inspect or JSON.stringify of our objects, or CLI output.
 *
 * (The credentials objects themselves, AuthDotJson and parseIdToken's
 * IdTokenInfo.rawJwt, hold the tokens by design and are not searched.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { existsSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import {
  AuthManager,
  computeStoreKey,
  createAuthStorage,
  fetchWithAuth,
  HttpTokenRefresher,
  KeyringError,
  type KeyringErrorKind,
  parseAuthJson,
  parseIdToken,
  serializeAuthJson,
} from "../src/index.ts";
import { RefreshLock } from "../src/refresh/refresh-lock.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { type Canaries, canaryAuth, LeakCollector, makeCanaries } from "./support/hardening-canary.ts";
import { childCommand, childEnv, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";
import { makeImmutable } from "./support/hardening-readonly.ts";

const collector = new LeakCollector();
const homes: string[] = [];
function home(): string {
  const path = makeHome("authkeep-leaks-");
  homes.push(path);
  return path;
}

/** Runs `fn`, recording what it throws (or returns, when it is one of our objects). */
async function observe(label: string, fn: () => unknown): Promise<unknown> {
  try {
    return await fn();
  } catch (error) {
    collector.error(label, error);
    return undefined;
  }
}

// Tokens the fake token endpoint issues: secrets too.
let issued: Canaries;
let server: ReturnType<typeof createServer>;
let base = "";

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve(body));
  });
}

before(async () => {
  issued = collector.watch(makeCanaries(4_000_000_000));
  server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const send = (status: number, text: string, type = "application/json"): void => {
      response.writeHead(status, { "Content-Type": type }).end(text);
    };
    switch (request.url) {
      // Token endpoints that echo what we sent (as some proxies and error pages do).
      case "/echo401":
        return send(401, JSON.stringify({ error: { code: "refresh_token_invalidated", message: `bad request ${body}` } }));
      case "/echo401-text":
        return send(401, `unauthorized: ${body}`, "text/plain");
      case "/echo500":
        return send(500, JSON.stringify({ error: { message: `upstream failed for ${body}` } }));
      case "/not-json":
        return send(200, `<html>${issued.accessToken}</html>`, "text/html");
      case "/wrong-types":
        return send(200, JSON.stringify({ access_token: issued.accessToken, refresh_token: 42, id_token: ["x"] }));
      case "/hang":
        return; // never answers: the refresher's timeout fires
      case "/success":
        return send(200, JSON.stringify({ id_token: issued.idToken, access_token: issued.accessToken, refresh_token: issued.refreshToken }));
      case "/resource":
        return send(401, `denied for ${request.headers.authorization ?? "nobody"}`, "text/plain");
      default:
        return send(404, "no such endpoint", "text/plain");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server?.closeAllConnections();
  server?.close();
  for (const path of homes) removeHome(path);
});

test("the codec: bad JSON, bad types, bad JWTs and unserializable documents", async () => {
  const canaries = collector.watch(makeCanaries());
  const text = serializeAuthJson(canaryAuth(canaries));
  // Cut or break the document at every few characters, through every token.
  for (let i = 1; i < text.length; i += 7) {
    await observe(`truncated at ${i}`, () => parseAuthJson(text.slice(0, i)));
    await observe(`broken at ${i}`, () => parseAuthJson(`${text.slice(0, i)}\u0001${text.slice(i)}`));
    await observe(`quote removed at ${i}`, () => parseAuthJson(text.slice(0, i) + text.slice(i).replace('"', "")));
  }
  for (const field of ["id_token", "access_token", "refresh_token"]) {
    const auth = canaryAuth(canaries) as unknown as { tokens: Record<string, unknown> };
    auth.tokens[field] = 42;
    await observe(`serialize with a bad ${field}`, () => serializeAuthJson(auth as never));
    await observe(`parse with a bad ${field}`, () => parseAuthJson(JSON.stringify(auth)));
  }
  await observe("bad last_refresh", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), last_refresh: canaries.refreshToken })));
  await observe("bad auth_mode", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), auth_mode: 7 })));
  await observe("lone surrogate", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), OPENAI_API_KEY: `${canaries.apiKey}\ud800` })));
  for (const jwt of [canaries.idToken, canaries.accessToken]) {
    const [header, payload, signature] = jwt.split(".");
    for (const broken of [
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.${signature}`,
      `${header}.${payload}!.${signature}`,
      `${header}.${payload!.slice(0, -3)}.${signature}`,
      `${header}.${Buffer.from("[1]").toString("base64url")}.${signature}`,
      jwt.replace(/\./g, ""),
    ]) {
      await observe("broken JWT", () => parseIdToken(broken));
    }
  }
});

test("file storage: corrupt files, disk errors and warnings", async () => {
  const canaries = collector.watch(makeCanaries());
  const text = serializeAuthJson(canaryAuth(canaries));
  const dir = home();
  const warnings: string[] = [];
  const storage = createAuthStorage({ home: dir, onWarning: (message) => warnings.push(message) });
  for (let i = 10; i < text.length; i += 61) {
    writeFileSync(join(dir, "auth.json"), text.slice(0, i));
    await observe("file load of a corrupt file", () => storage.load());
    await observe("file loadSync of a corrupt file", () => storage.loadSync());
  }
  writeFileSync(join(dir, "auth.json"), Buffer.concat([Buffer.from(text.slice(0, 40)), Buffer.from([0xff]), Buffer.from(text.slice(40))]));
  await observe("file load of invalid UTF-8", () => storage.load());
  // A save over the corrupt file: the backup warning.
  await storage.save(canaryAuth(canaries));
  collector.object("file storage", storage);
  // Disk errors while saving and deleting.
  const undo = makeImmutable(dir);
  if (undo !== undefined) {
    try {
      await observe("file save on an immutable home", () => storage.save(canaryAuth(canaries)));
      await observe("file saveSync on an immutable home", () => storage.saveSync(canaryAuth(canaries)));
      await observe("file delete on an immutable home", () => storage.delete());
    } finally {
      undo();
    }
  }
  await observe("file save to /proc", () => createAuthStorage({ home: "/proc/authkeep-leak-test" }).save(canaryAuth(canaries)));
  assert.ok(warnings.length > 0);
  for (const [i, warning] of warnings.entries()) collector.text(`file warning ${i}`, warning);
});

test("keyring and auto storage: every keyring error kind at every operation, and corrupt keyring values", async () => {
  const canaries = collector.watch(makeCanaries());
  const kinds: KeyringErrorKind[] = ["unavailable", "locked", "too-large", "invalid", "failure"];
  for (const mode of ["keyring", "auto"] as const) {
    const dir = home();
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(dir);
    const warnings: string[] = [];
    const storage = createAuthStorage({ home: dir, mode, keyring, onWarning: (message) => warnings.push(message) });
    await storage.save(canaryAuth(canaries));
    for (const kind of kinds) {
      keyring.setError(account, new KeyringError(`injected ${kind}`, { kind, backend: "memory", code: 42 }));
      await observe(`${mode} load, ${kind}`, () => storage.load());
      await observe(`${mode} save, ${kind}`, () => storage.save(canaryAuth(canaries)));
      await observe(`${mode} saveSync, ${kind}`, () => storage.saveSync(canaryAuth(canaries)));
      await observe(`${mode} delete, ${kind}`, () => storage.delete());
      keyring.clearError(account);
      await storage.save(canaryAuth(canaries));
    }
    // A backend that fails with a plain error.
    keyring.setError(account, new TypeError("backend bug"));
    await observe(`${mode} load, plain error`, () => storage.load());
    keyring.clearError(account);
    // Corrupt values in the keyring.
    const value = serializeAuthJson(canaryAuth(canaries), { pretty: false });
    for (let i = 5; i < value.length; i += 31) {
      keyring.saveSync("Codex Auth", account, value.slice(0, i));
      await observe(`${mode} load of a corrupt keyring value`, () => storage.load());
    }
    collector.object(`${mode} storage`, storage);
    collector.object(`${mode} keyring`, keyring);
    for (const [i, warning] of warnings.entries()) collector.text(`${mode} warning ${i}`, warning);
  }
});

test("the default warning channel (process.emitWarning)", async () => {
  const canaries = collector.watch(makeCanaries());
  const dir = home();
  const seen: Error[] = [];
  const listener = (warning: Error): void => void seen.push(warning);
  process.on("warning", listener);
  try {
    writeFileSync(join(dir, "auth.json"), serializeAuthJson(canaryAuth(canaries)).slice(0, 120));
    const keyring = new MemoryKeyringStore();
    keyring.setError(computeStoreKey(dir), new KeyringError("locked", { kind: "locked", backend: "memory" }));
    const storage = createAuthStorage({ home: dir, mode: "auto", keyring });
    await storage.save(canaryAuth(canaries));
    await storage.load();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", listener);
  }
  assert.ok(seen.length >= 2);
  for (const [i, warning] of seen.entries()) collector.error(`process warning ${i}`, warning);
});

/** An AuthManager on a fresh home whose stored access token has expired. */
async function expiredManager(url: string, options: { lockTimeoutMs?: number } = {}) {
  const canaries = collector.watch(makeCanaries(1));
  const dir = home();
  const storage = createAuthStorage({ home: dir, onWarning: (message) => collector.text("manager storage warning", message) });
  await storage.save(canaryAuth(canaries));
  const refresher = new HttpTokenRefresher({ url, timeoutMs: 300 });
  const manager = new AuthManager({
    storage,
    refresher,
    lock: { timeoutMs: options.lockTimeoutMs ?? 5_000, pollMs: 5 },
    onRefreshError: (error) => collector.error(`${url} onRefreshError`, error),
  });
  return { canaries, dir, storage, refresher, manager };
}

async function driveManager(label: string, manager: AuthManager): Promise<void> {
  await observe(`${label} auth()`, () => manager.auth());
  if (manager.lastRefreshError !== undefined) collector.error(`${label} lastRefreshError`, manager.lastRefreshError);
  await observe(`${label} refreshToken()`, () => manager.refreshToken());
  await observe(`${label} reload()`, () => manager.reload());
  const recovery = manager.unauthorizedRecovery();
  for (let i = 0; i < 4 && recovery.hasNext(); i++) await observe(`${label} recovery step ${recovery.step}`, () => recovery.next());
  collector.object(`${label} manager`, manager);
  collector.object(`${label} recovery`, recovery);
}

test("AuthManager + HttpTokenRefresher: every refresh failure from a real token endpoint, and success", async () => {
  for (const path of ["/echo401", "/echo401-text", "/echo500", "/not-json", "/wrong-types", "/hang", "/missing"]) {
    const { manager, refresher, storage } = await expiredManager(`${base}${path}`);
    await driveManager(path, manager);
    collector.object(`${path} refresher`, refresher);
    // A failed refresh never loses the stored login.
    assert.ok((await storage.load())?.tokens?.refresh_token.startsWith("CANARYrefresh"));
  }
  // Nothing listens on the port: a network error.
  const closed = await expiredManager("http://127.0.0.1:9/oauth/token");
  await driveManager("connection refused", closed.manager);
  // Success: the issued tokens are saved, and still not shown anywhere.
  const ok = await expiredManager(`${base}/success`);
  await driveManager("success", ok.manager);
  assert.equal((await ok.storage.load())?.tokens?.access_token, issued.accessToken);
});

test("AuthManager: a refresh lock held by another process times out with LockTimeoutError", async () => {
  const { manager, dir } = await expiredManager(`${base}/success`, { lockTimeoutMs: 150 });
  const held = await new RefreshLock({ path: join(dir, "auth.json.authkeep-refresh.lock") }).acquire();
  try {
    await driveManager("lock timeout", manager);
    collector.object("lock handle", held);
  } finally {
    await held.release();
  }
  await observe("lock acquire timeout", async () => {
    const other = await new RefreshLock({ path: join(dir, "x.lock") }).acquire();
    try {
      return await new RefreshLock({ path: join(dir, "x.lock"), timeoutMs: 50 }).acquire();
    } finally {
      await other.release();
    }
  });
});

test("fetchWithAuth: a resource server that answers 401 (echoing the bearer token) and a token endpoint that fails", async () => {
  const { manager } = await expiredManager(`${base}/echo401`);
  const response = (await observe("fetchWithAuth", () => fetchWithAuth(manager, `${base}/resource`))) as Response | undefined;
  // The server's own body may echo the token; that is the server's answer, not our output. Our errors must not.
  await response?.body?.cancel();
  const { manager: good } = await expiredManager(`${base}/success`);
  const second = (await observe("fetchWithAuth after refresh", () => fetchWithAuth(good, `${base}/resource`))) as Response | undefined;
  await second?.body?.cancel();
  collector.object("fetchWithAuth manager", good);
});

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

test("the CLI: status, doctor, migrate and logout, on good and corrupt credentials, with and without a keyring", {
  timeout: 300_000,
  skip: slowTestsOff ? "slow tests disabled (CLI subprocesses run in npm test)" : !existsSync(cliPath()) ? "the CLI is not built here" : false,
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

test("no canary appears anywhere", () => {
  const leaks = collector.leaks();
  process.stdout.write(`# secret-leaks: ${collector.surfaces} surfaces checked, ${leaks.length} canaries found\n`);
  assert.deepEqual(leaks, []);
  assert.ok(collector.surfaces > 500, "the test observed too little to mean anything");
});

test("the leak detector itself finds a planted canary, a fragment of one, and one deep in a cause chain", () => {
  const probe = new LeakCollector();
  const canaries = probe.watch(makeCanaries());
  probe.text("clean", "nothing to see");
  probe.text("whole", `token=${canaries.refreshToken}`);
  probe.text("fragment", `token=${canaries.accessToken.split(".")[2]!.slice(-10)}…`);
  probe.error("cause", new Error("outer", { cause: new Error("inner", { cause: new Error(canaries.apiKey) }) }));
  probe.object("inspect", { nested: { deeper: [canaries.idToken] } });
  const leaks = probe.leaks();
  assert.ok(!leaks.includes("clean"));
  for (const label of ["whole", "fragment", "cause.cause.cause.message", "inspect inspect"]) assert.ok(leaks.includes(label), label);
});
