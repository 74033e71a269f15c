/**
 * `LockFileEx` from kernel32 through the FFI provider, on a handle opened
 * with `CreateFileW`: what Rust's `File::lock`/`try_lock` do on Windows, so
 * the Codex CLI (codex.exe imports `LockFileEx` and `UnlockFile`) sees it.
 * The whole file is locked (offset 0, length `u64::MAX`), as Rust does.
 * `node:fs` descriptors are C-runtime numbers, not handles, hence our own open.
 *
 * @module
 */
import { nodeFs } from "../../src/contract/_node-builtins.ts";
import type { FileLocker, LockFileHandle } from "../../src/contract/file-locker.ts";
import { memoizePerProvider } from "../ffi/_bindings-cache.ts";
import { type FfiOptions, type FfiSymbols, loadFfiProvider } from "../ffi/index.ts";

const KERNEL32 = {
  // HANDLE CreateFileW(LPCWSTR, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES, DWORD disposition, DWORD flags, HANDLE template)
  CreateFileW: { args: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"], returns: "pointer" },
  // DWORD GetFileType(HANDLE)
  GetFileType: { args: ["pointer"], returns: "u32" },
  // BOOL LockFileEx(HANDLE, DWORD flags, DWORD reserved, DWORD lengthLow, DWORD lengthHigh, LPOVERLAPPED)
  LockFileEx: { args: ["pointer", "u32", "u32", "u32", "u32", "buffer"], returns: "i32" },
  // BOOL UnlockFileEx(HANDLE, DWORD reserved, DWORD lengthLow, DWORD lengthHigh, LPOVERLAPPED)
  UnlockFileEx: { args: ["pointer", "u32", "u32", "u32", "buffer"], returns: "i32" },
  // BOOL CloseHandle(HANDLE)
  CloseHandle: { args: ["pointer"], returns: "i32" },
  // DWORD GetLastError(void)
  GetLastError: { args: [], returns: "u32" },
} as const satisfies FfiSymbols;

const GENERIC_READ_WRITE = 0xc000_0000;
const FILE_SHARE_ALL = 0x7; // READ | WRITE | DELETE, Rust's default share mode
const OPEN_ALWAYS = 4;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const FILE_FLAG_OPEN_REPARSE_POINT = 0x0020_0000; // never follow a symlink or junction
const FILE_TYPE_DISK = 1;
const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
const LOCKFILE_EXCLUSIVE_LOCK = 0x2;
const WHOLE = 0xffff_ffff;
const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
const OVERLAPPED_SIZE = 32; // Internal, InternalHigh, Offset, OffsetHigh, hEvent: all zero (offset 0)

const bindKernel32 = memoizePerProvider((ffi) => ({ ffi, ...ffi.open("kernel32.dll", KERNEL32).symbols }));

function wide(text: string): Uint16Array {
  const out = new Uint16Array(text.length + 1);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The Windows locker: `LockFileEx` through the FFI provider. */
export function createWindowsLocker(options: FfiOptions = {}): FileLocker {
  const k = bindKernel32(loadFfiProvider(options));
  const handles = new Map<bigint, NonNullable<ReturnType<typeof k.CreateFileW>>>();
  return {
    mechanism: "LockFileEx",
    open(path: string): LockFileHandle {
      // lstat first for clear errors: CreateFileW answers ACCESS_DENIED for a directory.
      const link = nodeFs().lstatSync(path, { throwIfNoEntry: false });
      if (link?.isSymbolicLink()) throw Object.assign(new Error(`${path} is a symlink, not a lock file`), { code: "ELOOP" });
      if (link?.isDirectory()) throw Object.assign(new Error(`${path} is a directory, not a lock file`), { code: "EISDIR" });
      const flags = FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT;
      const handle = k.CreateFileW(wide(path), GENERIC_READ_WRITE, FILE_SHARE_ALL, null, OPEN_ALWAYS, flags, null);
      const address = k.ffi.address(handle);
      if (handle === null || address === INVALID_HANDLE_VALUE) {
        const code = k.GetLastError();
        throw Object.assign(new Error(`cannot open the lock file ${path} (Windows error ${code})`), { code: `WIN${code}` });
      }
      if (k.GetFileType(handle) !== FILE_TYPE_DISK) {
        k.CloseHandle(handle);
        throw Object.assign(new Error(`${path} is not a regular file, not a lock file`), { code: "EFTYPE" });
      }
      handles.set(address, handle);
      return { path, id: address };
    },
    tryLock(file) {
      const handle = handles.get(BigInt(file.id));
      if (handle === undefined) return false;
      const flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
      return k.LockFileEx(handle, flags, 0, WHOLE, WHOLE, new Uint8Array(OVERLAPPED_SIZE)) !== 0;
    },
    close(file) {
      const handle = handles.get(BigInt(file.id));
      if (handle === undefined) return;
      handles.delete(BigInt(file.id));
      k.UnlockFileEx(handle, 0, WHOLE, WHOLE, new Uint8Array(OVERLAPPED_SIZE)); // fails harmlessly when not locked
      k.CloseHandle(handle);
    },
  };
}
