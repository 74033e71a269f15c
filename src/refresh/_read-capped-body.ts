/**
 * Reads a response body up to a byte cap, streaming, and gives up at the
 * request's deadline even when the server trickles bytes or stalls.
 *
 * @module
 */
import { transient } from "./_refresh-response.ts";

/** The largest token-endpoint answer read: real ones are a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * The body as UTF-8 text, at most `limit` bytes.
 *
 * @throws {RefreshError} transient when the body is larger than `limit` (nothing of it is kept).
 * @throws the signal's reason when it aborts first.
 */
export async function readCappedText(response: Response, limit: number, signal: AbortSignal): Promise<string> {
  const tooLarge = () =>
    transient(`Failed to refresh token: ${response.status}: the response is larger than ${limit} bytes`, response.status);
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  // Not every runtime ends a pending read when the fetch signal aborts; race it explicitly.
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
