#!/usr/bin/env bash
# Measures one allocate + release from C++ and from Python against a release build of
# libshmbalance.so on a private segment in /dev/shm. Usage: bindings/bench.sh [N_CPP] [N_PY] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product shmbalance >/dev/null
lib="$PWD/.build/release"
work="$(mktemp -d)"
segment="/dev/shm/shmbal-bench-$$"
trap 'rm -rf "$work" "$segment"' EXIT
g++ -std=c++17 -O2 -I Sources/CShmBalance/include -I bindings/cpp bindings/cpp/bench.cpp \
    -L "$lib" -lshmbalance -Wl,-rpath,"$lib" -o "$work/bench"
SHMBAL_SEGMENT="$segment" "$work/bench" "${1:-1000000}" "${3:-7}"
rm -f "$segment"
SHMBAL_SEGMENT="$segment" SHMBAL_LIBRARY="$lib/libshmbalance.so" PYTHONPATH=bindings/python PYTHONDONTWRITEBYTECODE=1 \
    python3 bindings/python/bench.py "${2:-200000}" "${3:-7}"
