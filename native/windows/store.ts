/**
 * The Windows keyring backend: Credential Manager (advapi32 `CredWriteW`,
 * `CredReadW`, `CredDeleteW`, `CredEnumerateW`, `CredFree`) through the FFI
 * provider interface (`ffi/`): koffi on Node, `Deno.dlopen` on Deno,
 * `bun:ffi` on Bun, or the provider named by the `ffi` option /
 * `AUTHKEEP_FFI`. The declarations are `_windows-bindings.ts`, the
 * `CREDENTIALW` layout `_windows-credential.ts`, the calls `_windows-ffi.ts`.
 *
 * Layout, identical to keyring-rs 3.x `windows-native`, which Codex CLI uses,
 * so each side reads what the other writes:
 *
 * | field      | value                                               |
 * |------------|-----------------------------------------------------|
 * | Type       | `CRED_TYPE_GENERIC` (1)                             |
 * | TargetName | `"<account>.<service>"`, e.g. `cli|0123456789abcdef.Codex Auth` |
 * | UserName   | `<account>`                                         |
 * | Persist    | `CRED_PERSIST_ENTERPRISE` (3)                       |
 * | Comment    | `"<account>@<service>:<target> (authkeep)"`         |
 * | blob       | the value as UTF-16LE, no BOM, no NUL               |
 *
 * Reads also accept a UTF-8 blob (keytar and others write UTF-8); see
 * `_windows-blob.ts` for how the encoding is told apart.
 *
 * Size: real Windows refuses a blob over 2560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`,
 * error 1783), which a ChatGPT login often exceeds. authkeep checks that limit
 * itself (Wine does not enforce it). A value that fits (up to 1280 UTF-16
 * code units) is one keyring-rs entry. A larger one is split over several
 * credentials under a versioned scheme (`_windows-chunks.ts`): chunks under
 * `authkeep:chunk:v1:…` targets, then a head at the normal target naming the
 * chunk count and the SHA-256 of the value; reads verify the checksum, and an
 * interrupted write leaves the previous value readable. Values over 320 KiB
 * of UTF-8 are `too-large`. Codex itself can read only single entries.
 *
 * Errors: `ERROR_NOT_FOUND` (1168) is a missing entry (`null`/`false`);
 * `ERROR_NO_SUCH_LOGON_SESSION` (1312) is `unavailable`; 1783 and the size
 * checks are `too-large`; any other code is `failure` with the code.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../../src/contract/keyring-store.ts";
import { resolveDeadline } from "../../src/contract/engine.ts";
import { credentialExecutor, type CredentialExecutor } from "./_ffi.ts";
import { deleteFlow, loadFlow, runFlowAsync, runFlowSync, saveFlow, type CredFlow } from "./_flow.ts";
import type { FfiOptions } from "../ffi/index.ts";

/** Options of {@linkcode createWindowsKeyringStore}: the common ones, and the FFI provider. */
export type WindowsKeyringStoreOptions = KeyringStoreOptions & FfiOptions;

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Creates the Windows Credential Manager store. Creating it is cheap: the FFI
 * provider and advapi32 are loaded on the first call.
 *
 * The async methods run each native call off the main thread (a koffi worker
 * thread, or Deno's blocking pool) and reject with kind `unavailable` when
 * the whole operation takes longer than `timeoutMs`; the sync methods block
 * the calling thread. On Bun with the default `bun:ffi` provider, async calls
 * run on the main thread and block it for as long as each Credential Manager
 * call takes (they are local calls, usually well under a millisecond; the
 * `timeoutMs` timer can only fire once they return); set `AUTHKEEP_FFI=koffi`
 * (with koffi installed) to run them off the main thread.
 *
 * @param options `timeoutMs` for the async methods (default 5000); `ffi`, the
 * FFI provider (default: `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} with `backend: "windows"`.
 * @throws {RangeError} when `timeoutMs` is not a positive number (the policy of `resolveDeadline`).
 * @throws {KeyringError} from its methods: kind `unavailable` off Windows,
 * without the FFI provider (koffi on Node), without a logon session or after
 * the timeout; `too-large`
 * past 320 KiB of UTF-8; `invalid` for a value with a NUL or a lone surrogate;
 * `failure` for any other Win32 error (with `code`) or an unreadable entry.
 */
export function createWindowsKeyringStore(options: WindowsKeyringStoreOptions = {}): KeyringStore {
  const timeoutMs = resolveDeadline(options.timeoutMs, DEFAULT_TIMEOUT_MS);
  let bound: CredentialExecutor | undefined;
  const executor = (): CredentialExecutor => {
    if (process.platform !== "win32") {
      throw new KeyringError(`the Windows Credential Manager is not available on ${process.platform}`, {
        kind: "unavailable",
        reason: "no-library",
        backend: "windows",
      });
    }
    return (bound ??= credentialExecutor({ ffi: options.ffi }));
  };
  const sync = <T>(flow: () => CredFlow<T>): T => {
    const exec = executor();
    return runFlowSync(flow(), (step) => exec.execSync(step));
  };
  const async = async <T>(flow: () => CredFlow<T>): Promise<T> => {
    const exec = executor();
    return runFlowAsync(flow(), (step, abandoned) => exec.execAsync(step, abandoned), timeoutMs);
  };
  return {
    backend: "windows",
    load: (service, account) => async(() => loadFlow(service, account)),
    loadSync: (service, account) => sync(() => loadFlow(service, account)),
    save: (service, account, value) => async(() => saveFlow(service, account, value)),
    saveSync: (service, account, value) => sync(() => saveFlow(service, account, value)),
    delete: (service, account) => async(() => deleteFlow(service, account)),
    deleteSync: (service, account) => sync(() => deleteFlow(service, account)),
  };
}
