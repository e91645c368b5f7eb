"""The package's exceptions: one base class, one subclass per status of the C ABI
(``codes.Status``). The message is the core's, word for word.

Every one is a ``ValueError`` (as the seed's callers expect of refusals and bad arguments), and
some are also what Python code catches for their kind: a busy record is a ``TimeoutError``, an
unusable segment an ``OSError``."""

from __future__ import annotations

from typing import Dict, Optional, Type

from .codes import Refusal, Status


class ShmBalanceError(ValueError):
    """A call into the books failed; nothing was changed. ``str(e)`` is the core's message."""

    status: Optional[Status] = None

    def __init__(self, message: str, refusal: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        #: For a refusal, which rule said no (e.g. ``"insufficient_headroom"``: a
        #: ``codes.Refusal`` name in lower case); else None.
        self.refusal = refusal

    def __str__(self) -> str:
        return self.message


class RefusedError(ShmBalanceError):
    """Refused by the rules (SPEC §3): no record, index out of range, beyond the headroom or the budget …"""

    status = Status.REFUSED


class BadInputError(ShmBalanceError):
    """Unusable input: NaN, infinity, bad decimal text, a bad name."""

    status = Status.BAD_INPUT


class SegmentError(ShmBalanceError, OSError):
    """The segment cannot be used (missing, another layout, read-only for a write, full …); also an ``OSError``."""

    status = Status.SEGMENT


class BusyError(ShmBalanceError, TimeoutError):
    """The record's lock was held beyond the bound (a stopped process); nothing changed, try
    again. Also a ``TimeoutError``."""

    status = Status.BUSY


class CorruptError(ShmBalanceError):
    """The segment's data or a lock is damaged."""

    status = Status.CORRUPT


class ClosedError(ShmBalanceError):
    """The manager or handle was closed."""

    status = Status.CLOSED


class NotFoundError(ShmBalanceError):
    """Nothing there: no quote was written for that key."""

    status = Status.NOT_FOUND


class BufferTooSmallError(ShmBalanceError):
    """A caller's array was too small for a listing (the package sizes its own and never raises it)."""

    status = Status.BUFFER_TOO_SMALL


#: The exception class for each status but OK (CodesTests checks that every status has one).
BY_STATUS: Dict[Status, Type[ShmBalanceError]] = {
    c.status: c for c in (RefusedError, BadInputError, SegmentError, BusyError, CorruptError, ClosedError, NotFoundError,
              BufferTooSmallError)
}


def refusal_name(code: int) -> Optional[str]:
    """``"insufficient_headroom"`` for 5; None for 0; ``"refusal_N"`` for a code this package does not know."""
    try:
        return None if code == Refusal.NONE else Refusal(code).name.lower()
    except ValueError:
        return f"refusal_{code}"


def error_for(status: int, message: str, refusal: int = 0) -> ShmBalanceError:
    try:
        cls = BY_STATUS.get(Status(status), ShmBalanceError)
    except ValueError:
        cls = ShmBalanceError
    return cls(message, refusal_name(refusal) if refusal else None)
