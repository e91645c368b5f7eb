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

/// Microseconds since the epoch (CLOCK_REALTIME through the vDSO).
int64_t shmbal_now_micros(void);



/// This process's pid, kept current across fork() by an atfork handler (getpid() is a system call
/// on every call in glibc ≥ 2.25, too slow for the hot path).
int shmbal_cached_pid(void);
#endif
