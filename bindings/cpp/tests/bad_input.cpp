// Bad input from C++: NaN, negative amounts, index 99, an unknown currency, a closed manager.
// Each throws a shmbal::Error subclass whose what() is the core's message, and changes nothing.
// The segment is $SHMBAL_SEGMENT.
#include "shmbalance.hpp"

using namespace shmbal;

#include <cmath>
#include <iostream>
#include <limits>
#include <thread>


struct Snapshot {
    shmbal::StrategyBalance b;
    bool operator==(const Snapshot &o) const {
        if (b.op_count != o.b.op_count || b.epoch != o.b.epoch || b.strategy_count != o.b.strategy_count) return false;
        for (int i = 0; i < 64; i++)
            if (b.exact_slots[i].lo != o.b.exact_slots[i].lo || b.exact_slots[i].hi != o.b.exact_slots[i].hi) return false;
        return b.exact_credit_limit.lo == o.b.exact_credit_limit.lo;
    }
};
static std::string show(const Snapshot &s) { return "op_count " + std::to_string(s.b.op_count); }
#include "check.hpp"

int main() {
    StrategyBalanceManager manager(Exchange::KRAKEN, 8);
    manager.reset(Currency::USDC, 10000.0);
    manager.allocate(Currency::USDC, 2, 2000.0);
    Snapshot before{manager.get(Currency::USDC)};
    const double nan = std::nan("");
    const double inf = std::numeric_limits<double>::infinity();

    // NaN and infinity: bad input, in the core's words.
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.allocate(Currency::USDC, 2, nan));
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.release(Currency::USDC, 2, nan));
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.adjust(Currency::USDC, nan));
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.set(Currency::USDC, nan));
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.reset(Currency::USDC, nan));
    CHECK_THROWS(shmbal::BadInput, "NaN is not an amount", manager.reconcile(Currency::USDC, nan));
    CHECK_THROWS(shmbal::BadInput, "inf is not an amount: it is infinite", manager.allocate(Currency::USDC, 2, inf));
    CHECK_THROWS(shmbal::BadInput, "'nan' is not a number", manager.adjust(Currency::USDC, std::string("nan")));
    CHECK_THROWS(shmbal::BadInput, "'1e3' is not an amount: exponents are not accepted; write all the digits (e.g. 100000)",
                 manager.allocate(Currency::USDC, 2, std::string("1e3")));

    // Negative amounts: refused by the rules.
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC #2: allocate needs an amount above 0 (got -5.00)", manager.allocate(Currency::USDC, 2, -5.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC #2: release needs an amount above 0 (got -5.00)", manager.release(Currency::USDC, 2, -5.0));
    CHECK_THROWS(shmbal::Refused,
                 "KRAKEN USDC #2: set -1.00 would make the budget negative (it is 2000.00); a sub-strategy budget is never below 0",
                 manager.set(Currency::USDC, -1.0, 2));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: a credit limit cannot be negative (got -1.00)", manager.set_credit_limit(Currency::USDC, -1.0));
    try {
        manager.allocate(Currency::USDC, 2, -5.0);
    } catch (const shmbal::Error &e) {
        CHECK(e.status() == shmbal::Status::refused);
        CHECK(e.refusal() == shmbal::Refusal::non_positive_amount);
        CHECK(dynamic_cast<const std::runtime_error *>(&e) != nullptr);
    }

    // Index 99.
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: allocate needs a sub-strategy index 2…7; #99 is out of range", manager.allocate(Currency::USDC, 99, 1.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: release needs a sub-strategy index 2…7; #99 is out of range", manager.release(Currency::USDC, 99, 1.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)", manager.get_balance(Currency::USDC, 99));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)", manager.set(Currency::USDC, 1.0, 99));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: index 99 is out of range (this record has 8 slots, 0…7)", manager.adjust(Currency::USDC, 1.0, 99));
    CHECK_THROWS(shmbal::Refused, "KRAKEN USDC: allocate needs a sub-strategy index 2…7; #-1 is out of range", manager.allocate(Currency::USDC, -1, 1.0));

    // An unknown currency, and a name that is no name.
    CHECK_THROWS(shmbal::Refused, "KRAKEN XYZ has no record: reset it first", manager.allocate(Currency("XYZ"), 2, 1.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN XYZ has no record: reset it first", manager.release(Currency("XYZ"), 2, 1.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN XYZ has no record: reset it first", manager.adjust(Currency("XYZ"), 1.0));
    CHECK_THROWS(shmbal::Refused, "KRAKEN XYZ has no record: reset it first", manager.get(Currency("XYZ")));
    CHECK_THROWS(shmbal::Refused, "KRAKEN XYZ has no record: reset it first", manager.get_balance(Currency("XYZ")));
    CHECK_THROWS(shmbal::BadInput, "name 'US DC' has a character that is not allowed: use letters, digits, _ - .",
                 manager.allocate(Currency("US DC"), 2, 1.0));
    CHECK_THROWS(shmbal::BadInput, "a currency is required (got NULL)", manager.allocate(Currency(nullptr), 2, 1.0));
    CHECK_THROWS(shmbal::BadInput, "name 'AVERYLONGEXCHANGE' is too long: at most 15 characters",
                 StrategyBalanceManager(Exchange("AVERYLONGEXCHANGE")).allocate(Currency::USDC, 2, 1.0));

    CHECK_EQ(Snapshot{manager.get(Currency::USDC)}, before);

    // The last error is per thread: another thread's failure does not touch this thread's message.
    CHECK(shmbal_allocate(manager.handle(), "KRAKEN", "USDC", 99, 1.0) == SHMBAL_REFUSED);
    std::thread([&] { CHECK(shmbal_allocate(manager.handle(), "KRAKEN", "USDC", 2, std::nan("")) == SHMBAL_BAD_INPUT); }).join();
    CHECK_EQ(std::string(shmbal_last_error()), std::string("KRAKEN USDC: allocate needs a sub-strategy index 2…7; #99 is out of range"));
    CHECK_EQ(shmbal_last_error_code(), SHMBAL_REFUSED);

    // A closed manager: every call throws Closed, and the books are untouched.
    StrategyBalanceManager other(Exchange::KRAKEN);
    manager.close();
    const char *closed = "the handle is closed (or was never opened)";
    CHECK_THROWS(shmbal::Closed, closed, manager.allocate(Currency::USDC, 2, 1.0));
    CHECK_THROWS(shmbal::Closed, closed, manager.release(Currency::USDC, 2, 1.0));
    CHECK_THROWS(shmbal::Closed, closed, manager.adjust(Currency::USDC, 1.0));
    CHECK_THROWS(shmbal::Closed, closed, manager.reset(Currency::USDC, 1.0));
    CHECK_THROWS(shmbal::Closed, closed, manager.get(Currency::USDC));
    CHECK_THROWS(shmbal::Closed, closed, manager.get_balance(Currency::USDC));
    manager.close();  // twice is harmless
    CHECK_EQ(Snapshot{other.get(Currency::USDC)}, before);

    // Read-only: reads work, writes throw.
    StrategyBalanceManager reader(Exchange::KRAKEN, 8, "", true);
    CHECK_EQ(reader.get_balance(Currency::USDC, 2), 2000.0);
    try {
        reader.allocate(Currency::USDC, 2, 1.0);
        CHECK(false);
    } catch (const shmbal::SegmentUnusable &e) {
        CHECK(std::string(e.what()).find("attached read-only; this operation writes") != std::string::npos);
    }
    CHECK_THROWS(shmbal::BadInput, "strategy count 1 is outside 2…64", StrategyBalanceManager(Exchange::KRAKEN, 1));
    CHECK_EQ(Snapshot{other.get(Currency::USDC)}, before);
    std::cout << "bad input: ok" << std::endl;
    return 0;
}
