## The seed's example "错误恢复" (recovery), verbatim. Its placeholders `从交易所获取的资产` (the
## exchange's balance) and `logger` are supplied by the test.
# 从交易所获取真实余额
real_balance = 从交易所获取的资产

# 修正总资产（set会自动refresh，重算主策略）
manager.set(hft.Currency.USDC, real_balance)

# 检查主策略是否为负（考虑借贷额度）
available = manager.get_balance(hft.Currency.USDC, index=1)
credit_limit = 5000.0  # 借贷额度

if available + credit_limit < 0:
    # 资金错误无法修复，需要重置
    logger.error(f"资金错误无法修复，主策略余额为负且超过借贷额度: {available}, 借贷额度: {credit_limit}")
    manager.reset(hft.Currency.USDC, real_balance)
    # 子策略需要重新申请资金...
