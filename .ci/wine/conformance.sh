#!/usr/bin/env bash
# The transport conformance suite in the official Windows node.exe under
# Wine, on each pinned Node major: the same test/conformance/suite.ts vitest
# runs on Linux, compiled to JavaScript (test/windows/tsconfig.json ->
# test/windows/dist) and run with node:test through a vitest shim
# (test/windows/conformance/, whose README says how and what differs).
# Fails when any test fails on any major.
#
# Uses $WINEPREFIX (env.sh's default, or the one .ci/wine/test.sh made) and
# sets it up if needed; cross-builds the addon if it is missing (the run asks
# it whether this is Wine). Expects an installed workspace.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/wine/env.sh

log() { echo "== conformance: $*"; }
trap wine_stop EXIT

start=$SECONDS
.ci/wine/setup.sh | sed 's/^/   /'
binary=${PROCWIRE_WIN_BINARY:-packages/native/build-win/Release/procwire_native.node}
if [ ! -f "$binary" ]; then
  log "cross-building @procwire/native for win32-x64 (no $binary)"
  PROCWIRE_NODE_API_HEADERS=$(node_api_headers_dir) node packages/native/scripts/cross-win.mjs --werror
fi
# The packages' dist/ (what node.exe loads), then the suite, its fixtures and
# helpers; a clean output directory, so no stale file is run.
npx tsc -b
rm -rf test/windows/dist
npx tsc -p test/windows/tsconfig.json
build_seconds=$((SECONDS - start))

failed=()
summary=()
out=$(mktemp -d)
trap 'wine_stop; rm -rf "$out"' EXIT
# Both majors load one copy of the addon, which a rebuild during the run cannot remove.
cp "$binary" "$out/procwire_native.node"
export PROCWIRE_WIN_BINARY="$out/procwire_native.node"
for major in $(node_win_majors); do
  log "Node ${NODE_WIN_VERSION[$major]} (win32-x64, Wine)"
  start=$SECONDS
  status=0
  .ci/wine/run-node.sh "$major" test/windows/conformance/run.mjs | tee "$out/$major.log" || status=$?
  counts=$(grep -E '^ℹ (tests|pass|fail|cancelled|skipped) ' "$out/$major.log" | sed 's/^ℹ //' | paste -sd ',' | sed 's/,/, /g')
  summary+=("Node ${NODE_WIN_VERSION[$major]}: ${counts:-no summary} in $((SECONDS - start)) s (exit $status)")
  [ "$status" = 0 ] || failed+=("Node $major (exit $status)")
done

log "build ${build_seconds} s"
printf '== conformance: %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: the conformance suite on %s\n' "${failed[@]}" >&2
  exit 1
fi
log "passed on every pinned Node"
