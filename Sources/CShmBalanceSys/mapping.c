// The segment file's own life, seen from one process (SPEC §4 "The file's own life").
//
// Every mapping of a segment is registered here with the file's identity (device, inode) and
// path. Two things can happen to the file while it is mapped:
//   - it is removed or replaced at its path (rm, systemd's RemoveIPC, a restore to the same
//     path): writers notice within SHMBAL_FILE_CHECK_US, because every write compares the clock
//     it reads anyway with the time the next check is due and, at most that often, stats the
//     path (a wall clock stepped back delays the next check by the step);
//   - it is truncated: an access past the new end raises SIGBUS. The handler below, for an
//     address inside a registered mapping only, marks the mapping truncated and maps anonymous
//     zero pages over the whole range, so the faulting instruction completes instead of killing
//     the process; every operation checks the mark before it reports success or returns a value,
//     so nothing read from or written to those pages is ever taken as the books.
// A fault anywhere else goes on to the handler that was installed before ours (or the default).
#define _GNU_SOURCE
#include "CShmBalanceSys.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <unistd.h>

struct shmbal_mapping_watch shmbal_mapping_watches[SHMBAL_MAX_MAPPINGS];
int shmbal_faulted_mappings;

// Per entry, beside the watch the hot path reads: the mapping and the file's identity.
static struct {
    uintptr_t base;   // 0 = free slot; published last (release) so the handler sees a whole entry
    size_t length;
    int prot;
    dev_t dev;
    ino_t ino;
    char *path;
} entries[SHMBAL_MAX_MAPPINGS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static int high_water;  // entries[0..<high_water] may be in use (only grows)

static struct sigaction previous_sigbus;
static int handler_installed;

static void chain_sigbus(int sig, siginfo_t *info, void *context) {
    struct sigaction prev = previous_sigbus;
    if (prev.sa_flags & SA_SIGINFO) {
        if (prev.sa_sigaction) { prev.sa_sigaction(sig, info, context); return; }
    } else if (prev.sa_handler == SIG_IGN && info != NULL && info->si_code <= 0) {
        return;  // sent by kill() to a program that ignores it: ignored, as before us
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
        prev.sa_handler(sig);
        return;
    }
    // The default action: put it back and take it now (a fault would recur on return anyway, but a
    // SIGBUS sent with kill() would not), so the process ends exactly as it would have without us.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

int shmbal_segment_fault(const siginfo_t *info) {
    if (info == NULL || info->si_code <= 0) return 0;  // sent by kill/raise/sigqueue: no fault address
    uintptr_t a = (uintptr_t)info->si_addr;
    int n = __atomic_load_n(&high_water, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
        uintptr_t base = __atomic_load_n(&entries[i].base, __ATOMIC_ACQUIRE);
        if (base == 0 || a < base || a - base >= entries[i].length) continue;
        // Mark first, then replace the pages: a thread that reads zeros from the new pages and
        // then checks the mark (after its reads) is sure to see it.
        int old = __atomic_exchange_n(&shmbal_mapping_watches[i].state, SHMBAL_MAPPING_TRUNCATED, __ATOMIC_SEQ_CST);
        __atomic_store_n(&shmbal_mapping_watches[i].due_us, 0, __ATOMIC_SEQ_CST);
        if (old != SHMBAL_MAPPING_TRUNCATED) __atomic_fetch_add(&shmbal_faulted_mappings, 1, __ATOMIC_SEQ_CST);
        void *p = mmap((void *)base, entries[i].length, entries[i].prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p != MAP_FAILED;  // cannot cover it: let the fault take its course
    }
    return 0;
}

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    if (shmbal_segment_fault(info)) return;
    chain_sigbus(sig, info, context);
}

static void install_locked(void) {
    struct sigaction current;
    if (sigaction(SIGBUS, NULL, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigbus) return;  // ours already on top
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous_sigbus) == 0) handler_installed = 1;
}

int shmbal_mapping_register(void *base, size_t length, int writable, int fd, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    char *copy = strdup(path);
    if (!copy) return -ENOMEM;
    pthread_mutex_lock(&registry_lock);
    if (!handler_installed) install_locked();
    int id = -1;
    for (int i = 0; i < SHMBAL_MAX_MAPPINGS; i++) {
        if (__atomic_load_n(&entries[i].base, __ATOMIC_RELAXED) == 0) { id = i; break; }
    }
    if (id >= 0) {
        entries[id].length = length;
        entries[id].prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ;
        entries[id].dev = st.st_dev;
        entries[id].ino = st.st_ino;
        free(entries[id].path);
        entries[id].path = copy;
        __atomic_store_n(&shmbal_mapping_watches[id].state, SHMBAL_MAPPING_OK, __ATOMIC_RELAXED);
        __atomic_store_n(&shmbal_mapping_watches[id].due_us, shmbal_realtime_micros() + SHMBAL_FILE_CHECK_US, __ATOMIC_RELAXED);
        __atomic_store_n(&entries[id].base, (uintptr_t)base, __ATOMIC_RELEASE);
        if (id >= high_water) __atomic_store_n(&high_water, id + 1, __ATOMIC_RELEASE);
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&registry_lock);
    return id >= 0 ? id : -EMFILE;
}

void shmbal_mapping_unregister(int id) {
    if (id < 0 || id >= SHMBAL_MAX_MAPPINGS) return;
    pthread_mutex_lock(&registry_lock);
    __atomic_store_n(&entries[id].base, 0, __ATOMIC_RELEASE);
    if (__atomic_load_n(&shmbal_mapping_watches[id].state, __ATOMIC_RELAXED) == SHMBAL_MAPPING_TRUNCATED) {
        __atomic_fetch_sub(&shmbal_faulted_mappings, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&shmbal_mapping_watches[id].state, SHMBAL_MAPPING_OK, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&registry_lock);
}

int shmbal_mapping_check_file(int id) {
    if (id < 0 || id >= SHMBAL_MAX_MAPPINGS) return SHMBAL_MAPPING_OK;
    struct shmbal_mapping_watch *w = &shmbal_mapping_watches[id];
    int state = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
    if (state != SHMBAL_MAPPING_OK) return state;
    struct stat st;
    int found;
    if (lstat(entries[id].path, &st) != 0) {
        found = errno == ENOENT || errno == ENOTDIR ? SHMBAL_MAPPING_REMOVED : SHMBAL_MAPPING_OK;  // EACCES etc.: cannot tell
    } else if (st.st_dev != entries[id].dev || st.st_ino != entries[id].ino) {
        found = SHMBAL_MAPPING_REPLACED;
    } else if ((size_t)st.st_size < entries[id].length) {
        found = SHMBAL_MAPPING_TRUNCATED;  // seen before any access faulted
    } else {
        found = SHMBAL_MAPPING_OK;
    }
    if (found != SHMBAL_MAPPING_OK) {
        int expected = SHMBAL_MAPPING_OK;
        __atomic_store_n(&w->due_us, 0, __ATOMIC_SEQ_CST);  // every write takes the slow path from now on
        if (__atomic_compare_exchange_n(&w->state, &expected, found, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
            if (found == SHMBAL_MAPPING_TRUNCATED) __atomic_fetch_add(&shmbal_faulted_mappings, 1, __ATOMIC_SEQ_CST);
        } else {
            found = expected;
        }
    }
    return found;
}

int shmbal_mapping_state_slow(int id, int64_t now_us) {
    struct shmbal_mapping_watch *w = &shmbal_mapping_watches[id];
    int state = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
    if (state != SHMBAL_MAPPING_OK) return state;
    int64_t due = __atomic_load_n(&w->due_us, __ATOMIC_RELAXED);
    if (now_us < due) return SHMBAL_MAPPING_OK;
    // One thread checks; the others go on (the next of their writes checks again if it is still due).
    if (!__atomic_compare_exchange_n(&w->due_us, &due, now_us + SHMBAL_FILE_CHECK_US, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return SHMBAL_MAPPING_OK;
    return shmbal_mapping_check_file(id);
}

int shmbal_mapping_containing(const void *address) {
    uintptr_t a = (uintptr_t)address;
    int n = __atomic_load_n(&high_water, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
        uintptr_t base = __atomic_load_n(&entries[i].base, __ATOMIC_ACQUIRE);
        if (base != 0 && a >= base && a - base < entries[i].length) return i;
    }
    return -1;
}

// ---- Lock words that no live process holds --------------------------------------------------
//
// The kernel marks a robust mutex FUTEX_OWNER_DIED when its owner dies, but only in the memory
// that owner had mapped. A lock word that was copied while held (the file copied with `cp`,
// restored from disk, or left by a machine that rebooted) names an owner that holds nothing.
// Such a word is recognised by its owner: a thread id that no longer exists, that is the caller
// itself (a mutex is never taken twice here), or a process that does not map this file at all
// (checked in /proc/TID/maps by device and inode). It is then marked FUTEX_OWNER_DIED exactly as
// the kernel would have, and the next lock attempt gets EOWNERDEAD and repairs the record as
// after any dead holder. Processes sharing a segment must share a PID namespace (the owner id in
// a glibc mutex is a thread id of the locker's namespace).

#define OWNER_DIED 0x40000000
#define TID_MASK 0x3fffffff
#define WAITERS 0x80000000u

static int maps_file(int tid, dev_t dev, ino_t ino) {
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/maps", tid);
    FILE *f = fopen(name, "re");
    if (!f) return errno == ENOENT ? 0 : 1;  // gone, or not ours to read: assume it may hold the lock
    char line[4096 + 256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long start, end, offset, inode;
        unsigned int major, minor;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &offset, &major, &minor, &inode) == 7) {
            if (inode == (unsigned long)ino && makedev(major, minor) == dev) found = 1;
        }
        // A line longer than the buffer continues on the next read; its tail never parses.
    }
    fclose(f);
    return found;
}

int shmbal_mutex_owner_state(const pthread_mutex_t *mutex, int check_maps, int mapping_id) {
    int v = __atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED);
    int tid = v & TID_MASK;
    if (tid == 0 || (v & OWNER_DIED)) return 0;
    if (tid == (int)syscall(SYS_gettid)) return 1;
    if (kill(tid, 0) != 0 && errno == ESRCH) return 1;
    if (check_maps && mapping_id >= 0 && mapping_id < SHMBAL_MAX_MAPPINGS && entries[mapping_id].base != 0) {
        if (!maps_file(tid, entries[mapping_id].dev, entries[mapping_id].ino)) return 1;
    }
    return 0;
}

int shmbal_mutex_mark_owner_dead(pthread_mutex_t *mutex, int check_maps, int mapping_id) {
    int v = __atomic_load_n(&mutex->__data.__lock, __ATOMIC_RELAXED);
    if (!shmbal_mutex_owner_state(mutex, check_maps, mapping_id)) return 0;
    int desired = (int)(((unsigned)v & WAITERS) | OWNER_DIED);
    if (!__atomic_compare_exchange_n(&mutex->__data.__lock, &v, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return 0;
    // Waiters sleep on the old value of the word: wake them to see the new one (process-shared futex).
    syscall(SYS_futex, &mutex->__data.__lock, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return 1;
}

const char *shmbal_mapping_path(int id) {
    if (id < 0 || id >= SHMBAL_MAX_MAPPINGS || entries[id].path == NULL) return "";
    return entries[id].path;
}
