#!/usr/bin/env bash
# Builds the libFuzzer targets (optimized, with AddressSanitizer) and runs each one for a bounded
# time over its committed corpus. Exits non-zero on the first crash, trap, sanitizer report or
# broken property, leaving the input that did it in .build-fuzz/artifacts/.
#   bash Tests/Fuzz/run.sh [SECONDS_PER_TARGET]        (default 25)
#   .build-fuzz/release/fuzz-segment FILE               replays one input
# The corpora in Tests/Fuzz/corpus/ are seeds; new inputs found during a run go to a temporary
# directory (merge good ones in with -merge=1 when they add coverage).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-25}
export PATH="/opt/swift/usr/bin:$PATH" SHMBAL_FUZZ=1
targets=(amount segment config)
# The Swift driver keeps only the last -sanitize= option, so SwiftPM's `--sanitize=fuzzer
# --sanitize=address` would silently drop the fuzzer's coverage: --sanitize=fuzzer makes SwiftPM
# link libFuzzer, and the single combined option after it (which wins) instruments every module.
flags=(--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address)
for t in "${targets[@]}"; do
  swift build -c release --scratch-path .build-fuzz --product "fuzz-$t" "${flags[@]}" 2>&1 \
    | grep -v "Cannot export local symbol" || true
  test -x ".build-fuzz/release/fuzz-$t"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  # TOMLKit leaks a few hundred bytes on every parse that fails (not ShmBalance code): leak
  # checking is off for the config target only.
  leaks=1
  [ "$t" = config ] && leaks=0
  echo "fuzz-$t: $seconds s over Tests/Fuzz/corpus/$t ($(ls "Tests/Fuzz/corpus/$t" | wc -l) seeds)"
  if ! ASAN_OPTIONS="detect_leaks=$leaks" ".build-fuzz/release/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 -detect_leaks=$leaks \
        -artifact_prefix=".build-fuzz/artifacts/$t-" "$work/$t" "Tests/Fuzz/corpus/$t" > "$work/$t.log" 2>&1; then
    tail -60 "$work/$t.log"
    echo "fuzz-$t FAILED: the input is in .build-fuzz/artifacts/"
    exit 1
  fi
  runs=$(grep -o 'number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
  found=$(grep -o 'new_units_added: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
  counters=$(grep -o '([0-9]* inline 8-bit counters)' "$work/$t.log" | grep -o '[0-9]*' | head -1 || echo 0)
  # A fuzzer that ran nothing, or without coverage of the library, would pass for nothing.
  if [ "${runs:-0}" -lt 1000 ] || [ "${counters:-0}" -lt 5000 ]; then
    tail -20 "$work/$t.log"
    echo "fuzz-$t FAILED: only ${runs:-0} inputs run with ${counters:-0} coverage counters (not a working libFuzzer build?)"
    exit 1
  fi
  echo "fuzz-$t: ok, $runs inputs, $counters coverage counters, $found new coverage units, no crash"
done
echo "fuzz: ${#targets[@]} passed, 0 failed"
