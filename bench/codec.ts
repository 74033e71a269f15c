/**
 * Codec rows: the pure functions, with the bare built-ins beside them for scale.
 *
 * @module
 */
import { computeStoreKey, parseAuthJson, parseIdToken, serializeAuthJson } from "../src/index.ts";
import type { BenchContext } from "./_context.ts";
import { ID_TOKEN, makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import { measureGroup } from "./_harness.ts";
import { addOutcomes, compare, section, type Section } from "./_report.ts";

/** Runs the codec rows. */
export async function runCodec(context: BenchContext): Promise<Section[]> {
  const result = section("codec", "codec");
  const auth = makeAuth();
  const pretty = serializeAuthJson(auth);
  const compact = serializeAuthJson(auth, { pretty: false });
  const home = makeHome("codec");
  try {
    addOutcomes(result, await measureGroup([
      { name: "parseAuthJson (4 KB)", fn: () => parseAuthJson(pretty) },
      { name: "JSON.parse (4 KB)", fn: () => JSON.parse(pretty) },
      { name: "serializeAuthJson (pretty)", fn: () => serializeAuthJson(auth) },
      { name: "serializeAuthJson (compact, keyring form)", fn: () => serializeAuthJson(auth, { pretty: false }) },
      { name: "JSON.stringify (pretty)", fn: () => JSON.stringify(auth, null, 2) },
      { name: "computeStoreKey (existing home: realpath + SHA-256)", fn: () => computeStoreKey(home) },
      { name: "computeStoreKey (missing home: SHA-256 only)", fn: () => computeStoreKey(`${home}/missing`) },
      { name: "parseIdToken", fn: () => parseIdToken(ID_TOKEN) },
    ], context.config));
  } finally {
    removeHome(home);
  }
  result.notes.push(`document: ${pretty.length} characters pretty, ${compact.length} compact; id_token ${ID_TOKEN.length} characters`);
  compare(result, "parseAuthJson / JSON.parse", "parseAuthJson (4 KB)", "JSON.parse (4 KB)");
  compare(result, "serializeAuthJson / JSON.stringify", "serializeAuthJson (pretty)", "JSON.stringify (pretty)");
  return [result];
}
