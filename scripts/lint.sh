#!/usr/bin/env bash
# The house rules, each a check that fails CI (pnpm test runs this first):
# - ESLint: the layers (core imports no transport and no native code; a
#   transport folder imports no other transport), no import cycles,
#   consistent type imports (eslint.config.js);
# - Prettier: one format for TypeScript (.prettierrc.json);
# - knip: no dead exports, files or dependencies (knip.json); tsc's
#   noUnusedLocals (tsconfig.base.json) catches dead locals at build time;
# - clang-format: one format for the addon's C++ (.clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== eslint" && npx eslint --max-warnings 0 .
echo "== prettier" && npx prettier --check --log-level warn .
echo "== knip" && npx knip
echo "== clang-format" && bash scripts/check-clang-format.sh
