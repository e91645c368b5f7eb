// The C peers: one balance record in a shared mapping behind a robust process-shared mutex.
// Written the way a careful C programmer would write it (plain structs, memcpy, C11 atomics),
// with the record laid out like ShmBalance's (Layout.swift) so the two move the same bytes.
#define _GNU_SOURCE
#include "CPeers.h"
// The core's own clock and pid (the same timestamp source as ShmBalance, linked from its C target).
#include "../../../Sources/CShmBalanceSys/include/CShmBalanceSys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef __int128 i128;

// 10^36 - 1: the largest magnitude a stored amount may have (ShmBalance's Amount.limit).
#define LIMIT (((i128)1000000000000000000LL) * (i128)1000000000000000000LL - 1)

enum { OP_ALLOCATE = 4, OP_RELEASE = 5 };
enum { R_NOT_SUB = 3, R_NON_POSITIVE = 4, R_HEADROOM = 5, R_BUDGET = 6, R_OVERFLOW = 8 };

typedef struct {            // 1088 bytes, as ShmBalance's State
    uint32_t count;
    uint32_t last_index;
    uint64_t epoch;
    uint64_t op_count;
    int64_t last_change_us;
    uint32_t last_change_pid;
    uint8_t reserved[4];
    uint64_t pair_mark;     // PAIR_MARK(g): published by a commit_pair at generation g
    i128 credit;
    i128 slots[64];
} state_t;

typedef struct {            // 4992 bytes, as ShmBalance's Record
    char exchange[16], currency[16];
    uint8_t pad0[32];
    union { pthread_mutex_t mutex; uint8_t mutex_bytes[64]; };
    _Atomic uint64_t generation;
    uint64_t names_generation;
    uint8_t pad1[48];
    int64_t slot_changed_us[64];
    uint8_t pad2[64];
    state_t states[2];
    char names[2][64][16];
    // In-place peers use these: one robust mutex and the slots written where they live.
} record_t;

typedef struct {            // 128 bytes, as ShmBalance's RingEntry
    _Atomic uint64_t stamp;
    int64_t time_us;
    uint32_t pid;
    uint8_t op, outcome, index, reserved;
    uint64_t epoch;
    char exchange[16], currency[16];
    i128 amount, detail, after;
    uint8_t pad[16];
} ring_entry_t;

#define RING_CAPACITY 4096

typedef struct {
    // In-place record (its own cache lines, its own mutex).
    union { pthread_mutex_t mutex; uint8_t mutex_bytes[64]; } inplace_lock;
    struct { uint32_t count; uint32_t pad; uint8_t pad2[8]; i128 credit; i128 slots[64]; } inplace;
    union { pthread_mutex_t mutex; uint8_t mutex_bytes[64]; } inplace64_lock;
    struct { int64_t count; int64_t credit; int64_t slots[64]; } inplace64;
    // Header counters, each on its own line.
    _Alignas(64) _Atomic uint64_t ring_head;
    _Alignas(64) _Atomic uint64_t floor_word;
    _Alignas(64) record_t record;
    _Alignas(64) ring_entry_t ring[RING_CAPACITY];
} shared_t;

struct cpeer {
    shared_t *s;
};

#define PAIR_MARK(g) ((g) ^ 0x504149524D41524BULL)

_Static_assert(sizeof(state_t) == 1088, "state layout");
_Static_assert(offsetof(record_t, generation) == 128, "record layout");
_Static_assert(offsetof(record_t, slot_changed_us) == 192, "record layout");
_Static_assert(offsetof(record_t, states) == 768, "record layout");
_Static_assert(sizeof(record_t) == 4992, "record layout");
_Static_assert(sizeof(ring_entry_t) == 128, "ring layout");

int64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_micros(void) { return shmbal_now_micros(); }

static int init_robust(pthread_mutex_t *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

static cpeer *map_file(const char *path, int create) {
    int fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    if (create && ftruncate(fd, sizeof(shared_t)) != 0) { close(fd); return NULL; }
    void *m = mmap(NULL, sizeof(shared_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return NULL;
    cpeer *p = malloc(sizeof *p);
    p->s = m;
    return p;
}

cpeer *cpeer_create(const char *path, int count, int64_t balance) {
    cpeer *p = map_file(path, 1);
    if (!p) return NULL;
    shared_t *s = p->s;
    init_robust(&s->inplace_lock.mutex);
    init_robust(&s->inplace64_lock.mutex);
    init_robust(&s->record.mutex);
    memcpy(s->record.exchange, "KRAKEN", 7);
    memcpy(s->record.currency, "USDC", 5);
    s->inplace.count = (uint32_t)count;
    s->inplace.slots[0] = s->inplace.slots[1] = balance;
    s->inplace64.count = count;
    s->inplace64.slots[0] = s->inplace64.slots[1] = balance;
    state_t *st = &s->record.states[0];
    st->count = (uint32_t)count;
    st->slots[0] = st->slots[1] = balance;
    return p;
}

cpeer *cpeer_attach(const char *path) { return map_file(path, 0); }

void cpeer_close(cpeer *p) {
    munmap(p->s, sizeof(shared_t));
    free(p);
}

static inline int lock(pthread_mutex_t *m) {
    int rc = pthread_mutex_lock(m);
    if (__builtin_expect(rc != 0, 0)) {
        if (rc != EOWNERDEAD) return -rc;
        pthread_mutex_consistent(m);
    }
    return 0;
}

// ---- in place -------------------------------------------------------------------------------

int cpeer_inplace_allocate(cpeer *p, int index, int64_t amount64) {
    shared_t *s = p->s;
    i128 amount = amount64;
    int rc = lock(&s->inplace_lock.mutex);
    if (rc) return rc;
    int result = 0;
    int count = (int)s->inplace.count;
    i128 pool = s->inplace.slots[1];
    if (index < 2 || index >= count || count > 64) result = R_NOT_SUB;
    else if (amount <= 0) result = R_NON_POSITIVE;
    else if (amount > pool + s->inplace.credit) result = R_HEADROOM;
    else if (s->inplace.slots[index] + amount > LIMIT) result = R_OVERFLOW;
    else {
        s->inplace.slots[1] = pool - amount;
        s->inplace.slots[index] += amount;
    }
    pthread_mutex_unlock(&s->inplace_lock.mutex);
    return result;
}

int cpeer_inplace_release(cpeer *p, int index, int64_t amount64) {
    shared_t *s = p->s;
    i128 amount = amount64;
    int rc = lock(&s->inplace_lock.mutex);
    if (rc) return rc;
    int result = 0;
    int count = (int)s->inplace.count;
    if (index < 2 || index >= count || count > 64) result = R_NOT_SUB;
    else if (amount <= 0) result = R_NON_POSITIVE;
    else if (amount > s->inplace.slots[index]) result = R_BUDGET;
    else if (s->inplace.slots[1] + amount > LIMIT) result = R_OVERFLOW;
    else {
        s->inplace.slots[1] += amount;
        s->inplace.slots[index] -= amount;
    }
    pthread_mutex_unlock(&s->inplace_lock.mutex);
    return result;
}

int cpeer_inplace64_allocate(cpeer *p, int index, int64_t amount) {
    shared_t *s = p->s;
    int rc = lock(&s->inplace64_lock.mutex);
    if (rc) return rc;
    int result = 0;
    int64_t count = s->inplace64.count;
    int64_t pool = s->inplace64.slots[1];
    int64_t slot;
    if (index < 2 || index >= count || count > 64) result = R_NOT_SUB;
    else if (amount <= 0) result = R_NON_POSITIVE;
    else if (amount > pool + s->inplace64.credit) result = R_HEADROOM;
    else if (__builtin_add_overflow(s->inplace64.slots[index], amount, &slot)) result = R_OVERFLOW;
    else {
        s->inplace64.slots[1] = pool - amount;
        s->inplace64.slots[index] = slot;
    }
    pthread_mutex_unlock(&s->inplace64_lock.mutex);
    return result;
}

int cpeer_inplace64_release(cpeer *p, int index, int64_t amount) {
    shared_t *s = p->s;
    int rc = lock(&s->inplace64_lock.mutex);
    if (rc) return rc;
    int result = 0;
    int64_t count = s->inplace64.count;
    int64_t pool;
    if (index < 2 || index >= count || count > 64) result = R_NOT_SUB;
    else if (amount <= 0) result = R_NON_POSITIVE;
    else if (amount > s->inplace64.slots[index]) result = R_BUDGET;
    else if (__builtin_add_overflow(s->inplace64.slots[1], amount, &pool)) result = R_OVERFLOW;
    else {
        s->inplace64.slots[1] = pool;
        s->inplace64.slots[index] -= amount;
    }
    pthread_mutex_unlock(&s->inplace64_lock.mutex);
    return result;
}

// ---- crash-safe: two copies + generation, activity ring ---------------------------------------

static inline void ring_append(cpeer *p, int op, int outcome, int index, uint64_t epoch, i128 amount, i128 detail,
                               i128 after, int64_t now) {
    shared_t *s = p->s;
    uint64_t seq = atomic_fetch_add_explicit(&s->ring_head, 1, memory_order_relaxed) + 1;
    ring_entry_t *e = &s->ring[(seq - 1) & (RING_CAPACITY - 1)];
    atomic_store_explicit(&e->stamp, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    e->time_us = now;
    e->pid = (uint32_t)shmbal_cached_pid();
    e->op = (uint8_t)op;
    e->outcome = (uint8_t)outcome;
    e->index = (uint8_t)index;
    e->epoch = epoch;
    memcpy(e->exchange, s->record.exchange, 32);
    e->amount = amount;
    e->detail = detail;
    e->after = after;
    atomic_store_explicit(&e->stamp, seq, memory_order_release);
}

static __attribute__((noinline)) int refuse(cpeer *p, int op, int code, int index, i128 amount, i128 detail) {
    pthread_mutex_unlock(&p->s->record.mutex);
    ring_append(p, op, code, index, 0, amount, detail, 0, now_micros());
    return code;
}

// What a variant of the crash-safe peer leaves out, to show what each part costs (the harness's
// breakdown rows): the real peer is FULL.
enum { FULL = 0, NO_CLOCK = 1, NO_RING = 2 };

// Publishes the published state with the pool and slot `index` replaced (caller holds the lock).
// As ShmBalance: the unpublished copy holds the state before the published one; when a
// commit_pair made the published one (pair_mark), only slot last_index differs besides the pool
// and the stamp, so that slot is all there is to copy; otherwise the meaningful part in full.
static inline __attribute__((always_inline)) void commit_pair(cpeer *p, uint64_t g, const state_t *cur, int count,
                                                              int index, i128 pool, i128 slot, int op, i128 amount,
                                                              const int leave_out) {
    record_t *r = &p->s->record;
    int64_t now = (leave_out & NO_CLOCK) ? 0 : now_micros();
    state_t *next = &r->states[(g + 1) & 1];
    atomic_thread_fence(memory_order_release);
    if (cur->pair_mark == PAIR_MARK(g)) {
        next->slots[cur->last_index] = cur->slots[cur->last_index];
    } else {
        memcpy(next, cur, offsetof(state_t, slots) + 16 * (size_t)count);
    }
    next->slots[1] = pool;
    next->slots[index] = slot;
    next->count = (uint32_t)count;
    next->last_index = (uint32_t)index;
    next->op_count = cur->op_count + 1;
    next->last_change_us = now;
    next->last_change_pid = (uint32_t)shmbal_cached_pid();
    next->pair_mark = PAIR_MARK(g + 1);
    atomic_store_explicit(&r->generation, g + 1, memory_order_release);
    if (!(leave_out & NO_RING)) ring_append(p, op, 0, index, cur->epoch, amount, 0, slot, now);
    r->slot_changed_us[1] = now;
    r->slot_changed_us[index] = now;
    pthread_mutex_unlock(&r->mutex);
}

// The lock, repairing the unpublished copy after a dead holder (it may be half-written).
static inline int lock_record(record_t *r) {
    int rc = pthread_mutex_lock(&r->mutex);
    if (__builtin_expect(rc != 0, 0)) {
        if (rc != EOWNERDEAD) return -rc;
        pthread_mutex_consistent(&r->mutex);
        uint64_t g = atomic_load_explicit(&r->generation, memory_order_relaxed);
        memcpy(&r->states[(g + 1) & 1], &r->states[g & 1], sizeof(state_t));
    }
    return 0;
}

static inline __attribute__((always_inline)) int safe_allocate(cpeer *p, int index, int64_t amount64, const int leave_out) {
    record_t *r = &p->s->record;
    i128 amount = amount64;
    int rc = lock_record(r);
    if (rc) return rc;
    uint64_t g = atomic_load_explicit(&r->generation, memory_order_relaxed);
    const state_t *cur = &r->states[g & 1];
    int count = (int)cur->count;
    if (index < 2 || index >= count || count > 64) return refuse(p, OP_ALLOCATE, R_NOT_SUB, index, amount, count);
    if (amount <= 0) return refuse(p, OP_ALLOCATE, R_NON_POSITIVE, index, amount, 0);
    i128 pool = cur->slots[1];
    i128 headroom = pool + cur->credit;
    if (amount > headroom) return refuse(p, OP_ALLOCATE, R_HEADROOM, index, amount, headroom);
    i128 slot = cur->slots[index] + amount;
    if (slot > LIMIT) return refuse(p, OP_ALLOCATE, R_OVERFLOW, index, amount, 0);
    commit_pair(p, g, cur, count, index, pool - amount, slot, OP_ALLOCATE, amount, leave_out);
    return 0;
}

static inline __attribute__((always_inline)) int safe_release(cpeer *p, int index, int64_t amount64, const int leave_out) {
    record_t *r = &p->s->record;
    i128 amount = amount64;
    int rc = lock_record(r);
    if (rc) return rc;
    uint64_t g = atomic_load_explicit(&r->generation, memory_order_relaxed);
    const state_t *cur = &r->states[g & 1];
    int count = (int)cur->count;
    if (index < 2 || index >= count || count > 64) return refuse(p, OP_RELEASE, R_NOT_SUB, index, amount, count);
    if (amount <= 0) return refuse(p, OP_RELEASE, R_NON_POSITIVE, index, amount, 0);
    i128 budget = cur->slots[index];
    if (amount > budget) return refuse(p, OP_RELEASE, R_BUDGET, index, amount, budget);
    i128 pool = cur->slots[1] + amount;
    if (pool > LIMIT) return refuse(p, OP_RELEASE, R_OVERFLOW, index, amount, 0);
    commit_pair(p, g, cur, count, index, pool, budget - amount, OP_RELEASE, amount, leave_out);
    return 0;
}

int cpeer_safe_allocate(cpeer *p, int index, int64_t amount) { return safe_allocate(p, index, amount, FULL); }
int cpeer_safe_release(cpeer *p, int index, int64_t amount) { return safe_release(p, index, amount, FULL); }
int cpeer_safe_noclock_allocate(cpeer *p, int index, int64_t amount) { return safe_allocate(p, index, amount, NO_CLOCK); }
int cpeer_safe_noclock_release(cpeer *p, int index, int64_t amount) { return safe_release(p, index, amount, NO_CLOCK); }
int cpeer_safe_bare_allocate(cpeer *p, int index, int64_t amount) { return safe_allocate(p, index, amount, NO_CLOCK | NO_RING); }
int cpeer_safe_bare_release(cpeer *p, int index, int64_t amount) { return safe_release(p, index, amount, NO_CLOCK | NO_RING); }

int cpeer_safe_read(const cpeer *p, cpeer_state *out) {
    const record_t *r = &p->s->record;
    for (;;) {
        uint64_t g = atomic_load_explicit(&r->generation, memory_order_acquire);
        const state_t *s = &r->states[g & 1];
        uint32_t count = s->count;
        if (count > 64) count = 64;
        out->count = count;
        out->last_index = s->last_index;
        out->epoch = s->epoch;
        out->op_count = s->op_count;
        out->last_change_us = s->last_change_us;
        out->last_change_pid = (int32_t)s->last_change_pid;
        out->credit = s->credit;
        memcpy(out->slots, s->slots, 16 * (size_t)count);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->generation, memory_order_relaxed) == g) return (int)count;
    }
}

void cpeer_safe_slots(const cpeer *p, int index, int64_t *pool, int64_t *slot) {
    const record_t *r = &p->s->record;
    const state_t *s = &r->states[atomic_load_explicit(&r->generation, memory_order_acquire) & 1];
    *pool = (int64_t)s->slots[1];
    *slot = (int64_t)s->slots[index];
}

uint64_t cpeer_atomic_add(cpeer *p) {
    return atomic_fetch_add_explicit(&p->s->floor_word, 1, memory_order_relaxed);
}

extern char **environ;
char **bench_environ(void) { return environ; }

// Not inline, in another file: the compiler cannot fold the benchmark's arguments into the loop.
int64_t bench_opaque(int64_t v) { return v; }

#include <sched.h>
int bench_pin_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}
