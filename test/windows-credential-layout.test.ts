/**
 * The hand-made `CREDENTIALW` / `LPCWSTR` layout of the Windows backend
 * (native/windows/_credential.ts) in real memory, on every FFI provider this
 * runtime has: koffi everywhere, plus `Deno.dlopen` on Deno and `bun:ffi` on
 * Bun. No advapi32 is needed: the structs are built and read in JS memory
 * through the provider's pointers, which is all the backend does with them;
 * the Wine tests (windows-credential-manager.test.ts) check the same layout
 * against advapi32 and against koffi's own struct declaration.
 *
 * The offsets below are written out as numbers on purpose (from the
 * Windows SDK's `wincred.h`, x64), not taken from the module under test.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { detectRuntime, type FfiProvider, type FfiProviderName, loadFfiProvider } from "../native/ffi/index.ts";
import {
  CREDENTIALW,
  encodeWide,
  packCredential,
  readCredentialBlob,
  readCredentialTarget,
} from "../native/windows/_credential.ts";

const runtime = detectRuntime();
const providers: FfiProviderName[] = runtime === "node" ? ["koffi"] : ["koffi", runtime];

function koffiMissing(name: FfiProviderName): string | false {
  if (name !== "koffi") return false;
  try {
    loadFfiProvider({ ffi: "koffi" });
    return false;
  } catch {
    return "koffi is not installed";
  }
}

/** Reads `length` UTF-16 code units at a native address as text. */
function wideAt(ffi: FfiProvider, address: bigint, units: number): string {
  const bytes = ffi.readBytes(ffi.fromAddress(address)!, 2 * units);
  return new TextDecoder("utf-16le").decode(bytes);
}

it("encodeWide() is the UTF-16 code units and a terminating 0, and refuses a NUL inside", () => {
  assert.deepEqual([...encodeWide("a.b")], [97, 46, 98, 0]);
  assert.deepEqual([...encodeWide("é🔑")], [0xe9, 0xd83d, 0xdd11, 0]);
  assert.deepEqual([...encodeWide("")], [0]);
  assert.throws(() => encodeWide("a\0b"), (e: unknown) => e instanceof KeyringError && e.kind === "invalid");
});

it("CREDENTIALW offsets are the x64 ones of wincred.h", () => {
  assert.deepEqual(
    [CREDENTIALW.Type, CREDENTIALW.TargetName, CREDENTIALW.Comment, CREDENTIALW.CredentialBlobSize, CREDENTIALW.CredentialBlob],
    [4, 8, 16, 32, 40],
  );
  assert.deepEqual([CREDENTIALW.Persist, CREDENTIALW.Attributes, CREDENTIALW.TargetAlias, CREDENTIALW.UserName, CREDENTIALW.size], [48, 56, 64, 72, 80]);
});

for (const name of providers) {
  describe(`CREDENTIALW on the ${name} provider`, { skip: koffiMissing(name) }, () => {
    it("packCredential() writes a generic, enterprise-persisted credential whose pointers reach the strings and the blob", () => {
      const ffi = loadFfiProvider({ ffi: name });
      const blob = Uint8Array.from([0x7b, 0x00, 0x7d, 0x00, 0xff]);
      const target = "cli|0123456789abcdef.Codex Auth";
      const packed = packCredential(ffi, { target, userName: "cli|0123456789abcdef", comment: "c 日本 🔑", blob });
      assert.equal(packed.struct.length, 80);
      const view = new DataView(packed.struct.buffer, packed.struct.byteOffset, 80);
      assert.equal(view.getUint32(0, true), 0, "Flags");
      assert.equal(view.getUint32(4, true), 1, "Type = CRED_TYPE_GENERIC");
      assert.equal(wideAt(ffi, view.getBigUint64(8, true), target.length + 1), `${target}\0`, "TargetName, NUL-terminated");
      assert.equal(wideAt(ffi, view.getBigUint64(16, true), 8), "c 日本 🔑\0", "Comment");
      assert.equal(view.getBigUint64(24, true), 0n, "LastWritten");
      assert.equal(view.getUint32(32, true), 5, "CredentialBlobSize");
      assert.deepEqual(ffi.readBytes(ffi.fromAddress(view.getBigUint64(40, true))!, 5), blob, "CredentialBlob");
      assert.equal(view.getUint32(48, true), 3, "Persist = CRED_PERSIST_ENTERPRISE");
      assert.equal(view.getUint32(52, true), 0, "AttributeCount");
      assert.equal(view.getBigUint64(56, true), 0n, "Attributes");
      assert.equal(view.getBigUint64(64, true), 0n, "TargetAlias");
      assert.equal(wideAt(ffi, view.getBigUint64(72, true), 21), "cli|0123456789abcdef\0", "UserName");

      const copy = ffi.fromAddress(view.getBigUint64(40, true))!;
      packed.wipe();
      assert.deepEqual(ffi.readBytes(copy, 5), new Uint8Array(5), "wipe() zeroes the private copy C read");
      assert.equal(packed.buffers.length, 4, "the buffers C reads stay referenced by the packed credential");
      assert.deepEqual(blob, Uint8Array.from([0x7b, 0x00, 0x7d, 0x00, 0xff]), "the caller's blob is untouched");
    });

    it("an empty blob is NULL with size 0", () => {
      const ffi = loadFfiProvider({ ffi: name });
      const packed = packCredential(ffi, { target: "t", userName: "u", comment: "", blob: new Uint8Array(0) });
      const view = new DataView(packed.struct.buffer);
      assert.equal(view.getUint32(32, true), 0);
      assert.equal(view.getBigUint64(40, true), 0n);
      assert.notEqual(view.getBigUint64(16, true), 0n, "an empty comment is still a string");
    });

    it("readCredentialBlob() and readCredentialTarget() decode a CREDENTIALW as advapi32 returns it", () => {
      const ffi = loadFfiProvider({ ffi: name });
      // Built here with literal offsets, independently of packCredential().
      const target = encodeWide("authkeep:chunk:v1:0123456789abcdef:0a1b2c3d:7");
      const blob = new TextEncoder().encode('{"k":"wörld 日本語 🔑"}');
      const struct = new Uint8Array(80);
      const view = new DataView(struct.buffer);
      view.setUint32(4, 1, true);
      view.setBigUint64(8, ffi.address(ffi.pointerOf(target)), true);
      view.setUint32(32, blob.length, true);
      view.setBigUint64(40, ffi.address(ffi.pointerOf(blob)), true);
      const credential = ffi.pointerOf(struct);
      assert.deepEqual(readCredentialBlob(ffi, credential), blob);
      assert.equal(
        readCredentialTarget(ffi, credential, () => target.length - 1),
        "authkeep:chunk:v1:0123456789abcdef:0a1b2c3d:7",
      );
      const copy = readCredentialBlob(ffi, credential);
      blob.fill(0);
      assert.equal(new TextDecoder().decode(copy), '{"k":"wörld 日本語 🔑"}', "the blob is copied out, before CredFree");
      view.setUint32(32, 0, true);
      assert.deepEqual(readCredentialBlob(ffi, credential), new Uint8Array(0), "size 0 reads as empty");
      view.setBigUint64(8, 0n, true);
      assert.equal(readCredentialTarget(ffi, credential, () => assert.fail("no length of NULL")), "");
    });
  });
}
