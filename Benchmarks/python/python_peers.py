#!/usr/bin/env python3
"""The Python rows of the benchmark: one allocate or release per call.

- "multiprocessing": the pure-Python peer a user would write: the record's slots as int64 in a
  `multiprocessing.shared_memory` block, one `multiprocessing.Lock` (not robust: a holder killed
  inside it blocks everyone), the same checks as ShmBalance.
- "package": the ShmBalance Python package (`StrategyBalanceManager`), when it is importable
  (module name from $SHMBAL_PY_MODULE, default `shmbalance`; its C library from $SHMBAL_LIBRARY);
  "package-read": its `get_balance` of one slot (a consistent read, a float).

Rounds interleave the two. Prints one line per row: `name median_ns p99_ns p999_ns`, or
`name unavailable: why`. The median is of per-round means (batches timed as a whole); p99 and
p99.9 time each call alone with perf_counter_ns (which adds its own ~0.1 µs).
"""
import importlib
import os
import statistics
import sys
import time
from multiprocessing import Lock, shared_memory

ROUNDS = int(os.environ.get("BENCH_PY_ROUNDS", "11"))
BATCH = int(os.environ.get("BENCH_PY_BATCH", "20000"))
COUNT = 9
BALANCE = 1_000_000_000_000_000
AMOUNT = 1_000_000_000


class MultiprocessingPeer:
    """[count, credit, slot0, ..., slot63] as int64 in shared memory, behind one Lock."""

    def __init__(self):
        self.shm = shared_memory.SharedMemory(create=True, size=8 * 66)
        self.words = self.shm.buf.cast("q")
        self.words[0] = COUNT
        self.words[1] = 0
        self.words[2] = BALANCE
        self.words[3] = BALANCE
        self.lock = Lock()

    def allocate(self, index, amount):
        w = self.words
        with self.lock:
            count = w[0]
            if index < 2 or index >= count:
                raise ValueError("not a sub-strategy")
            if amount <= 0:
                raise ValueError("amount must be positive")
            pool = w[3]
            if amount > pool + w[1]:
                raise ValueError("insufficient headroom")
            w[3] = pool - amount
            w[2 + index] += amount

    def release(self, index, amount):
        w = self.words
        with self.lock:
            count = w[0]
            if index < 2 or index >= count:
                raise ValueError("not a sub-strategy")
            if amount <= 0:
                raise ValueError("amount must be positive")
            if amount > w[2 + index]:
                raise ValueError("exceeds budget")
            w[2 + index] -= amount
            w[3] += amount

    def close(self):
        self.words.release()
        self.shm.close()
        self.shm.unlink()


def package_manager():
    """The package's manager on a private segment, or (None, why)."""
    name = os.environ.get("SHMBAL_PY_MODULE", "shmbalance")
    try:
        module = importlib.import_module(name)
        manager_class = getattr(module, "StrategyBalanceManager")
    except Exception as e:  # noqa: BLE001 - any failure means "not available", said in the table
        return None, None, f"unavailable: cannot import {name}.StrategyBalanceManager ({type(e).__name__}: {e})"
    path = f"/dev/shm/shmbal-bench-py-{os.getpid()}"
    try:
        manager = manager_class("KRAKEN", strategy_count=COUNT, segment=path)
        manager.reset("USDC", 1_000_000.0)
        manager.allocate("USDC", index=2, amount=1.0)
        manager.release("USDC", index=2, amount=1.0)
    except Exception as e:  # noqa: BLE001
        return None, path, f"unavailable: the package failed on a private segment ({type(e).__name__}: {e})"
    return manager, path, None


def batch_peer(peer, n):
    allocate, release = peer.allocate, peer.release
    t0 = time.perf_counter_ns()
    for _ in range(n // 2):
        allocate(2, AMOUNT)
        release(2, AMOUNT)
    return (time.perf_counter_ns() - t0) / n


def batch_package(manager, n):
    allocate, release = manager.allocate, manager.release
    t0 = time.perf_counter_ns()
    for _ in range(n // 2):
        allocate("USDC", index=2, amount=1.0)
        release("USDC", index=2, amount=1.0)
    return (time.perf_counter_ns() - t0) / n


def tails(call, n):
    """p99 and p99.9 of single calls, in ns."""
    samples = []
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        call(i)
        samples.append(clock() - t0)
    samples.sort()
    return samples[int(0.99 * (n - 1))], samples[int(0.999 * (n - 1))]


def main():
    peer = MultiprocessingPeer()
    manager, path, why = package_manager()
    try:
        peer_ns, pkg_ns = [], []
        batch_peer(peer, BATCH)
        if manager:
            batch_package(manager, BATCH)
        for r in range(ROUNDS):
            order = [0, 1] if r % 2 == 0 else [1, 0]
            for which in order:
                if which == 0:
                    peer_ns.append(batch_peer(peer, BATCH))
                elif manager:
                    pkg_ns.append(batch_package(manager, BATCH))
        p99, p999 = tails(lambda i: peer.allocate(2, AMOUNT) if i % 2 == 0 else peer.release(2, AMOUNT), 4 * BATCH)
        print(f"multiprocessing {statistics.median(peer_ns):.1f} {p99} {p999}")
        if manager:
            p99, p999 = tails(lambda i: manager.allocate("USDC", index=2, amount=1.0) if i % 2 == 0
                              else manager.release("USDC", index=2, amount=1.0), 4 * BATCH)
            print(f"package {statistics.median(pkg_ns):.1f} {p99} {p999}")
            get_balance = manager.get_balance
            read_ns = []
            for _ in range(ROUNDS):
                t0 = time.perf_counter_ns()
                for _ in range(BATCH):
                    get_balance("USDC", 2)
                read_ns.append((time.perf_counter_ns() - t0) / BATCH)
            p99, p999 = tails(lambda i: get_balance("USDC", 2), 2 * BATCH)
            print(f"package-read {statistics.median(read_ns):.1f} {p99} {p999}")
        else:
            print(f"package {why}")
    finally:
        peer.close()
        if path:
            for suffix in ("",):
                try:
                    os.unlink(path + suffix)
                except FileNotFoundError:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
