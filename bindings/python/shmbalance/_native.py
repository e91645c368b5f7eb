"""ctypes declarations of libshmbalance (Sources/CShmBalance/include/shmbalance.h).

The library is found as ``$SHMBAL_LIBRARY`` when set, else the ``libshmbalance.so.1`` (or
``libshmbalance.so``) installed beside this package (the wheel ships one), else
``libshmbalance.so.1`` on the dynamic loader's path. It is loaded on first use, so the constants
of the package work without it. The C extension ``_speedups``, when present, is handed the
addresses of the functions it calls from this same library.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_uint8, c_uint64
from decimal import Decimal
from pathlib import Path
from typing import Optional

from .codes import OpenMode, Status
from .errors import BadInputError, ShmBalanceError, error_for

ABI_VERSION = 1
LIBRARY_NAMES = ("libshmbalance.so.1", "libshmbalance.so")

OK = Status.OK
OPEN_CREATE = OpenMode.CREATE
OPEN_READ_WRITE = OpenMode.READ_WRITE
OPEN_READ_ONLY = OpenMode.READ_ONLY

# 10^18: amounts are stored as integers in units of 10^-18.
SCALE = 10**18


class Amount(Structure):
    """shmbal_amount: a signed 128-bit fixed-point value as two 64-bit halves."""

    _fields_ = [("lo", c_uint64), ("hi", c_int64)]

    def raw(self) -> int:
        return (self.hi << 64) | self.lo

    def decimal(self) -> Decimal:
        return decimal_from_raw(self.raw())


class BooksHandle(Structure):
    _fields_ = [("id", c_uint64)]


class RecordHandle(Structure):
    _fields_ = [("books", c_uint64), ("slot", c_uint64)]


class RecordInfo(Structure):
    _fields_ = [
        ("exchange", c_char * 16),
        ("currency", c_char * 16),
        ("strategy_count", c_int32),
        ("last_index", c_int32),
        ("epoch", c_uint64),
        ("op_count", c_uint64),
        ("last_change_micros", c_int64),
        ("last_change_pid", c_int32),
        ("identity_holds", c_int32),
        ("credit_limit", c_double),
        ("headroom", c_double),
        ("slots", c_double * 64),
        ("exact_credit_limit", Amount),
        ("exact_headroom", Amount),
        ("exact_slots", Amount * 64),
        ("names", (c_char * 16) * 64),
        ("slot_changed_micros", c_int64 * 64),
    ]


class RecordState(Structure):
    """``shmbal_record_state``: the money state of one consistent read, and the fence."""

    _fields_ = [
        ("strategy_count", c_int64),
        ("last_index", c_int64),
        ("epoch", c_uint64),
        ("op_count", c_uint64),
        ("last_change_micros", c_int64),
        ("last_change_pid", c_int32),
        ("fenced", c_uint8),
        ("reserved", c_uint8 * 3),
        ("credit_limit", Amount),
        ("slots", Amount * 64),
    ]


class ReconcileResult(Structure):
    _fields_ = [
        ("kind", c_int32),
        ("dropped_count", c_int32),
        ("delta", Amount),
        ("pool", Amount),
        ("dropped_index", c_int32 * 62),
        ("dropped_amount", Amount * 62),
        ("description", c_char * 256),
    ]


class FillResult(Structure):
    _fields_ = [("from_hold", Amount), ("from_free", Amount), ("from_pool", Amount), ("closed", c_int32), ("reserved", c_int32)]


class HoldInfo(Structure):
    _fields_ = [
        ("id", c_char * 40),
        ("index", c_int32),
        ("expired", c_int32),
        ("amount", Amount),
        ("original", Amount),
        ("created_micros", c_int64),
        ("expires_micros", c_int64),
    ]


class SlotHolds(Structure):
    _fields_ = [
        ("strategy_count", c_int32),
        ("op_id_window", c_int32),
        ("op_ids_remembered", c_int32),
        ("reserved", c_int32),
        ("op_count", c_uint64),
        ("budget", Amount * 64),
        ("held", Amount * 64),
        ("free", Amount * 64),
        ("hold_count", c_int32 * 64),
    ]


class Quote(Structure):
    _fields_ = [("timestamp", c_int64), ("local_timestamp", c_int64), ("mid", c_double)]


# The header's layout, checked once at load (the C side checks it at compile time).
assert ctypes.sizeof(RecordInfo) == 3192 and ctypes.sizeof(ReconcileResult) == 1536 and ctypes.sizeof(RecordState) == 1088
assert ctypes.sizeof(FillResult) == 56 and ctypes.sizeof(HoldInfo) == 96 and ctypes.sizeof(SlotHolds) == 3352

_B, _R, _S, _I, _D, _P = BooksHandle, RecordHandle, c_char_p, c_int, c_double, POINTER

# name: (argument types, result type); every function returning int returns a status.
_SIGNATURES = {
    "shmbal_abi_version": ([], c_int),
    "shmbal_last_error": ([], c_char_p),
    "shmbal_last_error_code": ([], c_int),
    "shmbal_last_refusal": ([], c_int),
    "shmbal_amount_from_double": ([_D, _P(Amount)], c_int),
    "shmbal_amount_parse": ([_S, _P(Amount)], c_int),
    "shmbal_amount_format": ([Amount, c_char_p, c_size_t], c_int),
    "shmbal_amount_to_double": ([Amount], c_double),
    "shmbal_open": ([_S, _I, _P(BooksHandle)], c_int),
    "shmbal_close": ([_B], c_int),
    "shmbal_segment_path": ([_B, c_char_p, c_size_t], c_int),
    "shmbal_reset": ([_B, _S, _S, _D, _I], c_int),
    "shmbal_reset_text": ([_B, _S, _S, _S, _I], c_int),
    "shmbal_set": ([_B, _S, _S, _D, _I], c_int),
    "shmbal_set_text": ([_B, _S, _S, _S, _I], c_int),
    "shmbal_adjust": ([_B, _S, _S, _D, _I], c_int),
    "shmbal_adjust_text": ([_B, _S, _S, _S, _I], c_int),
    "shmbal_allocate": ([_B, _S, _S, _I, _D], c_int),
    "shmbal_allocate_text": ([_B, _S, _S, _I, _S], c_int),
    "shmbal_release": ([_B, _S, _S, _I, _D], c_int),
    "shmbal_release_text": ([_B, _S, _S, _I, _S], c_int),
    "shmbal_get": ([_B, _S, _S, _P(RecordInfo)], c_int),
    "shmbal_balance": ([_B, _S, _S, _I, _P(c_double), _P(Amount)], c_int),
    "shmbal_balance_text": ([_B, _S, _S, _I, c_char_p, c_size_t], c_int),
    "shmbal_reconcile": ([_B, _S, _S, _D, _P(ReconcileResult)], c_int),
    "shmbal_reconcile_text": ([_B, _S, _S, _S, _P(ReconcileResult)], c_int),
    "shmbal_set_credit_limit": ([_B, _S, _S, _D], c_int),
    "shmbal_set_credit_limit_text": ([_B, _S, _S, _S], c_int),
    "shmbal_set_strategy_count": ([_B, _S, _S, _I], c_int),
    "shmbal_set_name": ([_B, _S, _S, _I, _S], c_int),
    "shmbal_record_find": ([_B, _S, _S, _P(RecordHandle)], c_int),
    "shmbal_record_allocate": ([_R, _I, _D], c_int),
    "shmbal_record_allocate_text": ([_R, _I, _S], c_int),
    "shmbal_record_allocate_exact": ([_R, _I, Amount], c_int),
    "shmbal_record_release": ([_R, _I, _D], c_int),
    "shmbal_record_release_text": ([_R, _I, _S], c_int),
    "shmbal_record_release_exact": ([_R, _I, Amount], c_int),
    "shmbal_record_balance": ([_R, _I, _P(c_double), _P(Amount)], c_int),
    "shmbal_record_get": ([_R, _P(RecordInfo)], c_int),
    "shmbal_record_read": ([_R, _P(RecordState)], c_int),
    "shmbal_hold": ([_B, _S, _S, _I, Amount, _S, c_int64], c_int),
    "shmbal_fill": ([_B, _S, _S, _S, Amount, Amount, _I, _S, _P(FillResult)], c_int),
    "shmbal_void": ([_B, _S, _S, _S, _S], c_int),
    "shmbal_receive": ([_B, _S, _S, _I, Amount, _S], c_int),
    "shmbal_holds": ([_B, _S, _S, _I, _P(HoldInfo), c_size_t, _P(c_size_t)], c_int),
    "shmbal_get_slot_holds": ([_B, _S, _S, _P(SlotHolds)], c_int),
    "shmbal_quote_write": ([_B, _S, _S, _S, _P(Quote)], c_int),
    "shmbal_quote_get": ([_B, _S, _S, _S, _P(Quote)], c_int),
}

# The `_op` variants: the same arguments and one more, the op id (NULL: none).
for _name in ("reset", "reset_text", "set", "set_text", "adjust", "adjust_text", "allocate", "allocate_text", "release",
              "release_text", "set_credit_limit", "set_credit_limit_text", "set_strategy_count", "record_allocate",
              "record_allocate_text", "record_allocate_exact", "record_release", "record_release_text", "record_release_exact"):
    _SIGNATURES[f"shmbal_{_name}_op"] = (_SIGNATURES[f"shmbal_{_name}"][0] + [_S], c_int)

_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None
_unchecked: Optional[ctypes.CDLL] = None


def _candidates() -> list:
    env = os.environ.get("SHMBAL_LIBRARY")
    if env:
        return [env]
    for name in LIBRARY_NAMES:
        beside = Path(__file__).resolve().parent / name
        if beside.exists():
            return [str(beside)]
    return list(LIBRARY_NAMES)


def library() -> ctypes.CDLL:
    """The loaded C library (loaded and checked on first use)."""
    global _library
    if _library is not None:
        return _library
    with _lock:
        if _library is None:
            candidates = _candidates()
            lib = None
            for path in candidates:
                try:
                    lib = ctypes.CDLL(path)
                    break
                except OSError as e:
                    failure = e
            if lib is None:
                path = " or ".join(candidates)
                e = failure
                raise ShmBalanceError(
                    f"cannot load {path}: {e} (install the wheel, which carries the library, or set "
                    f"$SHMBAL_LIBRARY to a libshmbalance.so.1: see the README, 'Install for C, C++ and Python')"
                ) from None
            try:
                for name, (args, result) in _SIGNATURES.items():
                    fn = getattr(lib, name)
                    fn.argtypes = args
                    fn.restype = result
            except AttributeError as e:
                raise ShmBalanceError(f"{path} is older than this package: {e}") from None
            version = lib.shmbal_abi_version()
            if version != ABI_VERSION:
                raise ShmBalanceError(f"{path} has C ABI version {version}; this package needs version {ABI_VERSION}")
            global _unchecked, _path
            _unchecked = ctypes.CDLL(path)
            _path = path
            _bind_extension(lib)
            _library = lib
    return _library


_path: Optional[str] = None


def loaded_path() -> Optional[str]:
    """The path the library was loaded from (None before the first call)."""
    return _path


def _bind_extension(lib: ctypes.CDLL) -> None:
    """Hands the C extension (when the package uses it) the functions it calls, from this library."""
    from . import _hot

    if not _hot.EXTENSION:
        return
    from . import _speedups  # type: ignore[attr-defined]

    def address(name: str) -> int:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0

    _speedups.bind(address("shmbal_record_allocate"), address("shmbal_record_release"),
                   address("shmbal_record_allocate_exact"), address("shmbal_record_release_exact"),
                   address("shmbal_record_balance"), error)


def error(status: int) -> ShmBalanceError:
    """The exception for a failed call on this thread: its class by status, the library's message."""
    return fail(library(), status)


def unchecked() -> ctypes.CDLL:
    """The same library with no argument declarations, for the allocate/release hot path: ctypes
    then skips its per-argument conversions (about a sixth of the call). Callers must pass
    exactly (RecordHandle, int index in C int range, c_double)."""
    library()
    assert _unchecked is not None
    return _unchecked


def fail(lib: ctypes.CDLL, status: int) -> ShmBalanceError:
    """The exception for a failed call: its class by status, the library's message."""
    message = lib.shmbal_last_error().decode("utf-8", "replace")
    refusal = lib.shmbal_last_refusal() if status == Status.REFUSED else 0
    return error_for(status, message, refusal)


def name(value: object, what: str) -> bytes:
    """A name argument (exchange, currency, data type, slot name) as C text."""
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    elif not isinstance(value, bytes):
        raise BadInputError(f"{what} must be a str, got {type(value).__name__}")
    if b"\0" in value:  # C would see only the text before it
        raise BadInputError(f"{what} {value!r} contains a NUL character")
    return value


def amount_arg(value: object):
    """An amount argument: a float goes as a double (its shortest decimal form, so 0.1 is exactly
    0.1); an int, a Decimal or decimal text goes as exact text. Returns (is_text, value)."""
    if isinstance(value, float):
        return False, value
    if isinstance(value, bool):
        raise BadInputError(f"an amount must be a number or decimal text, got {value!r}")
    if isinstance(value, int):
        return True, str(value).encode()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return True, str(value).encode()
        return True, format(value, "f").encode()
    if isinstance(value, str):
        if "\0" in value:
            raise BadInputError(f"'{value!r}' is not an amount: it contains a NUL character")
        return True, value.encode("ascii", "replace")
    raise BadInputError(f"an amount must be a float, int, Decimal or decimal text, got {type(value).__name__}")


def exact(lib: ctypes.CDLL, value: object) -> Amount:
    """An amount argument as the exact ``shmbal_amount`` the library makes of it (the same
    conversion as ``amount_arg``'s: a float through its shortest decimal form, the rest as text)."""
    is_text, arg = amount_arg(value)
    out = Amount()
    rc = (lib.shmbal_amount_parse if is_text else lib.shmbal_amount_from_double)(arg, ctypes.byref(out))
    if rc:
        raise fail(lib, rc)
    return out


def id_arg(value: object, what: str) -> bytes:
    """A hold id or an op id as C text; the library checks the rules (1–32 printable ASCII). Any
    other character stays in (as UTF-8) so that the library refuses it rather than seeing a '?'."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    elif not isinstance(value, bytes):
        raise BadInputError(f"{what} must be a str, got {type(value).__name__}")
    if b"\0" in value:  # C would see only the text before it
        raise BadInputError(f"{what} {value!r} contains a NUL character")
    return value


def op_id_arg(value: object) -> Optional[bytes]:
    """An ``op_id=`` keyword: None (no op id) or an id."""
    return None if value is None else id_arg(value, "an op id")


def decimal_from_raw(raw: int) -> Decimal:
    """The exact value with the fewest digits, as the core's ``exactText`` ("1500", "0.1", "-30")."""
    whole, frac = divmod(abs(raw), SCALE)
    d = Decimal(whole) if frac == 0 else Decimal(f"{whole}.{frac:018d}".rstrip("0"))
    return -d if raw < 0 else d


def text(buffer: bytes) -> str:
    return buffer.decode("ascii", "replace")


def env_segment(segment: Optional[str]) -> Optional[bytes]:
    """`segment`, else $SHMBAL_SEGMENT, else None (the library's default, /dev/shm/shmbal)."""
    path = segment if segment else os.environ.get("SHMBAL_SEGMENT") or None
    return os.fsencode(path) if path else None


__all__ = [
    "Amount", "BooksHandle", "RecordHandle", "RecordInfo", "ReconcileResult", "Quote", "FillResult", "HoldInfo", "SlotHolds",
    "library", "loaded_path", "fail", "error", "name", "amount_arg", "exact", "id_arg", "op_id_arg", "decimal_from_raw", "text",
    "env_segment",
    "SCALE", "OK", "OPEN_CREATE", "OPEN_READ_WRITE", "OPEN_READ_ONLY", "c_char_p", "c_double",
]
