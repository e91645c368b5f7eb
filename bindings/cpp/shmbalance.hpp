// shmbalance.hpp: ShmBalance for C++17, header-only over the C ABI (shmbalance.h, libshmbalance.so.1),
// in the seed's shape:
//
//     #include <shmbalance.hpp>
//     shmbal::StrategyBalanceManager manager(shmbal::Exchange::KRAKEN, 8);
//     manager.reset(shmbal::Currency::USDC, 10000.0);
//     manager.allocate(shmbal::Currency::USDC, 2, 2000.0);
//     double pool = manager.get_balance(shmbal::Currency::USDC, 1);            // 8000
//     std::string exact = manager.get_balance_exact(shmbal::Currency::USDC, 2); // "2000"
//
// Build (README, "Install for C, C++ and Python"): after scripts/install-lib PREFIX,
//     g++ -std=c++17 app.cpp $(pkg-config --cflags --libs shmbalance)
// or in CMake: find_package(ShmBalance 1 REQUIRED) and target_link_libraries(app PRIVATE ShmBalance::shmbalance).
//
// Everything lives in namespace shmbal, named as the seed names it: the seed's types
// (StrategyBalanceManager, ShareMemorySingleQuote, SingleQuote, Exchange, Currency, DataType) and
// snake_case members (get_balance, and _exact variants for the exact decimal values). The seed's
// code uses those types unqualified: `#define SHMBAL_GLOBAL_NAMES` before the include brings them
// into the global namespace (off by default, so they cannot collide with a program's own).
//
// Every failure throws a shmbal::Error (one subclass per shmbal::Status) whose what() is the core's
// message; a failed call changes nothing. All of it is safe to use from several threads at once.
#ifndef SHMBALANCE_HPP
#define SHMBALANCE_HPP

#include "shmbalance.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shmbal {

// ---- codes: the C header's enums (Tests/BindingsTests/CodesTests.swift checks every member) -------

/// What a call did (shmbal_status).
enum class Status : int {
    ok = SHMBAL_OK,
    refused = SHMBAL_REFUSED,
    bad_input = SHMBAL_BAD_INPUT,
    segment = SHMBAL_SEGMENT,
    busy = SHMBAL_BUSY,
    corrupt = SHMBAL_CORRUPT,
    closed = SHMBAL_CLOSED,
    not_found = SHMBAL_NOT_FOUND,
    buffer_too_small = SHMBAL_BUFFER_TOO_SMALL,
};

/// Which rule refused (shmbal_refusal: the core's RefusalCode).
enum class Refusal : int {
    none = SHMBAL_REFUSAL_NONE,
    no_record = SHMBAL_REFUSAL_NO_RECORD,
    index_out_of_range = SHMBAL_REFUSAL_INDEX_OUT_OF_RANGE,
    not_a_sub_strategy = SHMBAL_REFUSAL_NOT_A_SUB_STRATEGY,
    non_positive_amount = SHMBAL_REFUSAL_NON_POSITIVE_AMOUNT,
    insufficient_headroom = SHMBAL_REFUSAL_INSUFFICIENT_HEADROOM,
    exceeds_budget = SHMBAL_REFUSAL_EXCEEDS_BUDGET,
    negative_budget = SHMBAL_REFUSAL_NEGATIVE_BUDGET,
    overflow = SHMBAL_REFUSAL_OVERFLOW,
    bad_count = SHMBAL_REFUSAL_BAD_COUNT,
    shrink_over_non_zero = SHMBAL_REFUSAL_SHRINK_OVER_NON_ZERO,
    bad_amount = SHMBAL_REFUSAL_BAD_AMOUNT,
    negative_credit = SHMBAL_REFUSAL_NEGATIVE_CREDIT,
    table_full = SHMBAL_REFUSAL_TABLE_FULL,
    exceeds_free = SHMBAL_REFUSAL_EXCEEDS_FREE,
    below_held = SHMBAL_REFUSAL_BELOW_HELD,
    hold_table_full = SHMBAL_REFUSAL_HOLD_TABLE_FULL,
    hold_id_in_use = SHMBAL_REFUSAL_HOLD_ID_IN_USE,
    unknown_hold = SHMBAL_REFUSAL_UNKNOWN_HOLD,
    negative_fill = SHMBAL_REFUSAL_NEGATIVE_FILL,
    op_id_reused = SHMBAL_REFUSAL_OP_ID_REUSED,
    fenced = SHMBAL_REFUSAL_FENCED,
};

/// What reconcile did (shmbal_reconcile_kind).
enum class ReconcileKind : int {
    in_sync = SHMBAL_RECONCILE_IN_SYNC,
    repaired = SHMBAL_RECONCILE_REPAIRED,
    reset = SHMBAL_RECONCILE_RESET,
    created = SHMBAL_RECONCILE_CREATED,
};

// ---- errors -------------------------------------------------------------------------------------

/// A failed call into the books; what() is the core's one-line message. Nothing was changed.
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string &message, Refusal refusal = Refusal::none)
        : std::runtime_error(message), status_(status), refusal_(refusal) {}
    /// What the call did (Status::refused, Status::bad_input, ...).
    Status status() const noexcept { return status_; }
    /// For a refusal, the rule that said no; else Refusal::none.
    Refusal refusal() const noexcept { return refusal_; }

private:
    Status status_;
    Refusal refusal_;
};

/// Refused by the rules (SPEC §3): no record, index out of range, beyond the headroom or the budget.
struct Refused : Error { using Error::Error; };
/// Unusable input: NaN, infinity, bad decimal text, a bad name.
struct BadInput : Error { using Error::Error; };
/// The segment cannot be used (missing, another layout, read-only for a write, full).
struct SegmentUnusable : Error { using Error::Error; };
/// The record's lock was held beyond the bound (a stopped process); try again.
struct Busy : Error { using Error::Error; };
/// The segment's data or a lock is damaged.
struct Corrupt : Error { using Error::Error; };
/// The handle (manager) was closed.
struct Closed : Error { using Error::Error; };
/// Nothing there: no quote was written for that key.
struct NotFound : Error { using Error::Error; };
/// A caller's array was too small (the header's methods grow theirs and never throw it).
struct BufferTooSmall : Error { using Error::Error; };

/// Throws the exception for a failed call's status, with this thread's last message from the library.
[[noreturn]] inline void throw_status(int code) {
    std::string message = shmbal_last_error();
    Status status = static_cast<Status>(code);
    switch (status) {  // every Status: -Wswitch catches a new one
    case Status::refused: throw Refused(status, message, static_cast<Refusal>(shmbal_last_refusal()));
    case Status::bad_input: throw BadInput(status, message);
    case Status::segment: throw SegmentUnusable(status, message);
    case Status::busy: throw Busy(status, message);
    case Status::corrupt: throw Corrupt(status, message);
    case Status::closed: throw Closed(status, message);
    case Status::not_found: throw NotFound(status, message);
    case Status::buffer_too_small: throw BufferTooSmall(status, message);
    case Status::ok: break;
    }
    throw Error(status, message.empty() ? "shmbalance: unknown status " + std::to_string(code) : message);
}

/// Turns a C status into an exception.
inline void check(int status) {
    if (status != SHMBAL_OK) throw_status(status);
}

// ---- names (the seed's enums) ---------------------------------------------------------------------

/// A short ASCII name: any one works (`Exchange("MYEXCHANGE")`); the constants are the common ones.
/// Lower case is folded to upper by the library.
template <typename Tag>
struct Name {
    const char *name;
    constexpr Name(const char *n) : name(n) {}
    Name(const std::string &n) = delete;  // would dangle: keep the std::string alive and pass .c_str()
    const char *c_str() const { return name; }
    bool operator==(const Name &o) const { return std::strcmp(name, o.name) == 0; }
    bool operator!=(const Name &o) const { return !(*this == o); }
};

struct ExchangeTag;
struct CurrencyTag;
struct DataTypeTag;

struct Exchange : Name<ExchangeTag> {
    using Name::Name;
    static const Exchange KRAKEN, BINANCE, COINBASE, OKX, BYBIT, BITFINEX, BITSTAMP, BITMEX, DERIBIT, GEMINI, HTX,
        KUCOIN, GATEIO;
};
inline constexpr Exchange Exchange::KRAKEN{"KRAKEN"}, Exchange::BINANCE{"BINANCE"}, Exchange::COINBASE{"COINBASE"},
    Exchange::OKX{"OKX"}, Exchange::BYBIT{"BYBIT"}, Exchange::BITFINEX{"BITFINEX"}, Exchange::BITSTAMP{"BITSTAMP"},
    Exchange::BITMEX{"BITMEX"}, Exchange::DERIBIT{"DERIBIT"}, Exchange::GEMINI{"GEMINI"}, Exchange::HTX{"HTX"},
    Exchange::KUCOIN{"KUCOIN"}, Exchange::GATEIO{"GATEIO"};

struct Currency : Name<CurrencyTag> {
    using Name::Name;
    static const Currency USD, USDC, USDT, EUR, GBP, JPY, BTC, ETH, SOL, XRP, ADA, DOGE, DOT, LTC;
};
inline constexpr Currency Currency::USD{"USD"}, Currency::USDC{"USDC"}, Currency::USDT{"USDT"}, Currency::EUR{"EUR"},
    Currency::GBP{"GBP"}, Currency::JPY{"JPY"}, Currency::BTC{"BTC"}, Currency::ETH{"ETH"}, Currency::SOL{"SOL"},
    Currency::XRP{"XRP"}, Currency::ADA{"ADA"}, Currency::DOGE{"DOGE"}, Currency::DOT{"DOT"}, Currency::LTC{"LTC"};

struct DataType : Name<DataTypeTag> {
    using Name::Name;
    static const DataType BALANCE, POSITION, PRICE, BID, ASK, FUNDING;
};
inline constexpr DataType DataType::BALANCE{"BALANCE"}, DataType::POSITION{"POSITION"}, DataType::PRICE{"PRICE"},
    DataType::BID{"BID"}, DataType::ASK{"ASK"}, DataType::FUNDING{"FUNDING"};

// ---- amounts ------------------------------------------------------------------------------------

/// The exact decimal text of an amount ("10000", "0.1", "-30").
inline std::string to_string(const shmbal_amount &a) {
    char buffer[64];
    check(shmbal_amount_format(a, buffer, sizeof buffer));
    return buffer;
}

/// Microseconds since the Unix epoch (the quotes' timestamps).
inline int64_t now_micros() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

/// An exact amount for the calls that take one (holds, fills, receipts): a double (its shortest
/// decimal form), decimal text or a shmbal_amount, converted by the library (BadInput if unusable).
struct Exact {
    shmbal_amount value{0, 0};
    Exact(shmbal_amount a) : value(a) {}
    Exact(double d) { check(shmbal_amount_from_double(d, &value)); }
    Exact(int i) : Exact(static_cast<double>(i)) {}
    Exact(const char *text) { check(shmbal_amount_parse(text, &value)); }
    Exact(const std::string &text) : Exact(text.c_str()) {}
};

/// An operation id (SPEC §9): 1–32 printable ASCII characters; std::nullopt for none.
using OpId = std::optional<std::string_view>;

/// An id (op id or hold id) as C text for one call: nullptr for none. The library checks it; an
/// id with a NUL inside could not cross the C ABI whole, so it is refused here.
class CId {
public:
    CId(OpId id) {
        if (!id) return;
        if (id->find('\0') != std::string_view::npos) throw BadInput(Status::bad_input, "an id must not contain a NUL character");
        text_.assign(id->data(), id->size());
        given_ = true;
    }
    const char *c_str() const { return given_ ? text_.c_str() : nullptr; }

private:
    std::string text_;
    bool given_ = false;
};

/// What a fill spent and where it came from (exact `from_hold`, `from_free`, `from_pool`; `closed`).
struct FillResult : shmbal_fill_result {
    bool is_closed() const { return closed != 0; }
};

/// One open hold, as listed.
struct Hold {
    std::string id;
    int index;
    shmbal_amount amount;    // what it still covers
    shmbal_amount original;  // what it was opened with
    int64_t created_micros;
    std::optional<int64_t> expires_micros;  // none without a ttl
    bool expired;            // the ttl passed; the next writer of the record voids it
};

/// Per slot `budget`, `held`, `free` (exact) and `hold_count`, with `op_id_window` and `op_ids_remembered`.
using SlotHolds = shmbal_slot_holds;

// ---- the books ----------------------------------------------------------------------------------

/// An open segment (RAII): `path` empty means $SHMBAL_SEGMENT, else /dev/shm/shmbal.
class Books {
public:
    explicit Books(const std::string &path = "", int mode = SHMBAL_OPEN_CREATE) {
        check(shmbal_open(path.empty() ? nullptr : path.c_str(), mode, &handle_));
    }
    ~Books() { close(); }
    Books(const Books &) = delete;
    Books &operator=(const Books &) = delete;
    Books(Books &&o) noexcept : handle_(o.handle_), open_(o.open_) { o.open_ = false; }
    Books &operator=(Books &&o) noexcept {
        std::swap(handle_, o.handle_);
        std::swap(open_, o.open_);
        return *this;
    }
    /// The C handle, for calling the C ABI directly.
    shmbal_books handle() const { return handle_; }
    /// Unmaps the segment; later calls throw Closed. Closing twice is harmless.
    void close() {
        if (open_) shmbal_close(handle_);
        open_ = false;
    }
    std::string path() const {
        char buffer[4096];
        check(shmbal_segment_path(handle_, buffer, sizeof buffer));
        return buffer;
    }

private:
    shmbal_books handle_{0};
    bool open_ = true;
};

/// A consistent copy of one record (the seed's StrategyBalance): `slots[i]` as doubles,
/// `exact_slots[i]` exact, `names[i]`, `strategy_count`, `credit_limit`, `headroom`, `epoch`,
/// `identity_holds` (1 when total == pool + budgets exactly) ...
struct StrategyBalance : shmbal_record_info {
    double total() const { return slots[0]; }
    double pool() const { return slots[1]; }
    /// The exact decimal text of slot `i`.
    std::string exact(int i) const { return to_string(exact_slots[i]); }
};

/// The money state of one record, exact, in a fixed-size struct (`strategy_count`, `slots[i]` as
/// shmbal_amount, `credit_limit`, `epoch`, `op_count` ...): what StrategyBalanceManager::read copies.
using RecordState = shmbal_record_state;

/// What reconcile did: `outcome()` (a ReconcileKind; `kind` the C value), `description` the core's account of it.
struct ReconcileResult : shmbal_reconcile_result {
    ReconcileKind outcome() const { return static_cast<ReconcileKind>(kind); }
};

/// The seed's StrategyBalanceManager: one exchange's books in a shared segment.
///
/// slots[0] is a currency's total, slots[1] the pool, slots[2..] the sub-strategies' budgets, and
/// total == pool + budgets exactly after every call, in every process. Amounts are doubles (taken
/// through their shortest decimal form, so 0.1 is exactly 0.1) or exact: decimal text or a
/// shmbal_amount. The manager looks each currency's record up once and keeps its handle, so every
/// call on an existing record (allocate, release, get, read, get_balance…) skips the key search.
class StrategyBalanceManager {
public:
    /// `strategy_count`: the slots of records this manager's reset creates (an existing record keeps
    /// its count). `segment` empty: $SHMBAL_SEGMENT, else /dev/shm/shmbal (created if missing).
    /// `read_only`: mapped read-only (every write throws SegmentUnusable).
    explicit StrategyBalanceManager(Exchange exchange, int strategy_count = 8, const std::string &segment = "",
                                    bool read_only = false)
        : strategyCount_(checked_count(strategy_count)),
          books_(segment, read_only ? SHMBAL_OPEN_READ_ONLY : SHMBAL_OPEN_CREATE),
          exchangeName_(exchange.name ? exchange.name : ""),
          exchange_(exchange.name ? exchangeName_.c_str() : nullptr) {}

    /// total = pool = balance, every budget 0 (sub-strategies must ask again).
    /// Every mutating method takes an optional last `op_id` (SPEC §9): a retry with the same id and
    /// arguments is not applied again (it returns, or throws, what the first call did).
    void reset(Currency currency, double balance, OpId op_id = std::nullopt) {
        check(shmbal_reset_op(h(), exchange_, currency.name, balance, count_for_reset(currency), CId(op_id).c_str()));
    }
    void reset(Currency currency, const std::string &balance, OpId op_id = std::nullopt) {
        check(shmbal_reset_text_op(h(), exchange_, currency.name, balance.c_str(), count_for_reset(currency), CId(op_id).c_str()));
    }
    /// slots[index] = amount, then rebalance through the pool.
    void set(Currency currency, double amount, int index = 0, OpId op_id = std::nullopt) {
        check(shmbal_set_op(h(), exchange_, currency.name, amount, index, CId(op_id).c_str()));
    }
    void set(Currency currency, const std::string &amount, int index = 0, OpId op_id = std::nullopt) {
        check(shmbal_set_text_op(h(), exchange_, currency.name, amount.c_str(), index, CId(op_id).c_str()));
    }
    /// slots[index] += delta, then rebalance (a fill, a transfer, a deposit).
    void adjust(Currency currency, double delta, int index = 0, OpId op_id = std::nullopt) {
        check(shmbal_adjust_op(h(), exchange_, currency.name, delta, index, CId(op_id).c_str()));
    }
    void adjust(Currency currency, const std::string &delta, int index = 0, OpId op_id = std::nullopt) {
        check(shmbal_adjust_text_op(h(), exchange_, currency.name, delta.c_str(), index, CId(op_id).c_str()));
    }

    /// Sub-strategy `index` takes `amount` from the pool; refused beyond the headroom (pool + credit).
    /// A double (its shortest decimal form), exact decimal text, or an exact shmbal_amount.
    /// Without an op id these are the hot path (the record handle's allocate/release, unchanged).
    void allocate(Currency currency, int index, double amount, OpId op_id = std::nullopt) {
        if (op_id) return allocate_op(currency, index, amount, op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_allocate(*r, index, amount));
        else check(shmbal_allocate(h(), exchange_, currency.name, index, amount));
    }
    void allocate(Currency currency, int index, const std::string &amount, OpId op_id = std::nullopt) {
        CId op(op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_allocate_text_op(*r, index, amount.c_str(), op.c_str()));
        else check(shmbal_allocate_text_op(h(), exchange_, currency.name, index, amount.c_str(), op.c_str()));
    }
    void allocate(Currency currency, int index, const char *amount, OpId op_id = std::nullopt) {
        allocate(currency, index, std::string(amount ? amount : ""), op_id);
    }
    void allocate(Currency currency, int index, shmbal_amount amount, OpId op_id = std::nullopt) {
        if (op_id) check(shmbal_record_allocate_exact_op(existing(currency), index, amount, CId(op_id).c_str()));
        else check(shmbal_record_allocate_exact(existing(currency), index, amount));
    }
    /// Sub-strategy `index` gives `amount` back to the pool; refused beyond its budget.
    void release(Currency currency, int index, double amount, OpId op_id = std::nullopt) {
        if (op_id) return release_op(currency, index, amount, op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_release(*r, index, amount));
        else check(shmbal_release(h(), exchange_, currency.name, index, amount));
    }
    void release(Currency currency, int index, const std::string &amount, OpId op_id = std::nullopt) {
        CId op(op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_release_text_op(*r, index, amount.c_str(), op.c_str()));
        else check(shmbal_release_text_op(h(), exchange_, currency.name, index, amount.c_str(), op.c_str()));
    }
    void release(Currency currency, int index, const char *amount, OpId op_id = std::nullopt) {
        release(currency, index, std::string(amount ? amount : ""), op_id);
    }
    void release(Currency currency, int index, shmbal_amount amount, OpId op_id = std::nullopt) {
        if (op_id) check(shmbal_record_release_exact_op(existing(currency), index, amount, CId(op_id).c_str()));
        else check(shmbal_record_release_exact(existing(currency), index, amount));
    }

    // ---- holds (SPEC §9): the money an open order may spend, kept inside its budget ----

    /// Holds `amount` (> 0, ≤ the slot's free budget) of sub-strategy `index` for the order `id`
    /// (also the hold's op id: the same hold again is a replay). `ttl`: it expires after that long.
    void hold(Currency currency, int index, Exact amount, std::string_view id,
              std::optional<std::chrono::microseconds> ttl = std::nullopt) {
        int64_t micros = ttl ? static_cast<int64_t>(ttl->count()) : 0;
        // 0 means "no ttl" in C; a zero ttl is refused like the core refuses a negative one.
        if (ttl && micros == 0) throw BadInput(Status::bad_input, "a hold's ttl must be above 0 (got 0 µs)");
        check(shmbal_hold(h(), exchange_, currency.name, index, amount.value, CId(id).c_str(), micros));
    }
    /// The order `id` spent `amount + fee`; never refused for money (an overrun comes from the
    /// slot's free budget, then the pool). `final` closes the hold.
    FillResult fill(Currency currency, std::string_view id, Exact amount, Exact fee = shmbal_amount{0, 0}, bool final = false,
                    OpId op_id = std::nullopt) {
        FillResult r{};
        check(shmbal_fill(h(), exchange_, currency.name, CId(id).c_str(), amount.value, fee.value, final ? 1 : 0, CId(op_id).c_str(), &r));
        return r;
    }
    /// Closes the hold `id` (C's shmbal_void; `void` is a C++ keyword): what it keeps returns to free.
    void void_hold(Currency currency, std::string_view id, OpId op_id = std::nullopt) {
        check(shmbal_void(h(), exchange_, currency.name, CId(id).c_str(), CId(op_id).c_str()));
    }
    /// The proceeds of a fill: sub-strategy `index`'s budget and the total rise by `amount`.
    void receive(Currency currency, int index, Exact amount, OpId op_id = std::nullopt) {
        check(shmbal_receive(h(), exchange_, currency.name, index, amount.value, CId(op_id).c_str()));
    }
    /// The open holds of slot `index` (-1: every slot), consistent with one published state.
    std::vector<Hold> holds(Currency currency, int index = -1) {
        std::vector<shmbal_hold_info> buffer(16);
        size_t count = 0;
        for (;;) {  // the library says how many it needs; holds opened meanwhile may ask again
            int rc = shmbal_holds(h(), exchange_, currency.name, index, buffer.data(), buffer.size(), &count);
            if (rc != SHMBAL_BUFFER_TOO_SMALL) {
                check(rc);
                break;
            }
            buffer.resize(count + 16);
        }
        std::vector<Hold> out;
        out.reserve(count);
        for (size_t i = 0; i < count; i++) {
            const shmbal_hold_info &e = buffer[i];
            out.push_back(Hold{e.id, e.index, e.amount, e.original, e.created_micros,
                               e.expires_micros ? std::optional<int64_t>(e.expires_micros) : std::nullopt, e.expired != 0});
        }
        return out;
    }
    /// Per slot: budget, held, free and hold count, from one consistent copy.
    SlotHolds slot_holds(Currency currency) {
        SlotHolds s{};
        check(shmbal_get_slot_holds(h(), exchange_, currency.name, &s));
        return s;
    }

    /// A consistent copy of the whole record, with names and change times.
    StrategyBalance get(Currency currency) {
        StrategyBalance b;
        check(shmbal_record_get(existing(currency), &b));
        return b;
    }
    /// The money state only, exact, into a fixed-size struct: about the core's own read (no names).
    RecordState read(Currency currency) {
        RecordState s{};
        check(shmbal_record_read(existing(currency), &s));
        return s;
    }
    /// One slot (default: the total) as the nearest double.
    double get_balance(Currency currency, int index = 0) {
        double value = 0;
        check(shmbal_record_balance(existing(currency), index, &value, nullptr));
        return value;
    }
    /// One slot as exact decimal text ("2000", "0.1").
    std::string get_balance_exact(Currency currency, int index = 0) { return to_string(get_balance_amount(currency, index)); }
    /// One slot exactly, as the stored 128-bit amount.
    shmbal_amount get_balance_amount(Currency currency, int index = 0) {
        shmbal_amount a{};
        check(shmbal_record_balance(existing(currency), index, nullptr, &a));
        return a;
    }

    /// The seed's recovery as one atomic step (see ReconcileResult).
    ReconcileResult reconcile(Currency currency, double exchange_balance) {
        ReconcileResult r;
        check(shmbal_reconcile(h(), exchange_, currency.name, exchange_balance, &r));
        return r;
    }
    ReconcileResult reconcile(Currency currency, const std::string &exchange_balance) {
        ReconcileResult r;
        check(shmbal_reconcile_text(h(), exchange_, currency.name, exchange_balance.c_str(), &r));
        return r;
    }
    void set_credit_limit(Currency currency, double credit, OpId op_id = std::nullopt) {
        check(shmbal_set_credit_limit_op(h(), exchange_, currency.name, credit, CId(op_id).c_str()));
    }
    void set_credit_limit(Currency currency, const std::string &credit, OpId op_id = std::nullopt) {
        check(shmbal_set_credit_limit_text_op(h(), exchange_, currency.name, credit.c_str(), CId(op_id).c_str()));
    }
    void set_strategy_count(Currency currency, int count, OpId op_id = std::nullopt) {
        check(shmbal_set_strategy_count_op(h(), exchange_, currency.name, count, CId(op_id).c_str()));
    }
    void set_name(Currency currency, int index, const std::string &name) {
        check(shmbal_set_name(h(), exchange_, currency.name, index, name.c_str()));
    }

    const char *exchange() const { return exchangeName_.c_str(); }
    int strategy_count() const { return strategyCount_; }
    std::string segment() const { return books_.path(); }
    /// Detaches; later calls throw Closed.
    void close() { books_.close(); }
    /// The underlying C handle.
    shmbal_books handle() const { return books_.handle(); }

private:
    shmbal_books h() const { return books_.handle(); }

    static int checked_count(int count) {
        if (count < 2 || count > 64)
            throw BadInput(Status::bad_input, "strategy count " + std::to_string(count) + " is outside 2…64");
        return count;
    }

    int count_for_reset(Currency currency) { return record(currency) ? 0 : strategyCount_; }

    // allocate/release of a double with an op id, out of the hot path's way.
    void allocate_op(Currency currency, int index, double amount, OpId op_id) {
        CId op(op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_allocate_op(*r, index, amount, op.c_str()));
        else check(shmbal_allocate_op(h(), exchange_, currency.name, index, amount, op.c_str()));
    }
    void release_op(Currency currency, int index, double amount, OpId op_id) {
        CId op(op_id);
        if (const shmbal_record *r = record(currency)) check(shmbal_record_release_op(*r, index, amount, op.c_str()));
        else check(shmbal_release_op(h(), exchange_, currency.name, index, amount, op.c_str()));
    }

    /// The record handle for `currency`; throws the library's refusal when there is no record yet.
    shmbal_record existing(Currency currency) {
        if (const shmbal_record *r = record(currency)) return *r;
        shmbal_record r;
        check(shmbal_record_find(h(), exchange_, currency.name, &r));  // throws: no record, bad name, closed
        return r;  // a name the cache does not keep (too long): the library folds and checks it
    }

    /// The cached record handle for `currency` (looked up once it exists), or nullptr when the
    /// record does not exist yet. Append-only and lock-free to read: the hot path is a short scan.
    const shmbal_record *record(Currency currency) {
        const char *name = currency.name;
        if (name == nullptr) return nullptr;  // the by-key call says what is wrong
        size_t n = count_.load(std::memory_order_acquire);
        for (size_t i = 0; i < n; i++)
            if (std::strcmp(cache_[i].currency, name) == 0) return &cache_[i].record;
        shmbal_record r;
        int rc = shmbal_record_find(h(), exchange_, name, &r);
        if (rc == SHMBAL_REFUSED) return nullptr;  // no record yet: the by-key call words the refusal
        check(rc);
        std::lock_guard<std::mutex> lock(mutex_);
        n = count_.load(std::memory_order_relaxed);
        for (size_t i = 0; i < n; i++)
            if (std::strcmp(cache_[i].currency, name) == 0) return &cache_[i].record;
        if (n == kCacheSize || std::strlen(name) >= sizeof cache_[0].currency) return nullptr;
        std::strcpy(cache_[n].currency, name);
        cache_[n].record = r;
        count_.store(n + 1, std::memory_order_release);
        return &cache_[n].record;
    }

    static constexpr size_t kCacheSize = 64;
    struct Cached {
        char currency[16];
        shmbal_record record;
    };

    int strategyCount_;
    Books books_;
    std::string exchangeName_;  // as given: the library checks it (and folds case) on every call
    const char *exchange_;
    Cached cache_[kCacheSize] = {};
    std::atomic<size_t> count_{0};
    std::mutex mutex_;
};

// ---- quotes -------------------------------------------------------------------------------------

/// The seed's SingleQuote: timestamps in µs since the Unix epoch, mid a double.
struct SingleQuote {
    int64_t timestamp;
    int64_t localTimestamp;
    double mid;
};

/// The seed's quote table: one SingleQuote per (exchange, data type, currency), in the segment
/// $SHMBAL_SEGMENT (else /dev/shm/shmbal; or use_segment) shared by all processes.
class ShareMemorySingleQuote {
public:
    static void write(Exchange exchange, DataType dataType, Currency currency, const SingleQuote &quote) {
        shmbal_quote q{quote.timestamp, quote.localTimestamp, quote.mid};
        check(shmbal_quote_write(books(), exchange.name, dataType.name, currency.name, &q));
    }

    /// The latest quote, as a pointer to this thread's copy: valid until this thread's next get.
    /// Throws NotFound when none was written.
    static SingleQuote *get(Exchange exchange, DataType dataType, Currency currency) {
        thread_local SingleQuote copy;
        shmbal_quote q;
        check(shmbal_quote_get(books(), exchange.name, dataType.name, currency.name, &q));
        copy = SingleQuote{q.timestamp, q.local_timestamp, q.mid};
        return &copy;
    }

    /// Uses the segment at `path` from now on (call before the first write/get to avoid opening the default).
    static void use_segment(const std::string &path) {
        State &s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        shmbal_books next;
        check(shmbal_open(path.empty() ? nullptr : path.c_str(), SHMBAL_OPEN_CREATE, &next));
        shmbal_books old = s.handle.exchange(next);
        if (old.id != 0) shmbal_close(old);
    }

private:
    struct State {
        std::atomic<shmbal_books> handle{shmbal_books{0}};
        std::mutex mutex;
    };
    static State &state() {
        static State s;
        return s;
    }
    static shmbal_books books() {
        State &s = state();
        shmbal_books b = s.handle.load(std::memory_order_acquire);
        if (b.id != 0) return b;
        std::lock_guard<std::mutex> lock(s.mutex);
        b = s.handle.load(std::memory_order_relaxed);
        if (b.id == 0) {
            check(shmbal_open(nullptr, SHMBAL_OPEN_CREATE, &b));
            s.handle.store(b, std::memory_order_release);
        }
        return b;
    }
};

}  // namespace shmbal

#ifdef SHMBAL_GLOBAL_NAMES
using shmbal::Currency;
using shmbal::DataType;
using shmbal::Exchange;
using shmbal::ShareMemorySingleQuote;
using shmbal::SingleQuote;
using shmbal::StrategyBalanceManager;
#endif

#endif  // SHMBALANCE_HPP
