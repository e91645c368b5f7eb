"""The C ABI's codes, mirrored from ``shmbalance.h`` (its enums ``shmbal_status``,
``shmbal_refusal``, ``shmbal_open_mode``, ``shmbal_reconcile_kind``): the header is the one
source of truth, and ``Tests/BindingsTests/CodesTests.swift`` checks these against it (names and
values), so a code added there fails the tests until it is added here."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """What a call did (``shmbal_status``, ``SHMBAL_<NAME>``)."""

    OK = 0
    REFUSED = 1
    BAD_INPUT = 2
    SEGMENT = 3
    BUSY = 4
    CORRUPT = 5
    CLOSED = 6
    NOT_FOUND = 7
    BUFFER_TOO_SMALL = 8


class Refusal(enum.IntEnum):
    """Which rule refused (``shmbal_refusal``, ``SHMBAL_REFUSAL_<NAME>``; the core's RefusalCode).
    ``RefusedError.refusal`` is the member's name in lower case (``"insufficient_headroom"``)."""

    NONE = 0
    NO_RECORD = 1
    INDEX_OUT_OF_RANGE = 2
    NOT_A_SUB_STRATEGY = 3
    NON_POSITIVE_AMOUNT = 4
    INSUFFICIENT_HEADROOM = 5
    EXCEEDS_BUDGET = 6
    NEGATIVE_BUDGET = 7
    OVERFLOW = 8
    BAD_COUNT = 9
    SHRINK_OVER_NON_ZERO = 10
    BAD_AMOUNT = 11
    NEGATIVE_CREDIT = 12
    TABLE_FULL = 13
    EXCEEDS_FREE = 14
    BELOW_HELD = 15
    HOLD_TABLE_FULL = 16
    HOLD_ID_IN_USE = 17
    UNKNOWN_HOLD = 18
    NEGATIVE_FILL = 19
    OP_ID_REUSED = 20
    FENCED = 21


class OpenMode(enum.IntEnum):
    """``shmbal_open_mode`` (``SHMBAL_OPEN_<NAME>``)."""

    CREATE = 0
    READ_WRITE = 1
    READ_ONLY = 2


class ReconcileKind(enum.IntEnum):
    """What ``reconcile`` did (``shmbal_reconcile_kind``, ``SHMBAL_RECONCILE_<NAME>``);
    ``ReconcileOutcome.kind`` is the member's name in lower case (``"repaired"``)."""

    IN_SYNC = 0
    REPAIRED = 1
    RESET = 2
    CREATED = 3
