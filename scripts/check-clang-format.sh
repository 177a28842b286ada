#!/usr/bin/env bash
# Checks that the addon's C++ (packages/native/src and packages/native/fuzz)
# is formatted as the repository's .clang-format says. Changes nothing; exits
# non-zero, naming each place, when any file differs. To fix:
#   node_modules/.bin/clang-format -i $(find packages/native/src packages/native/fuzz -name '*.cc' -o -name '*.h')
# clang-format comes from the npm package clang-format-node (a devDependency),
# so every machine formats with the same version: versions disagree on details.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=node_modules/.bin/clang-format
if [ ! -x "$clang_format" ]; then
  echo "check-clang-format: $clang_format is missing; run npx -y pnpm@12.4.2 install" >&2
  exit 2
fi

# Every C++ file there, tracked or not, so a new file is checked before it is committed.
mapfile -t files < <(find packages/native/src packages/native/fuzz -type f \( -name '*.cc' -o -name '*.h' \) | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "check-clang-format: no C++ files found under packages/native/src and packages/native/fuzz" >&2
  exit 2
fi

if "$clang_format" --style=file --dry-run -Werror "${files[@]}"; then
  echo "check-clang-format: ${#files[@]} files formatted ($("$clang_format" --version))"
else
  echo "check-clang-format: the files above differ from .clang-format's style" >&2
  exit 1
fi
