"""Bad input from Python: NaN, negative amounts, index 99, an unknown currency, a closed manager.
Each raises the package's exception (a ValueError) with the core's message, the same words the
`shmbal` CLI prints, and changes nothing."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

import shmbalance as hft
from conftest import shmbal, snapshot
from shmbalance import StrategyBalanceManager


@pytest.fixture
def manager(segment: str):
    m = StrategyBalanceManager(hft.Exchange.KRAKEN, strategy_count=8)
    m.reset(hft.Currency.USDC, 10000.0)
    m.allocate(hft.Currency.USDC, index=2, amount=2000.0)
    yield m
    m.close()


def refused(call, *args, **kwargs) -> hft.ShmBalanceError:
    with pytest.raises(hft.ShmBalanceError) as info:
        call(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return info.value


def test_nan_and_infinity_are_bad_input(manager) -> None:
    before = snapshot(manager, ["USDC"])
    for call in (
        lambda a: manager.allocate("USDC", 2, a),
        lambda a: manager.release("USDC", 2, a),
        lambda a: manager.adjust("USDC", a),
        lambda a: manager.set("USDC", a),
        lambda a: manager.reset("USDC", a),
        lambda a: manager.reconcile("USDC", a),
        lambda a: manager.set_credit_limit("USDC", a),
    ):
        e = refused(call, math.nan)
        assert type(e) is hft.BadInputError and str(e) == "NaN is not an amount"
        e = refused(call, math.inf)
        assert type(e) is hft.BadInputError and str(e) == "inf is not an amount: it is infinite"
        e = refused(call, Decimal("NaN"))
        assert type(e) is hft.BadInputError and str(e) == "'NaN' is not a number"
    assert snapshot(manager, ["USDC"]) == before


def test_negative_amounts_are_refused_with_the_cores_message(manager, segment: str) -> None:
    before = snapshot(manager, ["USDC"])
    e = refused(manager.allocate, "USDC", 2, -5.0)
    assert type(e) is hft.RefusedError and e.refusal == "non_positive_amount"
    assert str(e) == "KRAKEN USDC #2: allocate needs an amount above 0 (got -5.00)"
    status, _, err = shmbal("allocate", "USDC", "2", "-5", "--segment", segment, "--exchange", "KRAKEN")
    assert status == 3 and err.strip() == f"shmbal: {e}"
    e = refused(manager.release, "USDC", 2, -5.0)
    assert str(e) == "KRAKEN USDC #2: release needs an amount above 0 (got -5.00)"
    e = refused(manager.set, "USDC", -1.0, index=2)
    assert e.refusal == "negative_budget"
    assert str(e) == "KRAKEN USDC #2: set -1.00 would make the budget negative (it is 2000.00); a sub-strategy budget is never below 0"
    e = refused(manager.adjust, "USDC", -2000.01, index=2)
    assert e.refusal == "negative_budget"
    e = refused(manager.set_credit_limit, "USDC", -1.0)
    assert str(e) == "KRAKEN USDC: a credit limit cannot be negative (got -1.00)"
    assert snapshot(manager, ["USDC"]) == before


def test_index_99_is_refused(manager, segment: str) -> None:
    before = snapshot(manager, ["USDC"])
    e = refused(manager.allocate, "USDC", 99, 1.0)
    assert type(e) is hft.RefusedError
    assert str(e) == "KRAKEN USDC: allocate needs a sub-strategy index 2…7; #99 is out of range"
    status, _, err = shmbal("allocate", "USDC", "99", "1", "--segment", segment, "--exchange", "KRAKEN")
    assert status == 3 and err.strip() == f"shmbal: {e}"
    assert str(refused(manager.release, "USDC", 99, 1.0)) == "KRAKEN USDC: release needs a sub-strategy index 2…7; #99 is out of range"
    e = refused(manager.get_balance, "USDC", 99)
    assert str(e) == "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)"
    status, _, err = shmbal("balance", "USDC", "--index", "99", "--segment", segment, "--exchange", "KRAKEN")
    assert status == 3 and err.strip() == f"shmbal: {e}"
    assert str(refused(manager.set, "USDC", 1.0, index=99)) == "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)"
    assert str(refused(manager.adjust, "USDC", 1.0, index=99)) == "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)"
    # Pool and total are not sub-strategies; an index beyond a C int never wraps to a valid one.
    assert "#1 is the pool" in str(refused(manager.allocate, "USDC", 1, 1.0))
    assert type(refused(manager.allocate, "USDC", 2**32 + 2, 1.0)) is hft.BadInputError
    assert type(refused(manager.allocate, "USDC", "2", 1.0)) is hft.BadInputError
    assert snapshot(manager, ["USDC"]) == before


def test_unknown_currency_is_refused(manager, segment: str) -> None:
    before = snapshot(manager, ["USDC"])
    for call in (
        lambda: manager.allocate("XYZ", 2, 1.0),
        lambda: manager.release("XYZ", 2, 1.0),
        lambda: manager.adjust("XYZ", 1.0),
        lambda: manager.set("XYZ", 1.0),
        lambda: manager.get("XYZ"),
        lambda: manager.get_balance("XYZ"),
    ):
        e = refused(call)
        assert type(e) is hft.RefusedError and e.refusal == "no_record"
        assert str(e) == "KRAKEN XYZ has no record: reset it first"
    status, _, err = shmbal("allocate", "XYZ", "2", "1", "--segment", segment, "--exchange", "KRAKEN")
    assert status == 3 and err.strip() == "shmbal: KRAKEN XYZ has no record: reset it first"
    # A name that is no name at all is bad input, in the core's words.
    e = refused(manager.allocate, "US DC", 2, 1.0)
    assert type(e) is hft.BadInputError
    assert str(e) == "name 'US DC' has a character that is not allowed: use letters, digits, _ - ."
    assert str(refused(manager.get, "A_VERY_LONG_CURRENCY")) == "name 'A_VERY_LONG_CURRENCY' is too long: at most 15 characters"
    assert type(refused(manager.get, 42)) is hft.BadInputError
    assert type(refused(manager.allocate, "USDC\0XYZ", 2, 1.0)) is hft.BadInputError  # never just "USDC"
    assert snapshot(manager, ["USDC"]) == before
    assert manager.get("usdc").currency == "USDC"  # lower case is a name, folded


def test_bad_decimal_text_is_refused_not_rounded(manager) -> None:
    before = snapshot(manager, ["USDC"])
    assert str(refused(manager.allocate, "USDC", 2, "1e3")) == "'1e3' is not an amount: exponents are not accepted; write all the digits (e.g. 100000)"
    assert str(refused(manager.adjust, "USDC", "1,000")) == "'1,000' is not an amount: separators are not accepted; write plain digits (e.g. 10000.00)"
    assert "more than 18 decimal places" in str(refused(manager.adjust, "USDC", "0.0000000000000000001"))
    assert "does not fit" in str(refused(manager.adjust, "USDC", 10**30))
    assert type(refused(manager.adjust, "USDC", True)) is hft.BadInputError
    assert type(refused(manager.adjust, "USDC", "100\0.5")) is hft.BadInputError
    assert snapshot(manager, ["USDC"]) == before


def test_a_closed_manager_raises(manager) -> None:
    other = StrategyBalanceManager("KRAKEN")
    before = snapshot(other, ["USDC"])
    manager.close()
    for call in (
        lambda: manager.allocate("USDC", 2, 1.0),
        lambda: manager.release("USDC", 2, 1.0),
        lambda: manager.adjust("USDC", 1.0),
        lambda: manager.reset("USDC", 1.0),
        lambda: manager.get("USDC"),
        lambda: manager.get_balance("USDC"),
    ):
        e = refused(call)
        assert type(e) is hft.ClosedError and str(e) == "the handle is closed (or was never opened)"
    manager.close()  # closing twice is harmless
    assert snapshot(other, ["USDC"]) == before
    other.close()


def test_the_c_library_refuses_a_stale_handle(manager) -> None:
    # Below the Python layer: the C ABI itself detects a closed handle (it never reaches freed memory).
    from shmbalance import _native

    lib = _native.library()
    stale = _native.BooksHandle(manager._books.handle.id)
    manager.close()
    fresh = StrategyBalanceManager("KRAKEN")  # may reuse the table entry: the id still differs
    assert fresh._books.handle.id != stale.id
    assert lib.shmbal_allocate(stale, b"KRAKEN", b"USDC", 2, 1.0) == hft.ClosedError.status
    assert lib.shmbal_last_error() == b"the handle is closed (or was never opened)"
    assert lib.shmbal_close(stale) == hft.ClosedError.status
    assert lib.shmbal_allocate(_native.BooksHandle(0), b"KRAKEN", b"USDC", 2, 1.0) == hft.ClosedError.status
    fresh.close()


def test_read_only_manager_cannot_write(manager, segment: str) -> None:
    before = snapshot(manager, ["USDC"])
    reader = StrategyBalanceManager("KRAKEN", read_only=True)
    assert reader.get_balance("USDC", index=2) == 2000.0
    e = refused(reader.allocate, "USDC", 2, 1.0)
    assert type(e) is hft.SegmentError and str(e) == f"{segment}: attached read-only; this operation writes"
    assert snapshot(manager, ["USDC"]) == before
    reader.close()
