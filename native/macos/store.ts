/**
 * The macOS keychain backend: Security.framework and CoreFoundation called
 * through the FFI provider interface (`ffi/`): koffi on Node, `Deno.dlopen`
 * on Deno, `bun:ffi` on Bun, or the provider named by the `ffi` option /
 * `AUTHKEEP_FFI`. On Bun and Deno it needs nothing from npm.
 *
 * ## Mapping (the same item Codex CLI uses, keyring-rs `apple-native`)
 *
 * One generic password in the user's default keychain (the login keychain):
 *
 * | keychain attribute                   | value                                   |
 * |--------------------------------------|-----------------------------------------|
 * | `kSecClass`                          | `kSecClassGenericPassword`              |
 * | `kSecAttrService`                    | `service`, e.g. `"Codex Auth"`          |
 * | `kSecAttrAccount`                    | `account`, e.g. `"cli\|0123456789abcdef"` |
 * | `kSecAttrLabel` (set on add only)    | `service`, as `SecKeychainAddGenericPassword` sets it |
 * | data (`kSecValueData`)               | the value as UTF-8 bytes (the compact auth JSON) |
 *
 * - load: `SecItemCopyMatching({class, service, account, kSecReturnData: true, kSecMatchLimit: one})`.
 * - save: `SecItemUpdate({class, service, account}, {kSecValueData})`; only on
 *   `errSecItemNotFound` `SecItemAdd({class, service, account, label, data})`;
 *   when that add finds a duplicate (another process added it in between),
 *   update again. An item is never deleted and re-added: that would reset its
 *   access list and make macOS ask the user again.
 * - delete: `SecItemDelete({class, service, account})`.
 *
 * ## Why the SecItem API and not `SecKeychain*GenericPassword`
 *
 * keyring-rs 3.6 uses the older `SecKeychainFindGenericPassword` /
 * `SecKeychainAddGenericPassword` / `SecKeychainItemModifyAttributesAndData`.
 * We use `SecItemCopyMatching` / `SecItemAdd` / `SecItemUpdate` /
 * `SecItemDelete` instead, because:
 * - the `SecKeychain*` functions have been deprecated since macOS 10.10 and
 *   may disappear; the SecItem functions are the supported API;
 * - on macOS, without `kSecUseDataProtectionKeychain`, the SecItem functions
 *   work on the same file-based keychains (the login keychain), so they read,
 *   update and delete the very item keyring-rs writes, and keyring-rs reads
 *   ours (the item class and attributes are identical);
 * - `SecItemUpdate` changes the data of the existing item in place, keeping
 *   its access list, as `SecKeychainItemModifyAttributesAndData` does;
 * - the queries are plain CFDictionaries, so no `SecKeychainItemRef` or
 *   `SecKeychainItemFreeContent` buffer has to cross the FFI boundary.
 * One difference remains: keyring-rs searches only the default keychain,
 * while `SecItemCopyMatching` searches the user's keychain search list (the
 * login keychain first). Both add to the default keychain.
 *
 * ## OSStatus mapping (`decodeError`)
 *
 * `errSecItemNotFound` (-25300) is `null` / `false`, never an error.
 * `errSecInteractionNotAllowed` (-25308), `errSecAuthFailed` (-25293) and
 * `userCanceledErr` (-128) are kind `locked`; `errSecNoSuchKeychain` (-25294)
 * and `errSecNotAvailable` (-25291) are kind `unavailable`; anything else is
 * kind `failure` with the code and Apple's `SecCopyErrorMessageString` text.
 *
 * ## Threads and ownership
 *
 * The asynchronous methods make the `SecItem*` calls off the main thread (on
 * koffi's worker threads, or Deno's blocking pool) under a `timeoutMs`
 * deadline, so a keychain prompt never blocks the event loop. **On Bun with
 * the default `bun:ffi` provider** no call can leave the main thread: an async
 * call blocks the event loop until the keychain answers (a prompt included),
 * and `timeoutMs` only turns an answer that came too late into an
 * `unavailable` error; set `AUTHKEEP_FFI=koffi` (with koffi installed) to run
 * them off the main thread. The synchronous twins block until the keychain
 * answers, which includes the time a prompt is open. Every CF object that is
 * created or returned is released exactly once (see `_macos-cf.ts`).
 *
 * Tested on Linux against an ABI stand-in (`test/macos-abi/`) on every FFI
 * provider (koffi on Node, Bun and Deno; `bun:ffi`; `Deno.dlopen`), which
 * proves our marshalling and ownership, not Apple's behaviour; the real
 * keychain is exercised by `test/macos-keychain.test.ts` on macOS CI (Node,
 * so koffi).
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../../src/contract/keyring-store.ts";
import { type Flow, io, resolveDeadline, runAsync, runSync } from "../../src/contract/engine.ts";
import { FFI_PROVIDER_NAMES, type FfiOptions, type Pointer } from "../ffi/index.ts";
import {
  bindMacos,
  DEFAULT_CORE_FOUNDATION_PATH,
  DEFAULT_SECURITY_PATH,
  type MacosApi,
} from "./_bindings.ts";
import { CfScope, readData } from "./_cf.ts";
import { secCall } from "./_flow.ts";
import { asKeyringError, BACKEND, errSecDuplicateItem, errSecItemNotFound, errSecSuccess, statusError } from "./_errors.ts";

const DEFAULT_TIMEOUT_MS = 5000;

/** Options of {@linkcode createMacosKeyringStore}: the one options type of every platform. */
export type MacosKeyringStoreOptions = KeyringStoreOptions & FfiOptions;

/** The `{class, service, account}` entries shared by every query. */
function itemEntries(api: MacosApi, scope: CfScope, service: string, account: string): [Pointer, Pointer][] {
  const c = api.constants;
  return [
    [c.kSecClass, c.kSecClassGenericPassword],
    [c.kSecAttrService, scope.string(service)],
    [c.kSecAttrAccount, scope.string(account)],
  ];
}

function* loadFlow(api: MacosApi, service: string, account: string): Flow<string | null> {
  const c = api.constants;
  const scope = new CfScope(api);
  try {
    const query = scope.dictionary([
      ...itemEntries(api, scope, service, account),
      [c.kSecReturnData, c.kCFBooleanTrue],
      [c.kSecMatchLimit, c.kSecMatchLimitOne],
    ]);
    const result = scope.slot();
    const status = yield* io(secCall(api.SecItemCopyMatching, query, result));
    if (status === errSecItemNotFound) return null;
    if (status !== errSecSuccess) throw statusError(api, status);
    const ref = scope.taken(result);
    if (ref === null) {
      throw new KeyringError("the keychain found the item but returned no data", { kind: "failure", reason: "other", backend: BACKEND });
    }
    const bytes = readData(api, ref);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      // Like keyring-rs's BadEncoding, minus the bytes: no secret material in errors.
      throw new KeyringError("the keychain item's data is not valid UTF-8", {
        kind: "failure",
        reason: "other",
        backend: BACKEND,
        cause: error instanceof Error ? new Error(error.message) : undefined,
      });
    } finally {
      bytes.fill(0);
    }
  } finally {
    scope.release();
  }
}

function* saveFlow(api: MacosApi, service: string, account: string, value: string): Flow<void> {
  const c = api.constants;
  const scope = new CfScope(api);
  const bytes = new TextEncoder().encode(value);
  try {
    const entries = itemEntries(api, scope, service, account);
    const data = scope.data(bytes);
    const query = scope.dictionary(entries);
    const changes = scope.dictionary([[c.kSecValueData, data]]);
    let status = yield* io(secCall(api.SecItemUpdate, query, changes));
    if (status === errSecItemNotFound) {
      const label = entries[1]![1];
      const attributes = scope.dictionary([...entries, [c.kSecAttrLabel, label], [c.kSecValueData, data]]);
      status = yield* io(secCall(api.SecItemAdd, attributes, null));
      // Another process added it between our update and our add: update that item in place.
      if (status === errSecDuplicateItem) status = yield* io(secCall(api.SecItemUpdate, query, changes));
    }
    if (status !== errSecSuccess) throw statusError(api, status);
  } finally {
    bytes.fill(0);
    scope.release();
  }
}

function* deleteFlow(api: MacosApi, service: string, account: string): Flow<boolean> {
  const scope = new CfScope(api);
  try {
    const query = scope.dictionary(itemEntries(api, scope, service, account));
    const status = yield* io(secCall(api.SecItemDelete, query));
    if (status === errSecItemNotFound) return false;
    if (status !== errSecSuccess) throw statusError(api, status);
    return true;
  } finally {
    scope.release();
  }
}

/**
 * Creates a {@linkcode KeyringStore} over the macOS login keychain, at the
 * same item Codex CLI uses (generic password, service = `service`, account =
 * `account`, data = UTF-8). Creating it loads nothing: the FFI provider and
 * the frameworks are loaded on the first call.
 *
 * The asynchronous methods run off the main thread with a `timeoutMs`
 * deadline; {@linkcode KeyringStore.loadSync} and the other twins block until
 * the keychain answers, prompts included. On Bun with the default `bun:ffi`
 * provider, async keychain calls run on the main thread and block it until
 * the keychain answers (a prompt included); a call that took longer than
 * `timeoutMs` then rejects with kind `unavailable`. Set `AUTHKEEP_FFI=koffi`
 * (with koffi installed) to run them off the main thread.
 *
 * @param options `timeoutMs` for the async methods, the FFI provider (`ffi`,
 * else `AUTHKEEP_FFI`, else the runtime's own) and the framework paths.
 * @returns The store; its `backend` is `"macos"`.
 * @throws {RangeError} when `timeoutMs` is not a positive number (the policy of `resolveDeadline`).
 * @throws {TypeError} when `ffi` names no FFI provider.
 */
export function createMacosKeyringStore(options: MacosKeyringStoreOptions = {}): KeyringStore {
  const timeoutMs = resolveDeadline(options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const deadline = {
    ms: timeoutMs,
    expired: () =>
      new KeyringError(
        `the macOS keychain did not answer within ${timeoutMs} ms (a keychain prompt may be waiting); answer the prompt, or raise timeoutMs`,
        { kind: "unavailable", reason: "timeout", backend: BACKEND },
      ),
  };
  const { ffi } = options;
  // Checked now, like timeoutMs: a misspelt provider is the caller's bug, not a keychain failure at the first call.
  if (ffi !== undefined && !FFI_PROVIDER_NAMES.includes(ffi)) {
    throw new TypeError(`unknown ffi provider ${JSON.stringify(ffi)}; expected one of ${FFI_PROVIDER_NAMES.join(", ")}`);
  }
  const securityPath = options.securityLibraryPath ?? DEFAULT_SECURITY_PATH;
  const coreFoundationPath = options.coreFoundationLibraryPath ?? DEFAULT_CORE_FOUNDATION_PATH;
  const api = (): MacosApi => bindMacos({ ffi, securityPath, coreFoundationPath });

  const onThisThread = <T>(flow: () => Flow<T>): T => {
    try {
      return runSync(flow());
    } catch (error) {
      throw asKeyringError(error);
    }
  };
  const offThread = async <T>(flow: () => Flow<T>): Promise<T> => {
    try {
      return await runAsync(flow(), deadline);
    } catch (error) {
      throw asKeyringError(error);
    }
  };

  return {
    backend: BACKEND,
    /** Reads the item's data as UTF-8, or `null` when there is none. Twin of `loadSync`. */
    load: (service, account) => offThread(() => loadFlow(api(), service, account)),
    /** Synchronous twin of `load`. */
    loadSync: (service, account) => onThisThread(() => loadFlow(api(), service, account)),
    /** Updates the item in place, or adds it. Twin of `saveSync`. */
    save: (service, account, value) => offThread(() => saveFlow(api(), service, account, value)),
    /** Synchronous twin of `save`. */
    saveSync: (service, account, value) => onThisThread(() => saveFlow(api(), service, account, value)),
    /** Deletes the item; `false` when there was none. Twin of `deleteSync`. */
    delete: (service, account) => offThread(() => deleteFlow(api(), service, account)),
    /** Synchronous twin of `delete`. */
    deleteSync: (service, account) => onThisThread(() => deleteFlow(api(), service, account)),
  };
}
