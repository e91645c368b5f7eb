"""The hot calls (allocate, release, get_balance) behave the same through the C extension and
through ctypes: Tests/BindingsTests runs this file both ways ($SHMBAL_PY_EXTENSION=0 forces
ctypes; $SHMBAL_EXPECT_EXTENSION says which one the run must be using)."""

from __future__ import annotations

import os
import threading
from decimal import Decimal

import pytest

import shmbalance as hft
from shmbalance import Currency, Exchange, StrategyBalanceManager


def test_the_expected_path_is_in_use() -> None:
    expected = os.environ.get("SHMBAL_EXPECT_EXTENSION")
    if expected is not None:
        assert hft.EXTENSION == (expected == "1")
    base = StrategyBalanceManager.__mro__[1]
    assert base.__module__ == ("shmbalance._speedups" if hft.EXTENSION else "shmbalance._hot")


def test_every_argument_form_lands_exactly(segment: str) -> None:
    m = StrategyBalanceManager(Exchange.KRAKEN, strategy_count=6)
    m.reset(Currency.USDC, 1000.0)
    m.allocate(Currency.USDC, 2, 1.5)                     # positional, enum member
    m.allocate("USDC", index=2, amount=0.25)              # keywords, plain str (the same record)
    m.allocate(currency="usdc", amount=2, index=3)        # keywords out of order, lower case, int amount
    m.allocate("USDC", 4, "0.000000000000000001")         # exact text
    m.allocate("USDC", 5, Decimal("7.125"))               # Decimal
    m.release("USDC", 2, amount=0.75)
    assert m.get_balance("USDC", 2) == 1.0
    assert m.get_balance(Currency.USDC, index=3) == 2.0
    assert m.get_balance("USDC", 4, exact=True) == Decimal("1E-18")
    assert m.get_balance("USDC", 5, True) == Decimal("7.125")
    assert m.get_balance("USDC") == 1000.0                # index defaults to the total
    assert type(m.get_balance("USDC", 1)) is float
    b = m.get("USDC")
    assert b.slots == (Decimal(1000), Decimal("989.874999999999999999"), Decimal(1), Decimal(2), Decimal("1E-18"), Decimal("7.125"))
    assert b.identity_holds
    m.close()


def test_every_index_form_reaches_its_own_slot(segment: str) -> None:
    # The extension knows the ints 0…63 by address (CPython's small-int objects); any other int
    # object, a subclass or a computed value must still reach the same slot, and 64 must not.
    class Index(int):
        pass

    m = StrategyBalanceManager("KRAKEN", strategy_count=64)
    m.reset("USDC", 100_000.0)
    forms = (lambda i: i, lambda i: int(str(i)), lambda i: Index(i), lambda i: (i + 2**70) - 2**70, lambda i: int(float(i)))
    # Each form positionally and through keywords (the same call sites again and again: the
    # extension's cached keyword shapes), in both orders.
    for i in range(2, 64):
        for form in forms:
            m.allocate("USDC", form(i), float(i))
            m.allocate("USDC", index=form(i), amount=float(i))
            m.allocate(amount=float(i), currency="USDC", index=form(i))
    for i in range(2, 64):
        assert m.get_balance("USDC", i) == 15.0 * i
        assert m.get_balance("USDC", Index(i)) == 15.0 * i
        for form in forms:
            m.release("USDC", form(i), float(i))
            m.release("USDC", form(i), amount=float(i))
            m.release(index=form(i), amount=float(i), currency="USDC")
        assert m.get_balance("USDC", i) == 0.0
    for bad, words in ((64, "#64 is out of range"), (Index(64), "#64 is out of range"), (-1, "#-1 is out of range"),
                       (0, "#0 is the total"), (1, "#1 is the pool")):
        with pytest.raises(hft.RefusedError, match=words):
            m.allocate("USDC", bad, 1.0)
    with pytest.raises(hft.BadInputError, match=f"index {2**70} is out of range"):
        m.release("USDC", 2**70, 1.0)
    assert m.get("USDC").identity_holds and m.get_balance("USDC", 1) == 100_000.0
    m.close()


def test_big_ints_go_exactly_or_are_refused_with_the_parsers_words(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN")
    m.reset("USDC", "999999999999999999")
    m.allocate("USDC", 2, 10**17)                         # an int: exact, whole units
    assert m.get_balance("USDC", 2, exact=True) == Decimal(10**17)
    for too_big in (10**18, 2**63, 2**80):  # beyond the books, beyond int64, beyond Int128
        with pytest.raises(hft.BadInputError) as e:
            m.allocate("USDC", 2, too_big)
        assert str(e.value) == f"'{too_big}' does not fit: an amount must be below 10^18 (1,000,000,000,000,000,000) whole units"
    m.close()


def test_mistakes_raise_what_python_and_the_core_say(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN")
    m.reset("USDC", 100.0)
    with pytest.raises(TypeError):
        m.allocate("USDC", 2)                              # missing amount
    with pytest.raises(TypeError):
        m.allocate("USDC", 2, 1.0, amount=1.0)             # amount twice
    with pytest.raises(TypeError):
        m.allocate("USDC", 2, amont=1.0)                   # unknown keyword
    with pytest.raises(TypeError):
        m.get_balance("USDC", 1, False, 4)                 # too many
    with pytest.raises(hft.BadInputError, match="an amount must be a number or decimal text, got True"):
        m.allocate("USDC", 2, True)
    with pytest.raises(hft.BadInputError, match="an index must be an int"):
        m.release("USDC", 2.0, 1.0)
    with pytest.raises(hft.RefusedError) as e:
        m.allocate("USDC", 2, 500.0)
    assert e.value.refusal == "insufficient_headroom" and isinstance(e.value, ValueError)
    assert str(e.value) == "KRAKEN USDC #2: allocate 500.00 exceeds the headroom 100.00 (pool + credit)"
    with pytest.raises(hft.RefusedError, match="index 64 is out of range"):
        m.get_balance("USDC", 64)
    with pytest.raises(hft.RefusedError, match="index -1 is out of range"):
        m.get_balance("USDC", -1)
    with pytest.raises(hft.RefusedError, match="KRAKEN EUR has no record: reset it first"):
        m.allocate("EUR", 2, 1.0)
    with pytest.raises(hft.BadInputError, match="NaN is not an amount"):
        m.allocate("USDC", 2, float("nan"))
    assert m.get("USDC").op_count == 1                     # nothing above changed anything
    m.close()
    with pytest.raises(hft.ClosedError):
        m.allocate("USDC", 2, 1.0)
    with pytest.raises(hft.ClosedError):
        m.get_balance("USDC", 1)


def test_exceptions_are_also_what_python_code_catches(segment: str) -> None:
    assert issubclass(hft.BusyError, TimeoutError) and issubclass(hft.BusyError, ValueError)
    assert issubclass(hft.SegmentError, OSError) and issubclass(hft.SegmentError, ValueError)
    for cls in (hft.RefusedError, hft.BadInputError, hft.CorruptError, hft.ClosedError, hft.NotFoundError):
        assert issubclass(cls, ValueError) and not issubclass(cls, OSError)
    with pytest.raises(OSError) as e:
        StrategyBalanceManager("KRAKEN", segment=segment + ".missing", read_only=True)
    assert type(e.value) is hft.SegmentError and e.value.errno is None
    assert str(e.value) == f"{segment}.missing: no segment there (create one with 'shmbal init', or any write creates it)"


def test_threads_share_a_manager(segment: str) -> None:
    m = StrategyBalanceManager("KRAKEN", strategy_count=10)
    for c in ("USDC", "BTC"):
        m.reset(c, 1_000_000.0)
    failures = []

    def work(index: int) -> None:
        try:
            for i in range(2000):
                c = "USDC" if i % 2 else Currency.BTC
                m.allocate(c, index, 0.5)
                m.release(c, index=index, amount=0.25)
                assert m.get_balance(c, index) > 0
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(2 + t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for c in ("USDC", "BTC"):
        b = m.get(c)
        assert b.slots[2:] == (Decimal(250),) * 8 and b.identity_holds
    m.close()
