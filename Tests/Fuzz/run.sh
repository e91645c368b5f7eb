#!/usr/bin/env bash
# Builds the libFuzzer targets (optimized, with AddressSanitizer) and runs each one over its
# committed corpus. Exits non-zero on the first crash, trap, sanitizer report, leak or broken
# property, leaving the input that did it in .build-fuzz/artifacts/.
#   bash Tests/Fuzz/run.sh [SECONDS_PER_TARGET]        (default 25)
#   .build-fuzz/release/fuzz-config FILE                replays one input
#   .build-fuzz/release/fuzz-config -max_total_time=600 DIR Tests/Fuzz/corpus/config
#                                                       explores (time-bound, not deterministic)
# The run is deterministic, so CI cannot fail by chance: SECONDS only sizes the work, as a fixed
# number of inputs per target (SECONDS × the target's rate below), run from a fixed seed
# ($FUZZ_SEED, default 1) over the committed corpus, never reloading it mid-run (-reload=0 reads
# the folders again on a timer), with Swift's hashing made deterministic
# (SWIFT_DETERMINISTIC_HASHING: no Dictionary or Set order varies) and, where the kernel allows
# it, address randomization off (setarch -R: libFuzzer also learns from compared values, and
# some are addresses). Each target prints its final coverage line ("cov: … ft: … corp: …"):
# the same commit and SECONDS print the same line every time for the amount and config targets.
# (The segment target still varies by a few coverage features from run to run: some of its code
# paths depend on time, e.g. the clock's calibration branches in Sources/CShmBalanceSys/sys.c,
# so its inputs are the same only up to the first such difference.)
# The corpora in Tests/Fuzz/corpus/ are seeds; new inputs found during a run go to a temporary
# directory (merge good ones in with -merge=1 when they add coverage).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-25}
seed=${FUZZ_SEED:-1}
export PATH="/opt/swift/usr/bin:$PATH" SHMBAL_FUZZ=1 SWIFT_DETERMINISTIC_HASHING=1 SHMBAL_WITHOUT_LEDGER=1
targets=(amount segment config)
# Inputs per second of budget, per target: about what each runs on one core of this 2-core
# machine, so `run.sh 20` takes about 20 s per target when the machine is idle (longer, never
# less work, when it is loaded).
declare -A rate=([amount]=20000 [segment]=1000 [config]=8000)
# Address randomization off when the kernel lets us (a container's seccomp may not).
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norandom=(setarch "$(uname -m)" -R); fi
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
  runs=$((seconds * ${rate[$t]}))
  echo "fuzz-$t: $runs inputs from seed $seed over Tests/Fuzz/corpus/$t ($(ls "Tests/Fuzz/corpus/$t" | wc -l) seeds)${norandom:+, ASLR off}"
  # -timeout: an input that runs 60 s is a hang (every target reads a few KB per input).
  if ! ASAN_OPTIONS="detect_leaks=1" "${norandom[@]}" ".build-fuzz/release/fuzz-$t" -seed="$seed" -runs="$runs" -reload=0 -timeout=60 \
        -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$t-" "$work/$t" "Tests/Fuzz/corpus/$t" > "$work/$t.log" 2>&1; then
    tail -60 "$work/$t.log"
    echo "fuzz-$t FAILED: the input is in .build-fuzz/artifacts/"
    exit 1
  fi
  executed=$(grep -o 'number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
  found=$(grep -o 'new_units_added: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
  counters=$(grep -o '([0-9]* inline 8-bit counters)' "$work/$t.log" | grep -o '[0-9]*' | head -1 || echo 0)
  done_line=$(grep -o 'DONE *cov: .*' "$work/$t.log" | tail -1 | sed 's/ *exec\/s.*//' || true)
  # A fuzzer that ran nothing, or without coverage of the library, would pass for nothing.
  if [ "${executed:-0}" -lt "$runs" ] || [ "${counters:-0}" -lt 5000 ]; then
    tail -20 "$work/$t.log"
    echo "fuzz-$t FAILED: ${executed:-0} of $runs inputs run with ${counters:-0} coverage counters (not a working libFuzzer build?)"
    exit 1
  fi
  echo "fuzz-$t: ok, $executed inputs, $counters coverage counters, $found new coverage units, no crash; $done_line"
done
echo "fuzz: ${#targets[@]} passed, 0 failed"
