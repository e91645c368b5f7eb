## The seed's example "资产买卖" (buy/sell), verbatim; it runs after startup.py (`manager`).
# 买入：买入usdc/usd
manager.adjust(hft.Currency.USD, -1000.0)   # USD 减少
manager.adjust(hft.Currency.USDC, 1000.0)   # USDC 增加

# 卖出：卖出usdc/usd
manager.adjust(hft.Currency.USDC, -500.0)   # USDC 减少
manager.adjust(hft.Currency.USD, 500.0)     # USD 增加
