/**
 * CoreFoundation ownership for the macOS backend: every reference we create
 * (Create rule) or are handed (Copy rule) is recorded in a {@linkcode CfScope}
 * and released exactly once when the scope ends, in a `finally`.
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import { type CFRef, type CFRefOrNull, kCFStringEncodingUTF8, type MacosApi } from "./_macos-bindings.ts";

const encoder = new TextEncoder();

/**
 * The CF references one operation owns. {@linkcode CfScope.release} releases
 * each of them once, newest first, and forgets them, so a second call does
 * nothing.
 */
export class CfScope {
  readonly #api: MacosApi;
  #owned: CFRef[] = [];
  #slots: [CFRefOrNull][] = [];

  constructor(api: MacosApi) {
    this.#api = api;
  }

  /**
   * Takes ownership of a reference returned by a Create or Copy function.
   * @throws {KeyringError} kind `failure` when it is `NULL` (CF could not allocate it).
   */
  own(ref: CFRefOrNull, what: string): CFRef {
    if (ref === null) {
      throw new KeyringError(`CoreFoundation could not create ${what}`, { kind: "failure", backend: "macos" });
    }
    this.#owned.push(ref);
    return ref;
  }

  /** A new CFString holding `text` (UTF-8 in, so any JS string round-trips). */
  string(text: string): CFRef {
    const bytes = encoder.encode(text);
    return this.own(
      this.#api.CFStringCreateWithBytes(null, bytes, bytes.length, kCFStringEncodingUTF8, 0),
      "a string",
    );
  }

  /** A new CFData holding a copy of `bytes`. */
  data(bytes: Uint8Array): CFRef {
    return this.own(this.#api.CFDataCreate(null, bytes, bytes.length), "a data object");
  }

  /**
   * A new CFDictionary with the kCFType callbacks, so that it retains its keys
   * and values and releases them when it goes: our own references stay ours.
   */
  dictionary(entries: ReadonlyArray<readonly [CFRef, CFRef]>): CFRef {
    const { constants } = this.#api;
    return this.own(
      this.#api.CFDictionaryCreate(
        null,
        entries.map(([key]) => key),
        entries.map(([, value]) => value),
        entries.length,
        constants.keyCallBacks,
        constants.valueCallBacks,
      ),
      "a dictionary",
    );
  }

  /**
   * An out-parameter slot (`CFTypeRef *`) whose content, if the call fills it,
   * is owned by this scope (the Copy rule) and released with it.
   */
  slot(): [CFRefOrNull] {
    const slot: [CFRefOrNull] = [null];
    this.#slots.push(slot);
    return slot;
  }

  /** Releases everything owned, once. */
  release(): void {
    const slots = this.#slots;
    const owned = this.#owned;
    this.#slots = [];
    this.#owned = [];
    for (const slot of slots) {
      const ref = slot[0];
      slot[0] = null;
      if (ref !== null) this.#api.CFRelease(ref);
    }
    for (let i = owned.length - 1; i >= 0; i--) this.#api.CFRelease(owned[i]!);
  }
}

/**
 * Copies a CFData's bytes into a new array (the caller zeroes it when done).
 * @throws {KeyringError} kind `failure` when `ref` is not a CFData.
 */
export function readData(api: MacosApi, ref: CFRef): Uint8Array {
  if (Number(api.CFGetTypeID(ref)) !== Number(api.CFDataGetTypeID())) {
    throw new KeyringError("the keychain returned something other than data for the item", {
      kind: "failure",
      backend: "macos",
    });
  }
  const length = Number(api.CFDataGetLength(ref));
  const bytes = new Uint8Array(length);
  if (length > 0) api.CFDataGetBytes(ref, { location: 0, length }, bytes);
  return bytes;
}

/** Reads a CFString as UTF-8; `null` when CF cannot convert it. */
export function readString(api: MacosApi, ref: CFRef): string | null {
  const units = Number(api.CFStringGetLength(ref));
  const size = Number(api.CFStringGetMaximumSizeForEncoding(units, kCFStringEncodingUTF8)) + 1;
  if (!(size > 0)) return null;
  const buffer = new Uint8Array(size);
  if (!api.CFStringGetCString(ref, buffer, size, kCFStringEncodingUTF8)) return null;
  const end = buffer.indexOf(0);
  return new TextDecoder().decode(buffer.subarray(0, end === -1 ? size : end));
}
