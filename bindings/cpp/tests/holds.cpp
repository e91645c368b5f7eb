// Holds, fills and operation ids through shmbalance.hpp (SPEC §9): the C program's story
// (bindings/c/tests/holds.c) told with the manager's methods. The segment is $SHMBAL_SEGMENT, a
// small one made by Tests/BindingsTests/HoldBindingTests.swift.
#include "shmbalance.hpp"

#include <chrono>
#include <functional>
#include <iostream>
#include <thread>

using namespace shmbal;

static std::string show(Refusal r) { return "refusal " + std::to_string(static_cast<int>(r)); }
static std::string show(const shmbal_amount &a) { return to_string(a); }
static bool operator==(const shmbal_amount &a, const shmbal_amount &b) { return a.lo == b.lo && a.hi == b.hi; }
#include "check.hpp"

static shmbal_amount A(const char *text) { return Exact(text).value; }

// The refusal `body` throws (Refusal::none if it throws another Error; a failed check if nothing).
static Refusal refusal_of(const std::function<void()> &body) {
    try {
        body();
    } catch (const Refused &e) {
        return e.refusal();
    } catch (const Error &) {
        return Refusal::none;
    }
    std::fprintf(stderr, "expected a refusal, nothing was thrown\n");
    std::exit(1);
}

// Whether `body` throws BadInput.
static bool bad_input(const std::function<void()> &body) {
    try {
        body();
    } catch (const BadInput &) {
        return true;
    } catch (...) {
    }
    return false;
}

static bool same_books(const SlotHolds &a, const SlotHolds &b) {
    if (a.op_count != b.op_count || a.strategy_count != b.strategy_count) return false;
    for (int i = 0; i < 64; i++)
        if (!(a.budget[i] == b.budget[i]) || !(a.held[i] == b.held[i]) || a.hold_count[i] != b.hold_count[i]) return false;
    return true;
}

int main() {
    StrategyBalanceManager m(Exchange::KRAKEN, 4);
    const Currency usdc = Currency::USDC;
    m.reset(usdc, "10000");
    m.allocate(usdc, 2, 700.0);

    m.hold(usdc, 2, "600", "ord-1");
    m.hold(usdc, 2, 600.0, "ord-1");  // a replay (a double and text are the same exact amount)
    SlotHolds s = m.slot_holds(usdc);
    CHECK_EQ(s.strategy_count, 4);
    CHECK_EQ(s.held[2], A("600"));
    CHECK_EQ(s.free[2], A("100"));
    CHECK_EQ(s.hold_count[2], 1);
    CHECK_EQ(refusal_of([&] { m.hold(usdc, 2, 101.0, "ord-2"); }), Refusal::exceeds_free);
    CHECK_EQ(refusal_of([&] { m.hold(usdc, 2, 601.0, "ord-1"); }), Refusal::op_id_reused);
    CHECK(bad_input([&] { m.hold(usdc, 2, 1.0, "ord-3", std::chrono::microseconds(0)); }));
    CHECK(bad_input([&] { m.hold(usdc, 2, 1.0, "ord-3", std::chrono::microseconds(-1)); }));
    CHECK(same_books(s, m.slot_holds(usdc)));

    std::vector<Hold> list = m.holds(usdc);
    CHECK_EQ(list.size(), size_t(1));
    CHECK_EQ(list[0].id, std::string("ord-1"));
    CHECK_EQ(list[0].index, 2);
    CHECK_EQ(list[0].amount, A("600"));
    CHECK(!list[0].expires_micros && !list[0].expired && list[0].created_micros > 0);
    CHECK(m.holds(usdc, 3).empty());

    FillResult f = m.fill(usdc, "ord-1", 200.0);
    CHECK_EQ(f.from_hold, A("200"));
    CHECK(!f.is_closed());
    f = m.fill(usdc, "ord-1", "450", "60", true, "fill-2");
    CHECK_EQ(f.from_hold, A("400"));
    CHECK_EQ(f.from_free, A("100"));
    CHECK_EQ(f.from_pool, A("10"));
    CHECK(f.is_closed());
    s = m.slot_holds(usdc);
    CHECK_EQ(m.get_balance_exact(usdc, 0), std::string("9290"));
    CHECK_EQ(m.get_balance_exact(usdc, 1), std::string("9290"));
    CHECK_EQ(s.budget[2], A("0"));
    CHECK_EQ(s.held[2], A("0"));
    FillResult again = m.fill(usdc, "ord-1", "450", "60", true, "fill-2");  // replayed: the first result
    CHECK_EQ(again.from_free, A("100"));
    CHECK_EQ(again.from_pool, A("10"));
    CHECK(same_books(s, m.slot_holds(usdc)));
    CHECK_EQ(refusal_of([&] { m.fill(usdc, "ord-1", "451", "60", true, "fill-2"); }), Refusal::op_id_reused);
    CHECK_EQ(refusal_of([&] { m.void_hold(usdc, "ord-1"); }), Refusal::unknown_hold);
    CHECK_EQ(refusal_of([&] { m.fill(usdc, "ord-1", -1.0); }), Refusal::negative_fill);
    CHECK(same_books(s, m.slot_holds(usdc)));

    m.receive(usdc, 2, "250", "recv-1");
    m.receive(usdc, 2, "250", "recv-1");
    CHECK_EQ(m.get_balance_exact(usdc, 2), std::string("250"));
    CHECK_EQ(m.get_balance_exact(usdc, 0), std::string("9540"));
    CHECK_EQ(refusal_of([&] { m.receive(usdc, 2, 251.0, "recv-1"); }), Refusal::op_id_reused);

    m.hold(usdc, 2, 50, "ord-5", std::chrono::seconds(60));
    list = m.holds(usdc, 2);
    CHECK(list.size() == 1 && list[0].expires_micros && *list[0].expires_micros > list[0].created_micros);
    m.void_hold(usdc, "ord-5", "void-5");
    m.void_hold(usdc, "ord-5", "void-5");
    CHECK_EQ(m.slot_holds(usdc).held[2], A("0"));

    // An expired hold shows as such until the next writer of the record voids it.
    m.hold(usdc, 2, 10, "short", std::chrono::microseconds(1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    list = m.holds(usdc);
    CHECK(list.size() == 1 && list[0].expired);
    m.receive(usdc, 2, 1);
    CHECK(m.holds(usdc).empty());
    CHECK_EQ(m.slot_holds(usdc).held[2], A("0"));

    // Op ids on the operations of SPEC §3: each overload (double, text, exact) once.
    m.allocate(usdc, 3, 100.0, "alloc-1");
    m.allocate(usdc, 3, 100.0, "alloc-1");
    m.release(usdc, 3, std::string("40"), "rel-1");
    m.release(usdc, 3, "40", "rel-1");
    m.allocate(usdc, 3, A("2"), "alloc-2");
    m.allocate(usdc, 3, A("2"), "alloc-2");
    CHECK_EQ(m.get_balance_exact(usdc, 3), std::string("62"));
    CHECK_EQ(m.get_balance_exact(usdc, 1), std::string("9228"));
    s = m.slot_holds(usdc);
    CHECK_EQ(refusal_of([&] { m.allocate(usdc, 3, 101.0, "alloc-1"); }), Refusal::op_id_reused);
    CHECK_EQ(refusal_of([&] { m.release(usdc, 3, A("1"), "alloc-2"); }), Refusal::op_id_reused);
    CHECK(same_books(s, m.slot_holds(usdc)));
    m.set(usdc, "9600", 0, "set-1");
    m.adjust(usdc, 10.0, 0, "adj-1");
    m.adjust(usdc, 10.0, 0, "adj-1");
    m.set_credit_limit(usdc, "5", "credit-1");
    m.set_strategy_count(usdc, 5, "count-1");
    CHECK_EQ(m.get_balance_exact(usdc, 0), std::string("9610"));
    m.reset(usdc, 500.0, "reset-1");
    m.allocate(usdc, 2, 100.0);
    m.reset(usdc, 500.0, "reset-1");  // not applied again
    CHECK_EQ(m.get_balance_exact(usdc, 1), std::string("400"));

    // Bad ids: bad input (the library's check, or the header's for a NUL inside), nothing changed.
    s = m.slot_holds(usdc);
    for (std::string_view id : {std::string_view(""), std::string_view("x\0y", 3), std::string_view("a b"),
                                std::string_view("123456789012345678901234567890123")}) {
        CHECK(bad_input([&] { m.hold(usdc, 2, 1.0, id); }));
        CHECK(bad_input([&] { m.allocate(usdc, 2, 1.0, id); }));
        CHECK(bad_input([&] { m.release(usdc, 2, A("1"), id); }));
        CHECK(bad_input([&] { m.set(usdc, 1.0, 2, id); }));
        CHECK(bad_input([&] { m.receive(usdc, 2, 1.0, id); }));
        CHECK(bad_input([&] { m.void_hold(usdc, "ord-1", id); }));
    }
    CHECK(same_books(s, m.slot_holds(usdc)));
    std::cout << "c++ holds: ok\n";
    return 0;
}
