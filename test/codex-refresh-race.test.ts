// The refresh race with the real Codex CLI: authkeep's AuthManager and `codex doctor` on one home
// (file mode and keyring mode, the suite's real gnome-keyring) both find the access token expired
// and both send the same refresh token to a token server on 127.0.0.1 that rotates tokens and
// answers the loser `refresh_token_reused` (401, Codex's error shape). Whoever loses must adopt
// the winner's stored tokens: both sides end on the same live tokens, and authkeep surfaces no
// error. bench/codex-race.ts runs the same race many times and counts.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { testKeyring } from "./fixtures/cli-harness.ts";
import { CODEX_SKIP, codexBin, codexHome } from "./support/codex-cli.ts";
import { runCodexRace } from "./support/codex-race.ts";
import { TokenServer } from "./support/token-server.ts";

const kr = testKeyring();
after(() => {
  if ("keyring" in kr) kr.keyring.stop();
});

const orders = [
  ["authkeep and Codex start together", "together"],
  ["authkeep's request arrives first", "authkeep"],
  ["Codex's request arrives first", "codex"],
] as const;

for (const store of ["file", "keyring"] as const) {
  const skip = CODEX_SKIP || (store === "keyring" && "skip" in kr ? kr.skip : false);
  describe(`refresh race with codex doctor, ${store} mode`, { skip, timeout: 240_000 }, () => {
    for (const [label, first] of orders) {
      test(`${label}: one refresh wins, the other side adopts it, both end on the same live tokens, authkeep reports no error`, async (t) => {
        codexBin();
        const home = codexHome(t);
        const server = await TokenServer.start();
        t.after(() => server.close());
        const result = await runCodexRace({ home, store, server, first });
        t.diagnostic(result.detail);
        // A real race: both sides sent the same refresh token, one got new tokens, the rest were told
        // refresh_token_reused. (Codex sometimes sends the spent token once more before it adopts.)
        assert.equal(result.authkeepRefreshes, 1, `authkeep sent the refresh token once: ${result.detail}`);
        assert.ok(result.codexRefreshes >= 1, `Codex sent it too: ${result.detail}`);
        assert.equal(result.rotated, 1, `exactly one refresh won: ${result.detail}`);
        if (first !== "together") assert.equal(result.winner, first, `the first request won: ${result.detail}`);
        assert.deepEqual(result.authkeepErrors, [], "authkeep surfaced no error");
        assert.ok(result.storedLive, `the stored tokens are the live ones: ${result.detail}`);
        assert.ok(result.managerMatchesStorage, `the manager holds the stored tokens: ${result.detail}`);
        assert.ok(result.codexAuthOk, `Codex's auth check passed, in the race and after: ${result.detail}`);
        assert.equal(result.codexRefreshesAfter, 0, `a second codex doctor used the stored tokens as they were: ${result.detail}`);
      });
    }
  });
}
