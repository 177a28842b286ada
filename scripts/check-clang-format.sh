#!/usr/bin/env bash
# Checks that the addon's C++ (packages/native/src and packages/native/fuzz)
# is formatted as the repository's .clang-format says. Changes nothing; exits
# non-zero, naming each place, when any file differs. To fix:
#   clang-format -i $(find packages/native/src packages/native/fuzz -name '*.cc' -o -name '*.h')
# clang-format is Debian's `clang-format` package (apt-get install clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  echo "check-clang-format: clang-format is not installed (apt-get install clang-format)" >&2
  exit 2
fi

# Every C++ file there, tracked or not, so a new file is checked before it is committed.
mapfile -t files < <(find packages/native/src packages/native/fuzz -type f \( -name '*.cc' -o -name '*.h' \) | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "check-clang-format: no C++ files found under packages/native/src and packages/native/fuzz" >&2
  exit 2
fi

if clang-format --style=file --dry-run -Werror "${files[@]}"; then
  echo "check-clang-format: ${#files[@]} files formatted ($(clang-format --version))"
else
  echo "check-clang-format: the files above differ from .clang-format's style" >&2
  exit 1
fi
