"""The seed's quote table (``ShareMemorySingleQuote``): one ``SingleQuote`` per (exchange, data
type, currency); data type ``BALANCE`` carries a single-strategy account's balance."""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from . import _native as n
from .books import Books


@dataclass
class SingleQuote:
    """The seed's ``SingleQuote``: timestamps in microseconds since the Unix epoch, ``mid`` a float."""

    timestamp: int = 0
    localTimestamp: int = 0
    mid: float = 0.0

    @property
    def local_timestamp(self) -> int:
        return self.localTimestamp


# One handle per (segment, writable), opened on first use and shared by every thread.
_handles: Dict[Tuple[Optional[bytes], bool], Books] = {}
_lock = threading.Lock()


def _books(segment: Optional[str], writable: bool) -> Books:
    path = n.env_segment(segment)
    key = (path, writable)
    books = _handles.get(key) or (_handles.get((path, True)) if not writable else None)
    if books is None:
        with _lock:
            books = _handles.get(key)
            if books is None:
                books = Books(os.fsdecode(path) if path else None, read_only=not writable)
                _handles[key] = books
    return books


def write_single_quote(exchange: str, data_type: str, currency: str, quote: SingleQuote, *, segment: Optional[str] = None) -> None:
    """Writes the quote for (exchange, data type, currency); readers always see a whole quote.
    ``segment``: else ``$SHMBAL_SEGMENT``, else ``/dev/shm/shmbal`` (created if missing)."""
    q = n.Quote(int(quote.timestamp), int(quote.localTimestamp), float(quote.mid))
    _books(segment, True).call("shmbal_quote_write", n.name(exchange, "an exchange"), n.name(data_type, "a data type"),
                               n.name(currency, "a currency"), ctypes.byref(q))


def get_single_quote(exchange: str, data_type: str, currency: str, *, segment: Optional[str] = None) -> SingleQuote:
    """The latest quote for (exchange, data type, currency); ``NotFoundError`` when none was written."""
    q = n.Quote()
    _books(segment, False).call("shmbal_quote_get", n.name(exchange, "an exchange"), n.name(data_type, "a data type"),
                                n.name(currency, "a currency"), ctypes.byref(q))
    return SingleQuote(timestamp=q.timestamp, localTimestamp=q.local_timestamp, mid=q.mid)


#: The seed's names.
writeSingleQuoteCurrency = write_single_quote
getSingleQuoteCurrency = get_single_quote
