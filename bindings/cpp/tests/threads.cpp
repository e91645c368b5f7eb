// Several threads share one StrategyBalanceManager (and its record cache) while others use their
// own: every operation lands exactly once and the identity holds exactly. $SHMBAL_SEGMENT.
#include "shmbalance.hpp"

using namespace shmbal;

#include <iostream>
#include <thread>
#include <vector>

#include "check.hpp"

int main() {
    const char *currencies[] = {"USDC", "USD", "EUR", "BTC"};
    StrategyBalanceManager shared(Exchange::KRAKEN, 12);
    for (const char *c : currencies) shared.reset(Currency(c), 1000000.0);
    const int threads = 8, rounds = 2000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            StrategyBalanceManager own(Exchange::KRAKEN);
            StrategyBalanceManager &m = t % 2 ? shared : own;
            int index = 2 + t;
            for (int r = 0; r < rounds; r++) {
                Currency c(currencies[(r + t) % 4]);
                m.allocate(c, index, 0.03);
                m.release(c, index, 0.01);
                CHECK(m.get_balance(c, index) > 0);
            }
        });
    }
    for (auto &t : pool) t.join();
    for (const char *c : currencies) {
        shmbal::StrategyBalance b = shared.get(Currency(c));
        CHECK(b.identity_holds);
        for (int t = 0; t < threads; t++) CHECK_EQ(b.exact(2 + t), std::string("10"));  // 500 × (0.03 − 0.01), exactly
        CHECK_EQ(b.exact(1), std::string("999920"));
        CHECK_EQ((long long)b.op_count, (long long)(1 + threads * rounds / 4 * 2));
    }
    std::cout << "threads: ok" << std::endl;
    return 0;
}
