// The seed's C++ examples, verbatim inside functions, with the seed's `#include "hft/util/shm.h"`
// replaced by this package's header (asking for the seed's global names); `getCurrentTimestamp` is the seed's placeholder, supplied
// here. Then the seed's business flows (start-up, buy/sell, allocate/release, transfer, recovery)
// through the C++ StrategyBalanceManager, asserting the numbers the seed states.
// The segment is $SHMBAL_SEGMENT (the Swift test gives each run its own).
#define SHMBAL_GLOBAL_NAMES
#include "shmbalance.hpp"

#include <iostream>
#include <thread>

#include "check.hpp"

static int64_t lastTimestamp = 0;
int64_t getCurrentTimestamp() { return lastTimestamp = shmbal::now_micros(); }

// 示例：写入Currency的Balance
void writeBalanceExample() {
    Exchange exchange = Exchange::KRAKEN;
    DataType dataType = DataType::BALANCE;
    Currency currency = Currency::USDT;
    int64_t now = getCurrentTimestamp();
    SingleQuote usdtBalance{now, now, 10000.0}; // 余额为10000 USDT
    ShareMemorySingleQuote::write(exchange, dataType, currency, usdtBalance); // 更新共享内存
}

// 示例：获取Currency的Balance
SingleQuote *getBalanceExample() {
    Exchange exchange = Exchange::KRAKEN;
    DataType dataType = DataType::BALANCE;
    Currency currency = Currency::USDT;
    SingleQuote *usdtBalance = ShareMemorySingleQuote::get(exchange, dataType, currency);

    // 输出余额
    std::cout << "USDT Balance: " << usdtBalance->mid << std::endl;
    return usdtBalance;
}

static void quoteExamples() {
    writeBalanceExample();
    SingleQuote *q = getBalanceExample();
    CHECK_EQ(q->mid, 10000.0);
    CHECK_EQ((long long)q->timestamp, (long long)lastTimestamp);
    CHECK_EQ((long long)q->localTimestamp, (long long)lastTimestamp);
    // The pointer is this thread's copy: a later write does not change it; the next get does.
    SingleQuote next{1, 2, 9500.5};
    ShareMemorySingleQuote::write(Exchange::KRAKEN, DataType::BALANCE, Currency::USDT, next);
    CHECK_EQ(q->mid, 10000.0);
    SingleQuote *again = ShareMemorySingleQuote::get(Exchange::KRAKEN, DataType::BALANCE, Currency::USDT);
    CHECK(again == q);
    CHECK_EQ(again->mid, 9500.5);
    CHECK_EQ((long long)again->localTimestamp, 2LL);
    SingleQuote *other = nullptr;
    std::thread([&] { other = ShareMemorySingleQuote::get(Exchange::KRAKEN, DataType::BALANCE, Currency::USDT); }).join();
    CHECK(other != q);
    CHECK_THROWS(shmbal::NotFound, "KRAKEN BALANCE EUR: no quote has been written",
                 ShareMemorySingleQuote::get(Exchange::KRAKEN, DataType::BALANCE, Currency::EUR));
}

static void businessFlows() {
    // 系统启动: reset each currency from the exchange's balances.
    StrategyBalanceManager manager(Exchange::KRAKEN, 8);
    double usdc_balance = 10000.0;
    double usd_balance = 5000.0;
    manager.reset(Currency::USDC, usdc_balance);
    manager.reset(Currency::USD, usd_balance);
    CHECK_EQ(manager.get(Currency::USDC).strategy_count, 8);

    // 资产买卖: buy USDC with USD, then sell some back.
    manager.adjust(Currency::USD, -1000.0);
    manager.adjust(Currency::USDC, 1000.0);
    manager.adjust(Currency::USDC, -500.0);
    manager.adjust(Currency::USD, 500.0);
    CHECK_EQ(manager.get_balance(Currency::USD), 4500.0);
    CHECK_EQ(manager.get_balance(Currency::USDC), 10500.0);

    // 子策略申请或者归还资金
    manager.allocate(Currency::USDC, 2, 2000.0);
    manager.allocate(Currency::USDC, 3, 3000.0);
    manager.release(Currency::USDC, 2, 500.0);
    double total = manager.get_balance(Currency::USDC, 0);
    double available = manager.get_balance(Currency::USDC, 1);
    double strategy_a = manager.get_balance(Currency::USDC, 2);
    double strategy_b = manager.get_balance(Currency::USDC, 3);
    CHECK_EQ(total, 10500.0);
    CHECK_EQ(available, 6000.0);
    CHECK_EQ(strategy_a, 1500.0);
    CHECK_EQ(strategy_b, 3000.0);

    // 转账成功
    manager.adjust(Currency::USDC, 1000.0);
    manager.adjust(Currency::USDC, -500.0);
    CHECK_EQ(manager.get_balance(Currency::USDC), 11000.0);
    CHECK_EQ(manager.get_balance(Currency::USDC, 1), 6500.0);

    // 错误恢复, repairable: the exchange says 10800; budgets stay, the pool absorbs −200.
    manager.set(Currency::USDC, 10800.0);
    CHECK_EQ(manager.get_balance(Currency::USDC, 1), 6300.0);
    CHECK_EQ(manager.get_balance(Currency::USDC, 2), 1500.0);
    // ... and not repairable: −600 leaves the pool at −5100, beyond a credit of 5000: reset.
    double real_balance = -600.0;
    manager.set(Currency::USDC, real_balance);
    available = manager.get_balance(Currency::USDC, 1);
    double credit_limit = 5000.0;
    CHECK_EQ(available, -5100.0);
    CHECK(available + credit_limit < 0);
    manager.reset(Currency::USDC, real_balance);
    shmbal::StrategyBalance b = manager.get(Currency::USDC);
    CHECK_EQ(b.total(), -600.0);
    CHECK_EQ(b.pool(), -600.0);
    CHECK_EQ(b.slots[2], 0.0);
    CHECK_EQ((long long)b.epoch, 2LL);
    CHECK(b.identity_holds);

    // The same as one atomic step, saying what it did.
    manager.allocate(Currency::USD, 2, 1000.0);
    shmbal::ReconcileResult r = manager.reconcile(Currency::USD, "4400.5");
    CHECK(r.outcome() == shmbal::ReconcileKind::repaired);
    CHECK_EQ(std::string(r.description), std::string("repaired by -99.50: the pool absorbed it and is now 3400.50"));

    // The seed's picture: 10000 = 4000 + 2000 + 3000 + 1000, exactly.
    StrategyBalanceManager five(Exchange::KRAKEN, 5);
    five.reset(Currency::EUR, "10000");
    five.allocate(Currency::EUR, 2, 2000.0);
    five.allocate(Currency::EUR, 3, 3000.0);
    five.allocate(Currency::EUR, 4, "1000");
    shmbal::StrategyBalance e = five.get(Currency::EUR);
    CHECK_EQ(e.strategy_count, 5);
    CHECK_EQ(e.exact(0) + " = " + e.exact(1) + " + " + e.exact(2) + " + " + e.exact(3) + " + " + e.exact(4),
             std::string("10000 = 4000 + 2000 + 3000 + 1000"));
    CHECK_EQ(std::string(e.names[0]) + "," + e.names[1], std::string("total,pool"));
}

int main() {
    quoteExamples();
    businessFlows();
    std::cout << "seed examples: ok" << std::endl;
    return 0;
}
