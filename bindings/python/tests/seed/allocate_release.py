## The seed's example "子策略申请或者归还资金" (allocate/release), verbatim.
# 策略A（index=2）申请 2000 USDC
manager.allocate(hft.Currency.USDC, index=2, amount=2000.0)

# 策略B（index=3）申请 3000 USDC
manager.allocate(hft.Currency.USDC, index=3, amount=3000.0)

# 策略A 归还 500 USDC
manager.release(hft.Currency.USDC, index=2, amount=500.0)

# 查询各策略资金
total = manager.get_balance(hft.Currency.USDC, index=0)      # 总资金
available = manager.get_balance(hft.Currency.USDC, index=1)  # 主策略（可用）
strategy_a = manager.get_balance(hft.Currency.USDC, index=2) # 策略A
strategy_b = manager.get_balance(hft.Currency.USDC, index=3) # 策略B
