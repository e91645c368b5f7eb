"""Constants for common exchanges, currencies and data types, as the seed's enums were.

Each member is also a ``str`` (``Currency.USDC == "USDC"``), and every call takes any name as a
plain string too: these lists are a convenience, not a limit.
"""

from __future__ import annotations

import enum

try:
    from enum import StrEnum as _StrEnum
except ImportError:  # Python < 3.11

    class _StrEnum(str, enum.Enum):  # type: ignore[no-redef]
        def __str__(self) -> str:
            return str(self.value)


class Exchange(_StrEnum):
    KRAKEN = "KRAKEN"
    BINANCE = "BINANCE"
    COINBASE = "COINBASE"
    OKX = "OKX"
    BYBIT = "BYBIT"
    BITFINEX = "BITFINEX"
    BITSTAMP = "BITSTAMP"
    BITMEX = "BITMEX"
    DERIBIT = "DERIBIT"
    GEMINI = "GEMINI"
    HTX = "HTX"
    KUCOIN = "KUCOIN"
    GATEIO = "GATEIO"


class Currency(_StrEnum):
    USD = "USD"
    USDC = "USDC"
    USDT = "USDT"
    EUR = "EUR"
    GBP = "GBP"
    JPY = "JPY"
    BTC = "BTC"
    ETH = "ETH"
    SOL = "SOL"
    XRP = "XRP"
    ADA = "ADA"
    DOGE = "DOGE"
    DOT = "DOT"
    LTC = "LTC"


class DataType(_StrEnum):
    BALANCE = "BALANCE"
    POSITION = "POSITION"
    PRICE = "PRICE"
    BID = "BID"
    ASK = "ASK"
    FUNDING = "FUNDING"
