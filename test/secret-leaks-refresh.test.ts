/**
 * Secrets never leak from refresh: canary tokens in an AuthManager and HttpTokenRefresher driven
 * through every refresh failure of a real token endpoint on 127.0.0.1 (echoing what it was sent),
 * a network error, success, lock timeouts and fetchWithAuth; no canary, nor any 8 characters of
 * its random part, may appear in an error, cause chain, warning, util.inspect or JSON.stringify of
 * our objects. The codec and storages: secret-leaks-storage; the CLI: secret-leaks-cli.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AuthManager, createAuthStorage, fetchWithAuth, HttpTokenRefresher } from "../src/index.ts";
import { RefreshLock } from "../src/refresh/refresh-lock.ts";
import { type Canaries, canaryAuth, makeCanaries } from "./support/hardening-canary.ts";
import { leakCheck, testNoLeaks } from "./support/leak-check.ts";

const { collector, home, observe } = leakCheck();

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

testNoLeaks(collector, "refresh", 400);
