/**
 * Raw Credential Manager access for the Credential Manager check groups, to see what the store
 * wrote and to plant what other programs write, independently of the store's own code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { credentialExecutor } from "../../native/windows/_ffi.ts";
import { bindCredentialApi } from "../../native/windows/_bindings.ts";
import { targetName } from "../../native/windows/_flow.ts";
import { chunkTargetPrefix } from "../../native/windows/_chunks.ts";

const require = createRequire(import.meta.url);
/** The store's own executor (CredReadW, CredWriteW, CredDeleteW, CredEnumerateW), step by step. */
export const raw = credentialExecutor();

// ---- raw Credential Manager access, for checking what the store wrote ----
// CREDENTIALW is declared here again on purpose, with koffi's own struct layout, independently of the
// hand-made layout in native/windows/_credential.ts: a layout mistake there must not be able to hide
// itself by being used on both sides of a check.

const koffi = require("koffi");
const advapi32 = koffi.load("advapi32.dll");
const CREDENTIALW = koffi.struct({
  Flags: "uint32_t",
  Type: "uint32_t",
  TargetName: "str16",
  Comment: "str16",
  LastWritten: koffi.struct({ lo: "uint32_t", hi: "uint32_t" }),
  CredentialBlobSize: "uint32_t",
  CredentialBlob: "uint8_t *",
  Persist: "uint32_t",
  AttributeCount: "uint32_t",
  Attributes: "void *",
  TargetAlias: "str16",
  UserName: "str16",
});
const CredReadW = advapi32.func("__stdcall", "CredReadW", "int", ["str16", "uint32_t", "uint32_t", koffi.out(koffi.pointer("void *"))]);
const CredFree = advapi32.func("__stdcall", "CredFree", "void", ["void *"]);

/** A credential as advapi32 returns it. */
export interface RawCredential {
  type: number;
  targetName: string;
  userName: string | null;
  comment: string | null;
  persist: number;
  blob: Buffer;
}

/** The generic credential at `target`, read through koffi's own CREDENTIALW; null when missing. */
export function rawRead(target: string): RawCredential | null {
  const out = [null];
  if (!CredReadW(target, 1, 0, out)) return null;
  try {
    const c = koffi.decode(out[0], CREDENTIALW);
    const blob = c.CredentialBlobSize === 0 ? Buffer.alloc(0) : Buffer.from(koffi.view(c.CredentialBlob, c.CredentialBlobSize).slice(0));
    return { type: c.Type, targetName: c.TargetName, userName: c.UserName, comment: c.Comment, persist: c.Persist, blob };
  } finally {
    CredFree(out[0]);
  }
}

/** Win32 ERROR_INVALID_PARAMETER. */
export const ERROR_INVALID_PARAMETER = 87;

/**
 * Leaves ERROR_INVALID_PARAMETER as the main thread's last error (a CredReadW of an invalid type),
 * so that a check can tell a call's own error from whatever the main thread saw last.
 */
export function primeLastError(): void {
  const api = bindCredentialApi({});
  assert.equal(api.CredReadW(new Uint16Array([120, 0]), 99, 0, new BigUint64Array(1)), 0);
  assert.equal(api.GetLastError(), ERROR_INVALID_PARAMETER);
}

/** Writes a generic credential directly, as another program would. */
export function rawWrite(target: string, userName: string, blob: Uint8Array): void {
  raw.execSync({ op: "write", target, userName, comment: "written raw by the authkeep Wine test", blob });
}

/** The target names CredEnumerateW lists for `filter`. */
export function rawList(filter: string): string[] {
  return raw.execSync({ op: "list", filter }) as string[];
}

/** The chunk credentials of (service, account). */
export function chunksOf(service: string, acct: string): string[] {
  return rawList(`${chunkTargetPrefix(targetName(service, acct))}*`);
}

/** UTF-16LE bytes of `text`, as keyring-rs stores it. */
export function utf16(text: string): Buffer {
  return Buffer.from(text, "utf16le");
}
