/**
 * The text header of an age v1 file (C2SP age, `age-encryption.org/v1`)
 * sealed with one scrypt recipient: parsing and writing, no cryptography.
 *
 *     age-encryption.org/v1
 *     -> scrypt <salt, base64 of 16 bytes> <logN>
 *     <wrapped file key, base64 of 32 bytes>
 *     --- <HMAC-SHA256 of everything up to "---", base64>
 *     <binary payload>
 *
 * Base64 is standard, unpadded, and must be canonical; stanza bodies wrap at
 * 64 columns and end with a shorter (possibly empty) line.
 *
 * @module
 */
import { EncryptedStoreError } from "../../contract/encrypted-store-error.ts";

const VERSION_LINE = "age-encryption.org/v1";
const BODY_COLUMNS = 64;
/** A header longer than this is not one a passphrase file could have. */
const MAX_HEADER_BYTES = 16 * 1024;

/** The parsed scrypt header. */
export interface AgeScryptHeader {
  salt: Uint8Array;
  logN: number;
  wrappedKey: Uint8Array;
  mac: Uint8Array;
  /** The header bytes the MAC covers: from the start through `---`. */
  macInput: Uint8Array;
  /** Where the binary payload starts. */
  payloadOffset: number;
}

function corrupt(message: string, reason: "corrupt" | "truncated" | "unsupported" = "corrupt"): EncryptedStoreError {
  return new EncryptedStoreError(message, { reason });
}

/** Decodes canonical unpadded standard base64, or throws `corrupt`. */
export function decodeBase64Canonical(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) throw corrupt(`age header: ${what} is not unpadded base64`);
  const bytes = Uint8Array.from(atob(text + "=".repeat((4 - (text.length % 4)) % 4)), (c) => c.charCodeAt(0));
  if (encodeBase64(bytes) !== text) throw corrupt(`age header: ${what} is not canonical base64`);
  return bytes;
}

/** Unpadded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, "");
}

/** Parses the header of an age file that must have exactly one scrypt stanza. */
export function parseAgeScryptHeader(file: Uint8Array): AgeScryptHeader {
  // The header is ASCII text ending at the "--- <mac>\n" line; the payload follows in binary.
  const limit = Math.min(file.length, MAX_HEADER_BYTES);
  const lines: { text: string; start: number }[] = [];
  let start = 0;
  let macLine: { text: string; start: number; end: number } | undefined;
  for (let i = 0; i < limit; i++) {
    if (file[i] !== 0x0a) continue;
    let text = "";
    for (let j = start; j < i; j++) {
      const byte = file[j]!;
      if (byte < 0x20 || byte > 0x7e) throw corrupt("age header: not printable ASCII");
      text += String.fromCharCode(byte);
    }
    if (text.startsWith("---")) {
      macLine = { text, start, end: i + 1 };
      break;
    }
    lines.push({ text, start });
    start = i + 1;
  }
  const expected = `${VERSION_LINE}\n`;
  if (lines.length === 0 || lines[0]!.text !== VERSION_LINE) {
    if (file.length < expected.length && isPrefixOf(file, expected)) throw corrupt("age file: it ends inside its first line", "truncated");
    if (isPrefixOf(file.subarray(0, 19), "age-encryption.org/")) throw corrupt("not an age v1 file (another age version)", "unsupported");
    throw corrupt("not an age file (no age-encryption.org/v1 line)");
  }
  if (macLine === undefined) {
    throw corrupt("age header: no \"---\" line", file.length < MAX_HEADER_BYTES ? "truncated" : "corrupt");
  }
  const stanzas = lines.slice(1);
  if (stanzas.length === 0 || !stanzas[0]!.text.startsWith("-> ")) throw corrupt("age header: no recipient stanza");
  const args = stanzas[0]!.text.slice(3).split(" ");
  const bodyLines = stanzas.slice(1);
  if (bodyLines.some((line) => line.text.startsWith("-> "))) {
    throw corrupt("age header: more than one recipient; a passphrase (scrypt) file has exactly one", "unsupported");
  }
  if (args[0] !== "scrypt") throw corrupt(`age header: recipient type ${JSON.stringify(args[0]!.slice(0, 32))} is not scrypt`, "unsupported");
  if (args.length !== 3) throw corrupt("age header: the scrypt stanza needs a salt and a work factor");
  const salt = decodeBase64Canonical(args[1]!, "scrypt salt");
  if (salt.length !== 16) throw corrupt("age header: the scrypt salt is not 16 bytes");
  if (!/^[1-9][0-9]{0,2}$/.test(args[2]!)) throw corrupt("age header: the scrypt work factor is not a decimal number");
  const logN = Number(args[2]);
  let body = "";
  for (const [index, line] of bodyLines.entries()) {
    const last = index === bodyLines.length - 1;
    if (last ? line.text.length >= BODY_COLUMNS : line.text.length !== BODY_COLUMNS) {
      throw corrupt("age header: stanza body is not wrapped at 64 columns");
    }
    body += line.text;
  }
  if (bodyLines.length === 0) throw corrupt("age header: the scrypt stanza has no body");
  const wrappedKey = decodeBase64Canonical(body, "wrapped file key");
  if (wrappedKey.length !== 32) throw corrupt("age header: the wrapped file key is not 32 bytes");
  if (!macLine.text.startsWith("--- ")) throw corrupt("age header: malformed MAC line");
  const mac = decodeBase64Canonical(macLine.text.slice(4), "header MAC");
  if (mac.length !== 32) throw corrupt("age header: the MAC is not 32 bytes");
  return { salt, logN, wrappedKey, mac, macInput: file.subarray(0, macLine.start + 3), payloadOffset: macLine.end };
}

function isPrefixOf(bytes: Uint8Array, text: string): boolean {
  if (bytes.length > text.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The header text up to and including `---` (what the MAC covers). */
export function scryptHeaderMacInput(salt: Uint8Array, logN: number, wrappedKey: Uint8Array): string {
  const body = encodeBase64(wrappedKey);
  let wrapped = "";
  for (let i = 0; i <= body.length; i += BODY_COLUMNS) wrapped += `${body.slice(i, i + BODY_COLUMNS)}\n`;
  return `${VERSION_LINE}\n-> scrypt ${encodeBase64(salt)} ${logN}\n${wrapped}---`;
}
