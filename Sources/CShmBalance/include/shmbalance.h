/*
 * shmbalance.h: the C ABI of ShmBalance (libshmbalance.so), the one public C header.
 *
 * Exact strategy-balance books in shared memory (see the README and SPEC §3): per (exchange,
 * currency) a record of up to 64 slots where slots[0] is the account's total, slots[1] the pool
 * and slots[2..count) the sub-strategies' budgets, with total == pool + budgets exactly.
 * Every function here calls the same Swift core as the `shmbal` CLI and the dashboard.
 *
 * Install and link (README, "Install for C, C++ and Python"): `scripts/install-lib PREFIX` puts
 * libshmbalance.so.1 (self-contained: only glibc and the C++ runtime needed), this header,
 * shmbalance.hpp, a pkg-config file and a CMake package under PREFIX; then
 *     cc app.c $(pkg-config --cflags --libs shmbalance)
 * or, in CMake, find_package(ShmBalance 1 REQUIRED) and the target ShmBalance::shmbalance.
 *
 * Conventions
 *   - Every function that can fail returns an int status: SHMBAL_OK (0) or one of the codes
 *     below. After a failure, shmbal_last_error() gives a one-line message for a person (the
 *     core's own message) and shmbal_last_error_code() the status again, both per thread and
 *     left unchanged by later successful calls. Nothing is changed by a failed call.
 *   - Names (exchange, currency, data type) are NUL-terminated ASCII, up to 15 characters of
 *     letters, digits, `_ - .`; lower case is folded to upper ("usdc" is "USDC"). Slot names
 *     are any printable ASCII without spaces.
 *   - Amounts go in as `double` (converted through its shortest decimal form, so 0.1 means
 *     exactly 0.1; NaN and infinities are refused) or as decimal text ("-1000", "0.1",
 *     "10000.00"; no exponent, no separators, at most 18 decimals; never rounded); the hold
 *     functions (SPEC §9) take them exact only, as shmbal_amount. They come out as `double`
 *     (nearest) and exactly, as shmbal_amount (the stored 128-bit fixed-point value) or as text.
 *   - Handles are small values, not pointers. A closed (or never opened) handle is detected and
 *     refused with SHMBAL_CLOSED; it never reaches freed memory.
 *   - Operation ids (SPEC §9): every mutating function `shmbal_X` that the core can replay has
 *     a variant `shmbal_X_op` with one more, last argument `const char *op_id` (NULL: none, the
 *     same as `shmbal_X`). An op id is 1–32 printable ASCII characters without spaces; anything
 *     else is SHMBAL_BAD_INPUT and nothing changes. A second call with the same id and the same
 *     arguments does not apply again: it returns the first call's result (SHMBAL_OK, or the
 *     same refusal). The same id with other arguments is refused (SHMBAL_REFUSAL_OP_ID_REUSED).
 *     Each record remembers the ids of its last mutations that carried one, as many as the
 *     segment's window (set when it was created, 4,096 by default; shmbal_get_slot_holds shows
 *     it). shmbal_reconcile and shmbal_set_name have no `_op` variant yet.
 *   - Thread safety: every function may be called from any number of threads and processes at
 *     once, on the same handle too; records are locked per operation inside the core. The one
 *     exception: do not close a handle while another thread is still inside a call on it.
 */
#ifndef SHMBALANCE_H
#define SHMBALANCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI; shmbal_abi_version() returns the library's. Bumped on any change
 * to a signature or a struct below. */
#define SHMBAL_ABI_VERSION 1

/* ---- status and refusal codes: the one source of truth -------------------------------------- */
/* The C++ header (shmbal::Status, shmbal::Refusal) and the Python package (shmbalance.errors)
 * mirror these enums; Tests/BindingsTests/CodesTests.swift checks every mirror against this file,
 * and shmbal_refusal against the core's RefusalCode. Functions return them as a plain int. */

/* What a call did. */
typedef enum shmbal_status {
    SHMBAL_OK = 0,
    /* Refused by the rules (SPEC §3): no such record, index out of range, allocate beyond the
     * headroom, release beyond the budget, a budget below 0, overflow. Recorded in the segment's
     * activity log. shmbal_last_refusal() says which rule. */
    SHMBAL_REFUSED = 1,
    /* Unusable input caught before any record was touched: NaN, infinity, bad decimal text, a bad
     * name, a NULL pointer, a bad open mode. */
    SHMBAL_BAD_INPUT = 2,
    /* The segment cannot be used: missing, not a segment, another layout version, attached
     * read-only for a write, full, removed or replaced, a system call failed, too many open handles. */
    SHMBAL_SEGMENT = 3,
    /* The record's lock was held longer than the bound (about a second; $SHMBAL_LOCK_TIMEOUT_MS):
     * a stopped process or a debugger holds it. Nothing changed; try again. */
    SHMBAL_BUSY = 4,
    /* The segment's data or a lock is damaged beyond what the protocol repairs. */
    SHMBAL_CORRUPT = 5,
    /* The handle was closed, or never came from shmbal_open / shmbal_record_find. */
    SHMBAL_CLOSED = 6,
    /* Nothing there: no quote was ever written for that key. */
    SHMBAL_NOT_FOUND = 7,
    /* The caller's array is too small (shmbal_holds): the count out-parameter says how many
     * entries are needed; nothing was written to the array. Grow it and call again. */
    SHMBAL_BUFFER_TOO_SMALL = 8
} shmbal_status;

/* Which rule refused (shmbal_last_refusal after SHMBAL_REFUSED): the core's RefusalCode. */
typedef enum shmbal_refusal {
    SHMBAL_REFUSAL_NONE = 0,                  /* the last failure was not a refusal */
    SHMBAL_REFUSAL_NO_RECORD = 1,             /* "KRAKEN USDC has no record: reset it first" */
    SHMBAL_REFUSAL_INDEX_OUT_OF_RANGE = 2,    /* index ≥ the record's strategy count */
    SHMBAL_REFUSAL_NOT_A_SUB_STRATEGY = 3,    /* allocate/release needs an index 2…count-1 */
    SHMBAL_REFUSAL_NON_POSITIVE_AMOUNT = 4,   /* allocate/release needs an amount above 0 */
    SHMBAL_REFUSAL_INSUFFICIENT_HEADROOM = 5, /* allocate beyond pool + credit */
    SHMBAL_REFUSAL_EXCEEDS_BUDGET = 6,        /* release beyond the sub-strategy's budget */
    SHMBAL_REFUSAL_NEGATIVE_BUDGET = 7,       /* set/adjust would take a budget below 0 */
    SHMBAL_REFUSAL_OVERFLOW = 8,              /* a slot beyond the largest storable amount */
    SHMBAL_REFUSAL_BAD_COUNT = 9,             /* a strategy count outside 2…64 */
    SHMBAL_REFUSAL_SHRINK_OVER_NON_ZERO = 10, /* shrinking the count over a non-zero slot */
    SHMBAL_REFUSAL_BAD_AMOUNT = 11,           /* an amount that is not a finite number in range */
    SHMBAL_REFUSAL_NEGATIVE_CREDIT = 12,      /* a credit limit below 0 */
    SHMBAL_REFUSAL_TABLE_FULL = 13,           /* the segment's record table is full */
    SHMBAL_REFUSAL_EXCEEDS_FREE = 14,         /* hold beyond the slot's free budget (budget − held) */
    SHMBAL_REFUSAL_BELOW_HELD = 15,           /* release/set/adjust would take a budget below its holds */
    SHMBAL_REFUSAL_HOLD_TABLE_FULL = 16,      /* the record's hold table is full */
    SHMBAL_REFUSAL_HOLD_ID_IN_USE = 17,       /* the hold id is open with other arguments */
    SHMBAL_REFUSAL_UNKNOWN_HOLD = 18,         /* no open hold with that id */
    SHMBAL_REFUSAL_NEGATIVE_FILL = 19,        /* a fill's amount or fee below 0 */
    SHMBAL_REFUSAL_OP_ID_REUSED = 20,         /* the op id was used for another operation or arguments */
    SHMBAL_REFUSAL_FENCED = 21                /* allocate on a fenced record: its host's agent lost the ledger */
} shmbal_refusal;

/* The message of the last failed call on this thread ("" if none yet). The pointer stays valid
 * until this thread's next failing call; copy it to keep it. */
const char *shmbal_last_error(void);
/* The status of the last failed call on this thread (SHMBAL_OK if none yet). */
int shmbal_last_error_code(void);
/* When the last failure on this thread was SHMBAL_REFUSED: which rule (a shmbal_refusal);
 * SHMBAL_REFUSAL_NONE (0) otherwise. */
int shmbal_last_refusal(void);

/* SHMBAL_ABI_VERSION of the loaded library. */
int shmbal_abi_version(void);

/* ---- amounts ------------------------------------------------------------------------------- */

/* An exact amount: a signed 128-bit integer in units of 10^-18 (value = raw / 10^18), split in
 * two halves: raw = hi * 2^64 + lo. */
typedef struct shmbal_amount {
    uint64_t lo;
    int64_t hi;
} shmbal_amount;

/* The exact amount a double means (through its shortest decimal form). */
int shmbal_amount_from_double(double value, shmbal_amount *out);
/* Parses decimal text exactly. */
int shmbal_amount_parse(const char *text, shmbal_amount *out);
/* The exact decimal text with the fewest digits ("10000", "0.1", "-30"), NUL-terminated. Needs
 * at most 41 bytes; fails with SHMBAL_BAD_INPUT (writing "") if `capacity` is too small. */
int shmbal_amount_format(shmbal_amount amount, char *buffer, size_t capacity);
/* The nearest double. */
double shmbal_amount_to_double(shmbal_amount amount);

/* ---- segments ------------------------------------------------------------------------------ */

/* An open segment. Copy it freely; it stays valid until shmbal_close. */
typedef struct shmbal_books {
    uint64_t id;
} shmbal_books;

/* Open modes. */
typedef enum shmbal_open_mode {
    SHMBAL_OPEN_CREATE = 0,     /* read-write; create the segment (mode 0600) if nothing is there */
    SHMBAL_OPEN_READ_WRITE = 1, /* read-write; the segment must exist */
    SHMBAL_OPEN_READ_ONLY = 2   /* mapped read-only: nothing through this handle can write */
} shmbal_open_mode;

/* Opens the segment at `path` (NULL or "": $SHMBAL_SEGMENT when set, else /dev/shm/shmbal).
 * At most 1024 handles are open at once per process; open one per segment and share it. */
int shmbal_open(const char *path, int mode, shmbal_books *out);
/* Closes the handle and unmaps the segment; the handle and its record handles become invalid
 * (SHMBAL_CLOSED from then on). Closing twice returns SHMBAL_CLOSED. */
int shmbal_close(shmbal_books books);
/* The path of the segment, NUL-terminated (SHMBAL_BAD_INPUT if `capacity` is too small). */
int shmbal_segment_path(shmbal_books books, char *buffer, size_t capacity);

/* ---- the operations of SPEC §3, by key ------------------------------------------------------- */

/* total = pool = balance, every budget 0, epoch + 1. Creates the record if missing, with
 * `strategy_count` slots (2…64), or 8 when 0. On an existing record a count of 0 keeps its count,
 * credit and names; a count of 2…64 sets it. */
int shmbal_reset(shmbal_books books, const char *exchange, const char *currency, double balance, int strategy_count);
int shmbal_reset_text(shmbal_books books, const char *exchange, const char *currency, const char *balance, int strategy_count);

/* slots[index] = amount, then rebalance: a change to the total (0) or a budget (≥ 2) is absorbed
 * by the pool; a change to the pool (1) moves the total with it. Refused for index ≥ count or a
 * budget below 0. */
int shmbal_set(shmbal_books books, const char *exchange, const char *currency, double amount, int index);
int shmbal_set_text(shmbal_books books, const char *exchange, const char *currency, const char *amount, int index);

/* slots[index] += delta, then rebalance as shmbal_set does. */
int shmbal_adjust(shmbal_books books, const char *exchange, const char *currency, double delta, int index);
int shmbal_adjust_text(shmbal_books books, const char *exchange, const char *currency, const char *delta, int index);

/* Sub-strategy `index` (2 ≤ index < count) takes `amount` (> 0) from the pool. Refused when
 * pool − amount + credit < 0. */
int shmbal_allocate(shmbal_books books, const char *exchange, const char *currency, int index, double amount);
int shmbal_allocate_text(shmbal_books books, const char *exchange, const char *currency, int index, const char *amount);

/* Sub-strategy `index` gives `amount` (> 0, ≤ its budget) back to the pool. */
int shmbal_release(shmbal_books books, const char *exchange, const char *currency, int index, double amount);
int shmbal_release_text(shmbal_books books, const char *exchange, const char *currency, int index, const char *amount);

/* A consistent copy of a whole record. */
typedef struct shmbal_record_info {
    char exchange[16];             /* NUL-terminated */
    char currency[16];
    int32_t strategy_count;        /* 2…64: slots [0, strategy_count) are meaningful, the rest are 0 */
    int32_t last_index;            /* the slot the last applied operation changed */
    uint64_t epoch;                /* + 1 on every reset: a changed epoch means budgets were dropped */
    uint64_t op_count;             /* applied mutations since the record was created */
    int64_t last_change_micros;    /* µs since the Unix epoch */
    int32_t last_change_pid;
    int32_t identity_holds;        /* 1 when slots[0] == slots[1] + … + slots[count-1] exactly */
    double credit_limit;           /* nearest doubles … */
    double headroom;               /* pool + credit: what allocate may still hand out */
    double slots[64];
    shmbal_amount exact_credit_limit; /* … and the exact values */
    shmbal_amount exact_headroom;
    shmbal_amount exact_slots[64];
    char names[64][16];            /* slot names, NUL-terminated ("total", "pool", "grid-bot", "") */
    int64_t slot_changed_micros[64]; /* when each slot last changed (0: never) */
} shmbal_record_info;

/* Fills `out` with a consistent copy of the record (readers never wait for writers). */
int shmbal_get(shmbal_books books, const char *exchange, const char *currency, shmbal_record_info *out);

/* One slot (index 0: the total): as the nearest double and/or exactly (either pointer may be NULL). */
int shmbal_balance(shmbal_books books, const char *exchange, const char *currency, int index, double *value, shmbal_amount *exact);
/* One slot as exact decimal text (see shmbal_amount_format). */
int shmbal_balance_text(shmbal_books books, const char *exchange, const char *currency, int index, char *buffer, size_t capacity);

/* What shmbal_reconcile did. */
typedef enum shmbal_reconcile_kind {
    SHMBAL_RECONCILE_IN_SYNC = 0,  /* the total already matched: nothing changed */
    SHMBAL_RECONCILE_REPAIRED = 1, /* the total moved by delta, the pool absorbed it, budgets stayed */
    SHMBAL_RECONCILE_RESET = 2,    /* the repair would leave pool + credit < 0: reset, budgets dropped */
    SHMBAL_RECONCILE_CREATED = 3   /* there was no record: created and reset to the balance */
} shmbal_reconcile_kind;

typedef struct shmbal_reconcile_result {
    int32_t kind;                  /* SHMBAL_RECONCILE_* */
    int32_t dropped_count;         /* RESET: how many budgets were dropped (entries below) */
    shmbal_amount delta;           /* the exchange's balance − the local total (CREATED: the balance) */
    shmbal_amount pool;            /* REPAIRED: the pool now; RESET: the pool the repair would have left */
    int32_t dropped_index[62];
    shmbal_amount dropped_amount[62];
    char description[256];         /* the core's one-line account, NUL-terminated */
} shmbal_reconcile_result;

/* The recovery procedure of SPEC §3 as one atomic step: bring the total to the exchange's
 * balance; the pool absorbs the difference; if then pool + credit < 0, reset. `out` may be NULL. */
int shmbal_reconcile(shmbal_books books, const char *exchange, const char *currency, double exchange_balance, shmbal_reconcile_result *out);
int shmbal_reconcile_text(shmbal_books books, const char *exchange, const char *currency, const char *exchange_balance, shmbal_reconcile_result *out);

/* Metadata: the credit limit (≥ 0), the number of meaningful slots (grows any time, shrinks
 * only over zero slots), a slot's name (empty clears it). */
int shmbal_set_credit_limit(shmbal_books books, const char *exchange, const char *currency, double credit);
int shmbal_set_credit_limit_text(shmbal_books books, const char *exchange, const char *currency, const char *credit);
int shmbal_set_strategy_count(shmbal_books books, const char *exchange, const char *currency, int count);
int shmbal_set_name(shmbal_books books, const char *exchange, const char *currency, int index, const char *name);

/* ---- record handles: the hot path ------------------------------------------------------------ */

/* One record of an open segment, looked up once. Calls through it skip the name checks and the
 * key search; it stays valid until its shmbal_books is closed. */
typedef struct shmbal_record {
    uint64_t books;
    uint64_t slot;
} shmbal_record;

/* Finds the record for (exchange, currency); SHMBAL_REFUSED ("… has no record: reset it first")
 * when it does not exist yet. */
int shmbal_record_find(shmbal_books books, const char *exchange, const char *currency, shmbal_record *out);

/* allocate / release as shmbal_allocate / shmbal_release do, with the amount as a double, as
 * decimal text, or exact (`_exact`: an amount beyond ±10^18 whole units is SHMBAL_BAD_INPUT). */
int shmbal_record_allocate(shmbal_record record, int index, double amount);
int shmbal_record_allocate_text(shmbal_record record, int index, const char *amount);
int shmbal_record_allocate_exact(shmbal_record record, int index, shmbal_amount amount);
int shmbal_record_release(shmbal_record record, int index, double amount);
int shmbal_record_release_text(shmbal_record record, int index, const char *amount);
int shmbal_record_release_exact(shmbal_record record, int index, shmbal_amount amount);

/* One slot, consistent (index 0: the total), as the nearest double and/or exactly (either
 * pointer may be NULL). No lock, no allocation: the fast read of one balance. */
int shmbal_record_balance(shmbal_record record, int index, double *value, shmbal_amount *exact);

/* 16-byte alignment for shmbal_record_state (the core's own alignment for 128-bit amounts). */
#if defined(__GNUC__) || defined(__clang__)
#define SHMBAL_ALIGNED_16 __attribute__((aligned(16)))
#else
#define SHMBAL_ALIGNED_16
#endif

/* A record's money state, exact, in a fixed-size struct (no names, no change times). Its layout
 * is the core's own reader state, so shmbal_record_read fills it without an intermediate copy
 * (when it is 16-byte aligned, as declared here; otherwise through a copy, a little slower). */
typedef struct SHMBAL_ALIGNED_16 shmbal_record_state {
    int64_t strategy_count;      /* 2…64: slots [0, strategy_count) are meaningful */
    int64_t last_index;          /* the slot the last applied operation changed */
    uint64_t epoch;              /* + 1 on every reset */
    uint64_t op_count;           /* applied mutations since the record was created */
    int64_t last_change_micros;  /* µs since the Unix epoch */
    int32_t last_change_pid;
    uint8_t fenced;              /* 1: allocate is refused here until the host's agent reaches the
                                    ledger again (SPEC §10, SHMBAL_REFUSAL_FENCED); 0 otherwise */
    uint8_t reserved[3];         /* 0 */
    shmbal_amount credit_limit;  /* headroom = slots[1] + credit_limit */
    shmbal_amount slots[64];
} shmbal_record_state;

/* Copies the record's published state into `out`: consistent (readers never wait for writers),
 * no lock, no allocation, about the cost of the core's own read. It writes the slots below the
 * new strategy_count and clears those that the previous read into the same struct left beyond
 * it, so in a struct zeroed once (`shmbal_record_state s = {0};`) and reused, the slots past
 * strategy_count are always 0. */
int shmbal_record_read(shmbal_record record, shmbal_record_state *out);

/* The whole record with its names and change times, amounts as doubles and exact (slower: it
 * converts every slot; for names and change times, or for a display). */
int shmbal_record_get(shmbal_record record, shmbal_record_info *out);

/* ---- operation ids on the operations above (see "Operation ids" at the top) ------------------ */

int shmbal_reset_op(shmbal_books books, const char *exchange, const char *currency, double balance, int strategy_count, const char *op_id);
int shmbal_reset_text_op(shmbal_books books, const char *exchange, const char *currency, const char *balance, int strategy_count, const char *op_id);
int shmbal_set_op(shmbal_books books, const char *exchange, const char *currency, double amount, int index, const char *op_id);
int shmbal_set_text_op(shmbal_books books, const char *exchange, const char *currency, const char *amount, int index, const char *op_id);
int shmbal_adjust_op(shmbal_books books, const char *exchange, const char *currency, double delta, int index, const char *op_id);
int shmbal_adjust_text_op(shmbal_books books, const char *exchange, const char *currency, const char *delta, int index, const char *op_id);
int shmbal_allocate_op(shmbal_books books, const char *exchange, const char *currency, int index, double amount, const char *op_id);
int shmbal_allocate_text_op(shmbal_books books, const char *exchange, const char *currency, int index, const char *amount, const char *op_id);
int shmbal_release_op(shmbal_books books, const char *exchange, const char *currency, int index, double amount, const char *op_id);
int shmbal_release_text_op(shmbal_books books, const char *exchange, const char *currency, int index, const char *amount, const char *op_id);
int shmbal_set_credit_limit_op(shmbal_books books, const char *exchange, const char *currency, double credit, const char *op_id);
int shmbal_set_credit_limit_text_op(shmbal_books books, const char *exchange, const char *currency, const char *credit, const char *op_id);
int shmbal_set_strategy_count_op(shmbal_books books, const char *exchange, const char *currency, int count, const char *op_id);
/* Through a record handle. With an op id these take the core's general commit, not the hot pair
 * (a NULL op id keeps the hot path of shmbal_record_allocate / _release). */
int shmbal_record_allocate_op(shmbal_record record, int index, double amount, const char *op_id);
int shmbal_record_allocate_text_op(shmbal_record record, int index, const char *amount, const char *op_id);
int shmbal_record_allocate_exact_op(shmbal_record record, int index, shmbal_amount amount, const char *op_id);
int shmbal_record_release_op(shmbal_record record, int index, double amount, const char *op_id);
int shmbal_record_release_text_op(shmbal_record record, int index, const char *amount, const char *op_id);
int shmbal_record_release_exact_op(shmbal_record record, int index, shmbal_amount amount, const char *op_id);

/* ---- holds, fills and receipts (SPEC §9) ------------------------------------------------------ */
/* An open order's money is *held* inside its sub-strategy's budget: per slot held = the sum of
 * its open holds, free = budget − held, 0 ≤ held ≤ budget always. Amounts here are exact
 * (shmbal_amount; shmbal_amount_from_double / shmbal_amount_parse convert). A hold id (an order
 * id) follows the op-id rules and is the hold's own op id: the same hold again is a replay. */

/* Holds `amount` (> 0, ≤ free) of sub-strategy `index`'s budget for the order `id`.
 * `ttl_micros` > 0: the hold expires that many µs from now (the next writer of the record voids
 * it); 0: no ttl; < 0: SHMBAL_BAD_INPUT. */
int shmbal_hold(shmbal_books books, const char *exchange, const char *currency, int index, shmbal_amount amount,
                const char *id, int64_t ttl_micros);

/* What a fill spent (amount + fee) and where it came from. */
typedef struct shmbal_fill_result {
    shmbal_amount from_hold;       /* the part the hold covered */
    shmbal_amount from_free;       /* an overrun taken from the slot's free budget */
    shmbal_amount from_pool;       /* the rest of an overrun, from the pool (the fill happened) */
    int32_t closed;                /* 1: the hold is closed (a final fill) */
    int32_t reserved;              /* 0 */
} shmbal_fill_result;

/* The order `id` spent `amount + fee` (both ≥ 0): the budget and the total fall by it, the hold
 * by as much as it covers; never refused for money. `final` (non-zero) closes the hold, what is
 * left returning to free. `op_id` (NULL: none; a fill without one is never replayed). `out` may
 * be NULL. */
int shmbal_fill(shmbal_books books, const char *exchange, const char *currency, const char *id, shmbal_amount amount,
                shmbal_amount fee, int final, const char *op_id, shmbal_fill_result *out);

/* Closes the hold `id`: all it still keeps returns to the slot's free budget. */
int shmbal_void(shmbal_books books, const char *exchange, const char *currency, const char *id, const char *op_id);

/* The proceeds of a fill: the total and sub-strategy `index`'s budget rise by `amount` (> 0);
 * the pool is not touched. */
int shmbal_receive(shmbal_books books, const char *exchange, const char *currency, int index, shmbal_amount amount,
                   const char *op_id);

/* One open hold as listed. */
typedef struct shmbal_hold_info {
    char id[40];                   /* NUL-terminated, 1–32 characters */
    int32_t index;                 /* the sub-strategy's slot */
    int32_t expired;               /* 1: its ttl passed; the next writer of the record voids it */
    shmbal_amount amount;          /* what it still covers */
    shmbal_amount original;        /* what it was opened with */
    int64_t created_micros;        /* µs since the Unix epoch */
    int64_t expires_micros;        /* 0: no ttl */
} shmbal_hold_info;

/* The open holds of slot `index` (-1: of every slot), consistent with one published state.
 * Buffer rule: `*count` (required) is always set to the number of open holds; when it is at most
 * `capacity`, they are written to `out[0..*count)` and SHMBAL_OK is returned; otherwise nothing
 * is written and SHMBAL_BUFFER_TOO_SMALL is returned ("… need N"): grow to *count and call
 * again (holds opened meanwhile can make it happen again). `out` may be NULL when `capacity` is 0. */
int shmbal_holds(shmbal_books books, const char *exchange, const char *currency, int index, shmbal_hold_info *out,
                 size_t capacity, size_t *count);

/* Per slot: budget, held, free and the number of open holds, from one consistent copy, and the
 * record's op-id window. (A struct of its own: shmbal_record_info is not versioned.) */
typedef struct shmbal_slot_holds {
    int32_t strategy_count;        /* 2…64: entries [0, strategy_count) are meaningful, the rest 0 */
    int32_t op_id_window;          /* op ids each record remembers (the segment's capacity) */
    int32_t op_ids_remembered;     /* how many this record remembers now (≤ the window) */
    int32_t reserved;              /* 0 */
    uint64_t op_count;             /* applied mutations (the state the figures belong to) */
    shmbal_amount budget[64];      /* = shmbal_record_info.exact_slots */
    shmbal_amount held[64];        /* Σ open holds of each slot (0 for the total and the pool) */
    shmbal_amount free[64];        /* budget − held */
    int32_t hold_count[64];        /* open holds of each slot */
} shmbal_slot_holds;

int shmbal_get_slot_holds(shmbal_books books, const char *exchange, const char *currency, shmbal_slot_holds *out);

/* ---- quotes (the seed's ShareMemorySingleQuote) ---------------------------------------------- */

/* The seed's SingleQuote: timestamps in µs since the Unix epoch, mid a double. */
typedef struct shmbal_quote {
    int64_t timestamp;
    int64_t local_timestamp;
    double mid;
} shmbal_quote;

/* Writes the quote for (exchange, data type, currency), e.g. (KRAKEN, BALANCE, USDT); readers
 * always see a whole quote. `mid` must be finite. */
int shmbal_quote_write(shmbal_books books, const char *exchange, const char *data_type, const char *currency, const shmbal_quote *quote);
/* The latest quote; SHMBAL_NOT_FOUND when none was ever written for that key. */
int shmbal_quote_get(shmbal_books books, const char *exchange, const char *data_type, const char *currency, shmbal_quote *out);

#ifdef __cplusplus
}
#endif

#endif /* SHMBALANCE_H */
