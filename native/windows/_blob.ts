/**
 * Encoding of a Credential Manager blob, as pure functions (no FFI), so that
 * they run and are tested on every platform.
 *
 * keyring-rs (and so Codex CLI) stores a password as UTF-16LE with no BOM and
 * no terminating NUL. keytar, Python's keyring with some backends and other
 * tools store UTF-8 instead, so a read has to tell the two apart:
 *
 * 1. An empty blob is the empty string.
 * 2. An even-length blob that is well-formed UTF-16LE (no lone surrogate),
 *    holds no U+0000 (after dropping one trailing NUL terminator) and either
 *    contains a zero byte or is not valid UTF-8 is UTF-16LE. Any text with
 *    an ASCII character has a zero byte in UTF-16LE; UTF-8 of text without
 *    NUL never has one.
 * 3. Otherwise a valid UTF-8 blob is UTF-8 (a BOM and one trailing NUL are
 *    dropped).
 * 4. Anything else is rejected: we never hand back mojibake.
 *
 * The ambiguous cases (a UTF-16LE blob with no zero byte that is also valid
 * UTF-8, such as text made only of U+A9C3) cannot come from Codex, whose JSON
 * always has ASCII characters. authkeep never writes an ambiguous value as a
 * single entry: {@linkcode needsEnvelope} sends it to the chunked form, whose
 * payload is unambiguous.
 *
 * @module
 */


/** Real Windows rejects a larger blob with error 1783 (Wine accepts it: we check it ourselves). */
export const CRED_MAX_CREDENTIAL_BLOB_SIZE = 2560;

const utf16Decoder = new TextDecoder("utf-16le", { fatal: true });
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Returns `text` as UTF-16LE bytes, without BOM or NUL (keyring-rs's layout). */
export function encodeUtf16(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes[2 * i] = unit & 0xff;
    bytes[2 * i + 1] = unit >> 8;
  }
  return bytes;
}

/** Returns `text` as UTF-8 bytes. */
export function encodeUtf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function tryDecode(decoder: { decode(bytes: Uint8Array): string }, bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

function dropTrailingNul(text: string): string {
  return text.endsWith("\0") ? text.slice(0, -1) : text;
}

/** Which encoding {@linkcode decodeCredentialBlob} recognised. */
export type BlobEncoding = "utf-16le" | "utf-8";

/**
 * Decodes a credential blob written as UTF-16LE (keyring-rs, Codex, authkeep)
 * or UTF-8 (keytar and others), following the rules in the module doc.
 *
 * @returns The text and the encoding found, or `null` when the blob is
 * neither (the caller reports that without showing the bytes).
 */
export function decodeCredentialBlob(bytes: Uint8Array): { text: string; encoding: BlobEncoding } | null {
  if (bytes.length === 0) return { text: "", encoding: "utf-16le" };
  const utf8 = tryDecode(utf8Decoder, bytes);
  if (bytes.length % 2 === 0) {
    const utf16 = tryDecode(utf16Decoder, bytes);
    if (utf16 !== null) {
      const text = dropTrailingNul(utf16);
      if (!text.includes("\0") && (bytes.includes(0) || utf8 === null)) return { text, encoding: "utf-16le" };
    }
  }
  if (utf8 !== null) {
    const text = dropTrailingNul(utf8);
    if (!text.includes("\0")) return { text, encoding: "utf-8" };
  }
  return null;
}

/**
 * Says why `value` cannot be stored at all, or `null` when it can. A NUL or a
 * lone surrogate would not survive the trip (keyring-rs and Codex take only
 * well-formed text).
 */
export function invalidValueReason(value: string): string | null {
  if (value.includes("\0")) return "the value contains a NUL character";
  if (/\p{Cs}/u.test(value)) return "the value contains a lone UTF-16 surrogate";
  return null;
}

/**
 * Whether a value that fits one entry must still go to the chunked form,
 * because its UTF-16LE bytes would not read back as the same text:
 * - it starts like a chunk head, so it would be taken for one;
 * - its UTF-16LE bytes are ambiguous under {@linkcode decodeCredentialBlob}
 *   (for example no zero byte and also valid UTF-8).
 */
export function needsEnvelope(value: string, utf16: Uint8Array, headPrefix: string): boolean {
  if (value.startsWith(headPrefix)) return true;
  return decodeCredentialBlob(utf16)?.text !== value;
}
