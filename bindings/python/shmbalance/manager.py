"""The seed's ``StrategyBalanceManager``: one exchange's books, with the seed's methods and keywords."""

from __future__ import annotations

import ctypes
from decimal import Decimal
from typing import TYPE_CHECKING, Dict, Optional, Union

from . import _native as n
from ._hot import AmountLike

if TYPE_CHECKING:
    from ._hot import CtypesHot as Hot
else:
    from ._hot import Hot
from .books import Books, ReconcileOutcome, StrategyBalance, check_count
from .errors import BadInputError, RefusedError
from .holds import HoldCalls


class StrategyBalanceManager(Hot, HoldCalls):
    """Strategy balances of one exchange account, shared by every process attached to ``segment``.

    ``slots[0]`` is the account's total in a currency, ``slots[1]`` the pool (money no
    sub-strategy holds), ``slots[2:]`` the sub-strategies' budgets; ``total == pool + budgets``
    holds exactly after every call, in every process. Refusals and bad input raise
    ``ShmBalanceError`` subclasses (``ValueError``) with the core's message and change nothing.

    ``strategy_count`` is the number of slots of records this manager's ``reset`` creates (an
    existing record keeps its count). ``segment``: else ``$SHMBAL_SEGMENT``, else ``/dev/shm/shmbal``.

    ``allocate``, ``release`` and ``get_balance`` come from the base class ``Hot``: the C
    extension when installed (the wheel's), else ctypes (``shmbalance.EXTENSION`` says which);
    holds, fills and receipts from ``HoldCalls``. Every mutating method takes ``op_id=`` (SPEC §9):
    a retry with the same id and arguments is not applied again.
    """

    def __init__(self, exchange: str, strategy_count: int = 8, segment: Optional[str] = None, *, read_only: bool = False) -> None:
        self.strategy_count = check_count(strategy_count)
        self._exchange = n.name(exchange, "an exchange")
        self._books = Books(segment, read_only=read_only)
        self._lib = self._books._lib
        self._handle = self._books.handle
        # currency as given -> record handle, filled on first use of an existing record (and
        # handed to the hot base, `_cache_record`).
        self._records: Dict[object, n.RecordHandle] = {}

    # ---- the seed's methods -------------------------------------------------------------------

    def reset(self, currency: str, balance: AmountLike, *, op_id: Optional[str] = None) -> None:
        """total = pool = balance, every budget 0 (the sub-strategies must ask again; open holds
        are kept); creates the record with ``strategy_count`` slots when missing."""
        cur = n.name(currency, "a currency")
        count = 0 if self._record(currency) is not None else self.strategy_count
        self._call_amount("shmbal_reset", cur, balance, count, op_id=op_id)

    def set(self, currency: str, amount: AmountLike, index: int = 0, *, op_id: Optional[str] = None) -> None:
        """slots[index] = amount, then rebalance: a change to the total or a budget is absorbed by
        the pool; a change to the pool moves the total with it."""
        self._call_amount("shmbal_set", n.name(currency, "a currency"), amount, self._index(index), op_id=op_id)

    def adjust(self, currency: str, delta: AmountLike, index: int = 0, *, op_id: Optional[str] = None) -> None:
        """slots[index] += delta, then rebalance as ``set`` does (a fill, a transfer, a deposit)."""
        self._call_amount("shmbal_adjust", n.name(currency, "a currency"), delta, self._index(index), op_id=op_id)

    # allocate(currency, index, amount), release(currency, index, amount) and
    # get_balance(currency, index=0, exact=False) are the base class's (`Hot`); what they do not
    # take fast comes here:

    def _allocate_slow(self, currency: str, index: int, amount: AmountLike, *, op_id: Optional[str] = None) -> None:
        self._move("allocate", currency, index, amount, op_id)

    def _release_slow(self, currency: str, index: int, amount: AmountLike, *, op_id: Optional[str] = None) -> None:
        self._move("release", currency, index, amount, op_id)

    def get(self, currency: str) -> StrategyBalance:
        """A consistent copy of the whole record, amounts as exact ``Decimal``."""
        info = n.RecordInfo()
        rec = self._record(currency)
        if rec is not None:
            rc = self._lib.shmbal_record_get(rec, ctypes.byref(info))
            if rc:
                raise n.fail(self._lib, rc)
        else:
            self._books.call("shmbal_get", self._exchange, n.name(currency, "a currency"), ctypes.byref(info))
        return StrategyBalance.from_info(info)

    def is_fenced(self, currency: str) -> bool:
        """Whether allocate is refused on the record because its host's agent has not reached the
        ledger within its lease's time-to-live (SPEC §10; ``RefusedError`` with refusal
        ``"fenced"`` meanwhile). Release, hold, fill and the rest go on. A record that does not
        exist is refused (``"no_record"``) like every other read."""
        rec = self._record(currency)
        if rec is None:
            # No record: the lookup by key raises the refusal, worded by the library.
            self._books.call("shmbal_record_find", self._exchange, n.name(currency, "a currency"), ctypes.byref(n.RecordHandle()))
            rec = self._record(currency)  # it was made meanwhile
            if rec is None:
                raise n.fail(self._lib, RefusedError.status)
        state = n.RecordState()
        rc = self._lib.shmbal_record_read(rec, ctypes.byref(state))
        if rc:
            raise n.fail(self._lib, rc)
        return bool(state.fenced)

    def _get_balance_slow(self, currency: str, index: int = 0, exact: bool = False) -> Union[float, Decimal]:
        # Fresh out-values per call: ctypes releases the GIL during the call, so buffers kept on the
        # manager would be shared by threads calling at once.
        value = ctypes.c_double()
        raw = n.Amount()
        rec = self._record(currency)
        if rec is not None:
            self._books.check(self._lib.shmbal_record_balance(rec, self._index(index), ctypes.byref(value), ctypes.byref(raw)))
        else:
            self._books.call("shmbal_balance", self._exchange, n.name(currency, "a currency"), self._index(index),
                             ctypes.byref(value), ctypes.byref(raw))
        return raw.decimal() if exact else value.value

    # ---- beyond the seed ----------------------------------------------------------------------

    def reconcile(self, currency: str, exchange_balance: AmountLike) -> ReconcileOutcome:
        """The seed's recovery as one atomic step: set the total to the exchange's balance (the
        pool absorbs the difference, budgets stay); if then pool + credit < 0, reset."""
        result = n.ReconcileResult()
        self._call_amount("shmbal_reconcile", n.name(currency, "a currency"), exchange_balance, ctypes.byref(result))
        return ReconcileOutcome.from_result(result)

    def set_credit_limit(self, currency: str, credit: AmountLike, *, op_id: Optional[str] = None) -> None:
        """What ``allocate`` may lend beyond the pool (≥ 0)."""
        self._call_amount("shmbal_set_credit_limit", n.name(currency, "a currency"), credit, op_id=op_id)

    def set_strategy_count(self, currency: str, count: int, *, op_id: Optional[str] = None) -> None:
        """The number of meaningful slots: grows any time, shrinks only over zero slots."""
        args = (self._exchange, n.name(currency, "a currency"), self._index(count))
        if op_id is None:
            self._books.call("shmbal_set_strategy_count", *args)
        else:
            self._books.call("shmbal_set_strategy_count_op", *args, n.op_id_arg(op_id))

    def set_name(self, currency: str, index: int, name: str) -> None:
        """Names slot ``index`` (printable ASCII without spaces, ≤ 15 characters; "" clears it)."""
        self._books.call("shmbal_set_name", self._exchange, n.name(currency, "a currency"), self._index(index),
                         n.name(name, "a slot name"))

    @property
    def exchange(self) -> str:
        return self._exchange.decode("ascii").upper()

    @property
    def segment(self) -> str:
        """The segment's path."""
        return self._books.path

    def close(self) -> None:
        """Detaches from the segment; later calls raise ``ClosedError``."""
        self._books.close()
        self._forget_records()

    def __enter__(self) -> "StrategyBalanceManager":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._books.closed else "open"
        return f"StrategyBalanceManager({self.exchange!r}, strategy_count={self.strategy_count}, {state})"

    # ---- plumbing -----------------------------------------------------------------------------

    def _record(self, currency: object) -> Optional[n.RecordHandle]:
        """The cached record handle for ``currency``, looked up once it exists (records are never
        removed, so a handle stays good until ``close``)."""
        rec = self._records.get(currency)
        if rec is None:
            rec = n.RecordHandle()
            rc = self._lib.shmbal_record_find(self._handle, self._exchange, n.name(currency, "a currency"), ctypes.byref(rec))
            if rc == RefusedError.status:
                return None  # no record yet; the by-key call words the refusal
            if rc:
                raise n.fail(self._lib, rc)
            self._records[currency] = rec
            self._cache_record(currency, rec.books, rec.slot)
        return rec

    def _move(self, op: str, currency: str, index: int, amount: AmountLike, op_id: Optional[str] = None) -> None:
        index = self._index(index)
        is_text, value = n.amount_arg(amount)
        # With an op id: the `_op` variant of the same function, the id as its last argument.
        suffix, extra = ("", ()) if op_id is None else ("_op", (n.op_id_arg(op_id),))
        rec = self._record(currency)
        if rec is not None:
            rc = getattr(self._lib, f"shmbal_record_{op}{'_text' if is_text else ''}{suffix}")(rec, index, value, *extra)
            if rc:
                raise n.fail(self._lib, rc)
        else:
            self._books.call(f"shmbal_{op}{'_text' if is_text else ''}{suffix}", self._exchange,
                             n.name(currency, "a currency"), index, value, *extra)

    def _call_amount(self, function: str, currency: bytes, amount: AmountLike, *rest: object, op_id: Optional[str] = None) -> None:
        is_text, value = n.amount_arg(amount)
        function += "_text" if is_text else ""
        if op_id is None:
            self._books.call(function, self._exchange, currency, value, *rest)
        else:
            self._books.call(function + "_op", self._exchange, currency, value, *rest, n.op_id_arg(op_id))

    @staticmethod
    def _index(index: object) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise BadInputError(f"an index must be an int, got {index!r}")
        if not -(2**31) <= index < 2**31:
            raise BadInputError(f"index {index} is out of range (a slot index is 0…63)")
        return index
