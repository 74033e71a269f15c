/**
 * `CREDENTIALW` and `LPCWSTR` laid out by hand for the FFI provider interface
 * (`ffi/`), which declares no structs: a credential to write is built in a
 * JS `Uint8Array`, one read from advapi32 is decoded through
 * {@linkcode FfiProvider.view} at fixed offsets. x64 only (as every provider).
 *
 * ```c
 * typedef struct _CREDENTIALW {          // offset
 *   DWORD Flags;                         //  0
 *   DWORD Type;                          //  4
 *   LPWSTR TargetName;                   //  8
 *   LPWSTR Comment;                      // 16
 *   FILETIME LastWritten;                // 24 (two DWORDs)
 *   DWORD CredentialBlobSize;            // 32
 *   LPBYTE CredentialBlob;               // 40 (after 4 bytes of padding)
 *   DWORD Persist;                       // 48
 *   DWORD AttributeCount;                // 52
 *   PCREDENTIAL_ATTRIBUTEW Attributes;   // 56
 *   LPWSTR TargetAlias;                  // 64
 *   LPWSTR UserName;                     // 72
 * } CREDENTIALW;                         // size 80
 * ```
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { FfiProvider, NativeBuffer, Pointer } from "../ffi/index.ts";

/** Byte offsets of the `CREDENTIALW` fields authkeep uses, and its size (x64). */
export const CREDENTIALW = {
  Flags: 0,
  Type: 4,
  TargetName: 8,
  Comment: 16,
  LastWritten: 24,
  CredentialBlobSize: 32,
  CredentialBlob: 40,
  Persist: 48,
  AttributeCount: 52,
  Attributes: 56,
  TargetAlias: 64,
  UserName: 72,
  size: 80,
} as const;

/** `CRED_TYPE_GENERIC`: the only type authkeep and keyring-rs use. */
export const CRED_TYPE_GENERIC = 1;
/** keyring-rs (and so Codex) persists for the user across logons, roaming with the profile. */
export const CRED_PERSIST_ENTERPRISE = 3;

/**
 * Encodes `text` as an `LPCWSTR`: its UTF-16 code units and a terminating 0,
 * to pass as a `buffer` argument or to point at from a struct.
 *
 * @throws {KeyringError} kind `invalid` when `text` contains a NUL, which C
 * would read as the end of the string (a different target).
 */
export function encodeWide(text: string): Uint16Array {
  if (text.includes("\0")) {
    throw new KeyringError("a Credential Manager name cannot contain a NUL character", { kind: "invalid", reason: "invalid", backend: "windows" });
  }
  const units = new Uint16Array(text.length + 1);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return units;
}

/** The fields of a credential authkeep writes (the others are 0/NULL). */
export interface CredentialFields {
  readonly target: string;
  readonly userName: string;
  readonly comment: string;
  /** The blob; copied, and the copy is zeroed by {@linkcode PackedCredential.wipe}. */
  readonly blob: Uint8Array;
}

/** A `CREDENTIALW` in JS memory, with the buffers its pointers point at. */
export interface PackedCredential {
  /** The 80-byte struct, to pass as `CredWriteW`'s `buffer` argument. */
  readonly struct: Uint8Array;
  /**
   * The buffers the struct points into. They must stay referenced until the
   * call (or its `.async` promise) is done: the struct holds only addresses.
   */
  readonly buffers: readonly NativeBuffer[];
  /** Zeroes the private copy of the blob; call it once the write is done. */
  wipe(): void;
}

/**
 * Lays out a generic, enterprise-persisted `CREDENTIALW` for `CredWriteW`,
 * the way keyring-rs writes one.
 */
export function packCredential(ffi: FfiProvider, fields: CredentialFields): PackedCredential {
  const target = encodeWide(fields.target);
  const userName = encodeWide(fields.userName);
  const comment = encodeWide(fields.comment);
  const blob = fields.blob.slice(); // a private copy, zeroed by wipe()
  const struct = new Uint8Array(CREDENTIALW.size);
  const view = new DataView(struct.buffer);
  // An empty blob is NULL with size 0 (no address can be taken of an empty buffer on every provider).
  const address = (buffer: NativeBuffer): bigint => (buffer.byteLength === 0 ? 0n : ffi.address(ffi.pointerOf(buffer)));
  view.setUint32(CREDENTIALW.Type, CRED_TYPE_GENERIC, true);
  view.setBigUint64(CREDENTIALW.TargetName, address(target), true);
  view.setBigUint64(CREDENTIALW.Comment, address(comment), true);
  view.setUint32(CREDENTIALW.CredentialBlobSize, blob.length, true);
  view.setBigUint64(CREDENTIALW.CredentialBlob, address(blob), true);
  view.setUint32(CREDENTIALW.Persist, CRED_PERSIST_ENTERPRISE, true);
  view.setBigUint64(CREDENTIALW.UserName, address(userName), true);
  return { struct, buffers: [target, userName, comment, blob], wipe: () => blob.fill(0) };
}

/**
 * Copies the blob out of a `CREDENTIALW` that advapi32 returned (before
 * `CredFree` releases it).
 */
export function readCredentialBlob(ffi: FfiProvider, credential: Pointer): Uint8Array {
  const size = ffi.view(credential, CREDENTIALW.size).getUint32(CREDENTIALW.CredentialBlobSize, true);
  const blob = ffi.readPointer(credential, CREDENTIALW.CredentialBlob);
  return size === 0 || blob === null ? new Uint8Array(0) : ffi.readBytes(blob, size);
}

const utf16Decoder = new TextDecoder("utf-16le");

/**
 * Reads the `TargetName` of a `CREDENTIALW` that advapi32 returned.
 *
 * @param wideLength `lstrlenW` (kernel32), which counts the code units of a
 * NUL-terminated wide string: the providers read only UTF-8 C strings.
 */
export function readCredentialTarget(ffi: FfiProvider, credential: Pointer, wideLength: (text: Pointer) => number): string {
  const text = ffi.readPointer(credential, CREDENTIALW.TargetName);
  if (text === null) return "";
  return utf16Decoder.decode(ffi.readBytes(text, 2 * wideLength(text)));
}
