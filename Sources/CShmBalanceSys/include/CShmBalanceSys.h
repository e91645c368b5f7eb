// System calls the Swift core cannot reach directly from Glibc's module.
#ifndef CSHMBALANCESYS_H
#define CSHMBALANCESYS_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

/// Lock a mutex, giving up after `timeout_ns` of CLOCK_MONOTONIC time (immune to wall-clock jumps).
/// Returns 0, EOWNERDEAD, ETIMEDOUT, ENOTRECOVERABLE or another errno.
int shmbal_mutex_lock_monotonic(pthread_mutex_t *mutex, int64_t timeout_ns);

/// Initialise a robust, process-shared mutex in place (only on memory no one else maps yet).
int shmbal_mutex_init_robust_shared(pthread_mutex_t *mutex);

/// The CPU's spin-wait hint (x86 `pause`), so a spinning waiter yields the core's pipeline.
static inline void shmbal_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif

}

/// The TID of the owner recorded inside a glibc mutex (diagnostics only: who holds a busy record).
int shmbal_mutex_owner_tid(const pthread_mutex_t *mutex);

/// Whether the mutex is held by anyone (a plain load of glibc's lock word): lets a waiter spin on
/// its cache line without writing it, and take the lock only when it looks free.
/// A word with only FUTEX_OWNER_DIED (and waiters) set is free to take: the next lock gets EOWNERDEAD.
static inline int shmbal_mutex_is_locked(const pthread_mutex_t *mutex) {
    return (__atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED) & 0x3fffffff) != 0;
}

/// Whether the owner named in a held mutex's lock word holds nothing: the thread is gone, it is
/// the caller, or (with `check_maps`) its process does not map the file of mapping `mapping_id`.
int shmbal_mutex_owner_state(const pthread_mutex_t *mutex, int check_maps, int mapping_id);
/// If the owner holds nothing (see above), marks the word FUTEX_OWNER_DIED as the kernel does for
/// a dead owner and wakes the waiters; returns 1 when it did. See mapping.c.
int shmbal_mutex_mark_owner_dead(pthread_mutex_t *mutex, int check_maps, int mapping_id);

// ---- The segment file's own life (mapping.c) ------------------------------------------------

#define SHMBAL_MAPPING_OK 0
#define SHMBAL_MAPPING_REMOVED 1    // nothing at the path any more
#define SHMBAL_MAPPING_REPLACED 2   // another file at the path
#define SHMBAL_MAPPING_TRUNCATED 3  // shorter than the mapping: its pages are anonymous zeros now
#define SHMBAL_MAX_MAPPINGS 4096
/// How often a writer looks at the file behind its mapping: every write compares its clock
/// reading with the last check, so a removed file is noticed within this bound (SPEC: ≤ 1 s).
#define SHMBAL_FILE_CHECK_US 250000

/// What the hot path reads of each mapping (separate from the rest so it stays in few cache lines):
/// the clock reading from which on a write must look at the file again, 0 once the mapping is no
/// longer OK (so every write takes the slow path and reports the state).
struct shmbal_mapping_watch {
    int64_t due_us;
    int state;
};
extern struct shmbal_mapping_watch shmbal_mapping_watches[SHMBAL_MAX_MAPPINGS];
/// How many registered mappings are truncated: readers test this one word after every read.
extern int shmbal_faulted_mappings;

/// Registers a new mapping of the file open as `fd` at `path`; returns its id (≥ 0) or −errno.
/// Installs the SIGBUS handler on first use.
int shmbal_mapping_register(void *base, size_t length, int writable, int fd, const char *path);
void shmbal_mapping_unregister(int id);
/// Stats the path now: SHMBAL_MAPPING_* (sticky once not OK).
int shmbal_mapping_check_file(int id);
int shmbal_mapping_state_slow(int id, int64_t now_us);
/// The path a mapping was registered with ("" for none).
const char *shmbal_mapping_path(int id);
/// The id of the registered mapping containing `address`, or −1.
int shmbal_mapping_containing(const void *address);
/// For a program's own SIGBUS handler (installed with SA_SIGINFO after a segment was opened): if
/// the fault is an access to a registered segment mapping, handles it as the core's handler does
/// (marks the mapping truncated, maps zero pages over it) and returns 1: the handler should then
/// just return. Returns 0 for any other fault.
int shmbal_segment_fault(const siginfo_t *info);

/// The mapping's state for a writer that read the clock as `now_us`: one load and one comparison,
/// and a stat of the path at most every SHMBAL_FILE_CHECK_US.
static inline int shmbal_mapping_state(int id, int64_t now_us) {
    if (__builtin_expect(now_us < __atomic_load_n(&shmbal_mapping_watches[id].due_us, __ATOMIC_RELAXED), 1)) return 0;
    return shmbal_mapping_state_slow(id, now_us);
}

/// The mapping's state as last seen (no clock, no stat).
static inline int shmbal_mapping_last_state(int id) { return __atomic_load_n(&shmbal_mapping_watches[id].state, __ATOMIC_ACQUIRE); }

/// Whether any mapping in this process was truncated (one relaxed load).
static inline int shmbal_any_mapping_faulted(void) { return __atomic_load_n(&shmbal_faulted_mappings, __ATOMIC_RELAXED) != 0; }

/// CLOCK_MONOTONIC in nanoseconds (lock deadlines).
int64_t shmbal_monotonic_ns(void);

/// CLOCK_REALTIME in microseconds, read by system call (through the vDSO: ~30 ns here).
int64_t shmbal_realtime_micros(void);

/// The time base `shmbal_now_micros` extrapolates from (one per process; see sys.c).
struct shmbal_time_base {
    uint64_t seq;             // odd while being moved
    int64_t base_us;          // CLOCK_REALTIME in whole µs at base_tsc
    uint64_t base_tsc;        // the TSC when CLOCK_REALTIME was exactly base_us
    uint64_t span_tsc;        // extrapolate at most this many ticks past base_tsc (~1 ms); 0 = not yet
    uint64_t us_per_tick_q40; // µs per TSC tick, 24.40 fixed point
};
extern struct shmbal_time_base shmbal_time_base_state;
int64_t shmbal_now_micros_slow(void);

/// Microseconds since the epoch (CLOCK_REALTIME), for the activity ring and the change stamps.
/// On x86_64 with an invariant TSC (the kernel's own clocksource) it is the TSC extrapolated
/// from a CLOCK_REALTIME reading taken at most ~1 ms of ticks earlier: no call, ~5 ns instead of
/// ~30 ns, within a microsecond of the system clock. Elsewhere, and every ~1 ms, the clock itself.
/// always_inline: in the larger commits (an op id, a hold) the inliner kept it a call (−3.5
/// instructions per allocate/release with an op id once inlined).
__attribute__((always_inline)) static inline int64_t shmbal_now_micros(void) {
#if defined(__x86_64__)
    uint64_t tsc = __builtin_ia32_rdtsc();
    const struct shmbal_time_base *b = &shmbal_time_base_state;
    uint64_t seq = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
    int64_t base_us = __atomic_load_n(&b->base_us, __ATOMIC_RELAXED);
    uint64_t ticks = tsc - __atomic_load_n(&b->base_tsc, __ATOMIC_RELAXED);
    uint64_t span = __atomic_load_n(&b->span_tsc, __ATOMIC_RELAXED);
    uint64_t rate = __atomic_load_n(&b->us_per_tick_q40, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__builtin_expect(ticks < span && __atomic_load_n(&b->seq, __ATOMIC_RELAXED) == seq && !(seq & 1), 1)) {
        return base_us + (int64_t)(((unsigned __int128)ticks * rate) >> 40);
    }
#endif
    return shmbal_now_micros_slow();
}

/// This process's pid, kept current across fork() by an atfork handler (getpid() is a system call
/// on every call in glibc ≥ 2.25, too slow for the hot path).
extern int shmbal_cached_pid_value;
static inline int shmbal_cached_pid(void) { return __atomic_load_n(&shmbal_cached_pid_value, __ATOMIC_RELAXED); }
#endif
