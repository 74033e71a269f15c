/**
 * The User-Agent authkeep sends to the token endpoint: who we are, honestly,
 * not Codex's (the endpoint may count or limit clients by it).
 *
 * @module
 */

/** authkeep's version; test/token-endpoint.test.ts checks it against package.json. */
export const AUTHKEEP_VERSION = "0.1.0";

/** `authkeep/<version> (<runtime> <version>; <platform> <arch>)`. */
export function authkeepUserAgent(): string {
  const versions = process.versions as Record<string, string | undefined>;
  const runtime = versions.bun ? `bun ${versions.bun}` : versions.deno ? `deno ${versions.deno}` : `node ${versions.node}`;
  return `authkeep/${AUTHKEEP_VERSION} (${runtime}; ${process.platform} ${process.arch})`;
}
