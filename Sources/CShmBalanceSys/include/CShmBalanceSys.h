// System calls the Swift core cannot reach directly from Glibc's module.
#ifndef CSHMBALANCESYS_H
#define CSHMBALANCESYS_H

#include <pthread.h>
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
static inline int shmbal_mutex_is_locked(const pthread_mutex_t *mutex) {
    return __atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED) != 0;
}

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
static inline int64_t shmbal_now_micros(void) {
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
