"""Holds, fills and operation ids from Python (SPEC §9): the C program's story
(bindings/c/tests/holds.c) through the package, ``op_id=`` on every mutating method, bad ids.
Run with the C extension and through ctypes (Tests/BindingsTests/PythonBindingTests.swift)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

import shmbalance as hft
from conftest import shmbal, snapshot
from shmbalance import FillOutcome, StrategyBalanceManager


@pytest.fixture
def m(segment: str):
    # A small segment (4 records) instead of the default 64: each record carries its hold table and op-id ring.
    status, _, err = shmbal("init", "--segment", segment, "--records", "4", "--quotes", "16", "--activity", "64")
    assert status == 0, err
    manager = StrategyBalanceManager(hft.Exchange.KRAKEN, strategy_count=4)
    manager.reset("USDC", "10000")
    manager.allocate("USDC", 2, 700.0)
    yield manager
    manager.close()


def books(m: StrategyBalanceManager) -> tuple:
    s = m.slot_holds("USDC")
    return (s.budgets, s.held, s.hold_counts, s.op_count)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(hft.RefusedError) as info:
        call(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return info.value.refusal or ""


def test_hold_fill_void_receive(m: StrategyBalanceManager) -> None:
    m.hold("USDC", 2, "600", "ord-1")
    m.hold("USDC", 2, 600.0, "ord-1")  # a replay: the same exact amount
    s = m.slot_holds("USDC")
    assert (s.held[2], s.free[2], s.hold_counts[2], s.budgets[2]) == (Decimal(600), Decimal(100), 1, Decimal(700))
    assert s.held[:2] == (Decimal(0), Decimal(0)) and s.op_id_window >= 16 and s.op_ids_remembered >= 1
    before = books(m)
    assert refusal(m.hold, "USDC", 2, 101, "ord-2") == "exceeds_free"
    assert refusal(m.hold, "USDC", 2, 601, "ord-1") == "op_id_reused"
    assert refusal(m.hold, "USDC", 1, 1, "ord-3") == "not_a_sub_strategy"
    for ttl in (0, -1, 0.0000001, "5", True):
        with pytest.raises(hft.BadInputError, match="ttl"):
            m.hold("USDC", 2, 1, "ord-4", ttl=ttl)
    assert books(m) == before

    [h] = m.holds("USDC")
    assert (h.id, h.index, h.amount, h.original, h.expires_micros, h.expired) == ("ord-1", 2, Decimal(600), Decimal(600), None, False)
    assert h.created_micros > 0 and m.holds("USDC", index=3) == [] and m.holds("USDC", 2) == [h]

    assert m.fill("USDC", "ord-1", 200) == FillOutcome(Decimal(200), Decimal(0), Decimal(0), False)
    # The final fill: 450 + a fee of 60 against the 400 still held: 100 from free, 10 from the pool.
    f = m.fill("USDC", "ord-1", Decimal("450"), fee="60", final=True, op_id="fill-2")
    assert f == FillOutcome(Decimal(400), Decimal(100), Decimal(10), True) and f.overrun == Decimal(110)
    assert m.get("USDC").slots == (Decimal(9290), Decimal(9290), Decimal(0), Decimal(0))
    before = books(m)
    assert m.fill("USDC", "ord-1", 450, fee=60, final=True, op_id="fill-2") == f  # replayed, not applied
    assert refusal(m.fill, "USDC", "ord-1", 451, fee=60, final=True, op_id="fill-2") == "op_id_reused"
    assert refusal(m.void, "USDC", "ord-1") == "unknown_hold"
    assert refusal(m.fill, "USDC", "ord-1", 1) == "unknown_hold"
    assert refusal(m.fill, "USDC", "ord-1", -1) == "negative_fill"
    assert books(m) == before

    m.receive("USDC", 2, 250.0, op_id="recv-1")
    m.receive("USDC", 2, "250", op_id="recv-1")
    assert m.get("USDC").slots == (Decimal(9540), Decimal(9290), Decimal(250), Decimal(0))
    assert refusal(m.receive, "USDC", 2, 251, op_id="recv-1") == "op_id_reused"
    assert refusal(m.receive, "USDC", 2, 0) == "non_positive_amount"

    m.hold("USDC", 2, 50, "ord-5", ttl=60)
    [h] = m.holds("USDC")
    assert h.expires_micros is not None and h.expires_micros - h.created_micros == 60_000_000
    m.void("USDC", "ord-5", op_id="void-5")
    m.void("USDC", "ord-5", op_id="void-5")  # a replay, not "unknown hold"
    assert m.slot_holds("USDC").held[2] == 0 and m.holds("USDC") == []


def test_an_expired_hold_shows_until_the_next_writer(m: StrategyBalanceManager) -> None:
    m.hold("USDC", 2, 100, "short", ttl=0.001)
    time.sleep(0.01)
    [h] = m.holds("USDC")
    assert h.expired and h.expires_micros is not None
    assert m.slot_holds("USDC").held[2] == 100     # still held: readers never write
    m.receive("USDC", 3, 1)                        # any writer of the record voids it first
    assert m.holds("USDC") == [] and m.slot_holds("USDC").held[2] == 0
    assert refusal(m.fill, "USDC", "short", 1) == "unknown_hold"


def test_the_listing_grows_its_buffer(m: StrategyBalanceManager) -> None:
    m.allocate("USDC", 2, 300.0)
    ids = [f"o-{i}" for i in range(40)]  # more than the listing's first buffer (16)
    for i in ids:
        m.hold("USDC", 2, 1, i)
    listed = m.holds("USDC")
    assert sorted(h.id for h in listed) == sorted(ids) and all(h.amount == 1 for h in listed)
    assert m.slot_holds("USDC").hold_counts[2] == len(ids)


def test_op_ids_on_the_operations_of_spec_3(m: StrategyBalanceManager) -> None:
    m.allocate("USDC", 3, 100.0, op_id="alloc-1")        # a float: the hot path's shape, with an id
    m.allocate("USDC", 3, 100.0, op_id="alloc-1")
    m.release("USDC", 3, "40", op_id="rel-1")
    m.release("USDC", 3, Decimal(40), op_id="rel-1")
    m.allocate("USDC", 3, 2, op_id="alloc-2")             # an int
    m.allocate("USDC", 3, 2, op_id="alloc-2")
    m.allocate("USDC", index=3, amount=1.0)               # no id: applied every time
    m.allocate("USDC", index=3, amount=1.0, op_id=None)   # (None, spelled out: the same)
    m.release("USDC", 3, 0.5, op_id=None)
    m.release("USDC", 3, 0.5)
    m.allocate("USDC", 3, 1.0)
    assert m.get("USDC").slots[1:] == (Decimal(9236), Decimal(700), Decimal(64))
    before = snapshot(m, ["USDC"])
    assert refusal(m.allocate, "USDC", 3, 101.0, op_id="alloc-1") == "op_id_reused"
    assert refusal(m.release, "USDC", 3, 1.0, op_id="alloc-2") == "op_id_reused"
    with pytest.raises(hft.RefusedError, match="op id alloc-1 was already used for allocate"):
        m.allocate("USDC", 3, 5, op_id="alloc-1")
    assert snapshot(m, ["USDC"]) == before
    # A refusal with an op id is remembered: the retry gets the same refusal.
    assert refusal(m.release, "USDC", 3, 1000.0, op_id="rel-2") == "exceeds_budget"
    assert refusal(m.release, "USDC", 3, 1000.0, op_id="rel-2") == "exceeds_budget"

    m.set("USDC", "9700", op_id="set-1")
    m.set("USDC", "9700", op_id="set-1")
    m.adjust("USDC", 10.0, op_id="adj-1")
    m.adjust("USDC", 10.0, op_id="adj-1")
    m.set_credit_limit("USDC", 5, op_id="credit-1")
    m.set_strategy_count("USDC", 5, op_id="count-1")
    b = m.get("USDC")
    assert (b.total, b.pool, b.credit_limit, b.strategy_count) == (Decimal(9710), Decimal(8946), Decimal(5), 5)
    assert refusal(m.set, "USDC", "9701", op_id="set-1") == "op_id_reused"
    m.reset("USDC", 500.0, op_id="reset-1")
    m.allocate("USDC", 2, 100.0)
    m.reset("USDC", 500.0, op_id="reset-1")  # not applied again: the allocation stays
    assert m.get("USDC").slots[:3] == (Decimal(500), Decimal(400), Decimal(100))


def test_bad_ids_are_bad_input_and_change_nothing(m: StrategyBalanceManager) -> None:
    m.hold("USDC", 2, 10, "ord-1")
    before = books(m)
    for bad in ("", "x" * 33, "a b", "tab\there", "\x01", "café", "nul\0inside", b"\xff", 7):
        with pytest.raises(hft.BadInputError):
            m.hold("USDC", 2, 1, bad)
        with pytest.raises(hft.BadInputError):
            m.fill("USDC", bad, 1)
        for call in (lambda: m.allocate("USDC", 2, 1.0, op_id=bad), lambda: m.release("USDC", 2, 1.0, op_id=bad),
                     lambda: m.set("USDC", 1, 2, op_id=bad), lambda: m.adjust("USDC", 1, op_id=bad),
                     lambda: m.reset("USDC", 1, op_id=bad), lambda: m.receive("USDC", 2, 1, op_id=bad),
                     lambda: m.void("USDC", "ord-1", op_id=bad), lambda: m.set_credit_limit("USDC", 1, op_id=bad),
                     lambda: m.set_strategy_count("USDC", 6, op_id=bad)):
            with pytest.raises(hft.BadInputError):
                call()
    with pytest.raises(hft.BadInputError, match="1–32 printable ASCII"):
        m.allocate("USDC", 2, 1.0, op_id="x" * 33)
    with pytest.raises(hft.BadInputError):
        m.hold("USDC", 2, 1, None)
    with pytest.raises(TypeError):
        m.allocate("USDC", 2, 1.0, "positional-op-id")  # op_id is keyword-only, on both paths
    assert books(m) == before
    m.hold("USDC", 2, 1, "x" * 32)  # the longest id
    assert {h.id for h in m.holds("USDC")} == {"ord-1", "x" * 32}
