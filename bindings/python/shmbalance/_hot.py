"""The hot calls of ``StrategyBalanceManager`` (``allocate``, ``release``, ``get_balance``):
the C extension ``_speedups`` when it is there (the wheel ships it), else these, through ctypes.

Both take the fast path only for plain calls (a currency whose record is cached, an int index
0…63, a float amount; ``_speedups`` also an int amount; no ``op_id``) and hand everything else to
the manager's ``_allocate_slow`` / ``_release_slow`` / ``_get_balance_slow``, which word every
error. An ``op_id=`` keyword is one of those (``_speedups`` does not know the keyword, so it
takes the slow path without parsing anything more: the plain call's cost is unchanged).
``$SHMBAL_PY_EXTENSION=0`` chooses ctypes even where the extension is installed (to compare them).
"""

from __future__ import annotations

import ctypes
import os
from decimal import Decimal
from typing import Dict, Optional, Union

from . import _native as n

#: What an amount may be: a float (as in the seed; converted through its shortest decimal form,
#: so 0.1 is exactly 0.1), an int, a Decimal, or decimal text such as "10000.00" (exact).
AmountLike = Union[float, int, Decimal, str]


class CtypesHot:
    """The fallback: one ctypes call per operation on the cached record handle."""

    _records: Dict[object, n.RecordHandle]

    def _cache_record(self, currency: object, books: int, slot: int) -> None:
        """Nothing to do: ``_records`` (filled by the manager) is this path's cache."""

    def _forget_records(self) -> None:
        """Nothing to do (see ``_cache_record``)."""

    def allocate(self, currency: str, index: int, amount: AmountLike, *, op_id: Optional[str] = None) -> None:
        """Sub-strategy ``index`` (2 ≤ index < count) takes ``amount`` from the pool; refused
        (``RefusedError``) beyond the headroom (pool + credit). ``op_id``: applied once (SPEC §9)."""
        rec = self._records.get(currency)
        if op_id is None and rec is not None and type(amount) is float and type(index) is int and 0 <= index < 64:
            rc = _calls.allocate(rec, index, ctypes.c_double(amount))
            if rc:
                raise n.error(rc)
            return
        self._allocate_slow(currency, index, amount, op_id=op_id)

    def release(self, currency: str, index: int, amount: AmountLike, *, op_id: Optional[str] = None) -> None:
        """Sub-strategy ``index`` gives ``amount`` back to the pool; refused beyond its budget."""
        rec = self._records.get(currency)
        if op_id is None and rec is not None and type(amount) is float and type(index) is int and 0 <= index < 64:
            rc = _calls.release(rec, index, ctypes.c_double(amount))
            if rc:
                raise n.error(rc)
            return
        self._release_slow(currency, index, amount, op_id=op_id)

    def get_balance(self, currency: str, index: int = 0, exact: bool = False) -> Union[float, Decimal]:
        """One slot (default: the total) as a ``float``, as in the seed; ``exact=True`` gives the
        stored value as a ``Decimal``."""
        rec = self._records.get(currency)
        if rec is not None and exact is False and type(index) is int and 0 <= index < 64:
            # A fresh out-value per call: ctypes releases the GIL during the call.
            value = ctypes.c_double()
            rc = _calls.balance(rec, index, ctypes.byref(value), None)
            if rc:
                raise n.error(rc)
            return value.value
        return self._get_balance_slow(currency, index, exact)


class _Calls:
    """The ctypes functions, looked up on first use (the library loads lazily)."""

    def __getattr__(self, name: str):
        lib = n.library()
        # Undeclared (faster) for allocate/release: the callers above pass exactly
        # (RecordHandle, int in C int range, c_double).
        self.allocate = n.unchecked().shmbal_record_allocate
        self.release = n.unchecked().shmbal_record_release
        self.balance = lib.shmbal_record_balance
        return object.__getattribute__(self, name)


_calls = _Calls()

#: True when ``Hot`` is the C extension's.
EXTENSION = False
#: The base class of ``StrategyBalanceManager``: the extension's ``Hot`` (same methods, same
#: signatures, in C), else ``CtypesHot``. Type checkers see ``CtypesHot``.
Hot: type = CtypesHot
if os.environ.get("SHMBAL_PY_EXTENSION", "1") != "0":
    try:
        from ._speedups import Hot  # type: ignore[no-redef]  # noqa: F811

        EXTENSION = True
    except ImportError:
        pass
