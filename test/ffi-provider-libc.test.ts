/**
 * The FFI provider interface against libc, on every provider this runtime can run (the same file
 * runs on Node, Bun and Deno): numbers, UTF-8 strings, buffers C writes into, NULL, pointer
 * out-parameters and address arithmetic, and clear errors for a missing library or symbol.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { it } from "node:test";
import { POINTER_SIZE } from "../native/ffi/index.ts";
import { describeEachProvider } from "./support/ffi-providers.ts";

describeEachProvider("libc", (ffi) => {
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
    // Named, and at open() even where functions are declared on first call (Deno).
    assert.throws(
      () => ffi().open("libc.so.6", { getpid: { args: [], returns: "i32" }, authkeep_no_such_function: { args: [], returns: "void" } }),
      /authkeep_no_such_function/,
    );
    const lib = ffi().open("libc.so.6", { getpid: { args: [], returns: "i32" } });
    try {
      assert.throws(() => lib.symbol("authkeep_no_such_symbol"));
      assert.notEqual(ffi().address(lib.symbol("getpid")), 0n);
    } finally {
      lib.close();
    }
  });
});
