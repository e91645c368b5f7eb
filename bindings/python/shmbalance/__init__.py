"""ShmBalance for Python: exact strategy-balance books in shared memory.

    from shmbalance import StrategyBalanceManager, Exchange, Currency

    manager = StrategyBalanceManager(Exchange.KRAKEN, strategy_count=8)
    manager.reset(Currency.USDC, 10000.0)
    manager.allocate(Currency.USDC, index=2, amount=2000.0)
    manager.get_balance(Currency.USDC, index=1)   # 8000.0

Python over libshmbalance (ctypes), the same core the ``shmbal`` CLI and the dashboard use, with
the hot calls (allocate, release, get_balance) in a small C extension when the wheel installed
one (``EXTENSION`` is True then); see the README's "Install for C, C++ and Python".
"""

from ._hot import EXTENSION
from .books import Books, ReconcileOutcome, StrategyBalance
from .codes import OpenMode, ReconcileKind, Refusal, Status
from .errors import (
    BadInputError,
    BufferTooSmallError,
    BusyError,
    ClosedError,
    CorruptError,
    NotFoundError,
    RefusedError,
    SegmentError,
    ShmBalanceError,
)
from .holds import FillOutcome, Hold, SlotHolds
from .manager import AmountLike, StrategyBalanceManager
from .names import Currency, DataType, Exchange
from .quotes import SingleQuote, getSingleQuoteCurrency, get_single_quote, writeSingleQuoteCurrency, write_single_quote

__version__ = "0.2.0"

__all__ = [
    "StrategyBalanceManager", "StrategyBalance", "ReconcileOutcome", "Books", "AmountLike", "FillOutcome", "Hold", "SlotHolds",
    "SingleQuote", "write_single_quote", "get_single_quote", "writeSingleQuoteCurrency", "getSingleQuoteCurrency",
    "Exchange", "Currency", "DataType",
    "ShmBalanceError", "RefusedError", "BadInputError", "SegmentError", "BusyError", "CorruptError",
    "ClosedError", "NotFoundError", "BufferTooSmallError", "Status", "Refusal", "OpenMode", "ReconcileKind", "EXTENSION",
]
