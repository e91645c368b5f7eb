#!/usr/bin/env bash
# Measures one allocate + release from C++ and from Python (its C extension, then ctypes) against
# the library as shipped (scripts/build-release) on a private segment in /dev/shm.
# Usage: bindings/bench.sh [N_CPP] [N_PY] [RUNS]. Benchmarks/run has the full comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release lib >/dev/null 2>&1
lib="${SHMBAL_DIST_SCRATCH:-$PWD/.build-dist}/stage/lib"
work="$(mktemp -d)"
segment="/dev/shm/shmbal-bench-$$"
trap 'rm -rf "$work" "$segment"' EXIT
g++ -std=c++17 -O2 -I Sources/CShmBalance/include -I bindings/cpp bindings/cpp/bench.cpp \
    -L "$lib" -l:libshmbalance.so.1 -Wl,-rpath,"$lib" -o "$work/bench"
SHMBAL_SEGMENT="$segment" "$work/bench" "${1:-1000000}" "${3:-7}"
rm -f "$segment"
mkdir -p "$work/py/shmbalance"
cp bindings/python/shmbalance/*.py "$work/py/shmbalance/"
cp bindings/python/bench.py "$work/"   # run from there: the script's own folder would put the source package first
bindings/python/ext/build "$work/py/shmbalance/_speedups.abi3.so"
for extension in 1 0; do
    rm -f "$segment"
    SHMBAL_SEGMENT="$segment" SHMBAL_LIBRARY="$lib/libshmbalance.so.1" PYTHONPATH="$work/py" PYTHONDONTWRITEBYTECODE=1 \
        SHMBAL_PY_EXTENSION=$extension python3 "$work/bench.py" "${2:-200000}" "${3:-7}"
done
