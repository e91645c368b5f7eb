"""The cost of one allocate + release from Python (StrategyBalanceManager, float amounts, as the
seed's strategies call it). Prints the median of RUNS runs of N pairs, in ns per pair.
Usage: python3 bench.py [N] [RUNS]  (segment: $SHMBAL_SEGMENT; library: $SHMBAL_LIBRARY).
Build and run: bindings/bench.sh"""

from __future__ import annotations

import statistics
import sys
import time

import shmbalance as hft


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    manager = hft.StrategyBalanceManager(hft.Exchange.KRAKEN, strategy_count=8)
    manager.reset(hft.Currency.USDC, 1_000_000.0)
    allocate, release, usdc = manager.allocate, manager.release, hft.Currency.USDC
    for _ in range(1000):  # warm up
        allocate(usdc, 2, 1.0)
        release(usdc, 2, 1.0)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            allocate(usdc, 2, 100.0)
            release(usdc, 2, 100.0)
        samples.append((time.perf_counter_ns() - t0) / n)
    exact = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        for _ in range(n // 4):
            allocate(usdc, 2, "100")
            release(usdc, 2, "100")
        exact.append((time.perf_counter_ns() - t0) / (n // 4))
    b = manager.get(usdc)
    assert b.identity_holds and b.slots[2] == 0
    via = "C extension" if hft.EXTENSION else "ctypes"
    print(f"Python ({via}) allocate+release (float):        {statistics.median(samples):.0f} ns (median of {runs} runs x {n} pairs)")
    print(f"Python ({via}) allocate+release (decimal text): {statistics.median(exact):.0f} ns")


if __name__ == "__main__":
    main()
