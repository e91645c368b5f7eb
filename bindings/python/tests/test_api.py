"""The Python API beyond the seed's examples: exact amounts, records, reconcile, credit, counts,
quotes, threads and processes, and how the package finds the C library."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import inspect
import typing
from decimal import Decimal
from pathlib import Path

import pytest

import shmbalance as hft
from shmbalance import Currency, DataType, Exchange, SingleQuote, StrategyBalanceManager

PACKAGE = Path(hft.__file__).resolve().parent


def test_amounts_are_exact(segment: str) -> None:
    m = StrategyBalanceManager(Exchange.KRAKEN, strategy_count=4)
    m.reset(Currency.USDC, 1.0)
    for _ in range(3):
        m.allocate(Currency.USDC, 2, 0.1)  # 0.1 means exactly 0.1, three times exactly 0.3
    assert m.get_balance(Currency.USDC, 2, exact=True) == Decimal("0.3")
    assert m.get_balance(Currency.USDC, 1, exact=True) == Decimal("0.7")
    assert m.get_balance(Currency.USDC, 2) == 0.3 and type(m.get_balance(Currency.USDC, 2)) is float
    # A float comes back as the same float (the nearest double, correctly rounded).
    for x in (1.295110504991, 36.146305312007, 0.000000001, 123456789.123456789, -5100.0):
        m.set(Currency.USDC, x)
        assert m.get_balance(Currency.USDC) == x
        assert float(m.get(Currency.USDC).total) == x
    # Text, Decimal and int amounts are exact to the 18th decimal, never through a float.
    m.reset("BTC", "21000000.123456789012345678")
    assert m.get("BTC").total == Decimal("21000000.123456789012345678")
    m.adjust("BTC", Decimal("-0.000000000000000001"))
    assert m.get_balance("BTC", exact=True) == Decimal("21000000.123456789012345677")
    m.adjust("BTC", 10**12)
    assert m.get_balance("BTC", exact=True) == Decimal("1000021000000.123456789012345677")
    m.close()


def test_get_returns_the_whole_record(segment: str) -> None:
    m = StrategyBalanceManager(Exchange.KRAKEN, strategy_count=5)
    # The seed's picture: 10000 = 4000 + 2000 + 3000 + 1000.
    m.reset(Currency.USDC, 10000.0)
    for index, amount in ((2, 2000.0), (3, 3000.0), (4, 1000.0)):
        m.allocate(Currency.USDC, index, amount)
    m.set_name(Currency.USDC, 2, "grid-bot")
    b = m.get(Currency.USDC)
    assert (b.exchange, b.currency, b.strategy_count) == ("KRAKEN", "USDC", 5)
    assert b.slots == b.strategies == (Decimal(10000), Decimal(4000), Decimal(2000), Decimal(3000), Decimal(1000))
    assert all(type(s) is Decimal for s in b.slots)
    assert b.names == ("total", "pool", "grid-bot", "", "")
    assert (b.total, b.pool, b.allocated, b.headroom, b.credit_limit) == (10000, 4000, 6000, 4000, 0)
    assert b.identity_holds and b.epoch == 1 and b.op_count == 4 and b.last_change_pid == os.getpid()
    m.close()


def test_credit_as_the_seed_describes_it(segment: str) -> None:
    m = StrategyBalanceManager(Exchange.KRAKEN, strategy_count=4)
    # A balance of 100 with credit 50 can give 150 ...
    m.reset("USDC", 100.0)
    m.set_credit_limit("USDC", 50.0)
    with pytest.raises(hft.RefusedError, match=r"allocate 150.01 exceeds the headroom 150.00 \(pool \+ credit\)"):
        m.allocate("USDC", 2, 150.01)
    m.allocate("USDC", 2, 150.0)
    assert m.get_balance("USDC", 1) == -50.0
    # ... and a balance of −30 with credit 50 can give 20.
    m.reset("USDC", -30.0)
    with pytest.raises(hft.RefusedError) as e:
        m.allocate("USDC", 2, 20.5)
    assert e.value.refusal == "insufficient_headroom"
    m.allocate("USDC", 2, 20.0)
    assert m.get("USDC").headroom == 0
    m.close()


def test_strategy_count_applies_to_records_the_manager_creates(segment: str) -> None:
    first = StrategyBalanceManager("KRAKEN", strategy_count=5)
    first.reset("USDC", 100.0)
    second = StrategyBalanceManager("KRAKEN", strategy_count=8)
    second.reset("USDC", 200.0)  # an existing record keeps its count
    assert second.get("USDC").strategy_count == 5
    second.reset("ETH", 1.0)
    assert first.get("ETH").strategy_count == 8
    with pytest.raises(hft.BadInputError, match="strategy count 65 is outside 2…64"):
        StrategyBalanceManager("KRAKEN", strategy_count=65)
    first.close()
    second.close()


def test_reconcile_says_what_it_did(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN", strategy_count=4)
    created = m.reconcile("USDC", 1000.0)
    assert (created.kind, created.delta) == ("created", 1000)
    m.allocate("USDC", 2, 300.0)
    m.allocate("USDC", 3, 200.0)
    assert m.reconcile("USDC", "1000").kind == "in_sync"
    repaired = m.reconcile("USDC", 900.0)
    assert (repaired.kind, repaired.delta, repaired.pool, repaired.dropped) == ("repaired", -100, 400, {})
    assert repaired.description == "repaired by -100.00: the pool absorbed it and is now 400.00"
    reset = m.reconcile("USDC", Decimal("100"))
    assert (reset.kind, reset.delta, reset.pool) == ("reset", -800, -400)
    assert reset.dropped == {2: Decimal(300), 3: Decimal(200)}
    assert m.get("USDC").slots == (100, 100) + (0,) * 6  # a record reconcile creates has the default 8 slots
    m.close()


def test_constants_are_names() -> None:
    assert Exchange.KRAKEN == "KRAKEN" and isinstance(Currency.USDC, str) and str(DataType.BALANCE) == "BALANCE"
    assert hft.Exchange.KRAKEN is Exchange.KRAKEN


def test_type_hints_are_present() -> None:
    # The hot calls are the C extension's when it is installed: type checkers see their typed
    # twins in CtypesHot (manager.py imports it under TYPE_CHECKING), with the same signatures.
    from shmbalance import _hot

    for name in ("allocate", "release", "get_balance"):
        typed = getattr(_hot.CtypesHot, name)
        def shape(f):
            return [(p.name, p.default, p.kind) for p in inspect.signature(f).parameters.values() if p.name != "self"]

        assert shape(getattr(StrategyBalanceManager, name)) == shape(typed), name
        hints = typing.get_type_hints(typed)
        assert set(hints) == set(inspect.signature(typed).parameters) - {"self"} | {"return"}, name
    assert typing.get_type_hints(StrategyBalanceManager.reset) == {"currency": str, "balance": hft.AmountLike,
                                                                   "op_id": typing.Optional[str], "return": type(None)}
    assert (PACKAGE / "py.typed").exists()


def test_quotes(segment: str) -> None:
    with pytest.raises(hft.SegmentError, match="no segment there"):
        hft.get_single_quote("KRAKEN", "BALANCE", "EUR")  # reading never creates a segment
    hft.write_single_quote(Exchange.KRAKEN, DataType.PRICE, "BTC", SingleQuote(timestamp=1, localTimestamp=2, mid=65000.5))
    q = hft.getSingleQuoteCurrency(Exchange.KRAKEN, DataType.PRICE, "btc")
    assert (q.timestamp, q.local_timestamp, q.mid) == (1, 2, 65000.5)
    with pytest.raises(hft.NotFoundError, match="KRAKEN BALANCE EUR: no quote has been written"):
        hft.get_single_quote("KRAKEN", "BALANCE", "EUR")
    with pytest.raises(hft.BadInputError, match="a quote's value must be a finite number"):
        hft.write_single_quote("KRAKEN", "PRICE", "BTC", SingleQuote(mid=float("nan")))
    assert hft.get_single_quote("KRAKEN", "PRICE", "BTC").mid == 65000.5
    # segment= wins over $SHMBAL_SEGMENT.
    other = segment + ".other"
    try:
        hft.write_single_quote("KRAKEN", "PRICE", "BTC", SingleQuote(mid=1.0), segment=other)
        assert hft.get_single_quote("KRAKEN", "PRICE", "BTC", segment=other).mid == 1.0
        assert hft.get_single_quote("KRAKEN", "PRICE", "BTC").mid == 65000.5
    finally:
        os.unlink(other)


def test_many_threads_share_one_manager(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN", strategy_count=10)
    m.reset("USDC", 1000.0)
    before = m.get("USDC").op_count
    rounds, threads = 500, 8

    def work(index: int) -> None:
        for _ in range(rounds):
            m.allocate("USDC", index, 0.01)
            # Only this thread touches its slot: reading anything else would be another thread's answer.
            assert m.get_balance("USDC", index) == 0.01
            assert m.get_balance("USDC", index, exact=True) == Decimal("0.01")
            m.release("USDC", index, 0.01)
        m.allocate("USDC", index, Decimal("0.01") * index)

    errors = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as e:  # a failed assert in a thread must fail the test
            errors.append(e)

    workers = [threading.Thread(target=guarded, args=(2 + t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    b = m.get("USDC")
    assert b.identity_holds and b.op_count - before == threads * (2 * rounds + 1)
    assert b.slots[2:] == tuple(Decimal("0.01") * i for i in range(2, 10))
    assert b.pool == Decimal(1000) - sum(Decimal("0.01") * i for i in range(2, 10))
    m.close()


def _process_worker(index: int, rounds: int) -> None:
    m = StrategyBalanceManager("KRAKEN")
    for _ in range(rounds):
        m.allocate("USDC", index, 0.1)
        m.release("USDC", index, 0.05)
    m.close()


def test_processes_share_the_books(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN", strategy_count=6)
    m.reset("USDC", 10000.0)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_worker, args=(2 + i, 400)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    b = m.get("USDC")
    assert b.slots[2:] == (Decimal(20),) * 4  # 400 × (0.1 − 0.05), exactly
    assert b.pool == 10000 - 80 and b.identity_holds
    m.close()


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_the_library_is_found_as_the_spec_says(segment: str) -> None:
    built = os.environ["SHMBAL_LIBRARY"]
    code = "import shmbalance, shmbalance._native as n; n.library(); print(n.loaded_path())"
    base = {k: v for k, v in os.environ.items() if k not in ("SHMBAL_LIBRARY", "LD_LIBRARY_PATH")}
    work = tempfile.mkdtemp(prefix="shmbal-lib-")
    try:
        # 1. $SHMBAL_LIBRARY wins, and a wrong one says what to do.
        bad = _run(code, {**base, "SHMBAL_LIBRARY": "/nonexistent/libshmbalance.so"})
        assert bad.returncode != 0 and "cannot load /nonexistent/libshmbalance.so" in bad.stderr and "SHMBAL_LIBRARY" in bad.stderr
        # 2. Else a copy installed beside the package.
        shutil.copytree(PACKAGE, os.path.join(work, "pkg", "shmbalance"), ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        shutil.copy(built, os.path.join(work, "pkg", "shmbalance", "libshmbalance.so"))
        beside = _run(code, {**base, "PYTHONPATH": os.path.join(work, "pkg")})
        assert beside.returncode == 0, beside.stderr
        assert beside.stdout.strip() == os.path.join(work, "pkg", "shmbalance", "libshmbalance.so")
        # 3. Else libshmbalance.so.1 (or libshmbalance.so) on the loader's path.
        os.unlink(os.path.join(work, "pkg", "shmbalance", "libshmbalance.so"))
        loader = _run(code + "; print(shmbalance.StrategyBalanceManager('KRAKEN').segment)",
                      {**base, "PYTHONPATH": os.path.join(work, "pkg"), "LD_LIBRARY_PATH": os.path.dirname(built)})
        assert loader.returncode == 0, loader.stderr
        assert loader.stdout.split() == ["libshmbalance.so", segment]
    finally:
        shutil.rmtree(work, ignore_errors=True)
