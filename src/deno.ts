/**
 * authkeep for Deno: the same names as the main entry, with the native
 * modules (the three platform keyrings and the advisory-lock binding)
 * imported statically instead of `require`d on first use.
 *
 * Deno picks this entry by itself: for `npm:authkeep` through the `"deno"`
 * export condition, and it is the JSR package's entry. Why: Deno's `require`
 * needs its Node compatibility layer, which a Deno program that never touches
 * `process` or a `node:*` module does not otherwise start (about 9 ms of a
 * fresh process), and the `require` itself costs 2–5 ms; importing the four
 * native modules statically costs about 2 ms (2.7 ms for this entry against
 * 0.8 ms for the main entry alone, in a fresh `deno run`; bench/README.md). Statically
 * imported, the keyrings also work when authkeep is imported by URL, which
 * `require` cannot load from.
 *
 * @example Reading credentials on Deno
 * ```ts
 * import { createAuthStorage } from "authkeep";
 *
 * const storage = createAuthStorage({ home: "/home/user/.codex", mode: "auto" });
 * const auth = await storage.load();
 * console.log(auth === null ? "not logged in" : "logged in");
 * ```
 *
 * @module
 */
import { provideNativeModules } from "./keyring/_native-modules.ts";
import * as linux from "../native/linux/store.ts";
import * as lock from "../native/lock/store.ts";
import * as macos from "../native/macos/store.ts";
import * as windows from "../native/windows/store.ts";

export * from "./index.ts";

provideNativeModules({ linux, windows, macos, lock });
