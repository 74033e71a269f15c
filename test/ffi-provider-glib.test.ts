/**
 * The FFI provider interface against libglib-2.0, on every provider this runtime can run: the
 * calls libsecret's needs (g_strdup/g_free, a GHashTable of string attributes, GError fields read
 * through a memory view) and .async calls, off the main thread except on bun:ffi.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { describeEachProvider } from "./support/ffi-providers.ts";

describeEachProvider("glib", (ffi, name) => {
  const glib = () =>
    ffi().open("libglib-2.0.so.0", {
      g_strdup: { args: ["cstring"], returns: "pointer" },
      g_free: { args: ["pointer"], returns: "void" },
      g_hash_table_new_full: { args: ["pointer", "pointer", "pointer", "pointer"], returns: "pointer" },
      g_hash_table_insert: { args: ["pointer", "pointer", "pointer"], returns: "i32" },
      g_hash_table_lookup: { args: ["pointer", "cstring"], returns: "pointer" },
      g_hash_table_size: { args: ["pointer"], returns: "u32" },
      g_hash_table_unref: { args: ["pointer"], returns: "void" },
      g_quark_from_string: { args: ["cstring"], returns: "u32" },
      g_error_new_literal: { args: ["u32", "i32", "cstring"], returns: "pointer" },
      g_error_matches: { args: ["pointer", "u32", "i32"], returns: "i32" },
      g_error_free: { args: ["pointer"], returns: "void" },
      g_thread_self: { args: [], returns: "pointer" },
    });

  it("round-trips g_strdup/g_free", () => {
    const lib = glib();
    try {
      const copy = lib.symbols.g_strdup("Codex Auth");
      assert.notEqual(copy, null);
      assert.equal(ffi().readCString(copy!), "Codex Auth");
      lib.symbols.g_free(copy);
      assert.equal(lib.symbols.g_strdup(null), null);
    } finally {
      lib.close();
    }
  });

  it("builds a GHashTable of string attributes with g_str_hash/g_str_equal (as libsecret's …v calls take)", () => {
    const lib = glib();
    try {
      const { g_strdup, g_hash_table_new_full, g_hash_table_insert, g_hash_table_lookup, g_hash_table_size, g_hash_table_unref } =
        lib.symbols;
      const table = g_hash_table_new_full(lib.symbol("g_str_hash"), lib.symbol("g_str_equal"), lib.symbol("g_free"), lib.symbol("g_free"));
      assert.notEqual(table, null);
      try {
        const attributes = { service: "Codex Auth", account: "cli|0123456789abcdef", "xdg:schema": "org.freedesktop.Secret.Generic" };
        for (const [key, value] of Object.entries(attributes)) {
          assert.equal(g_hash_table_insert(table, g_strdup(key), g_strdup(value)), 1);
        }
        assert.equal(g_hash_table_size(table), 3);
        // The lookup key is a different copy: found only if the table hashes strings, not pointers.
        for (const [key, value] of Object.entries(attributes)) {
          const found = g_hash_table_lookup(table, key);
          assert.notEqual(found, null, key);
          assert.equal(ffi().readCString(found!), value);
        }
        assert.equal(g_hash_table_lookup(table, "missing"), null);
        // Replacing a key keeps the size and frees the old copies through g_free.
        assert.equal(g_hash_table_insert(table, g_strdup("account"), g_strdup("other")), 0);
        assert.equal(g_hash_table_size(table), 3);
        assert.equal(ffi().readCString(g_hash_table_lookup(table, "account")!), "other");
      } finally {
        g_hash_table_unref(table);
      }
    } finally {
      lib.close();
    }
  });

  it("reads and writes GError fields through a memory view", () => {
    const lib = glib();
    try {
      const { g_quark_from_string, g_error_new_literal, g_error_matches, g_error_free } = lib.symbols;
      const domain = g_quark_from_string("authkeep-test-error");
      assert.ok(domain > 0);
      const error = g_error_new_literal(domain, 7, "the keyring is locked");
      assert.notEqual(error, null);
      try {
        // struct GError { GQuark domain; gint code; gchar *message; }
        const fields = ffi().view(error!, 16);
        assert.equal(fields.getUint32(0, true), domain);
        assert.equal(fields.getInt32(4, true), 7);
        assert.equal(ffi().readCString(ffi().readPointer(error!, 8)!), "the keyring is locked");
        fields.setInt32(4, 42, true);
        assert.equal(g_error_matches(error, domain, 42), 1);
        assert.equal(g_error_matches(error, domain, 7), 0);
      } finally {
        g_error_free(error);
      }
    } finally {
      lib.close();
    }
  });

  it(`runs .async ${name === "bun" ? "on the main thread (bun:ffi cannot leave it)" : "off the main thread"}`, async () => {
    const lib = glib();
    try {
      const main = ffi().address(lib.symbols.g_thread_self());
      const other = ffi().address(await lib.symbols.g_thread_self.async());
      assert.equal(ffi().offThread, name !== "bun");
      if (ffi().offThread) assert.notEqual(other, main);
      else assert.equal(other, main);
      const strdup = await lib.symbols.g_strdup.async("async value");
      assert.equal(ffi().readCString(strdup!), "async value");
      lib.symbols.g_free(strdup);
      await assert.rejects(lib.symbols.g_strdup.async("a\0b"), TypeError);
    } finally {
      lib.close();
    }
  });
});
