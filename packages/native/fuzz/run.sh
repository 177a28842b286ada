#!/usr/bin/env bash
# Builds the ring fuzz harness (ring_fuzz.cc) with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs it: random scenarios (honest, and with
# an adversary writing the peer's fields), one transfer past 2^32 bytes so
# the cursors wrap, and a race against a scribbling thread. Exits non-zero on
# any failed check or sanitizer report.
#
#   run.sh [ITERATIONS [SEED]]   default 200000 scenarios, a random seed (printed)
#   run.sh --self-test           plants bugs in copies of ring.h and expects each to be caught
#   run.sh --libfuzzer SECONDS [CORPUS_DIR]   the libFuzzer target instead (needs clang++)
#   RING_FUZZ_HEADER=/path/ring.h run.sh   fuzz another copy of ring.h
#   CXX=clang++ run.sh           another compiler (g++ by default)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cxx="${CXX:-g++}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# build BINARY [HEADER]: the harness, against HEADER (default: the real ring.h).
build() {
  local flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
    -Wall -Wextra -Werror -pthread)
  if [ -n "${2:-}" ]; then flags+=("-DPROCWIRE_RING_HEADER=\"$2\""); fi
  "$cxx" "${flags[@]}" -o "$1" "$here/ring_fuzz.cc"
}

if [ "${1:-}" = "--self-test" ]; then
  "$here/selfTest.sh" "$out"
  exit
fi

if [ "${1:-}" = "--libfuzzer" ]; then
  seconds="${2:?run.sh --libfuzzer SECONDS [CORPUS_DIR]}"
  corpus="${3:-$out/corpus}"
  mkdir -p "$corpus"
  echo "== building the libFuzzer target (clang++)"
  clang++ -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -DPROCWIRE_LIBFUZZER -Wall -Wextra -Werror -pthread -o "$out/ring_libfuzzer" "$here/ring_fuzz.cc"
  "$out/ring_libfuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus"
  exit
fi

iterations="${1:-200000}"
seed="${2:-}"
echo "== building ring_fuzz ($cxx, ASan + UBSan)"
build "$out/ring_fuzz" "${RING_FUZZ_HEADER:-}"
echo "== random scenarios"
if [ -n "$seed" ]; then
  timeout 600 "$out/ring_fuzz" --iterations "$iterations" --seed "$seed"
else
  timeout 600 "$out/ring_fuzz" --iterations "$iterations"
fi
echo "== cursor wrap"
timeout 600 "$out/ring_fuzz" --wrap
echo "== race"
if [ -n "$seed" ]; then
  timeout 60 "$out/ring_fuzz" --race 1000 --seed "$seed"
else
  timeout 60 "$out/ring_fuzz" --race 1000
fi
echo "== ring fuzz passed"
