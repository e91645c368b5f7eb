"""A strategy process for the cross-language test (Tests/BindingsTests/CrossLanguageTests.swift).

Usage: worker.py INDEX SEED MIN_OPS. Signals (TEST, CONTROL, PY<INDEX>) when ready, waits for
(TEST, CONTROL, GO), then allocates, releases and adjusts KRAKEN USDC at random until it sees
(TEST, CONTROL, STOP) and has done MIN_OPS; prints its applied totals in cents:
"allocated released adjusted applied refused".
"""

from __future__ import annotations

import random
import sys
import time

import shmbalance as hft


def seen(name: str) -> bool:
    try:
        hft.get_single_quote("TEST", "CONTROL", name)
        return True
    except hft.NotFoundError:
        return False


def main() -> None:
    index, seed, min_ops = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    manager = hft.StrategyBalanceManager(hft.Exchange.KRAKEN)
    hft.write_single_quote("TEST", "CONTROL", f"PY{index}", hft.SingleQuote(mid=1.0))
    deadline = time.monotonic() + 120
    while not seen("GO"):
        if time.monotonic() > deadline:
            sys.exit("worker.py: no GO within 120 s")
        time.sleep(0.001)
    allocated = released = adjusted = applied = refused = 0
    ops = 0
    while ops < min_ops or not (ops % 64 == 0 and seen("STOP")):
        ops += 1
        op = rng.randrange(3)
        cents = rng.randint(1, 500)
        try:
            if op == 0:
                manager.allocate(hft.Currency.USDC, index=index, amount=cents / 100)
                allocated += cents
            elif op == 1:
                manager.release(hft.Currency.USDC, index=index, amount=cents / 100)
                released += cents
            else:
                delta = cents if rng.random() < 0.5 else -cents
                manager.adjust(hft.Currency.USDC, delta / 100)
                adjusted += delta
            applied += 1
        except hft.RefusedError:
            refused += 1
    print(allocated, released, adjusted, applied, refused)


if __name__ == "__main__":
    main()
