// The peers ShmBalance is measured against, written in C as a user would write them, plus the
// timing helpers the harness needs. Every peer does one allocate or release per call on one
// record of 9 slots (2 ≤ index < 9), with the same checks ShmBalance makes.
#ifndef CPEERS_H
#define CPEERS_H

#include <stdint.h>

// ---- Timing -------------------------------------------------------------------------------

/// CPU timestamp counter (constant-rate here: `constant_tsc nonstop_tsc`), ordered after the
/// instructions before it by `lfence`. Converted to ns with `bench_tsc_per_ns`.
static inline uint64_t bench_ticks(void) {
#if defined(__x86_64__)
    __builtin_ia32_lfence();
    return __builtin_ia32_rdtsc();
#else
    uint64_t v;
    __asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
#endif
}

/// CLOCK_MONOTONIC in ns.
int64_t bench_now_ns(void);

/// The process environment (Swift 6 cannot read the C global `environ` without a warning).
char **bench_environ(void);

/// Relaxed atomic load/store of a word another process writes/reads (progress counters).
static inline uint64_t bench_load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void bench_store(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

/// Returns `v` from a function the optimiser cannot see into, so that a benchmark's arguments
/// (amount, index) stay run-time values, as in real code.
int64_t bench_opaque(int64_t v);

/// Pins the calling process to one CPU (0 on success).
int bench_pin_cpu(int cpu);

/// A compiler barrier around benchmark loops, so a result is not optimised away.
static inline void bench_keep(const void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }

// ---- Robust-mutex peers (one record in a shared mapping) -------------------------------------

typedef struct cpeer cpeer;

/// Maps a new file at `path` (MAP_SHARED) holding one record of `count` slots with pool =
/// `balance` raw units (10^-18), a robust process-shared mutex, and a 4096-entry activity ring.
/// `path` NULL: attach to nothing. Returns NULL with errno on failure.
cpeer *cpeer_create(const char *path, int count, int64_t balance);
/// Attaches to a file made by `cpeer_create` (another process).
cpeer *cpeer_attach(const char *path);
void cpeer_close(cpeer *p);

/// Results: 0 applied, > 0 refused (the SPEC's refusal code), < 0 -errno from the lock.
/// The slot arithmetic is 128-bit (the same width as ShmBalance's Amount).

/// In place: lock, check, write pool and slot, unlock. Fast, NOT crash-safe (a holder killed
/// between the two stores leaves the identity broken).
int cpeer_inplace_allocate(cpeer *p, int index, int64_t amount);
int cpeer_inplace_release(cpeer *p, int index, int64_t amount);

/// Same, with 64-bit slots (the "hand-written C, int64 slots" row).
int cpeer_inplace64_allocate(cpeer *p, int index, int64_t amount);
int cpeer_inplace64_release(cpeer *p, int index, int64_t amount);

/// What ShmBalance does per operation, hand-written: lock, check, copy the published state
/// (head + meaningful slots) into the other copy, change it there, publish with one release
/// store of the generation, append an activity-ring entry (shared fetch-add, same timestamp
/// source as ShmBalance), stamp the per-slot change times, unlock.
int cpeer_safe_allocate(cpeer *p, int index, int64_t amount);
int cpeer_safe_release(cpeer *p, int index, int64_t amount);

/// The same without the timestamp ("noclock"), and without the timestamp and the activity entry
/// ("bare"): not peers, a breakdown of what the crash-safe peer's time goes to.
int cpeer_safe_noclock_allocate(cpeer *p, int index, int64_t amount);
int cpeer_safe_noclock_release(cpeer *p, int index, int64_t amount);
int cpeer_safe_bare_allocate(cpeer *p, int index, int64_t amount);
int cpeer_safe_bare_release(cpeer *p, int index, int64_t amount);

/// A seqlock read of the published copy: the head and `count` 128-bit slots into `out`
/// (at least 64 × 16 bytes + head). Returns the slot count.
typedef struct {
    uint32_t count, last_index;
    uint64_t epoch, op_count;
    int64_t last_change_us;
    int32_t last_change_pid;
    __int128 credit;
    __int128 slots[64];
} cpeer_state;
int cpeer_safe_read(const cpeer *p, cpeer_state *out);

/// The pool and one slot of the published copy (for checks in the harness).
void cpeer_safe_slots(const cpeer *p, int index, int64_t *pool, int64_t *slot);

/// The floor: one relaxed atomic add on a word of the shared mapping.
uint64_t cpeer_atomic_add(cpeer *p);

// ---- SQLite (WAL, synchronous=NORMAL), one transaction per operation -------------------------

typedef struct sqlpeer sqlpeer;
/// Creates the database at `path` (journal_mode=WAL, synchronous=NORMAL) with one record of
/// `count` slots. NULL on failure (message on stderr).
sqlpeer *sqlpeer_open(const char *path, int count, int64_t balance);
int sqlpeer_allocate(sqlpeer *p, int index, int64_t amount);
int sqlpeer_release(sqlpeer *p, int index, int64_t amount);
void sqlpeer_close(sqlpeer *p);
/// The SQLite library version ("3.40.1").
const char *sqlite3_libversion_shim(void);

// ---- Redis, a Lua script per operation (EVALSHA over loopback, hiredis) ----------------------

typedef struct redispeer redispeer;
/// Connects to 127.0.0.1:`port`, loads the two scripts, writes one record. NULL on failure.
redispeer *redispeer_open(int port, int count, int64_t balance);
int redispeer_allocate(redispeer *p, int index, int64_t amount);
int redispeer_release(redispeer *p, int index, int64_t amount);
void redispeer_close(redispeer *p);

#endif
