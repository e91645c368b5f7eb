#define _GNU_SOURCE
#include "CShmBalanceSys.h"
#include <errno.h>
#include <time.h>

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

int64_t shmbal_now_micros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#include <unistd.h>

static int cached_pid;

static void refresh_pid(void) { cached_pid = (int)getpid(); }

__attribute__((constructor)) static void shmbal_sys_init(void) {
    refresh_pid();
    pthread_atfork(NULL, NULL, refresh_pid);
}

int shmbal_cached_pid(void) { return cached_pid; }
