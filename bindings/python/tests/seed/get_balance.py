## The seed's example "获取Currency的Balance" (read a balance), Python, verbatim but for the
## import lines.
import shmbalance as hft
from shmbalance import Currency, DataType, Exchange, SingleQuote

get_single_quote_currency = hft.getSingleQuoteCurrency

def get_balance(exchange: Exchange, currency: Currency) -> SingleQuote:
    return get_single_quote_currency(
        exchange,
        DataType.BALANCE,
        currency,
    )

# 获取并输出USDT余额
usdt_balance = get_balance(Exchange.KRAKEN, Currency.USDT)
print(f"USDT Balance: {usdt_balance.mid}")
