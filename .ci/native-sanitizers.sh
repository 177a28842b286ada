#!/usr/bin/env bash
# Builds @procwire/native with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs test/native against that binary, the shm: hostile-peer test
# (a server on the sanitized addon under attack), and the out-of-range
# options test (every transport's failure paths after descriptors exist:
# a descriptor closed behind libuv's back once made fifo: abort). Fails when a test fails or
# when any process (test workers, fixtures, worker_threads) reports anything.
# First, the shm: ring's fuzz harness runs on its own (packages/native/fuzz).
# Expects an installed workspace (npx -y pnpm@12.4.2 install).
set -euo pipefail
cd "$(dirname "$0")/.."

# Before LD_PRELOAD is set below: the compiler must not run with libasan.
echo "== ring fuzz harness with ASan + UBSan"
bash packages/native/fuzz/run.sh

echo "== sanitized build of @procwire/native"
(cd packages/native && node scripts/build.mjs --sanitize)
binary="$PWD/packages/native/build-asan/build/Debug/procwire_native.node"
npx tsc -b packages/native

# Node is not built with ASan, so its runtime has to be the first library of
# every node process: LD_PRELOAD it. Leak checking stays off because Node
# deliberately leaves memory to the OS at exit.
libasan=$("${CXX:-g++}" -print-file-name=libasan.so)
if [ ! -f "$libasan" ]; then
  echo "libasan not found (${CXX:-g++} -print-file-name=libasan.so said: $libasan)" >&2
  exit 1
fi
reports=$(mktemp -d)
chmod 1777 "$reports" # one test runs a fixture as another user
trap 'rm -rf "$reports"' EXIT
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export PROCWIRE_NATIVE_BINARY="$binary"

# The tests must really run on the sanitized binary, with the runtime active.
(cd test && node --input-type=module -e "
  import { readFileSync } from 'node:fs';
  import { native } from '@procwire/native';
  native.pipe();
  const maps = readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes('$binary') || !maps.includes('libasan')) {
    console.error('the sanitized addon or libasan is not loaded');
    process.exit(1);
  }
")

echo "== test/native, test/e2e/shmHostile and test/e2e/badOptions on $(node --version) with ASan + UBSan"
status=0
# Everything runs several times slower on the sanitized addon, more so on a
# busy machine: the per-test bound (only a safety net for a hang) is raised.
npx vitest run --testTimeout=120000 --hookTimeout=120000 test/native test/e2e/shmHostile.test.ts test/e2e/badOptions.test.ts || status=$?

if compgen -G "$reports/*" >/dev/null; then
  echo "== sanitizer reports" >&2
  for report in "$reports"/*; do
    echo "--- $report" >&2
    cat "$report" >&2
  done
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "== the tests failed under the sanitizers" >&2
  exit "$status"
fi
echo "== native sanitizers passed"
