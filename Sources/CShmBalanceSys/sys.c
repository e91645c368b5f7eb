#define _GNU_SOURCE
#include "CShmBalanceSys.h"
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int shmbal_mutex_lock_monotonic(pthread_mutex_t *mutex, int64_t timeout_ns) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t ns = (int64_t)deadline.tv_nsec + timeout_ns;
    deadline.tv_sec += (time_t)(ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    return pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &deadline);
}

int shmbal_mutex_init_robust_shared(pthread_mutex_t *mutex) {
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc != 0) return rc;
    if ((rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
        (rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0 &&
        (rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL)) == 0) {
        rc = pthread_mutex_init(mutex, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    return rc;
}

int shmbal_mutex_owner_tid(const pthread_mutex_t *mutex) {
    // glibc keeps the owner's TID in __data.__owner; the robust-list bit lives in the high bits.
    return mutex->__data.__owner & 0x3fffffff;
}

int64_t shmbal_realtime_micros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// ---- The fast clock (see shmbal_now_micros in the header) ------------------------------------
//
// One time base per process: a CLOCK_REALTIME reading in whole microseconds, the TSC at that
// moment, and the TSC's rate measured against CLOCK_MONOTONIC (which NTP slews but never steps)
// since a reference reading 1 ms to 10 s earlier. The fast path extrapolates at most `span_tsc`
// ticks (~1 ms) past the base; after that the slow path reads the clocks again and moves the
// base, so a step of the wall clock (settimeofday, NTP) shows within ~1 ms and the extrapolation
// error stays well under a microsecond. A reading the scheduler interrupted (the clocks more than
// 20 µs apart) is not used. The base is published under a sequence word; a reader that sees it
// moving reads CLOCK_REALTIME itself (no waiting), and one thread at a time moves it. Used only
// where the kernel itself keeps time with the TSC (clocksource "tsc": invariant, synchronised
// across CPUs); elsewhere every call reads CLOCK_REALTIME.

struct shmbal_time_base shmbal_time_base_state;

static int tsc_usable = -1;       // -1 not checked yet, 0 no, 1 yes
// The rate's reference reading and the rate (owned by whoever holds the odd sequence).
static uint64_t ref_tsc;
static int64_t ref_mono_ns;
static uint64_t ns_per_tick_q32;

static int kernel_uses_tsc(void) {
#if defined(__x86_64__)
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && buf[0] == 't' && buf[1] == 's' && buf[2] == 'c' && (n == 3 || buf[3] == '\n');
#else
    return 0;
#endif
}

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

int64_t shmbal_now_micros_slow(void) {
#if defined(__x86_64__)
    struct shmbal_time_base *b = &shmbal_time_base_state;
    int usable = __atomic_load_n(&tsc_usable, __ATOMIC_RELAXED);
    if (usable < 0) {
        usable = kernel_uses_tsc();
        __atomic_store_n(&tsc_usable, usable, __ATOMIC_RELAXED);
    }
    if (!usable) return shmbal_realtime_micros();
    uint64_t seq = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
    if ((seq & 1) || !__atomic_compare_exchange_n(&b->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return shmbal_realtime_micros();
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    struct timespec mono1, real, mono2;
    clock_gettime(CLOCK_MONOTONIC, &mono1);
    uint64_t tsc1 = __builtin_ia32_rdtsc();
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t tsc2 = __builtin_ia32_rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &mono2);
    int64_t us = (int64_t)real.tv_sec * 1000000 + real.tv_nsec / 1000;
    int64_t mono_ns = ns_of(&mono1) / 2 + ns_of(&mono2) / 2;
    uint64_t tsc = tsc1 + (tsc2 - tsc1) / 2;
    if (ns_of(&mono2) - ns_of(&mono1) > 20000 || tsc2 < tsc1) {
        // Interrupted between the readings: keep the old base (the fast path falls back here).
        __atomic_store_n(&b->seq, seq + 2, __ATOMIC_RELEASE);
        return us;
    }
    if (ref_tsc == 0 || tsc <= ref_tsc) {
        ref_tsc = tsc;
        ref_mono_ns = mono_ns;
    } else if (mono_ns - ref_mono_ns >= 1000000) {
        ns_per_tick_q32 = (uint64_t)((((unsigned __int128)(uint64_t)(mono_ns - ref_mono_ns)) << 32) / (tsc - ref_tsc));
        if (mono_ns - ref_mono_ns > 10000000000LL) {  // a fresh reference every 10 s follows rate changes
            ref_tsc = tsc;
            ref_mono_ns = mono_ns;
        }
    }
    uint64_t span = 0, rate = 0, base_tsc = tsc;
    if (ns_per_tick_q32 != 0) {
        // Back by the sub-microsecond remainder, so that base_us is a whole microsecond at base_tsc.
        base_tsc = tsc - (uint64_t)((((unsigned __int128)(uint64_t)(real.tv_nsec % 1000)) << 32) / ns_per_tick_q32);
        span = (uint64_t)((((unsigned __int128)1000000) << 32) / ns_per_tick_q32);
        rate = (uint64_t)((((unsigned __int128)ns_per_tick_q32) << 8) / 1000);
    }
    __atomic_store_n(&b->base_us, us, __ATOMIC_RELAXED);
    __atomic_store_n(&b->base_tsc, base_tsc, __ATOMIC_RELAXED);
    __atomic_store_n(&b->span_tsc, span, __ATOMIC_RELAXED);
    __atomic_store_n(&b->us_per_tick_q40, rate, __ATOMIC_RELAXED);
    __atomic_store_n(&b->seq, seq + 2, __ATOMIC_RELEASE);
    return us;
#else
    return shmbal_realtime_micros();
#endif
}

int shmbal_cached_pid_value;

static void refresh_pid(void) { __atomic_store_n(&shmbal_cached_pid_value, (int)getpid(), __ATOMIC_RELAXED); }

__attribute__((constructor)) static void shmbal_sys_init(void) {
    refresh_pid();
    pthread_atfork(NULL, NULL, refresh_pid);
}

int64_t shmbal_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
