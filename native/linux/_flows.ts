/**
 * The load, save and delete flows of the Linux store, each written once and
 * run by runSync (direct C calls) or runAsync (the same calls through the
 * provider's `.async`); see docs/linux-secret-service.md for the rules they keep.
 *
 * @module
 */
import type { Flow } from "../../src/contract/engine.ts";
import { FIX, keyringError } from "./_errors.ts";
import { entryKey, pickItem } from "./_layout.ts";
import { createItem, deleteItem, getSecret, search, setSecret } from "./_calls.ts";
import { remember, requireUsableDefaultCollection, watch, withSession } from "./_session.ts";
import type { FlowContext } from "./_variant.ts";

/** How often a flow retries when an item vanishes under it (another process deleted it). */
const MAX_ATTEMPTS = 3;


export function* loadFlow(context: FlowContext, service: string, account: string): Flow<string | null> {
  const key = entryKey(service, account);
  const what = "reading the keyring entry";
  return yield* withSession(context, function* (session) {
    const known = session.paths.get(key);
    if (known !== undefined) {
      const value = yield* getSecret(context, session, known.path);
      if (value !== undefined) return value;
      session.paths.delete(key); // deleted or moved since: search again
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const mark = session.itemsCreated;
      const found = yield* search(context, session, service, account);
      const path = pickItem(found.unlocked);
      if (path === undefined) {
        if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
        yield* requireUsableDefaultCollection(context, session, what);
        return null;
      }
      const value = yield* getSecret(context, session, path);
      if (value !== undefined) {
        remember(session, key, path, found.unlocked.length === 1 && found.locked.length === 0 ? mark : -1);
        return value;
      }
    }
    throw keyringError("failure", what, "the entry kept disappearing while it was read; try again");
  });
}

export function* saveFlow(context: FlowContext, service: string, account: string, bytes: Uint8Array): Flow<void> {
  const key = entryKey(service, account);
  const what = "saving the keyring entry";
  yield* withSession(context, function* (session) {
    const known = session.paths.get(key);
    if (known !== undefined && known.checkedAt === session.itemsCreated) {
      // A search found this item alone and no item was created anywhere since: update it directly.
      if (yield* setSecret(context, session, known.path, bytes)) return;
      session.paths.delete(key);
    }
    watch(context.lib, session); // before the search whose answer later saves trust
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let mark = session.itemsCreated;
      const found = yield* search(context, session, service, account);
      if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
      let matches = found.unlocked;
      let keep = pickItem(matches);
      let update = true;
      if (keep === undefined) {
        yield* createItem(context, session, service, account, bytes);
        // Another process may have created one at the same time; both then keep the same (oldest) item.
        mark = session.itemsCreated;
        matches = (yield* search(context, session, service, account)).unlocked;
        keep = pickItem(matches);
        if (keep === undefined) continue; // deleted at once by someone else: start over
        update = matches.length > 1; // the kept item may be the other writer's
      }
      if (update && !(yield* setSecret(context, session, keep, bytes))) continue; // vanished: start over
      for (const path of matches) {
        if (path !== keep) yield* deleteItem(context, session, path, "removing a duplicate keyring entry");
      }
      remember(session, key, keep, mark);
      return;
    }
    throw keyringError("failure", what, "the entry kept disappearing while it was written; try again");
  });
}

export function* deleteFlow(context: FlowContext, service: string, account: string): Flow<boolean> {
  const key = entryKey(service, account);
  const what = "deleting the keyring entry";
  return yield* withSession(context, function* (session) {
    session.paths.delete(key);
    const found = yield* search(context, session, service, account);
    if (found.locked.length > 0) throw keyringError("locked", what, FIX.locked);
    if (found.unlocked.length === 0) {
      yield* requireUsableDefaultCollection(context, session, what);
      return false;
    }
    let deleted = false;
    for (const path of found.unlocked) {
      if (yield* deleteItem(context, session, path, what)) deleted = true;
    }
    return deleted;
  });
}
