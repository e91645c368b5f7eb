## The seed's example "写入Currency的Balance" (write a balance), Python, verbatim but for the
## import lines (the seed's `hft` module also provided these names).
import shmbalance as hft
from shmbalance import Currency, DataType, Exchange, SingleQuote
import time

write_single_quote_currency = hft.writeSingleQuoteCurrency

def write_balance(exchange: Exchange, currency: Currency, balance: float, local_timestamp: int = None) -> None:
    if local_timestamp is None:
        local_timestamp = int(time.time() * 1_000_000)
    write_single_quote_currency(
        exchange,
        DataType.BALANCE,
        currency,
        SingleQuote(timestamp=local_timestamp,
                    localTimestamp=local_timestamp,
                    mid=balance)
    )

# 写入USDT余额
write_balance(Exchange.KRAKEN, Currency.USDT, 10000.0)
