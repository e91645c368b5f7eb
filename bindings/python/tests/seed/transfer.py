## The seed's example "转账成功" (a completed transfer), verbatim.
# 转入 1000 USDC（从其他交易所转入）
manager.adjust(hft.Currency.USDC, 1000.0)

# 转出 500 USDC（转到其他交易所）
manager.adjust(hft.Currency.USDC, -500.0)
