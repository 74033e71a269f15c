/**
 * AuthManager.unauthorizedRecovery(), the steps after a 401 (reload, then one refresh), and the
 * account guard: another account, a null account_id or a corrupt file in storage is Skipped with
 * the mismatch error and overwrites nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE } from "../src/refresh/refresh-messages.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { MISMATCH, rejection, setup } from "./support/auth-manager-setup.ts";

test("unauthorizedRecovery(): reload finds tokens another process refreshed → ReloadedChanged", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const a = manager();
  await a.auth();
  await manager().refreshToken();
  const recovery = a.unauthorizedRecovery();
  assert.equal(recovery.step, "reload");
  assert.equal(recovery.hasNext(), true);
  assert.equal(await recovery.next(), "ReloadedChanged");
  assert.equal((await a.auth())?.tokens?.access_token, (await storage.load())?.tokens?.access_token);
  assert.equal(recovery.step, "refresh_token");
  assert.equal(server.refreshCount, 1);
});

test("unauthorizedRecovery(): unchanged storage → ReloadedNoChange, then one network refresh, then done", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const m = manager();
  await m.auth();
  const recovery = m.unauthorizedRecovery();
  assert.equal(await recovery.next(), "ReloadedNoChange");
  assert.equal(recovery.hasNext(), true);
  assert.equal(await recovery.next(), "Refreshed");
  assert.equal(server.refreshCount, 1);
  assert.equal(recovery.hasNext(), false);
  assert.equal(recovery.step, "done");
  assert.notEqual((await m.auth())?.tokens?.refresh_token, login.tokens!.refresh_token);
});

test("unauthorizedRecovery(): another account in storage → Skipped: the mismatch error, nothing overwritten", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  const other = server.login("acct-2");
  await storage.save(other);
  const recovery = m.unauthorizedRecovery();
  const error = await rejection(recovery.next());
  assert.ok(error instanceof RefreshError);
  assert.equal(error.permanent, true);
  assert.equal(error.reason, "account-mismatch");
  assert.equal(error.message, MISMATCH);
  assert.equal(REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE, MISMATCH);
  assert.equal(recovery.hasNext(), false);
  assert.deepEqual(await storage.load(), other);
  assert.equal(server.refreshCount, 0);
});

test("unauthorizedRecovery(): a login with a null account_id is always Skipped", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login(null));
  const m = manager();
  await m.auth();
  const error = await rejection(m.unauthorizedRecovery().next());
  assert.equal((error as RefreshError).message, MISMATCH);
  assert.equal(server.refreshCount, 0);
});

test("unauthorizedRecovery(): a corrupt auth.json during reload is Skipped", async (t) => {
  const { server, storage, manager, home } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  await writeFile(join(home, "auth.json"), '{"tokens": {"access_token": ');
  const recovery = m.unauthorizedRecovery();
  const error = await rejection(recovery.next());
  assert.equal((error as RefreshError).reason, "account-mismatch");
  assert.equal(recovery.hasNext(), false);
  assert.equal(server.refreshCount, 0);
});
test("unauthorizedRecovery(): hasNext() is false for an API-key login", async (t) => {
  const { storage, manager } = await setup(t);
  await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test" });
  const m = manager();
  await m.auth();
  assert.equal(m.unauthorizedRecovery().hasNext(), false);
});

test("account guard: after logout and a login to another account, an old snapshot gets the mismatch and overwrites nothing", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const stale = manager();
  await stale.auth();
  const other = manager();
  assert.equal(await other.logout(), true);
  const second = server.login("acct-2");
  await storage.save(second);
  const error = await rejection(stale.refreshToken());
  assert.equal((error as RefreshError).message, MISMATCH);
  const recovery = stale.unauthorizedRecovery();
  await assert.rejects(recovery.next(), { message: MISMATCH });
  assert.deepEqual(await storage.load(), second);
  assert.equal(server.refreshCount, 0);
});
