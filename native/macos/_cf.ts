/**
 * CoreFoundation ownership and marshalling for the macOS backend: every
 * reference we create (Create rule) or are handed (Copy rule) is recorded in a
 * {@linkcode CfScope} and released exactly once when the scope ends, in a
 * `finally`. Values cross the FFI as the provider's opaque pointers; arrays of
 * references as `BigUint64Array`s of addresses.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { Pointer } from "../ffi/index.ts";
import { kCFStringEncodingUTF8, type MacosApi } from "./_bindings.ts";

const encoder = new TextEncoder();

/** Bytes for a `buffer` argument: `NULL` when empty (CF accepts `NULL` with length 0; an empty typed array has no address). */
const bytesOrNull = (bytes: Uint8Array): Uint8Array | null => (bytes.length === 0 ? null : bytes);

/**
 * The CF references one operation owns. {@linkcode CfScope.release} releases
 * each of them once, newest first, and forgets them, so a second call does
 * nothing.
 */
export class CfScope {
  readonly #api: MacosApi;
  #owned: Pointer[] = [];
  #slots: BigUint64Array[] = [];

  constructor(api: MacosApi) {
    this.#api = api;
  }

  /**
   * Takes ownership of a reference returned by a Create or Copy function.
   * @throws {KeyringError} kind `failure` when it is `NULL` (CF could not allocate it).
   */
  own(ref: Pointer | null, what: string): Pointer {
    if (ref === null) {
      throw new KeyringError(`CoreFoundation could not create ${what}`, { kind: "failure", reason: "other", backend: "macos" });
    }
    this.#owned.push(ref);
    return ref;
  }

  /** A new CFString holding `text` (UTF-8 with an explicit length, so any JS string round-trips, NUL included). */
  string(text: string): Pointer {
    const bytes = encoder.encode(text);
    return this.own(
      this.#api.CFStringCreateWithBytes(null, bytesOrNull(bytes), bytes.length, kCFStringEncodingUTF8, false),
      "a string",
    );
  }

  /** A new CFData holding a copy of `bytes`. */
  data(bytes: Uint8Array): Pointer {
    return this.own(this.#api.CFDataCreate(null, bytesOrNull(bytes), bytes.length), "a data object");
  }

  /**
   * A new CFDictionary with the kCFType callbacks, so that it retains its keys
   * and values and releases them when it goes: our own references stay ours.
   * CF copies the key and value arrays, so they only live for the call.
   */
  dictionary(entries: ReadonlyArray<readonly [Pointer, Pointer]>): Pointer {
    const { constants, ffi } = this.#api;
    const keys = BigUint64Array.from(entries, ([key]) => ffi.address(key));
    const values = BigUint64Array.from(entries, ([, value]) => ffi.address(value));
    return this.own(
      this.#api.CFDictionaryCreate(null, keys, values, entries.length, constants.keyCallBacks, constants.valueCallBacks),
      "a dictionary",
    );
  }

  /**
   * An out-parameter slot (`CFTypeRef *`, a `buffer` argument) whose content,
   * if the call fills it, is owned by this scope (the Copy rule) and released
   * with it. Read it with {@linkcode CfScope.taken}.
   */
  slot(): BigUint64Array {
    const slot = new BigUint64Array(1);
    this.#slots.push(slot);
    return slot;
  }

  /** The reference a call stored in `slot` (still owned by this scope), or `null`. */
  taken(slot: BigUint64Array): Pointer | null {
    return this.#api.ffi.readPointer(slot);
  }

  /** Releases everything owned, once. */
  release(): void {
    const slots = this.#slots;
    const owned = this.#owned;
    this.#slots = [];
    this.#owned = [];
    for (const slot of slots) {
      const ref = this.#api.ffi.readPointer(slot);
      slot[0] = 0n;
      if (ref !== null) this.#api.CFRelease(ref);
    }
    for (let i = owned.length - 1; i >= 0; i--) this.#api.CFRelease(owned[i]!);
  }
}

/**
 * Copies a CFData's bytes into a new array (the caller zeroes it when done),
 * through `CFDataGetBytePtr`: the pointer is valid while `ref` is alive, and
 * the bytes are copied at once.
 *
 * @throws {KeyringError} kind `failure` when `ref` is not a CFData.
 */
export function readData(api: MacosApi, ref: Pointer): Uint8Array {
  if (api.CFGetTypeID(ref) !== api.CFDataGetTypeID()) {
    throw new KeyringError("the keychain returned something other than data for the item", {
      kind: "failure",
      reason: "other",
      backend: "macos",
    });
  }
  const length = Number(api.CFDataGetLength(ref));
  if (length === 0) return new Uint8Array(0);
  const bytes = api.CFDataGetBytePtr(ref);
  if (bytes === null) {
    throw new KeyringError("the keychain returned a data object without bytes", { kind: "failure", reason: "other", backend: "macos" });
  }
  return api.ffi.readBytes(bytes, length);
}

/**
 * Reads a CFString as UTF-8; `null` when CF cannot convert it.
 */
export function readString(api: MacosApi, ref: Pointer): string | null {
  const units = api.CFStringGetLength(ref);
  const size = Number(api.CFStringGetMaximumSizeForEncoding(units, kCFStringEncodingUTF8)) + 1;
  if (!(size > 0)) return null;
  const buffer = new Uint8Array(size);
  if (!api.CFStringGetCString(ref, buffer, size, kCFStringEncodingUTF8)) return null;
  const end = buffer.indexOf(0);
  return new TextDecoder().decode(buffer.subarray(0, end === -1 ? size : end));
}
