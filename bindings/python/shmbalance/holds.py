"""Holds, fills and receipts (SPEC §9): the money an open order may spend is *held* inside its
sub-strategy's budget (``free = budget − held``), so two orders never spend the same money and a
restarted strategy finds its open orders' money where it left it. Mixed into
``StrategyBalanceManager``; every call is one call of the C library (``shmbal_hold`` …)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from typing import TYPE_CHECKING, List, Optional, Tuple

from . import _native as n
from .codes import Status
from .errors import BadInputError

if TYPE_CHECKING:
    from ._hot import AmountLike
    from .books import Books


@dataclass(frozen=True)
class FillOutcome:
    """What a fill spent (amount + fee) and where it came from."""

    #: The part the hold covered.
    from_hold: Decimal
    #: An overrun taken from the slot's free budget.
    from_free: Decimal
    #: The rest of an overrun, from the pool (the fill happened on the exchange: never refused for money).
    from_pool: Decimal
    #: The hold is closed (a final fill).
    closed: bool

    @property
    def overrun(self) -> Decimal:
        return self.from_free + self.from_pool


@dataclass(frozen=True)
class Hold:
    """One open hold, as listed."""

    id: str
    index: int
    #: What it still covers.
    amount: Decimal
    #: What it was opened with.
    original: Decimal
    created_micros: int
    #: None without a ttl.
    expires_micros: Optional[int]
    #: The ttl passed; the next writer of the record voids it.
    expired: bool


@dataclass(frozen=True)
class SlotHolds:
    """Per meaningful slot, from one consistent copy: ``budgets`` (the slots), ``held``, ``free``
    (budget − held) and ``hold_counts``; and the record's op-id window."""

    budgets: Tuple[Decimal, ...]
    held: Tuple[Decimal, ...]
    free: Tuple[Decimal, ...]
    hold_counts: Tuple[int, ...]
    op_id_window: int
    op_ids_remembered: int
    op_count: int


class HoldCalls:
    """The hold operations of ``StrategyBalanceManager``. ``id`` is the order's id (1–32 printable
    ASCII characters): it is also the hold's op id, so the same ``hold`` again is a replay."""

    # The manager's, which this mixin uses.
    _books: "Books"
    _lib: ctypes.CDLL
    _exchange: bytes
    if TYPE_CHECKING:

        @staticmethod
        def _index(index: object) -> int: ...

    def hold(self, currency: str, index: int, amount: "AmountLike", id: str, ttl: Optional[float] = None) -> None:
        """Holds ``amount`` (> 0, ≤ the slot's free budget) of sub-strategy ``index`` for the order
        ``id``; ``ttl`` (seconds, > 0): the hold expires then (the next writer voids it)."""
        micros = 0
        if ttl is not None:
            if isinstance(ttl, bool) or not isinstance(ttl, Real):
                raise BadInputError(f"a hold's ttl must be a number of seconds, got {ttl!r}")
            micros = round(ttl * 1_000_000)
            if micros <= 0:  # 0 means "no ttl" in C: refused here in the core's words
                raise BadInputError(f"a hold's ttl must be above 0 (got {micros} µs)")
        self._books.call("shmbal_hold", self._exchange, n.name(currency, "a currency"), self._index(index),
                         n.exact(self._lib, amount), n.id_arg(id, "a hold id"), micros)

    def fill(self, currency: str, id: str, amount: "AmountLike", fee: "AmountLike" = 0, final: bool = False, *,
             op_id: Optional[str] = None) -> FillOutcome:
        """The order ``id`` spent ``amount + fee``: the budget and the total fall by it, the hold by
        as much as it covers, an overrun from the slot's free budget, then the pool. ``final``
        closes the hold (what is left returns to free). Without ``op_id`` a fill is never replayed."""
        if not isinstance(final, bool):
            raise BadInputError(f"final must be a bool, got {final!r}")
        r = n.FillResult()
        self._books.call("shmbal_fill", self._exchange, n.name(currency, "a currency"), n.id_arg(id, "a hold id"),
                         n.exact(self._lib, amount), n.exact(self._lib, fee), int(final), n.op_id_arg(op_id), ctypes.byref(r))
        return FillOutcome(r.from_hold.decimal(), r.from_free.decimal(), r.from_pool.decimal(), bool(r.closed))

    def void(self, currency: str, id: str, *, op_id: Optional[str] = None) -> None:
        """Closes the hold ``id``: all it still keeps returns to the slot's free budget."""
        self._books.call("shmbal_void", self._exchange, n.name(currency, "a currency"), n.id_arg(id, "a hold id"),
                         n.op_id_arg(op_id))

    def receive(self, currency: str, index: int, amount: "AmountLike", *, op_id: Optional[str] = None) -> None:
        """The proceeds of a fill: sub-strategy ``index``'s budget and the total rise by ``amount``
        (> 0); the pool is not touched."""
        self._books.call("shmbal_receive", self._exchange, n.name(currency, "a currency"), self._index(index),
                         n.exact(self._lib, amount), n.op_id_arg(op_id))

    def holds(self, currency: str, index: Optional[int] = None) -> List[Hold]:
        """The open holds (of slot ``index``, or all), consistent with one published state."""
        cur = n.name(currency, "a currency")
        slot = -1 if index is None else self._index(index)
        count = ctypes.c_size_t(0)
        capacity = 16
        while True:  # the library says how many it needs; holds opened meanwhile may ask again
            buffer = (n.HoldInfo * capacity)()
            rc = self._lib.shmbal_holds(self._books.handle, self._exchange, cur, slot, buffer, capacity, ctypes.byref(count))
            if rc != Status.BUFFER_TOO_SMALL:
                self._books.check(rc)
                break
            capacity = count.value + 16
        return [
            Hold(id=n.text(e.id), index=e.index, amount=e.amount.decimal(), original=e.original.decimal(),
                 created_micros=e.created_micros, expires_micros=e.expires_micros or None, expired=bool(e.expired))
            for e in buffer[: count.value]
        ]

    def slot_holds(self, currency: str) -> SlotHolds:
        """Per slot: budget, held, free and hold count, from one consistent copy."""
        s = n.SlotHolds()
        self._books.call("shmbal_get_slot_holds", self._exchange, n.name(currency, "a currency"), ctypes.byref(s))
        k = s.strategy_count
        return SlotHolds(
            budgets=tuple(s.budget[i].decimal() for i in range(k)),
            held=tuple(s.held[i].decimal() for i in range(k)),
            free=tuple(s.free[i].decimal() for i in range(k)),
            hold_counts=tuple(s.hold_count[i] for i in range(k)),
            op_id_window=s.op_id_window,
            op_ids_remembered=s.op_ids_remembered,
            op_count=s.op_count,
        )
