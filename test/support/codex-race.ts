/**
 * One refresh race between authkeep's `AuthManager` and the real `codex
 * doctor`, on one home, against a {@linkcode TokenServer} that rotates
 * refresh tokens and answers a spent one with `refresh_token_reused`.
 * Shared by test/codex-refresh-race.test.ts (a few runs) and
 * bench/codex-race.ts (many).
 *
 * A run: a ChatGPT login whose access token expired a minute ago is saved;
 * the server holds token requests until two have arrived (or 3 s passed),
 * so both sides really send the same refresh token; then `codex doctor` and
 * `manager.auth()` start together. Afterwards: what is stored, what the
 * manager holds, and whether a second `codex doctor` uses the stored tokens
 * without refreshing again (Codex's view of the same login). The login is
 * removed from the store at the end (keyring entries outlive the home).
 *
 * @module
 */
import { type AuthStorage, AuthManager, createAuthStorage, HttpTokenRefresher, type KeyringStore } from "../../src/index.ts";
import { codexDoctor, type CodexStore } from "./codex-cli.ts";
import { fingerprint, type TokenServer } from "./token-server.ts";

/** What one race run saw. */
export interface CodexRaceResult {
  /** Token requests during the race (both sides). */
  refreshes: number;
  /** Of them, answered `refresh_token_reused`. */
  reused: number;
  /** Of them, answered with new tokens (1 when the race went right). */
  rotated: number;
  /** Whose request got the new tokens (`none` when no request did). */
  winner: "authkeep" | "codex" | "none";
  /** Token requests authkeep sent (1: it spent or tried the token once, then adopted). */
  authkeepRefreshes: number;
  /** Token requests Codex sent (it may retry a spent token once more before it adopts). */
  codexRefreshes: number;
  /** Errors authkeep surfaced: a rejected `auth()`, or `onRefreshError` calls. */
  authkeepErrors: string[];
  /** Whether the manager's tokens equal the stored ones. */
  managerMatchesStorage: boolean;
  /** Whether the stored refresh token is still usable and the stored access token valid. */
  storedLive: boolean;
  /** Whether Codex's auth check passed in the race and afterwards. */
  codexAuthOk: boolean;
  /** Token requests made by the second `codex doctor` (0: it adopted the stored tokens). */
  codexRefreshesAfter: number;
  /** Whether everything above is as it should be. */
  ok: boolean;
  /** Short fingerprints (never the tokens) for failure messages. */
  detail: string;
}

/** Options of {@linkcode runCodexRace}. */
export interface CodexRaceOptions {
  home: string;
  store: Extract<CodexStore, "file" | "keyring">;
  server: TokenServer;
  /** The keyring for keyring mode. @default the platform's */
  keyring?: KeyringStore;
  /**
   * Who sends first: both start at once (`together`, either may win), or one
   * side starts only once the other's refresh request has reached the server,
   * so that side's request is answered first and wins.
   * @default "together"
   */
  first?: RaceOrder;
}

/** Who sends the refresh request first in a race. */
export type RaceOrder = "together" | "authkeep" | "codex";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isCodex = (r: { userAgent: string | undefined }) => r.userAgent?.startsWith("codex_cli_rs/") === true;

/** Resolves once a request from `side` has reached the server after `from` (bounded: 30 s). */
async function requestArrived(server: TokenServer, from: number, side: "authkeep" | "codex"): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!server.requests.slice(from).some((r) => isCodex(r) === (side === "codex")) && Date.now() < deadline) await sleep(10);
}

/** Runs one race; see the module doc. Never throws for a lost race, only reports it. */
export async function runCodexRace(options: CodexRaceOptions): Promise<CodexRaceResult> {
  const storage = createAuthStorage({ home: options.home, mode: options.store, ...(options.keyring ? { keyring: options.keyring } : {}) });
  try {
    return await race(options, storage);
  } finally {
    await storage.delete();
  }
}

async function race(options: CodexRaceOptions, storage: AuthStorage): Promise<CodexRaceResult> {
  const { home, store, server } = options;
  const login = server.login("acct-race", { accessExpiresInSec: -60 });
  await storage.save(login);
  const errors: string[] = [];
  const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  const manager = new AuthManager({
    storage,
    refresher: new HttpTokenRefresher({ url: server.url }),
    onRefreshError: (error) => errors.push(describe(error)),
  });

  const before = server.refreshCount;
  // Both requests are held until both have arrived (bounded), then answered in arrival order.
  server.holdTokenRequests(2, 10_000);
  const first = options.first ?? "together";
  const codexSide = (async () => {
    if (first === "authkeep") await requestArrived(server, before, "authkeep");
    return codexDoctor(home, store, { tokenUrl: server.url });
  })();
  const authkeepSide = (async () => {
    if (first === "codex") await requestArrived(server, before, "codex");
    return manager.auth().catch((error: unknown) => {
      errors.push(describe(error));
      return null;
    });
  })();
  const [codex] = await Promise.all([codexSide, authkeepSide]);
  const refreshes = server.refreshCount - before;
  const during = server.requests.slice(before);
  const reused = during.filter((r) => r.outcome === "reused").length;
  const codexRefreshes = during.filter(isCodex).length;
  const rotated = during.filter((r) => r.outcome === "rotated").length;
  const won = during.find((r) => r.outcome === "rotated");
  const winner = won === undefined ? "none" : isCodex(won) ? "codex" : "authkeep";
  const sequence = during.map((r) => `${isCodex(r) ? "codex" : "authkeep"} ${r.outcome}`).join(", ");

  const stored = await storage.load();
  const held = await manager.auth().catch((error: unknown) => {
    errors.push(describe(error));
    return null;
  });
  const storedTokens = stored?.tokens;
  const managerMatchesStorage =
    storedTokens !== undefined && held?.tokens?.access_token === storedTokens.access_token && held?.tokens?.refresh_token === storedTokens.refresh_token;
  const storedLive = server.refreshTokenState(storedTokens?.refresh_token) === "live" && server.isValidAccessToken(storedTokens?.access_token);

  const afterStart = server.refreshCount;
  const again = await codexDoctor(home, store, { tokenUrl: server.url });
  const codexRefreshesAfter = server.refreshCount - afterStart;
  const authOk = (checks: Record<string, { status: string }>) => checks["auth.credentials"]?.status === "ok";
  const codexAuthOk = authOk(codex.checks) && authOk(again.checks);
  const ok = rotated === 1 && errors.length === 0 && managerMatchesStorage && storedLive && codexAuthOk && codexRefreshesAfter === 0;
  const detail =
    `refreshes ${refreshes} (${sequence}), stored rt ${fingerprint(storedTokens?.refresh_token)} ` +
    `(${server.refreshTokenState(storedTokens?.refresh_token)}), manager rt ${fingerprint(held?.tokens?.refresh_token)}, ` +
    `codex auth ${codex.checks["auth.credentials"]?.status}/${again.checks["auth.credentials"]?.status}, ` +
    `codex refreshes after ${codexRefreshesAfter}, errors ${JSON.stringify(errors)}`;
  const authkeepRefreshes = refreshes - codexRefreshes;
  return { refreshes, reused, rotated, winner, authkeepRefreshes, codexRefreshes, authkeepErrors: errors, managerMatchesStorage, storedLive, codexAuthOk, codexRefreshesAfter, ok, detail };
}
