#!/usr/bin/env bash
# The Windows CI under Wine: sets up (setup.sh, in a fresh prefix of this
# run's own), cross-builds the addon (packages/native/scripts/cross-win.mjs),
# then runs every test/windows/*.mjs and test/windows/native/*.mjs in
# node.exe of each pinned Node major.
# Fails when any of them fails. Expects an installed workspace
# (npx -y pnpm@12.4.2 install), as .ci/run leaves it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/wine/env.sh

# A prefix of this run alone: no state from an earlier run, and no other run
# on the machine shares its wineserver.
work=$(mktemp -d -t procwire-wine.XXXXXX)
export WINEPREFIX="$work/prefix"
trap 'wine_stop; rm -rf "$work"' EXIT

start=$SECONDS
echo "== Windows under Wine: setup"
.ci/wine/setup.sh
setup_seconds=$((SECONDS - start))

start=$SECONDS
echo "== cross-build of @procwire/native for win32-x64"
PROCWIRE_NODE_API_HEADERS=$(node_api_headers_dir) node packages/native/scripts/cross-win.mjs --werror
# The tests load the addon through the package's own loader (dist/).
npx tsc -b packages/native
build_seconds=$((SECONDS - start))

start=$SECONDS
failed=()
count=0
for major in $(node_win_majors); do
  for script in test/windows/*.mjs test/windows/native/*.mjs; do
    echo "== $script on Node ${NODE_WIN_VERSION[$major]} (win32-x64, Wine)"
    count=$((count + 1))
    .ci/wine/run-node.sh "$major" "$script" || failed+=("$script on Node $major (exit $?)")
  done
done
test_seconds=$((SECONDS - start))

echo "== Windows under Wine: setup ${setup_seconds} s, build ${build_seconds} s, $count test runs ${test_seconds} s"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== Windows tests passed"
.ci/wine/conformance.sh
