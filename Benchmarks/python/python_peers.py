#!/usr/bin/env python3
"""The Python rows of the benchmark, all in this one process with interleaved rounds:

- "multiprocessing": the pure-Python peer a user would write: the record's slots as int64 in a
  `multiprocessing.shared_memory` block, one `multiprocessing.Lock` (not robust: a holder killed
  inside it blocks everyone), the same checks as ShmBalance; "multiprocessing-read": one slot
  read under that lock (consistent), as a float.
- "package": the ShmBalance Python package (`StrategyBalanceManager.allocate/release`) as
  installed: with its C extension when it has one ("package-path extension"); "package-read":
  its `get_balance` of one slot (a consistent read, a float).
- "package-ctypes", "package-ctypes-read": the same manager on the ctypes fallback (its base
  class swapped for `shmbalance._hot.CtypesHot`), when the extension is what "package" used.

The module is $SHMBAL_PY_MODULE (default `shmbalance`), its C library $SHMBAL_LIBRARY or the one
beside it. Prints one line per row: `name median_ns p99_ns p999_ns` (or `name unavailable: why`),
then `python-ratio-ops` / `python-ratio-read`: the median of the per-round ratios peer ÷ package.
The median is of per-round means (batches timed as a whole); p99 and p99.9 time each call alone
with perf_counter_ns (which adds its own ~50-100 ns).
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

    def get_balance(self, index):
        w = self.words
        with self.lock:
            if index < 0 or index >= w[0]:
                raise ValueError("index out of range")
            return w[2 + index] / 1e9

    def close(self):
        self.words.release()
        self.shm.close()
        self.shm.unlink()


def package_managers():
    """[(row name, manager, segment path)] for the package as installed and, when that is the C
    extension, the same manager over ctypes; or ([], why)."""
    name = os.environ.get("SHMBAL_PY_MODULE", "shmbalance")
    try:
        module = importlib.import_module(name)
        manager_class = getattr(module, "StrategyBalanceManager")
    except Exception as e:  # noqa: BLE001 - any failure means "not available", said in the table
        return [], f"unavailable: cannot import {name}.StrategyBalanceManager ({type(e).__name__}: {e})"
    classes = [("package", manager_class)]
    if getattr(module, "EXTENSION", False):
        hot = importlib.import_module(name + "._hot")
        namespace = {k: v for k, v in vars(manager_class).items() if k not in ("__dict__", "__weakref__")}
        classes.append(("package-ctypes", type("CtypesStrategyBalanceManager", (hot.CtypesHot,), namespace)))
    out = []
    for row, cls in classes:
        path = f"/dev/shm/shmbal-bench-py-{os.getpid()}-{row}"
        try:
            manager = cls("KRAKEN", strategy_count=COUNT, segment=path)
            manager.reset("USDC", 1_000_000.0)
            manager.allocate("USDC", index=2, amount=1.0)
            manager.release("USDC", index=2, amount=1.0)
            manager.get_balance("USDC", 2)
        except Exception as e:  # noqa: BLE001
            for _, _, p in out:
                os.unlink(p)
            _unlink(path)
            return [], f"unavailable: the package failed on a private segment ({type(e).__name__}: {e})"
        out.append((row, manager, path))
    return out, ("extension" if getattr(module, "EXTENSION", False) else "ctypes")


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def ops_peer(peer, n):
    allocate, release = peer.allocate, peer.release
    t0 = time.perf_counter_ns()
    for _ in range(n // 2):
        allocate(2, AMOUNT)
        release(2, AMOUNT)
    return (time.perf_counter_ns() - t0) / n


def ops_package(manager, n):
    allocate, release = manager.allocate, manager.release
    t0 = time.perf_counter_ns()
    for _ in range(n // 2):
        allocate("USDC", index=2, amount=1.0)
        release("USDC", index=2, amount=1.0)
    return (time.perf_counter_ns() - t0) / n


def read_peer(peer, n):
    get_balance = peer.get_balance
    t0 = time.perf_counter_ns()
    for _ in range(n):
        get_balance(2)
    return (time.perf_counter_ns() - t0) / n


def read_package(manager, n):
    get_balance = manager.get_balance
    t0 = time.perf_counter_ns()
    for _ in range(n):
        get_balance("USDC", 2)
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


def interleaved(subjects):
    """subjects: [(name, batch())]; rounds rotate their order. Returns name -> [ns per call]."""
    for _, batch in subjects:
        batch()  # warm-up
    times = {name: [] for name, _ in subjects}
    for r in range(ROUNDS):
        for k in range(len(subjects)):
            name, batch = subjects[(k + r) % len(subjects)]
            times[name].append(batch())
    return times


def main():
    peer = MultiprocessingPeer()
    managers, path_or_why = package_managers()
    try:
        ops = interleaved([("multiprocessing", lambda: ops_peer(peer, BATCH))] +
                          [(row, lambda m=m: ops_package(m, BATCH)) for row, m, _ in managers])
        reads = interleaved([("multiprocessing-read", lambda: read_peer(peer, BATCH))] +
                            [(row + "-read", lambda m=m: read_package(m, BATCH)) for row, m, _ in managers])
        p99, p999 = tails(lambda i: peer.allocate(2, AMOUNT) if i % 2 == 0 else peer.release(2, AMOUNT), 4 * BATCH)
        print(f"multiprocessing {statistics.median(ops['multiprocessing']):.1f} {p99} {p999}")
        p99, p999 = tails(lambda i: peer.get_balance(2), 2 * BATCH)
        print(f"multiprocessing-read {statistics.median(reads['multiprocessing-read']):.1f} {p99} {p999}")
        if not managers:
            print(f"package {path_or_why}")
            return 0
        print(f"package-path {path_or_why}")
        for row, m, _ in managers:
            p99, p999 = tails(lambda i, m=m: m.allocate("USDC", index=2, amount=1.0) if i % 2 == 0
                              else m.release("USDC", index=2, amount=1.0), 4 * BATCH)
            print(f"{row} {statistics.median(ops[row]):.1f} {p99} {p999}")
            p99, p999 = tails(lambda i, m=m: m.get_balance("USDC", 2), 2 * BATCH)
            print(f"{row}-read {statistics.median(reads[row + '-read']):.1f} {p99} {p999}")
        ratio_ops = statistics.median(a / b for a, b in zip(ops["multiprocessing"], ops["package"]))
        ratio_read = statistics.median(a / b for a, b in zip(reads["multiprocessing-read"], reads["package-read"]))
        print(f"python-ratio-ops {ratio_ops:.2f}")
        print(f"python-ratio-read {ratio_read:.2f}")
        if "package-ctypes" in ops:
            print(f"python-ratio-ctypes-ops {statistics.median(a / b for a, b in zip(ops['package-ctypes'], ops['package'])):.2f}")
            print(f"python-ratio-ctypes-read {statistics.median(a / b for a, b in zip(reads['package-ctypes-read'], reads['package-read'])):.2f}")
    finally:
        peer.close()
        for _, m, path in managers:
            m.close()
            _unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
