"""The package's exceptions: one base class (a ValueError, as the seed's callers expect of bad
arguments), one subclass per status of the C ABI. The message is the core's, word for word."""

from __future__ import annotations

from typing import Dict, Optional, Type


class ShmBalanceError(ValueError):
    """A call into the books failed; nothing was changed. ``str(e)`` is the core's message."""

    status: int = 0

    def __init__(self, message: str, refusal: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        #: For a refusal, which rule said no (e.g. ``"insufficient_headroom"``); else None.
        self.refusal = refusal


class RefusedError(ShmBalanceError):
    """Refused by the rules (SPEC §3): no record, index out of range, beyond the headroom or the budget …"""

    status = 1


class BadInputError(ShmBalanceError):
    """Unusable input: NaN, infinity, bad decimal text, a bad name."""

    status = 2


class SegmentError(ShmBalanceError):
    """The segment cannot be used (missing, another layout, read-only for a write, full …)."""

    status = 3


class BusyError(ShmBalanceError):
    """The record's lock was held beyond the bound (a stopped process); try again."""

    status = 4


class CorruptError(ShmBalanceError):
    """The segment's data or a lock is damaged."""

    status = 5


class ClosedError(ShmBalanceError):
    """The manager or handle was closed."""

    status = 6


class NotFoundError(ShmBalanceError):
    """Nothing there: no quote was written for that key."""

    status = 7


_BY_STATUS: Dict[int, Type[ShmBalanceError]] = {
    c.status: c for c in (RefusedError, BadInputError, SegmentError, BusyError, CorruptError, ClosedError, NotFoundError)
}

# The core's RefusalCode values (see shmbalance.h, shmbal_last_refusal).
REFUSALS = {
    1: "no_record",
    2: "index_out_of_range",
    3: "not_a_sub_strategy",
    4: "non_positive_amount",
    5: "insufficient_headroom",
    6: "exceeds_budget",
    7: "negative_budget",
    8: "overflow",
    9: "bad_count",
    10: "shrink_over_non_zero",
    11: "bad_amount",
    12: "negative_credit",
    13: "table_full",
}


def error_for(status: int, message: str, refusal: int = 0) -> ShmBalanceError:
    cls = _BY_STATUS.get(status, ShmBalanceError)
    return cls(message, REFUSALS.get(refusal) if refusal else None)
