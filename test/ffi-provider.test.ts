/**
 * The FFI provider interface against real libraries (libc, libglib-2.0), on
 * every provider this runtime can run: koffi everywhere, plus `Deno.dlopen`
 * on Deno and `bun:ffi` on Bun. The same file runs on Node, Bun and Deno.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import {
  detectRuntime,
  type FfiProvider,
  type FfiProviderName,
  loadFfiProvider,
  POINTER_SIZE,
  resolveFfiProviderName,
} from "../native/ffi/index.ts";

const runtime = detectRuntime();
const linux = process.platform === "linux";
const providers: FfiProviderName[] = runtime === "node" ? ["koffi"] : ["koffi", runtime];

describe("ffi provider selection", () => {
  it("defaults to the runtime's own FFI", () => {
    const expected = { node: "koffi", bun: "bun", deno: "deno" }[runtime];
    assert.equal(resolveFfiProviderName({}, null), expected);
    // With no argument it reads AUTHKEEP_FFI (set by scripts/test-runtimes.sh for the "+koffi" rows).
    assert.equal(resolveFfiProviderName(), process.env.AUTHKEEP_FFI || expected);
  });

  it("lets AUTHKEEP_FFI override the default, and the option override both", () => {
    assert.equal(resolveFfiProviderName({}, "koffi"), "koffi");
    assert.equal(resolveFfiProviderName({}, "deno"), "deno");
    assert.equal(resolveFfiProviderName({ ffi: "bun" }, "koffi"), "bun");
  });

  it("refuses unknown names", () => {
    assert.throws(() => resolveFfiProviderName({ ffi: "ctypes" as never }, null), TypeError);
    assert.throws(
      () => resolveFfiProviderName({}, "node-ffi"),
      (error: unknown) => error instanceof KeyringError && error.kind === "unavailable" && error.reason === "no-ffi" && /AUTHKEEP_FFI/.test(error.message),
    );
  });

  it("refuses a runtime's own FFI on another runtime", () => {
    const foreign: FfiProviderName = runtime === "deno" ? "bun" : "deno";
    assert.throws(
      () => loadFfiProvider({ ffi: foreign }),
      (error: unknown) => error instanceof KeyringError && error.kind === "unavailable" && error.reason === "no-ffi",
    );
  });

  it("caches one provider per name", () => {
    assert.equal(loadFfiProvider({ ffi: "koffi" }), loadFfiProvider({ ffi: "koffi" }));
    assert.equal(loadFfiProvider({ ffi: "koffi" }).name, "koffi");
  });
});

for (const name of providers) {
  describe(`${name} provider`, { skip: !linux && "libc.so.6 and libglib-2.0 are Linux libraries" }, () => {
    const ffi = (): FfiProvider => loadFfiProvider({ ffi: name });
    const libc = () =>
      ffi().open("libc.so.6", {
        getpid: { args: [], returns: "i32" },
        strlen: { args: ["cstring"], returns: "u64" },
        strdup: { args: ["cstring"], returns: "pointer" },
        free: { args: ["pointer"], returns: "void" },
        memcpy: { args: ["buffer", "pointer", "u64"], returns: "pointer" },
        strtol: { args: ["pointer", "buffer", "i32"], returns: "i64" },
        labs: { args: ["i64"], returns: "i64" },
        getenv: { args: ["cstring"], returns: "cstring" },
      });

    it("calls libc with numbers, strings and buffers", () => {
      const lib = ffi().open("libc.so.6", {
        getpid: { args: [], returns: "i32" },
        strlen: { args: ["cstring"], returns: "u64" },
        labs: { args: ["i64"], returns: "i64" },
      });
      try {
        assert.equal(lib.symbols.getpid(), process.pid);
        assert.equal(lib.symbols.strlen("héllo"), 6n, "UTF-8 bytes, 64-bit results as bigint");
        assert.equal(lib.symbols.strlen(""), 0n);
        assert.equal(lib.symbols.labs(-5), 5n);
        assert.equal(lib.symbols.labs(-(2n ** 60n)), 2n ** 60n);
      } finally {
        lib.close();
      }
    });

    it("refuses a string with a NUL instead of cutting it", () => {
      const lib = ffi().open("libc.so.6", { strlen: { args: ["cstring"], returns: "u64" } });
      try {
        assert.throws(() => lib.symbols.strlen("ab\0cd"), TypeError);
      } finally {
        lib.close();
      }
    });

    it("returns NULL as null and reads C strings and bytes from pointers", () => {
      const lib = libc();
      try {
        assert.equal(lib.symbols.getenv("AUTHKEEP_SURELY_UNSET_VARIABLE"), null);
        const copy = lib.symbols.strdup("clé=value");
        assert.notEqual(copy, null);
        try {
          assert.equal(ffi().readCString(copy!), "clé=value");
          assert.equal(ffi().readCString(copy!, 5), "value");
          assert.deepEqual(ffi().readBytes(copy!, 3), new Uint8Array([0x63, 0x6c, 0xc3]));
          assert.deepEqual(ffi().readBytes(copy!, 2, 5), new Uint8Array([0x76, 0x61]));
          assert.equal(ffi().readBytes(copy!, 0).length, 0);
          // A view aliases C memory: a write through it is what C then sees.
          ffi().view(copy!, 4).setUint8(2, 0);
          assert.equal(ffi().readCString(copy!), "cl");
        } finally {
          lib.symbols.free(copy);
        }
      } finally {
        lib.close();
      }
    });

    it("passes JS buffers in place, so C can write into them", () => {
      const lib = libc();
      try {
        const source = lib.symbols.strdup("secret")!;
        try {
          const target = new Uint8Array(7);
          lib.symbols.memcpy(target, source, 7);
          assert.deepEqual([...target], [...new TextEncoder().encode("secret\0")]);
          // The same C function, declared again with a buffer argument.
          const bytes = ffi().open("libc.so.6", { strlen: { args: ["buffer"], returns: "u64" } });
          assert.equal(bytes.symbols.strlen(target), 6n);
          bytes.close();
        } finally {
          lib.symbols.free(source);
        }
      } finally {
        lib.close();
      }
    });

    it("reads a pointer out-parameter and does address arithmetic", () => {
      const lib = libc();
      try {
        const text = lib.symbols.strdup("12345abc")!;
        try {
          const end = new BigUint64Array(1);
          assert.equal(lib.symbols.strtol(text, end, 10), 12345n);
          const endPointer = ffi().readPointer(end);
          assert.notEqual(endPointer, null);
          assert.equal(ffi().address(endPointer) - ffi().address(text), 5n);
          assert.equal(ffi().readCString(endPointer!), "abc");
          assert.equal(ffi().readCString(ffi().fromAddress(ffi().address(text) + 2n)!), "345abc");
        } finally {
          lib.symbols.free(text);
        }
      } finally {
        lib.close();
      }
    });

    it("maps NULL to null and back, and takes the address of a JS buffer", () => {
      assert.equal(ffi().fromAddress(0n), null);
      assert.equal(ffi().address(null), 0n);
      assert.equal(POINTER_SIZE, 8);
      const lib = libc();
      try {
        const bytes = new TextEncoder().encode("from js\0");
        const pointer = ffi().pointerOf(bytes);
        assert.equal(ffi().readCString(pointer), "from js");
        // A pointer stored in memory is read back (struct fields holding pointers).
        const slot = new BigUint64Array([ffi().address(pointer)]);
        assert.equal(ffi().readCString(ffi().readPointer(slot)!), "from js");
        assert.equal(ffi().readCString(ffi().readPointer(ffi().pointerOf(slot))!), "from js");
      } finally {
        lib.close();
      }
    });

    it("fails clearly for a missing library or symbol", () => {
      assert.throws(() => ffi().open("libauthkeep-does-not-exist.so.0", { f: { args: [], returns: "void" } }));
      assert.throws(() => ffi().open("libc.so.6", { authkeep_no_such_function: { args: [], returns: "void" } }));
      const lib = ffi().open("libc.so.6", { getpid: { args: [], returns: "i32" } });
      try {
        assert.throws(() => lib.symbol("authkeep_no_such_symbol"));
        assert.notEqual(ffi().address(lib.symbol("getpid")), 0n);
      } finally {
        lib.close();
      }
    });

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
}
