## The seed's example "系统启动" (start-up), verbatim but for the import lines.
from shmbalance import StrategyBalanceManager
import shmbalance as hft

# 创建管理器（Kraken交易所，8个策略槽位）
manager = StrategyBalanceManager(hft.Exchange.KRAKEN, strategy_count=8)

# 获取账户余额（从交易所API）
usdc_balance = 10000.0
usd_balance = 5000.0

# 初始化各币种资产
manager.reset(hft.Currency.USDC, usdc_balance)
manager.reset(hft.Currency.USD, usd_balance)
