#!/usr/bin/env bash
# Installs the Debian packages the tests use, when they are missing (Neovim
# and python3-msgpack for interop; strace, openssl, util-linux for hardening).
set -euo pipefail
needed=()
command -v nvim >/dev/null || needed+=(neovim)
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || needed+=(python3-msgpack)
# Hardening tests: strace injects EINTR/EAGAIN, openssl makes TLS certificates,
# setpriv/prlimit (util-linux) switch users and lower descriptor limits.
command -v strace >/dev/null || needed+=(strace)
command -v openssl >/dev/null || needed+=(openssl)
command -v setpriv >/dev/null && command -v prlimit >/dev/null || needed+=(util-linux)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "cannot install ${needed[*]} (not root or no apt-get); the tests that need them will say so" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
