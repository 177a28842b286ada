#!/usr/bin/env bash
# Proves ring_fuzz can fail: plants one bug at a time in a copy of ring.h
# (the real file is never touched), builds the harness against the copy, and
# expects the run to fail, by an AddressSanitizer report or a failed check.
# Exits non-zero if any planted bug goes unnoticed (or no longer applies
# because ring.h changed: then update the pattern here).
#
#   selfTest.sh [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ring="$here/../src/common/ring.h"
cxx="${CXX:-g++}"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
seed=1
iterations=20000

# name@sed script applied to the copy@what the bug is
mutants=(
  'reader-trusts-tail@/int64_t Available() const {/,/^  }/ s/if (used > area_.capacity()) return kCorrupt;//@Reader::Available() without the cursor-distance check'
  'writer-trusts-head@/int64_t Room() const {/,/^  }/ s/if (used > area_.capacity()) return kCorrupt;//@Writer::Room() without the cursor-distance check'
  'no-frame-limit@s/if (length > maxFrame_) return kTooLarge;//@PeekLength() without the frame limit'
  'no-zero-length@s/if (length == 0) return kCorrupt;//@PeekLength() accepts a zero length'
  'copy-out-no-wrap@/void CopyOut(/,/^  }/ s/const uint32_t first = Min(length, mask_ + 1 - at);/const uint32_t first = length;/@CopyOut() does not split at the end of the data area'
  'copy-in-no-wrap@/void CopyIn(/,/^  }/ s/const uint32_t first = Min(length, mask_ + 1 - at);/const uint32_t first = length;/@CopyIn() does not split at the end of the data area'
  'whole-ignores-out@s/ || body > outLength - written) break;/) break;/@ReadWhole() does not check the room left in out'
  'whole-off-by-header@s/if (body > left - kRecordHeaderBytes ||/if (body > left ||/@ReadWhole() forgets the length prefix when checking what arrived'
  'piece-takes-all@s/const uint32_t take = left < pieceLeft_ ? left : pieceLeft_;/const uint32_t take = left;/@ReadPiece() takes what arrived, not what the frame still needs'
  'spans-ignore-take@s/const uint32_t chunk = spans\[i\].length - offset < take ? spans\[i\].length - offset : take;/const uint32_t chunk = spans[i].length - offset;/@WriteGathered() copies whole parts, not what the room allows'
  'writer-prefix-only@s/if (free <= kRecordHeaderBytes) return 0;/if (free < kRecordHeaderBytes) return 0;/@Write() starts a large record with no room for its first byte'
)

failures=0
for entry in "${mutants[@]}"; do
  IFS='@' read -r name script what <<<"$entry"
  copy="$work/$name.h"
  sed -e "$script" "$ring" >"$copy"
  if cmp -s "$ring" "$copy"; then
    echo "!! $name: the pattern no longer matches ring.h ($what)"
    failures=$((failures + 1))
    continue
  fi
  "$cxx" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -pthread \
    "-DPROCWIRE_RING_HEADER=\"$copy\"" -o "$work/$name" "$here/ring_fuzz.cc"
  log="$work/$name.log"
  started=$(date +%s%N)
  status=0
  # (The braces keep bash's "Aborted" notice out of the output.)
  { timeout 300 "$work/$name" --iterations "$iterations" --seed "$seed" >"$log" 2>&1; } 2>/dev/null || status=$?
  if [ "$status" -eq 0 ]; then
    echo "!! $name: NOT caught in $iterations scenarios ($what)"
    failures=$((failures + 1))
    continue
  fi
  ms=$(( ($(date +%s%N) - started) / 1000000 ))
  if grep -q 'ERROR: AddressSanitizer' "$log"; then
    how="ASan: $(grep -m1 -o 'AddressSanitizer: [a-z-]*' "$log" | sed 's/AddressSanitizer: //'),"
    how="$how $(grep -m1 -oE '(READ|WRITE) of size [0-9]+' "$log" || true)"
    how="$how in $(grep -m1 -oE 'in procwire::ring::[A-Za-z:]+' "$log" | sed 's/in procwire::ring:://' || true)"
  elif grep -q 'runtime error' "$log"; then
    how="UBSan: $(grep -m1 -o 'runtime error: .*' "$log")"
  else
    how="check: $(grep -m1 'ring_fuzz: FAILED' "$log" | sed 's/ring_fuzz: FAILED: //')"
  fi
  echo "ok $name caught after $ms ms by $how"
  echo "   ($what; $(grep -m1 -o 'scenario [0-9]* (seed [0-9]*)' "$log" || echo 'scenario unknown'); exit $status)"
done
if [ "$failures" -ne 0 ]; then
  echo "== self-test: $failures planted bug(s) not caught" >&2
  exit 1
fi
echo "== self-test passed: all ${#mutants[@]} planted bugs caught"
