/**
 * The advapi32 Credential Manager calls through koffi, as step executors for
 * the flows in `_windows-flow.ts`: one synchronous, one on koffi's worker
 * threads (`.async`).
 *
 * `GetLastError()` is read right after each failing call. koffi keeps the
 * thread's last error across its own work (it stashes it in the TEB), and for
 * an `.async` call it puts the worker's value back on the main thread while
 * the completion callback runs, so the callback reads it synchronously there.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { KeyringError } from "../src/keyring-error.ts";
import { loadKoffi, type Koffi } from "./_koffi.ts";
import { decodeError, ERROR_NOT_FOUND } from "./_windows-errors.ts";
import type { CredStep } from "./_windows-flow.ts";

const CRED_TYPE_GENERIC = 1;
/** keyring-rs (and so Codex) persists for the user across logons, roaming with the profile. */
const CRED_PERSIST_ENTERPRISE = 3;

type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

interface Api {
  koffi: Koffi;
  CREDENTIALW: unknown;
  CredWriteW: Fn;
  CredReadW: Fn;
  CredDeleteW: Fn;
  CredEnumerateW: Fn;
  CredFree: Fn;
  GetLastError: Fn;
}

/** The two ways to run a step. */
export interface CredentialExecutor {
  /** Runs a step on the calling thread. */
  execSync(step: CredStep): unknown;
  /** Runs a step's native call on a koffi worker thread. */
  execAsync(step: CredStep): Promise<unknown>;
}

let api: Api | undefined;

function bind(): Api {
  if (api !== undefined) return api;
  const koffi = loadKoffi("windows");
  // Types first, anonymous so that several copies of authkeep in one process do not clash on names.
  const FILETIME = koffi.struct({ dwLowDateTime: "uint32_t", dwHighDateTime: "uint32_t" });
  const CREDENTIALW = koffi.struct({
    Flags: "uint32_t",
    Type: "uint32_t",
    TargetName: "str16",
    Comment: "str16",
    LastWritten: FILETIME,
    CredentialBlobSize: "uint32_t",
    CredentialBlob: "uint8_t *",
    Persist: "uint32_t",
    AttributeCount: "uint32_t",
    Attributes: "void *",
    TargetAlias: "str16",
    UserName: "str16",
  });
  const advapi32 = koffi.load("advapi32.dll");
  const kernel32 = koffi.load("kernel32.dll");
  const outPointer = koffi.out(koffi.pointer("void *"));
  api = {
    koffi,
    CREDENTIALW,
    // BOOL CredWriteW(PCREDENTIALW Credential, DWORD Flags)
    CredWriteW: advapi32.func("__stdcall", "CredWriteW", "int", [koffi.pointer(CREDENTIALW), "uint32_t"]),
    // BOOL CredReadW(LPCWSTR TargetName, DWORD Type, DWORD Flags, PCREDENTIALW *Credential)
    CredReadW: advapi32.func("__stdcall", "CredReadW", "int", ["str16", "uint32_t", "uint32_t", outPointer]),
    // BOOL CredDeleteW(LPCWSTR TargetName, DWORD Type, DWORD Flags)
    CredDeleteW: advapi32.func("__stdcall", "CredDeleteW", "int", ["str16", "uint32_t", "uint32_t"]),
    // BOOL CredEnumerateW(LPCWSTR Filter, DWORD Flags, DWORD *Count, PCREDENTIALW **Credential)
    CredEnumerateW: advapi32.func("__stdcall", "CredEnumerateW", "int", [
      "str16",
      "uint32_t",
      koffi.out(koffi.pointer("uint32_t")),
      outPointer,
    ]),
    // VOID CredFree(PVOID Buffer)
    CredFree: advapi32.func("__stdcall", "CredFree", "void", ["void *"]),
    // DWORD GetLastError(void)
    GetLastError: kernel32.func("__stdcall", "GetLastError", "uint32_t", []),
  };
  return api;
}

/** The native call a step makes: its function, arguments and the output cells. */
interface Call {
  fn: Fn;
  args: unknown[];
  name: string;
  target: string;
  finish: (ok: boolean, lastError: number) => unknown;
  cleanup?: () => void;
}

function prepare(a: Api, step: CredStep): Call {
  switch (step.op) {
    case "read": {
      const out: unknown[] = [null];
      return {
        fn: a.CredReadW,
        name: "CredReadW",
        target: step.target,
        args: [step.target, CRED_TYPE_GENERIC, 0, out],
        finish: (ok, lastError) => {
          if (!ok) {
            if (lastError === ERROR_NOT_FOUND) return null;
            throw decodeError(lastError, "CredReadW", step.target);
          }
          try {
            const credential = a.koffi.decode(out[0], a.CREDENTIALW);
            const size: number = credential.CredentialBlobSize;
            // Copy out of the native buffer before CredFree releases it.
            return size === 0 ? new Uint8Array(0) : new Uint8Array(a.koffi.view(credential.CredentialBlob, size).slice(0));
          } finally {
            a.CredFree(out[0]);
          }
        },
      };
    }
    case "write": {
      const blob = Buffer.from(step.blob); // a private copy, zeroed once the call is done
      const credential = {
        Flags: 0,
        Type: CRED_TYPE_GENERIC,
        TargetName: step.target,
        Comment: step.comment,
        LastWritten: { dwLowDateTime: 0, dwHighDateTime: 0 },
        CredentialBlobSize: blob.length,
        CredentialBlob: blob.length === 0 ? null : blob,
        Persist: CRED_PERSIST_ENTERPRISE,
        AttributeCount: 0,
        Attributes: null,
        TargetAlias: null,
        UserName: step.userName,
      };
      return {
        fn: a.CredWriteW,
        name: "CredWriteW",
        target: step.target,
        args: [credential, 0],
        finish: (ok, lastError) => {
          // ERROR_NOT_FOUND from a write is no "missing entry": Wine says it for targets over 247 characters.
          if (!ok) throw decodeError(lastError, "CredWriteW", step.target);
          return undefined;
        },
        cleanup: () => blob.fill(0),
      };
    }
    case "delete":
      return {
        fn: a.CredDeleteW,
        name: "CredDeleteW",
        target: step.target,
        args: [step.target, CRED_TYPE_GENERIC, 0],
        finish: (ok, lastError) => {
          if (ok) return true;
          if (lastError === ERROR_NOT_FOUND) return false;
          throw decodeError(lastError, "CredDeleteW", step.target);
        },
      };
    case "list": {
      const count: unknown[] = [0];
      const out: unknown[] = [null];
      return {
        fn: a.CredEnumerateW,
        name: "CredEnumerateW",
        target: step.filter,
        args: [step.filter, 0, count, out],
        finish: (ok, lastError) => {
          if (!ok) {
            if (lastError === ERROR_NOT_FOUND) return [];
            throw decodeError(lastError, "CredEnumerateW", step.filter);
          }
          try {
            const n = Number(count[0]);
            if (n === 0) return [];
            const pointers: unknown[] = a.koffi.decode(out[0], "void *", n);
            return pointers.map((pointer) => String(a.koffi.decode(pointer, a.CREDENTIALW).TargetName));
          } finally {
            a.CredFree(out[0]);
          }
        },
      };
    }
  }
}

/**
 * Returns the executor over advapi32, binding it on first use.
 *
 * @throws {KeyringError} kind `unavailable` when koffi or advapi32 cannot be loaded.
 */
export function credentialExecutor(): CredentialExecutor {
  let a: Api;
  try {
    a = bind();
  } catch (error) {
    if (error instanceof KeyringError) throw error;
    throw new KeyringError("cannot load advapi32.dll through koffi", { kind: "unavailable", backend: "windows", cause: error });
  }
  return {
    execSync(step) {
      const call = prepare(a, step);
      try {
        const ok = Boolean(call.fn(...call.args));
        return call.finish(ok, ok ? 0 : Number(a.GetLastError()));
      } finally {
        call.cleanup?.();
      }
    },
    execAsync(step) {
      const call = prepare(a, step);
      return new Promise((resolve, reject) => {
        call.fn.async(...call.args, (error: unknown, result: unknown) => {
          try {
            if (error) throw error;
            const ok = Boolean(result);
            // Must be read here, synchronously: koffi restores the worker's last error only during this callback.
            resolve(call.finish(ok, ok ? 0 : Number(a.GetLastError())));
          } catch (failure) {
            reject(failure);
          } finally {
            call.cleanup?.();
          }
        });
      });
    },
  };
}
