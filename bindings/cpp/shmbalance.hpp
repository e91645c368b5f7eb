// shmbalance.hpp: ShmBalance for C++, header-only over the C ABI (shmbalance.h, libshmbalance.so),
// in the seed's shape:
//
//     #include "shmbalance.hpp"
//     StrategyBalanceManager manager(Exchange::KRAKEN, 8);
//     manager.reset(Currency::USDC, 10000.0);
//     manager.allocate(Currency::USDC, 2, 2000.0);
//     double pool = manager.get_balance(Currency::USDC, 1);          // 8000
//     ShareMemorySingleQuote::write(Exchange::KRAKEN, DataType::BALANCE, Currency::USDT, SingleQuote{now, now, 10000.0});
//     SingleQuote *q = ShareMemorySingleQuote::get(Exchange::KRAKEN, DataType::BALANCE, Currency::USDT);
//
// Build: g++ -std=c++17 -I<repo>/Sources/CShmBalance/include -I<repo>/bindings/cpp app.cpp
//        -L<repo>/.build/release -lshmbalance -Wl,-rpath,<repo>/.build/release
//
// Every failure throws a shmbal::Error (one subclass per status of the C ABI) whose what() is the
// core's message; a failed call changes nothing. Everything lives in namespace shmbal; the seed's
// names (Exchange, Currency, DataType, SingleQuote, ShareMemorySingleQuote,
// StrategyBalanceManager) are also brought to the global namespace unless SHMBAL_NO_GLOBAL_NAMES
// is defined. All of it is safe to use from several threads at once.
#ifndef SHMBALANCE_HPP
#define SHMBALANCE_HPP

#include "shmbalance.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace shmbal {

// ---- errors -------------------------------------------------------------------------------------

/// A failed call into the books; what() is the core's one-line message. Nothing was changed.
class Error : public std::runtime_error {
public:
    Error(int status, const std::string &message, int refusal = 0)
        : std::runtime_error(message), status_(status), refusal_(refusal) {}
    /// The C ABI's status (SHMBAL_REFUSED, SHMBAL_BAD_INPUT, ...).
    int status() const noexcept { return status_; }
    /// For a refusal, the rule that said no (see shmbal_last_refusal); else 0.
    int refusal() const noexcept { return refusal_; }

private:
    int status_;
    int refusal_;
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

/// Throws the exception for `status` with this thread's last message from the library.
[[noreturn]] inline void throwStatus(int status) {
    std::string message = shmbal_last_error();
    switch (status) {
    case SHMBAL_REFUSED: throw Refused(status, message, shmbal_last_refusal());
    case SHMBAL_BAD_INPUT: throw BadInput(status, message);
    case SHMBAL_SEGMENT: throw SegmentUnusable(status, message);
    case SHMBAL_BUSY: throw Busy(status, message);
    case SHMBAL_CORRUPT: throw Corrupt(status, message);
    case SHMBAL_CLOSED: throw Closed(status, message);
    case SHMBAL_NOT_FOUND: throw NotFound(status, message);
    default: throw Error(status, message);
    }
}

/// Turns a C status into an exception.
inline void check(int status) {
    if (status != SHMBAL_OK) throwStatus(status);
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
inline std::string toString(const shmbal_amount &a) {
    char buffer[64];
    check(shmbal_amount_format(a, buffer, sizeof buffer));
    return buffer;
}

/// Microseconds since the Unix epoch (the quotes' timestamps).
inline int64_t nowMicros() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

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
/// `exact_slots[i]` exact, `names[i]`, `strategy_count`, `credit_limit`, `headroom`, `epoch` ...
struct StrategyBalance : shmbal_record_info {
    double total() const { return slots[0]; }
    double pool() const { return slots[1]; }
    /// The exact decimal text of slot `i`.
    std::string exact(int i) const { return toString(exact_slots[i]); }
    bool identityHolds() const { return identity_holds != 0; }
};

/// What reconcile did: `kind` is SHMBAL_RECONCILE_IN_SYNC / _REPAIRED / _RESET / _CREATED;
/// `description` the core's account of it.
struct ReconcileResult : shmbal_reconcile_result {};

/// The seed's StrategyBalanceManager: one exchange's books in a shared segment.
///
/// slots[0] is a currency's total, slots[1] the pool, slots[2..] the sub-strategies' budgets, and
/// total == pool + budgets exactly after every call, in every process. Amounts are doubles (taken
/// through their shortest decimal form, so 0.1 is exactly 0.1) or exact decimal text.
class StrategyBalanceManager {
public:
    /// `strategyCount`: the slots of records this manager's reset creates (an existing record keeps
    /// its count). `segment` empty: $SHMBAL_SEGMENT, else /dev/shm/shmbal (created if missing).
    explicit StrategyBalanceManager(Exchange exchange, int strategyCount = 8, const std::string &segment = "",
                                    bool readOnly = false)
        : strategyCount_(checkedCount(strategyCount)),
          books_(segment, readOnly ? SHMBAL_OPEN_READ_ONLY : SHMBAL_OPEN_CREATE),
          exchangeName_(exchange.name ? exchange.name : ""),
          exchange_(exchange.name ? exchangeName_.c_str() : nullptr) {}

    /// total = pool = balance, every budget 0 (sub-strategies must ask again).
    void reset(Currency currency, double balance) { check(shmbal_reset(h(), exchange_, currency.name, balance, countForReset(currency))); }
    void reset(Currency currency, const std::string &balance) {
        check(shmbal_reset_text(h(), exchange_, currency.name, balance.c_str(), countForReset(currency)));
    }
    /// slots[index] = amount, then rebalance through the pool.
    void set(Currency currency, double amount, int index = 0) { check(shmbal_set(h(), exchange_, currency.name, amount, index)); }
    void set(Currency currency, const std::string &amount, int index = 0) {
        check(shmbal_set_text(h(), exchange_, currency.name, amount.c_str(), index));
    }
    /// slots[index] += delta, then rebalance (a fill, a transfer, a deposit).
    void adjust(Currency currency, double delta, int index = 0) { check(shmbal_adjust(h(), exchange_, currency.name, delta, index)); }
    void adjust(Currency currency, const std::string &delta, int index = 0) {
        check(shmbal_adjust_text(h(), exchange_, currency.name, delta.c_str(), index));
    }
    /// Sub-strategy `index` takes `amount` from the pool; refused beyond the headroom (pool + credit).
    void allocate(Currency currency, int index, double amount) {
        if (const shmbal_record *r = record(currency)) check(shmbal_record_allocate(*r, index, amount));
        else check(shmbal_allocate(h(), exchange_, currency.name, index, amount));
    }
    void allocate(Currency currency, int index, const std::string &amount) {
        check(shmbal_allocate_text(h(), exchange_, currency.name, index, amount.c_str()));
    }
    /// Sub-strategy `index` gives `amount` back to the pool; refused beyond its budget.
    void release(Currency currency, int index, double amount) {
        if (const shmbal_record *r = record(currency)) check(shmbal_record_release(*r, index, amount));
        else check(shmbal_release(h(), exchange_, currency.name, index, amount));
    }
    void release(Currency currency, int index, const std::string &amount) {
        check(shmbal_release_text(h(), exchange_, currency.name, index, amount.c_str()));
    }
    /// A consistent copy of the whole record.
    StrategyBalance get(Currency currency) {
        StrategyBalance b;
        check(shmbal_get(h(), exchange_, currency.name, &b));
        return b;
    }
    /// One slot (default: the total) as the nearest double.
    double get_balance(Currency currency, int index = 0) {
        double value = 0;
        if (const shmbal_record *r = record(currency)) check(shmbal_record_balance(*r, index, &value, nullptr));
        else check(shmbal_balance(h(), exchange_, currency.name, index, &value, nullptr));
        return value;
    }
    double getBalance(Currency currency, int index = 0) { return get_balance(currency, index); }
    /// One slot as exact decimal text.
    std::string getBalanceExact(Currency currency, int index = 0) {
        char buffer[64];
        check(shmbal_balance_text(h(), exchange_, currency.name, index, buffer, sizeof buffer));
        return buffer;
    }
    /// The seed's recovery as one atomic step (see ReconcileResult).
    ReconcileResult reconcile(Currency currency, double exchangeBalance) {
        ReconcileResult r;
        check(shmbal_reconcile(h(), exchange_, currency.name, exchangeBalance, &r));
        return r;
    }
    ReconcileResult reconcile(Currency currency, const std::string &exchangeBalance) {
        ReconcileResult r;
        check(shmbal_reconcile_text(h(), exchange_, currency.name, exchangeBalance.c_str(), &r));
        return r;
    }
    void setCreditLimit(Currency currency, double credit) { check(shmbal_set_credit_limit(h(), exchange_, currency.name, credit)); }
    void setCreditLimit(Currency currency, const std::string &credit) {
        check(shmbal_set_credit_limit_text(h(), exchange_, currency.name, credit.c_str()));
    }
    void setStrategyCount(Currency currency, int count) { check(shmbal_set_strategy_count(h(), exchange_, currency.name, count)); }
    void setName(Currency currency, int index, const std::string &name) {
        check(shmbal_set_name(h(), exchange_, currency.name, index, name.c_str()));
    }

    const char *exchange() const { return exchangeName_.c_str(); }
    int strategyCount() const { return strategyCount_; }
    std::string segment() const { return books_.path(); }
    /// Detaches; later calls throw Closed.
    void close() { books_.close(); }
    /// The underlying C handle.
    shmbal_books handle() const { return books_.handle(); }

private:
    shmbal_books h() const { return books_.handle(); }

    static int checkedCount(int count) {
        if (count < 2 || count > 64)
            throw BadInput(SHMBAL_BAD_INPUT, "strategy count " + std::to_string(count) + " is outside 2…64");
        return count;
    }

    int countForReset(Currency currency) { return record(currency) ? 0 : strategyCount_; }

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
/// $SHMBAL_SEGMENT (else /dev/shm/shmbal; or useSegment) shared by all processes.
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
    static void useSegment(const std::string &path) {
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

#ifndef SHMBAL_NO_GLOBAL_NAMES
using shmbal::Currency;
using shmbal::DataType;
using shmbal::Exchange;
using shmbal::ShareMemorySingleQuote;
using shmbal::SingleQuote;
using shmbal::StrategyBalanceManager;
#endif

#endif  // SHMBALANCE_HPP
