#!/usr/bin/env bash
# codex-drift.sh: the Codex interop tests against the NEWEST @openai/codex on npm (not part of
# npm test, which pins 0.169.0), so the next change to Codex's auth.json, keyring entry, logout
# or refresh is found in minutes rather than by users.
#
#   bash scripts/codex-drift.sh                  # newest release
#   CODEX_VERSION=0.171.0 bash scripts/codex-drift.sh
#
# Steps: install that version with scripts/codex-setup.sh (cached in .ci/rt-codex/<version>),
# build, start a private gnome-keyring (scripts/with-keyring.sh), and run the same test files as
# npm test does for Codex: test/codex-interop.test.ts and test/codex-refresh-race.test.ts.
# Exit status: that of node --test (0 = no drift found). Extra arguments go to node --test.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

codex_env=$(CODEX_VERSION="${CODEX_VERSION:-latest}" bash scripts/codex-setup.sh)
eval "$codex_env"
export AUTHKEEP_REQUIRE_CODEX=1
echo "codex-drift: testing against Codex $AUTHKEEP_CODEX_VERSION ($AUTHKEEP_CODEX_BIN)" >&2

[ -d node_modules/typescript ] || npm install --no-audit --no-fund
npm run build --silent

set +e
bash scripts/with-keyring.sh node --test --test-concurrency=1 "$@" dist/test/codex-interop.test.js dist/test/codex-refresh-race.test.js
status=$?
set -e
if [ "$status" -eq 0 ]; then
  echo "codex-drift: Codex $AUTHKEEP_CODEX_VERSION: no drift (every interop test passed)" >&2
else
  echo "codex-drift: Codex $AUTHKEEP_CODEX_VERSION: interop tests FAILED (exit $status); see above" >&2
fi
exit "$status"
