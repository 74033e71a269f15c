#!/usr/bin/env bash
# wine-node.sh: runs the Windows node.exe under Wine with the project's prefix, e.g.
#   bash scripts/wine-node.sh dist/test/win/credential-manager.win.js main /tmp/results.json
#   bash scripts/wine-node.sh -e "console.log(process.platform)"
# Prepares everything first with scripts/wine-setup.sh (cached after the first run). node.exe under
# Wine 8 dies with "Error: open EBADF" when its stdin/stdout/stderr is a Unix pipe, so its output
# goes to a file that is printed afterwards; this script's own output may then be piped. The exit
# code is node.exe's.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/wine-setup.sh)"
log=$(mktemp "${TMPDIR:-/tmp}/authkeep-wine-node.XXXXXX")
trap 'rm -f "$log"' EXIT
set +e
DISPLAY= wine "$AUTHKEEP_WINE_NODE" "$@" </dev/null >"$log" 2>&1
rc=$?
set -e
cat "$log"
exit $rc
