/**
 * The FFI provider interface's callbacks, on every provider this runtime can run: C calling JS
 * (qsort's comparator), C strings passed to a callback, and one dispatched from the glib main loop
 * (as GDBus signals are).
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { describeEachProvider } from "./support/ffi-providers.ts";

describeEachProvider("callbacks", (ffi) => {
  it("calls a JS callback from C (qsort's comparator)", () => {
    const lib = ffi().open("libc.so.6", { qsort: { args: ["buffer", "u64", "u64", "pointer"], returns: "void" } });
    const compare = ffi().callback({ args: ["pointer", "pointer"], returns: "i32" }, (a, b) => {
      const x = ffi().view(a!, 4).getInt32(0, true);
      const y = ffi().view(b!, 4).getInt32(0, true);
      return x - y;
    });
    try {
      const numbers = new Int32Array([5, -3, 42, 0, 7]);
      lib.symbols.qsort(numbers, numbers.length, 4, compare.pointer);
      assert.deepEqual([...numbers], [-3, 0, 5, 7, 42]);
    } finally {
      compare.close();
      lib.close();
    }
  });

  it("passes C strings to a callback and dispatches one from the glib main loop (as GDBus signals are)", () => {
    const lib = ffi().open("libglib-2.0.so.0", {
      g_hash_table_new_full: { args: ["pointer", "pointer", "pointer", "pointer"], returns: "pointer" },
      g_hash_table_insert: { args: ["pointer", "pointer", "pointer"], returns: "i32" },
      g_hash_table_foreach: { args: ["pointer", "pointer", "pointer"], returns: "void" },
      g_hash_table_unref: { args: ["pointer"], returns: "void" },
      g_strdup: { args: ["cstring"], returns: "pointer" },
      g_idle_add: { args: ["pointer", "pointer"], returns: "u32" },
      g_main_context_iteration: { args: ["pointer", "i32"], returns: "i32" },
    });
    const seen: Array<[string | null, string | null]> = [];
    const each = ffi().callback({ args: ["cstring", "cstring", "pointer"], returns: "void" }, (key, value) => {
      seen.push([key, value]);
    });
    let idleData: bigint | undefined;
    const idle = ffi().callback({ args: ["pointer"], returns: "i32" }, (data) => {
      idleData = ffi().address(data);
      return 0; // G_SOURCE_REMOVE
    });
    const table = lib.symbols.g_hash_table_new_full(lib.symbol("g_str_hash"), lib.symbol("g_str_equal"), lib.symbol("g_free"), lib.symbol("g_free"));
    try {
      lib.symbols.g_hash_table_insert(table, lib.symbols.g_strdup("service"), lib.symbols.g_strdup("Codex Auth"));
      lib.symbols.g_hash_table_insert(table, lib.symbols.g_strdup("account"), lib.symbols.g_strdup("clé"));
      lib.symbols.g_hash_table_foreach(table, each.pointer, null);
      assert.deepEqual(seen.sort(), [["account", "clé"], ["service", "Codex Auth"]]);

      assert.ok(lib.symbols.g_idle_add(idle.pointer, ffi().fromAddress(0x1234n)) > 0);
      for (let i = 0; i < 100 && idleData === undefined; i++) lib.symbols.g_main_context_iteration(null, 0);
      assert.equal(idleData, 0x1234n);
    } finally {
      lib.symbols.g_hash_table_unref(table);
      each.close();
      idle.close();
      lib.close();
    }
  });
});
