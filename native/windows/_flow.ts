/**
 * The load/save/delete sequences of the Windows store, written once as
 * generators that yield Credential Manager steps (read, write, delete, list).
 * The engine (`src/contract/engine.ts`) runs them: {@linkcode runFlowSync}
 * with direct FFI calls and {@linkcode runFlowAsync} with the FFI provider's
 * `.async` calls under a deadline.
 *
 * The flows hold every decision (layout, limits, chunking, verification) and
 * no FFI, so they run on any platform against a fake step executor.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { describedFlow, runAsync, runSync } from "../../src/contract/engine.ts";
import {
  CRED_MAX_CREDENTIAL_BLOB_SIZE,
  decodeCredentialBlob,
  encodeUtf16,
  encodeUtf8,
  invalidValueReason,
  needsEnvelope,
} from "./_blob.ts";
import {
  chunkTarget,
  chunkTargetPrefix,
  formatHead,
  HEAD_PREFIX,
  joinChunks,
  MAX_CHUNKED_VALUE_BYTES,
  newChunkId,
  parseChunkTarget,
  parseHead,
  splitPayload,
  type ChunkHead,
} from "./_chunks.ts";

const backend = "windows";

/** `CRED_MAX_GENERIC_TARGET_NAME_LENGTH`, in UTF-16 code units. */
export const CRED_MAX_GENERIC_TARGET_NAME_LENGTH = 32767;
/** `CRED_MAX_USERNAME_LENGTH`, in UTF-16 code units. */
export const CRED_MAX_USERNAME_LENGTH = 513;

/** One Credential Manager call a flow asks its driver to make. */
export type CredStep =
  /** `CredReadW`: the blob, or `null` for `ERROR_NOT_FOUND`. */
  | { readonly op: "read"; readonly target: string }
  /** `CredWriteW` of a generic, enterprise-persisted credential. */
  | {
      readonly op: "write";
      readonly target: string;
      readonly userName: string;
      readonly comment: string;
      readonly blob: Uint8Array;
    }
  /** `CredDeleteW`: whether it existed. */
  | { readonly op: "delete"; readonly target: string }
  /** `CredEnumerateW(filter)`: the target names found (`[]` for `ERROR_NOT_FOUND`). */
  | { readonly op: "list"; readonly filter: string };

/** A flow: yields steps, receives each step's result, returns `T`. */
export type CredFlow<T> = Generator<CredStep, T, unknown>;

function* read(target: string): CredFlow<Uint8Array | null> {
  return (yield { op: "read", target }) as Uint8Array | null;
}
function* write(target: string, userName: string, comment: string, blob: Uint8Array): CredFlow<void> {
  yield { op: "write", target, userName, comment, blob };
}
function* remove(target: string): CredFlow<boolean> {
  return (yield { op: "delete", target }) as boolean;
}
function* list(filter: string): CredFlow<string[]> {
  return (yield { op: "list", filter }) as string[];
}

/** keyring-rs's target name: `"<account>.<service>"`. */
export function targetName(service: string, account: string): string {
  return `${account}.${service}`;
}

function checkNames(service: string, account: string): string {
  const target = targetName(service, account);
  if (target.length > CRED_MAX_GENERIC_TARGET_NAME_LENGTH) {
    throw new KeyringError(`the target name is longer than ${CRED_MAX_GENERIC_TARGET_NAME_LENGTH} characters`, {
      kind: "invalid",
      reason: "invalid",
      backend,
    });
  }
  if (account.length > CRED_MAX_USERNAME_LENGTH) {
    throw new KeyringError(`the account is longer than ${CRED_MAX_USERNAME_LENGTH} characters`, { kind: "invalid", reason: "invalid", backend });
  }
  if (`${service}${account}`.includes("\0")) {
    throw new KeyringError("the service or account contains a NUL character", { kind: "invalid", reason: "invalid", backend });
  }
  return target;
}

function corrupt(target: string, reason: string): KeyringError {
  return new KeyringError(
    `the credential "${target}" is unreadable (${reason}); save the value again or delete it`,
    { kind: "failure", reason: "other", backend },
  );
}

/** Decodes a blob read at `target` into text, or throws a clean `failure`. */
function blobText(target: string, blob: Uint8Array): string {
  const decoded = decodeCredentialBlob(blob);
  if (decoded === null) throw corrupt(target, "the blob is neither UTF-16LE nor UTF-8 text");
  return decoded.text;
}

function headOf(target: string, text: string): ChunkHead | null {
  try {
    return parseHead(text);
  } catch (error) {
    throw corrupt(target, (error as Error).message);
  }
}

/** The head's write id at `target` right now, or `null` when it is a plain entry or missing. */
function* currentHeadId(target: string): CredFlow<string | null> {
  const blob = yield* read(target);
  if (blob === null) return null;
  const text = decodeCredentialBlob(blob)?.text;
  if (text === undefined) return null;
  try {
    return parseHead(text)?.id ?? null;
  } catch {
    return null;
  }
}

/** Deletes every chunk of the head at `target` whose write id is not `keepId`. */
function* removeChunks(target: string, keepId: string | null): CredFlow<void> {
  const prefix = chunkTargetPrefix(target);
  for (const found of yield* list(`${prefix}*`)) {
    const parsed = parseChunkTarget(prefix, found);
    if (parsed !== null && parsed.id !== keepId) yield* remove(found);
  }
}

/**
 * Reads the value for `(service, account)`: a single entry (UTF-16LE or
 * UTF-8) or a verified chunked value.
 */
export function* loadFlow(service: string, account: string): CredFlow<string | null> {
  const target = checkNames(service, account);
  const blob = yield* read(target);
  if (blob === null) return null;
  const text = blobText(target, blob);
  const head = headOf(target, text);
  if (head === null) return text;
  const parts: Uint8Array[] = [];
  try {
    for (let index = 0; index < head.count; index++) {
      const part = yield* read(chunkTarget(target, head.id, index));
      if (part === null) throw corrupt(target, `chunk ${index + 1} of ${head.count} is missing`);
      parts.push(part);
    }
    const payload = joinChunks(head, parts);
    if (typeof payload === "string") throw corrupt(target, payload);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(payload);
    } catch {
      throw corrupt(target, "the chunks are not UTF-8 text");
    } finally {
      payload.fill(0);
    }
  } finally {
    for (const part of parts) part.fill(0);
  }
}

/**
 * Stores `value` for `(service, account)`: one keyring-rs entry when it
 * fits in 2560 bytes of UTF-16LE, otherwise the chunked form (chunks first,
 * head last, then stale chunks removed).
 */
export function* saveFlow(service: string, account: string, value: string): CredFlow<void> {
  const target = checkNames(service, account);
  const reason = invalidValueReason(value);
  if (reason !== null) throw new KeyringError(`cannot store the value: ${reason}`, { kind: "invalid", reason: "invalid", backend });
  const comment = `${account}@${service}:${target} (authkeep)`;
  const utf16 = encodeUtf16(value);
  try {
    const oldId = yield* currentHeadId(target);
    if (utf16.length <= CRED_MAX_CREDENTIAL_BLOB_SIZE && !needsEnvelope(value, utf16, HEAD_PREFIX)) {
      yield* write(target, account, comment, utf16);
      if (oldId !== null) yield* removeChunks(target, null);
      return;
    }
    const payload = encodeUtf8(value);
    try {
      if (payload.length > MAX_CHUNKED_VALUE_BYTES) {
        throw new KeyringError(
          `the value is ${payload.length} bytes of UTF-8; the Windows store holds at most ${MAX_CHUNKED_VALUE_BYTES}`,
          { kind: "too-large", reason: "too-large", backend },
        );
      }
      const id = newChunkId();
      const parts = splitPayload(payload);
      for (const [index, part] of parts.entries()) {
        yield* write(
          chunkTarget(target, id, index),
          account,
          `authkeep chunk ${index + 1} of ${parts.length} for ${target}`,
          part,
        );
      }
      const head = encodeUtf16(formatHead(payload, parts.length, id));
      yield* write(target, account, `${comment}, chunked in ${parts.length} parts`, head);
      // Another writer may have replaced the head meanwhile: keep whatever it points at.
      yield* removeChunks(target, yield* currentHeadId(target));
    } finally {
      payload.fill(0);
    }
  } finally {
    utf16.fill(0);
  }
}

/**
 * Deletes the value for `(service, account)`: the entry first (so nothing
 * reads as valid halfway), then every chunk, including chunks left by an
 * interrupted or older write. Returns whether an entry existed.
 */
export function* deleteFlow(service: string, account: string): CredFlow<boolean> {
  const target = checkNames(service, account);
  const existed = yield* remove(target);
  yield* removeChunks(target, null);
  return existed;
}

/** Runs a flow on the engine with a synchronous step executor; step errors are thrown into the flow. */
export function runFlowSync<T>(flow: CredFlow<T>, exec: (step: CredStep) => unknown): T {
  return runSync(describedFlow(flow, (step) => ({ sync: () => exec(step), async: async () => exec(step) })));
}

/**
 * Runs a flow on the engine with an asynchronous step executor under the
 * deadline `timeoutMs` (see `runAsync` in `src/contract/engine.ts`): the
 * promise rejects with kind `unavailable` when it passes, and the flow stops
 * after the step in progress (a native call cannot be interrupted). The
 * executor is told, through `abandoned`, whether that has happened.
 */
export function runFlowAsync<T>(
  flow: CredFlow<T>,
  exec: (step: CredStep, abandoned: () => boolean) => Promise<unknown>,
  timeoutMs: number,
): Promise<T> {
  const steps = describedFlow(flow, (step) => ({
    sync: () => {
      throw new TypeError("runFlowAsync makes no synchronous calls");
    },
    async: (abandoned = () => false) => exec(step, abandoned),
  }));
  return runAsync(steps, {
    ms: timeoutMs,
    expired: () =>
      new KeyringError(`the Credential Manager did not answer within ${timeoutMs} ms`, { kind: "unavailable", reason: "timeout", backend }),
  });
}
