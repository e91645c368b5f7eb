"""The seed's Python examples (tests/seed/*.py: the seed's code with only the import lines
changed), run in order in one namespace as the seed's sections follow each other, asserting the
numbers the seed states."""

from __future__ import annotations

import logging
import runpy
from decimal import Decimal

import pytest

from conftest import SEED

EXAMPLES = ["startup", "buy_sell", "allocate_release", "transfer", "recovery"]


def run_seed(upto: str, **placeholders: object) -> dict:
    """Runs the seed's examples up to and including `upto`, each in the namespace the previous left."""
    namespace: dict = dict(placeholders)
    for name in EXAMPLES[: EXAMPLES.index(upto) + 1]:
        namespace = runpy.run_path(str(SEED / f"{name}.py"), init_globals=namespace)
    return namespace


def test_startup(segment: str) -> None:
    ns = run_seed("startup")
    manager = ns["manager"]
    assert manager.get_balance("USDC") == 10000.0
    assert manager.get_balance("USD") == 5000.0
    usdc = manager.get("USDC")
    assert usdc.strategy_count == 8
    assert usdc.slots == (Decimal(10000), Decimal(10000)) + (Decimal(0),) * 6
    assert usdc.identity_holds


def test_buy_and_sell(segment: str) -> None:
    manager = run_seed("buy_sell")["manager"]
    assert manager.get_balance("USD") == 4500.0     # 5000 − 1000 + 500
    assert manager.get_balance("USDC") == 10500.0   # 10000 + 1000 − 500
    assert manager.get_balance("USDC", index=1) == 10500.0  # the pool absorbed it


def test_allocate_and_release(segment: str) -> None:
    ns = run_seed("allocate_release")
    # The seed's own variables: total, pool, strategy A (2000 − 500), strategy B.
    assert (ns["total"], ns["available"], ns["strategy_a"], ns["strategy_b"]) == (10500.0, 6000.0, 1500.0, 3000.0)
    assert all(type(ns[v]) is float for v in ("total", "available", "strategy_a", "strategy_b"))
    b = ns["manager"].get("USDC")
    assert b.total == b.pool + b.allocated and b.identity_holds


def test_transfer(segment: str) -> None:
    manager = run_seed("transfer")["manager"]
    assert manager.get_balance("USDC") == 11000.0              # + 1000 − 500
    assert manager.get_balance("USDC", index=1) == 6500.0      # the pool took it; budgets stay
    assert [manager.get_balance("USDC", index=i) for i in (2, 3)] == [1500.0, 3000.0]


def test_recovery_repairs_the_total(segment: str, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("seed")
    # The exchange says 10800 where the books say 11000: the pool absorbs −200, budgets stay.
    ns = run_seed("recovery", 从交易所获取的资产=10800.0, logger=logger)
    manager = ns["manager"]
    assert ns["available"] == 6300.0
    assert manager.get_balance("USDC") == 10800.0
    assert [manager.get_balance("USDC", index=i) for i in (2, 3)] == [1500.0, 3000.0]
    assert manager.get("USDC").epoch == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_recovery_resets_when_the_pool_cannot_cover(segment: str, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("seed")
    # The exchange says −600: the pool would be −600 − 4500 = −5100, beyond the credit of 5000.
    ns = run_seed("recovery", 从交易所获取的资产=-600.0, logger=logger)
    manager = ns["manager"]
    assert ns["available"] == -5100.0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["资金错误无法修复，主策略余额为负且超过借贷额度: -5100.0, 借贷额度: 5000.0"]
    b = manager.get("USDC")
    assert b.slots == (Decimal(-600), Decimal(-600)) + (Decimal(0),) * 6  # reset: budgets dropped
    assert b.epoch == 2  # strategies see the new epoch and ask for their budgets again


def test_write_and_get_a_balance_quote(segment: str, capsys: pytest.CaptureFixture) -> None:
    written = runpy.run_path(str(SEED / "write_balance.py"))
    ns = runpy.run_path(str(SEED / "get_balance.py"))
    assert capsys.readouterr().out == "USDT Balance: 10000.0\n"
    quote = ns["usdt_balance"]
    assert quote.mid == 10000.0 and quote.timestamp == quote.localTimestamp > 1_600_000_000_000_000
    # The seed's write_balance with an explicit timestamp, read back through the Pythonic name.
    written["write_balance"](written["Exchange"].KRAKEN, written["Currency"].USDT, 9500.5, local_timestamp=42)
    import shmbalance

    again = shmbalance.get_single_quote("KRAKEN", "BALANCE", "USDT")
    assert (again.timestamp, again.localTimestamp, again.mid) == (42, 42, 9500.5)
