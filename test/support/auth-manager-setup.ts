/**
 * The AuthManager tests' fixture: a temp home with file storage, a local token server, and an
 * AuthManager factory wired to both, removed after the test; plus a helper that awaits a rejection.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthManager, type AuthManagerOptions } from "../../src/refresh/auth-manager.ts";
import type { AuthStorage } from "../../src/storage/auth-storage.ts";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";
import { HttpTokenRefresher } from "../../src/refresh/token-refresher.ts";
import { TokenServer } from "./token-server.ts";

/** The account-mismatch message, as Codex words it. */
export const MISMATCH = "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.";

/** What {@linkcode setup} gives a test. */
export interface Ctx {
  home: string;
  server: TokenServer;
  storage: AuthStorage;
  manager: (options?: Partial<AuthManagerOptions>) => AuthManager;
}

/** A temp home, file storage in it, a token server and an AuthManager factory; all removed after the test. */
export async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Ctx> {
  const home = await mkdtemp(join(tmpdir(), "authkeep-manager-"));
  const server = await TokenServer.start();
  t.after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  return {
    home,
    server,
    storage,
    manager: (options = {}) =>
      new AuthManager({ storage, refresher: new HttpTokenRefresher({ url: server.url }), ...options }),
  };
}

/** The error `promise` rejects with; fails the test when it resolves. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (error: unknown) => error,
  );
}
