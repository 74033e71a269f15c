/**
 * The advapi32 Credential Manager calls, as step executors for the flows in
 * `_windows-flow.ts`: one synchronous, one with the FFI provider's `.async`
 * (a koffi worker thread, Deno's blocking pool; on bun:ffi, which cannot
 * leave the main thread, the synchronous call).
 *
 * `GetLastError()` is thread-local. After a synchronous call it is read at
 * once, on the same thread (koffi even keeps it safe from Node and V8 in
 * between; `Deno.dlopen` and `bun:ffi` leave the two calls back to back). A
 * call that ran on another thread (`.async`) leaves its error on that thread,
 * out of reach on every provider (koffi restores it only inside its own
 * completion callback, which the provider turns into a promise). So an async
 * call that returns `FALSE` is made again synchronously, and that second
 * call's result and error are the step's outcome. Every step is idempotent
 * (read, write of the same credential, delete, enumerate), and
 * Credential Manager calls are local and fast, so the repeat costs a short
 * main-thread call on the failure paths only (mostly `ERROR_NOT_FOUND`).
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { bindCredentialApi, type CredentialApi } from "./_bindings.ts";
import { CRED_TYPE_GENERIC, encodeWide, packCredential, readCredentialBlob, readCredentialTarget } from "./_credential.ts";
import { decodeError, ERROR_NOT_FOUND } from "./_errors.ts";
import type { CredStep } from "./_flow.ts";
import { type FfiOptions, type FfiProviderName, POINTER_SIZE } from "../ffi/index.ts";

/** The two ways to run a step. */
export interface CredentialExecutor {
  /** The FFI provider the calls go through. */
  readonly provider: FfiProviderName;
  /** Runs a step on the calling thread. */
  execSync(step: CredStep): unknown;
  /**
   * Runs a step's native call with the provider's `.async`.
   *
   * @param abandoned Whether the caller has given up (its deadline passed):
   * then a failed call is not repeated to read its error.
   */
  execAsync(step: CredStep, abandoned?: () => boolean): Promise<unknown>;
}

/** One step's native call: made sync or async, then its outcome decoded. */
interface Call {
  run(): number;
  runAsync(): Promise<number>;
  /** Turns the call's `BOOL` and `GetLastError()` into the step's result (or a KeyringError). */
  finish(ok: boolean, lastError: number): unknown;
  /** Wipes private copies of secrets once the call is done. */
  cleanup?(): void;
}

function prepare(api: CredentialApi, step: CredStep): Call {
  const { ffi } = api;
  switch (step.op) {
    case "read": {
      const target = encodeWide(step.target);
      const out = new BigUint64Array(1); // PCREDENTIALW *
      return {
        run: () => api.CredReadW(target, CRED_TYPE_GENERIC, 0, out),
        runAsync: () => api.CredReadW.async(target, CRED_TYPE_GENERIC, 0, out),
        finish: (ok, lastError) => {
          if (!ok) {
            if (lastError === ERROR_NOT_FOUND) return null;
            throw decodeError(lastError, "CredReadW", step.target);
          }
          const credential = ffi.readPointer(out);
          if (credential === null) throw decodeError(lastError, "CredReadW", step.target);
          try {
            return readCredentialBlob(ffi, credential); // a copy, made before CredFree releases it
          } finally {
            api.CredFree(credential);
          }
        },
      };
    }
    case "write": {
      const packed = packCredential(ffi, step); // holds a private copy of the blob, wiped by cleanup
      return {
        run: () => api.CredWriteW(packed.struct, 0),
        runAsync: () => api.CredWriteW.async(packed.struct, 0),
        finish: (ok, lastError) => {
          // ERROR_NOT_FOUND from a write is no "missing entry": Wine says it for targets over 247 characters.
          if (!ok) throw decodeError(lastError, "CredWriteW", step.target);
          return undefined;
        },
        cleanup: packed.wipe,
      };
    }
    case "delete": {
      const target = encodeWide(step.target);
      return {
        run: () => api.CredDeleteW(target, CRED_TYPE_GENERIC, 0),
        runAsync: () => api.CredDeleteW.async(target, CRED_TYPE_GENERIC, 0),
        finish: (ok, lastError) => {
          if (ok) return true;
          if (lastError === ERROR_NOT_FOUND) return false;
          throw decodeError(lastError, "CredDeleteW", step.target);
        },
      };
    }
    case "list": {
      const filter = encodeWide(step.filter);
      const count = new Uint32Array(1); // DWORD *
      const out = new BigUint64Array(1); // PCREDENTIALW **
      return {
        run: () => api.CredEnumerateW(filter, 0, count, out),
        runAsync: () => api.CredEnumerateW.async(filter, 0, count, out),
        finish: (ok, lastError) => {
          if (!ok) {
            if (lastError === ERROR_NOT_FOUND) return [];
            throw decodeError(lastError, "CredEnumerateW", step.filter);
          }
          const list = ffi.readPointer(out);
          if (list === null) return [];
          try {
            const names: string[] = [];
            for (let i = 0; i < count[0]!; i++) {
              const credential = ffi.readPointer(list, i * POINTER_SIZE);
              if (credential !== null) names.push(readCredentialTarget(ffi, credential, (text) => api.lstrlenW(text)));
            }
            return names;
          } finally {
            api.CredFree(list);
          }
        },
      };
    }
  }
}

function runSync(api: CredentialApi, step: CredStep): unknown {
  const call = prepare(api, step);
  try {
    const ok = call.run() !== 0;
    // Right after the call, on this thread: nothing may run in between.
    return call.finish(ok, ok ? 0 : api.GetLastError());
  } finally {
    call.cleanup?.();
  }
}

/**
 * Returns the executor over advapi32 on the FFI provider named by `options`
 * (else `AUTHKEEP_FFI`, else the runtime's own), binding it on first use.
 *
 * @throws {KeyringError} kind `unavailable` when the provider or advapi32
 * cannot be loaded.
 */
export function credentialExecutor(options: FfiOptions = {}): CredentialExecutor {
  const api = bindCredentialApi(options);
  const execSync = (step: CredStep): unknown => runSync(api, step);
  return {
    provider: api.ffi.name,
    execSync,
    async execAsync(step, abandoned = () => false) {
      // bun:ffi's .async is this very call on the main thread: make it directly, error and all.
      if (!api.ffi.offThread) return execSync(step);
      const call = prepare(api, step);
      try {
        if ((await call.runAsync()) !== 0) return call.finish(true, 0);
      } finally {
        call.cleanup?.();
      }
      if (abandoned()) throw new KeyringError("abandoned after the deadline", { kind: "unavailable", reason: "timeout", backend: "windows" });
      // FALSE: the error is on the thread that made the call; make it again here to read it (see the module doc).
      return execSync(step);
    },
  };
}
