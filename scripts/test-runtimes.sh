#!/usr/bin/env bash
# test-runtimes.sh: the runtime matrix, run by .ci/run after `npm test` (Node 20, built dist/).
# Runs the same test/*.test.ts sources on:
#   node22, node24, node26   node --test (type stripping)
#   bun, bun+koffi           bun test, with the bun:ffi provider, then AUTHKEEP_FFI=koffi
#   deno, deno+koffi         deno test, with the Deno.dlopen provider, then AUTHKEEP_FFI=koffi
#   package                  the packed tarball imported by Deno (npm:authkeep, bare, local paths)
#                            and by Bun (bare, local paths), with authkeep/testing
# all against one private, real gnome-keyring (scripts/keyring-up.sh), then prints one summary
# line per runtime and a last plain line "N passed, N failed" (runtimes). Any failure fails.
#
# The slow multi-process tests (crash safety, concurrency, refresh storm and lock races, Wine,
# packaging, CLI subprocesses, the npm-start tour) run once, on Node 20, in `npm test`. Here
# they are left out twice over: their files are not passed (SLOW below), and
# AUTHKEEP_SLOW_TESTS=0 is exported for files that check it.
#
# Usage: bash scripts/test-runtimes.sh [RUNTIME...]   (default: all; e.g. `... bun deno+koffi`)
# Env:   AUTHKEEP_RUNTIME_TIMEOUT  seconds per runtime (default 600)
#        AUTHKEEP_RUNTIME_LOGS     log directory (default .cache/rt-logs; emptied first)
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 FORCE_COLOR=0 AUTHKEEP_SLOW_TESTS=0
# Node 20 pays ~70 ms per process for it; the matrix starts many processes and needs no extra CA.
unset NODE_EXTRA_CA_CERTS

# Basenames of the slow tests (extended regex). Kept here so the matrix stays fast even for a
# file that does not check AUTHKEEP_SLOW_TESTS yet.
SLOW='^(crash-safety|concurrent-access|hostile-.*|concurrency|refresh-storm|refresh-lock|refresh-queueing|windows-credential-manager.*|windows-locks|wine-.*|codex-.*|package|api-report|cli.*|doc-examples|tour)\.test\.ts$'
ALL_RUNTIMES=(node22 node24 node26 bun bun+koffi deno deno+koffi package)
TIMEOUT=${AUTHKEEP_RUNTIME_TIMEOUT:-600}
# bun test stops any test after 5 s by default (Node and Deno have no default timeout), which a
# busy 2-core machine exceeds with the multi-process tests: match node:test instead.
BUN_FLAGS=(--timeout=300000)
# No --parallel: with it, deno test 2.9.6 ran every test here and then never exited.
DENO_FLAGS=(--no-check --allow-ffi --allow-read --allow-write --allow-env --allow-run --allow-net --allow-sys)

eval "$(bash scripts/runtimes.sh)" || { echo "test-runtimes: could not install the runtimes"; echo "0 passed, 1 failed"; exit 1; }
# The package row packs the bundle (npm run build: tsc, then scripts/bundle.ts).
[ -f dist/bundle/src/index.js ] || npm run build --silent >/dev/null || true

# The package as Deno and Bun users import it: packed, installed into a fresh project.
package_smoke() {
  local tmp; tmp=$(mktemp -d /tmp/authkeep-pkg.XXXXXX)
  (
    set -e
    npm pack --silent --pack-destination "$tmp" >/dev/null
    mkdir "$tmp/proj" && cd "$tmp/proj"
    tarball=$(ls "$tmp"/authkeep-*.tgz)
    printf '{"name":"authkeep-smoke","private":true,"type":"module","dependencies":{"authkeep":"file:%s"}}\n' "$tarball" > package.json
    npm install --prefer-offline --no-audit --no-fund --ignore-scripts --omit=optional >/dev/null
    cat > smoke.mjs <<'JS'
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";
let failed = 0;
for (const spec of process.argv.slice(2)) {
  const home = mkdtempSync(join(tmpdir(), "authkeep-smoke-"));
  try {
    const authkeep = await import(spec);
    const storage = authkeep.createAuthStorage({ home, mode: "file" });
    if ((await storage.load()) !== null) throw new Error("an empty home has credentials");
    if (typeof authkeep.defaultKeyringStore().loadSync !== "function") throw new Error("no keyring store");
    console.log(`ok ${runtime} import ${spec}`);
  } catch (error) {
    failed++;
    console.log(`not ok ${runtime} import ${spec}: ${error?.stack ?? error}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
// authkeep/testing reads the library from the entry's bundle (scripts/bundle.ts): the same classes.
try {
  const { MemoryKeyringStore } = await import("authkeep/testing");
  const { KeyringError } = await import("authkeep");
  const keyring = new MemoryKeyringStore();
  keyring.setError("nobody", new KeyringError("injected", { kind: "locked", backend: "memory" }), { once: true });
  let injected;
  try { keyring.loadSync("authkeep-package-smoke", "nobody"); } catch (error) { injected = error; }
  if (!(injected instanceof KeyringError) || injected.kind !== "locked" || keyring.loadSync("authkeep-package-smoke", "nobody") !== null) {
    throw new Error(`the test double did not inject its one-shot error, got ${injected}`);
  }
  console.log(`ok ${runtime} authkeep/testing from the installed package`);
} catch (error) {
  failed++;
  console.log(`not ok ${runtime} authkeep/testing from the installed package: ${error?.stack ?? error}`);
}
// The runtime's own FFI from the installed package, with koffi NOT installed (--omit=optional):
// Bun and Deno need nothing from npm. Through the public API, against the real keyring this
// script started: a missing entry reads as null; asking for koffi is refused as unavailable.
try {
  const authkeep = await import("authkeep");
  const missing = authkeep.defaultKeyringStore().loadSync("authkeep-package-smoke", "nobody");
  if (missing !== null) throw new Error("a missing keyring entry did not read as null");
  let koffiError;
  try { authkeep.defaultKeyringStore({ ffi: "koffi" }).loadSync("authkeep-package-smoke", "nobody"); } catch (error) { koffiError = error; }
  if (!(koffiError instanceof authkeep.KeyringError) || koffiError.kind !== "unavailable") {
    throw new Error(`without koffi, ffi: "koffi" should be an unavailable KeyringError, got ${koffiError}`);
  }
  console.log(`ok ${runtime} keyring through its own FFI from the installed package, without koffi`);
} catch (error) {
  failed++;
  console.log(`not ok ${runtime} keyring from the installed package: ${error?.stack ?? error}`);
}
process.exit(failed === 0 ? 0 : 1);
JS
    here=$OLDPWD
    "$DENO" run --no-check -A smoke.mjs npm:authkeep authkeep "$tmp/proj/node_modules/authkeep/dist/bundle/src/index.js" \
      "$here/dist/bundle/src/index.js" "$here/src/index.ts"
    "$BUN" smoke.mjs authkeep "$tmp/proj/node_modules/authkeep/dist/bundle/src/index.js" "$here/dist/bundle/src/index.js" "$here/src/index.ts"
  )
  local rc=$?
  rm -rf "$tmp"
  return $rc
}


files=()
for f in test/*.test.ts; do
  if [[ $(basename "$f") =~ $SLOW ]]; then continue; fi
  files+=("$f")
done
bun_files=()
for f in "${files[@]}"; do bun_files+=("./$f"); done
# Deno runs every test file in one process, each in a worker of its own. That once needed a second
# deno process for the libsecret tests: a worker's end closed its Deno.dlopen handles, libsecret
# was unmapped and registered its GObject types again in the next file, and the run hung; and a
# file's koffi signal subscriptions were dispatched into its disposed isolate by the next file.
# The backend now pins the libraries it loads and dispatches its signals on a main context of its
# own (native/linux/_bindings.ts, _libsecret-session.ts), so one process runs them all.

# The "package" row runs this script again in this mode, under `run` (timeout, log, counts).
if [ "${1:-}" = "--package-smoke" ]; then package_smoke; exit; fi

logs=${AUTHKEEP_RUNTIME_LOGS:-.cache/rt-logs}
rm -rf "$logs" && mkdir -p "$logs"

echo "test-runtimes: ${#files[@]} test files (slow ones run on Node 20 only)" >&2

# Deno runs only the `.only` tests and still exits 0 (Node and Bun run everything), so a
# committed `.only` would silently shrink the Deno rows: refuse it up front.
only=$(grep -nE '\b(describe|it|test|suite)\.only\(|[{,]\s*only:\s*true' test/*.ts test/support/*.ts 2>/dev/null || true)
if [ -n "$only" ]; then
  printf '%s\n' "$only" | sed 's/^/  .only: /' >&2
  echo "test-runtimes: remove the .only above (Deno would exit 0 having run only those)"
  echo "0 passed, 1 failed"
  exit 1
fi

if [ -z "${KR_DBUS_PID:-}" ]; then
  eval "$(env -u KR_DIR bash scripts/keyring-up.sh)" || { echo "test-runtimes: no keyring"; echo "0 passed, 1 failed"; exit 1; }
  trap 'bash scripts/keyring-down.sh' EXIT
fi

# counts RUNNER LOG -> "passed failed skipped", from each runner's own closing lines.
counts() {
  local runner=$1 log=$2
  case $runner in
    node)
      awk '/^(# |ℹ )pass [0-9]+/{p=$3} /^(# |ℹ )fail [0-9]+/{f=$3} /^(# |ℹ )(skipped|todo) [0-9]+/{s+=$3}
           END{printf "%d %d %d", p, f, s}' "$log" ;;
    bun)
      awk '/^ *[0-9]+ pass$/{p=$1} /^ *[0-9]+ fail$/{f=$1} /^ *[0-9]+ (skip|todo)$/{s+=$1}
           END{printf "%d %d %d", p, f, s}' "$log" ;;
    deno)
      # "FAILED | 144 passed (101 steps) | 3 failed (2 steps) | 1 ignored (51s)": tests and steps
      # (the node:test its inside describes) are added up.
      sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \|' | awk -F'|' '
        function total(field,   n, m) { n = field; sub(/^ */, "", n); sub(/ .*/, "", n); m = 0
          if (match(field, /\([0-9]+ steps?\)/)) { m = substr(field, RSTART + 1); sub(/ .*/, "", m) }
          return n + m }
        { for (i = 2; i <= NF; i++) {
            if ($i ~ / passed/) p += total($i); else if ($i ~ / failed/) f += total($i); else if ($i ~ / ignored/) s += total($i) } }
        END { printf "%d %d %d", p, f, s }' ;;
    package)
      printf '%d %d 0' "$(grep -c '^ok ' "$log")" "$(grep -c '^not ok ' "$log")" ;;
    *) echo "0 1 0" ;;
  esac
}

declare -A result
ran=()
passed_runtimes=0
failed_runtimes=0

# run NAME RUNNER CMD...: one runtime, output to its log, exit status and counts remembered.
run() {
  local name=$1 runner=$2; shift 2
  local log="$logs/$name.log" start rc
  echo "test-runtimes: $name: $*" >&2
  start=$(date +%s)
  timeout --kill-after=10 "$TIMEOUT" "$@" >"$log" 2>&1 </dev/null
  rc=$?
  local secs=$(( $(date +%s) - start ))
  read -r p f s <<<"$(counts "$runner" "$log")"
  [ -n "$p" ] || p=0
  # A runner that exits 0 having run nothing is a failure too (e.g. a crash before the summary).
  if [ "$rc" -eq 0 ] && [ "$p" != "0" ] && [ "$f" = "0" ]; then
    result[$name]="PASS  $p passed, $f failed, ${s:-0} skipped (${secs}s)"
    passed_runtimes=$((passed_runtimes + 1))
  else
    local why="exit $rc"; [ "$rc" -eq 124 ] && why="timed out after ${TIMEOUT}s"
    result[$name]="FAIL  $p passed, $f failed, ${s:-0} skipped (${secs}s, $why; log $log)"
    failed_runtimes=$((failed_runtimes + 1))
    # The failing tests' names, so the CI log says what broke without opening the file.
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *(not ok|✖|\(fail\))| \.\.\. FAILED' | awk '!seen[$0]++' | head -40 |
      sed "s/^/  $name: /" >&2
  fi
  ran+=("$name")
}


selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${ALL_RUNTIMES[@]}")
for name in "${selected[@]}"; do
  case $name in
    node22|node24|node26)
      bin=NODE${name#node}
      run "$name" node "${!bin}" --test --test-concurrency=2 "${files[@]}" ;;
    bun)
      run bun bun env AUTHKEEP_FFI=bun "$BUN" test "${BUN_FLAGS[@]}" "${bun_files[@]}" ;;
    bun+koffi)
      run bun+koffi bun env AUTHKEEP_FFI=koffi "$BUN" test "${BUN_FLAGS[@]}" "${bun_files[@]}" ;;
    deno)
      run deno deno env AUTHKEEP_FFI=deno "$DENO" test "${DENO_FLAGS[@]}" "${files[@]}" ;;
    deno+koffi)
      run deno+koffi deno env AUTHKEEP_FFI=koffi "$DENO" test "${DENO_FLAGS[@]}" "${files[@]}" ;;
    package)
      run package package bash "$0" --package-smoke ;;
    *)
      echo "test-runtimes: unknown runtime $name (known: ${ALL_RUNTIMES[*]})" >&2
      result[$name]="FAIL  unknown runtime"; ran+=("$name"); failed_runtimes=$((failed_runtimes + 1)) ;;
  esac
done

echo
echo "== runtime matrix (slow multi-process tests: Node 20 only) =="
for name in "${ran[@]}"; do
  printf '%-11s %s\n' "$name" "${result[$name]}"
done
echo "$passed_runtimes passed, $failed_runtimes failed"
[ "$failed_runtimes" -eq 0 ]
