/**
 * `fetch` with the login's bearer token and Codex's 401 recovery.
 *
 * @module
 */
import type { AuthManager } from "./auth-manager.ts";
import type { AuthDotJson } from "../document/auth-types.ts";

/** Codex sends a request at most three times: first try, after the reload, after the refresh. */
const MAX_SENDS = 3;

/**
 * Sends a request with `Authorization: Bearer <access token>` (or the API key
 * for API-key logins) and, on a 401, runs the manager's recovery ladder
 * (reload from storage, then a single-flight refresh) and sends again: at most
 * three sends in all. The body is buffered by `Request.clone()`, so any body
 * `fetch` accepts can be re-sent.
 *
 * @param manager The login to use.
 * @param input The URL or `Request`, as for `fetch`.
 * @param init Request options, as for `fetch`; an `Authorization` header is replaced.
 * @returns The last response; a 401 when recovery ran out of steps.
 * @throws {RefreshError} when recovery fails (permanent: the user must sign in again).
 * @throws {LockTimeoutError} when another process holds the refresh lock too long.
 * @example Basic usage
 * ```ts
 * import { once } from "node:events";
 * import { mkdtempSync } from "node:fs";
 * import { createServer } from "node:http";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { AuthManager, createAuthStorage, fetchWithAuth } from "authkeep";
 *
 * const api = createServer((req, res) => res.end(req.headers.authorization === "Bearer sk-example" ? "hello" : "who?"));
 * await once(api.listen(0, "127.0.0.1"), "listening");
 * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
 * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-example" });
 * const manager = new AuthManager({ storage });
 * const { port } = api.address() as { port: number };
 * const response = await fetchWithAuth(manager, `http://127.0.0.1:${port}/`);
 * console.log(await response.text()); // "hello"
 * api.closeAllConnections();
 * api.close();
 * ```
 */
export async function fetchWithAuth(
  manager: AuthManager,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const base = new Request(input, init);
  let auth = await manager.auth();
  const recovery = manager.unauthorizedRecovery();
  for (let send = 1; ; send++) {
    const headers = new Headers(base.headers);
    const token = bearerOf(auth);
    if (token === undefined) headers.delete("Authorization");
    else headers.set("Authorization", `Bearer ${token}`);
    const response = await fetch(new Request(base.clone(), { headers }));
    if (response.status !== 401 || send >= MAX_SENDS || !recovery.hasNext()) return response;
    // Free the connection before retrying; the 401 body is not needed.
    await response.body?.cancel().catch(() => {});
    await recovery.next();
    auth = await manager.auth();
  }
}

function bearerOf(auth: AuthDotJson | null): string | undefined {
  return auth?.tokens?.access_token ?? auth?.OPENAI_API_KEY ?? undefined;
}
