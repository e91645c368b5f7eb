"""An open segment (a handle of the C library) and the values read from it."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Dict, Optional, Tuple

from . import _native as n
from .codes import ReconcileKind
from .errors import BadInputError


@dataclass(frozen=True)
class StrategyBalance:
    """A consistent copy of one record (the seed's ``StrategyBalance``), amounts exact."""

    exchange: str
    currency: str
    strategy_count: int
    #: ``slots[0]`` the total, ``slots[1]`` the pool, ``slots[2:]`` the sub-strategies' budgets.
    slots: Tuple[Decimal, ...]
    names: Tuple[str, ...]
    credit_limit: Decimal
    headroom: Decimal
    identity_holds: bool
    #: +1 on every reset: a changed epoch means the budgets were dropped and must be asked for again.
    epoch: int
    op_count: int
    last_index: int
    last_change_micros: int
    last_change_pid: int
    slot_changed_micros: Tuple[int, ...] = field(repr=False)

    @property
    def strategies(self) -> Tuple[Decimal, ...]:
        """The seed's name for the slots."""
        return self.slots

    @property
    def total(self) -> Decimal:
        return self.slots[0]

    @property
    def pool(self) -> Decimal:
        return self.slots[1]

    @property
    def allocated(self) -> Decimal:
        """The sum of the budgets, exact (amounts have up to 36 digits: more than Decimal's default 28)."""
        with localcontext() as ctx:
            ctx.prec = 80
            return sum(self.slots[2:], Decimal(0))

    @staticmethod
    def from_info(info: n.RecordInfo) -> "StrategyBalance":
        count = info.strategy_count
        return StrategyBalance(
            exchange=n.text(info.exchange),
            currency=n.text(info.currency),
            strategy_count=count,
            slots=tuple(info.exact_slots[i].decimal() for i in range(count)),
            names=tuple(n.text(info.names[i].value) for i in range(count)),
            credit_limit=info.exact_credit_limit.decimal(),
            headroom=info.exact_headroom.decimal(),
            identity_holds=bool(info.identity_holds),
            epoch=info.epoch,
            op_count=info.op_count,
            last_index=info.last_index,
            last_change_micros=info.last_change_micros,
            last_change_pid=info.last_change_pid,
            slot_changed_micros=tuple(info.slot_changed_micros[i] for i in range(count)),
        )




@dataclass(frozen=True)
class ReconcileOutcome:
    """What ``reconcile`` did: ``kind`` is ``"in_sync"``, ``"repaired"`` (the pool absorbed
    ``delta``; budgets stayed), ``"reset"`` (the repair would have left pool + credit below 0;
    ``dropped`` budgets must be asked for again) or ``"created"`` (there was no record)."""

    kind: str
    delta: Decimal
    pool: Optional[Decimal]
    dropped: Dict[int, Decimal]
    description: str

    @staticmethod
    def from_result(r: n.ReconcileResult) -> "ReconcileOutcome":
        try:
            kind = ReconcileKind(r.kind).name.lower()
        except ValueError:
            kind = str(r.kind)
        return ReconcileOutcome(
            kind=kind,
            delta=r.delta.decimal(),
            pool=r.pool.decimal() if kind in ("repaired", "reset") else None,
            dropped={r.dropped_index[i]: r.dropped_amount[i].decimal() for i in range(r.dropped_count)},
            description=r.description.decode("utf-8", "replace"),
        )


class Books:
    """One open segment: ``segment`` (else ``$SHMBAL_SEGMENT``, else ``/dev/shm/shmbal``),
    created if missing unless ``read_only`` or ``create=False``."""

    def __init__(self, segment: Optional[str] = None, *, read_only: bool = False, create: bool = True) -> None:
        self._lib = n.library()
        handle = n.BooksHandle()
        mode = n.OPEN_READ_ONLY if read_only else (n.OPEN_CREATE if create else n.OPEN_READ_WRITE)
        rc = self._lib.shmbal_open(n.env_segment(segment), mode, ctypes.byref(handle))
        if rc:
            raise n.fail(self._lib, rc)
        self.handle = handle
        self.read_only = read_only
        self.closed = False

    def call(self, function: str, *args: object) -> None:
        """Calls ``function(handle, *args)`` and raises the package's exception on failure."""
        self.check(getattr(self._lib, function)(self.handle, *args))

    def check(self, rc: int) -> None:
        """Raises the package's exception for a failed call's status."""
        if rc:
            raise n.fail(self._lib, rc)

    @property
    def path(self) -> str:
        buffer = ctypes.create_string_buffer(4096)
        self.call("shmbal_segment_path", buffer, len(buffer))
        return buffer.value.decode("utf-8", "replace")

    def close(self) -> None:
        """Unmaps the segment. Later calls raise ``ClosedError``; closing twice is harmless."""
        if not self.closed:
            self.closed = True
            self._lib.shmbal_close(self.handle)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be gone
            pass


def check_count(strategy_count: object) -> int:
    if isinstance(strategy_count, bool) or not isinstance(strategy_count, int) or not 2 <= strategy_count <= 64:
        raise BadInputError(f"strategy count {strategy_count!r} is outside 2…64")
    return strategy_count
