// The C ABI row: allocate/release through libshmbalance.so as a C program calls it (a record
// handle looked up once, double amounts), on a private segment with one record of 9 slots.
// Built and run by Benchmarks/run when the library exists (issue 7):
//   cabi_ops rounds    prints "cabi median_ns p99_ns p999_ns" (median of per-round batch means),
//                      then "cabi-state …" for shmbal_record_read (the state into a fixed-size
//                      struct), "cabi-slot …" for shmbal_record_balance (one slot as a double),
//                      "cabi-slot-exact …" (one slot, exact only: no double conversion)
//                      and "cabi-read …" for shmbal_record_get (the whole record with names)
//   cabi_ops ops N     N operations and nothing else (callgrind: Ir(2N) − Ir(N))
//   cabi_ops read N    N shmbal_record_get calls and nothing else
//   cabi_ops state N   N shmbal_record_read calls and nothing else
//   cabi_ops slot N    N shmbal_record_balance calls and nothing else
//   cabi_ops slot-exact N   the same, exact value only
//   cabi_ops batch WORKLOAD N   a warm-up of N, then one batch of N timed: prints its ns per call
//                      (shmbal-bench runs it between its own rounds of the core's read)
#define _GNU_SOURCE
#include "shmbalance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile double amount_source = 1.0;  // a run-time value, as in real code

static shmbal_record_info info;

static int reads(shmbal_record rec, long n) {
    int failed = 0;
    for (long i = 0; i < n; i++) {
        if (shmbal_record_get(rec, &info) != SHMBAL_OK || info.strategy_count != 9) failed++;
    }
    return failed;
}

static shmbal_record_state state;

static int states(shmbal_record rec, long n) {
    int failed = 0;
    for (long i = 0; i < n; i++) {
        if (shmbal_record_read(rec, &state) != SHMBAL_OK || state.strategy_count != 9) failed++;
    }
    return failed;
}

static volatile double sink;

static int slots(shmbal_record rec, long n) {
    int failed = 0;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        double v;
        if (shmbal_record_balance(rec, 1, &v, NULL) != SHMBAL_OK) failed++;
        sum += v;
    }
    sink = sum;
    return failed;
}

static volatile uint64_t exact_sink;

static int slots_exact(shmbal_record rec, long n) {
    int failed = 0;
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        shmbal_amount a;
        if (shmbal_record_balance(rec, 1, NULL, &a) != SHMBAL_OK) failed++;
        sum += a.lo;
    }
    exact_sink = sum;
    return failed;
}

typedef int (*workload)(shmbal_record, long);

/* "name median p99 p999" of `fn`: the median of ROUNDS batch means, tails of single calls. */
static int measure(const char *name, workload fn, shmbal_record rec, long batch, long samples, double *s) {
    enum { ROUNDS = 21 };
    double means[ROUNDS];
    int failed = fn(rec, batch);  // warm up
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t0 = now_ns();
        failed += fn(rec, batch);
        means[r] = (double)(now_ns() - t0) / batch;
    }
    qsort(means, ROUNDS, sizeof means[0], cmp);
    for (long i = 0; i < samples; i++) {
        int64_t t0 = now_ns();
        failed += fn(rec, 1);
        s[i] = (double)(now_ns() - t0);
    }
    qsort(s, samples, sizeof s[0], cmp);
    printf("%s %.1f %.0f %.0f\n", name, means[ROUNDS / 2], s[(long)(0.99 * (samples - 1))], s[(long)(0.999 * (samples - 1))]);
    return failed;
}

static int ops(shmbal_record rec, long n) {
    double amount = amount_source;
    int failed = 0;
    for (long i = 0; i < n; i++) {
        int rc = (i & 1) ? shmbal_record_release(rec, 2, amount) : shmbal_record_allocate(rec, 2, amount);
        if (rc != SHMBAL_OK) failed++;
    }
    return failed;
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "rounds") != 0 && argc < 3) || (strcmp(argv[1], "batch") == 0 && argc < 4)) {
        fprintf(stderr, "usage: cabi_ops rounds | cabi_ops (ops|read|state|slot|slot-exact) N | cabi_ops batch WORKLOAD N\n");
        return 2;
    }
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/shmbal-bench-cabi-%d", (int)getpid());
    unlink(path);
    shmbal_books books;
    shmbal_record rec;
    if (shmbal_open(path, SHMBAL_OPEN_CREATE, &books) != SHMBAL_OK ||
        shmbal_reset(books, "KRAKEN", "USDC", 1000000.0, 9) != SHMBAL_OK ||
        shmbal_record_find(books, "KRAKEN", "USDC", &rec) != SHMBAL_OK) {
        fprintf(stderr, "cabi_ops: %s\n", shmbal_last_error());
        unlink(path);
        return 1;
    }
    int failed = 0;
    if (strcmp(argv[1], "ops") == 0) {
        failed = ops(rec, atol(argv[2]));
    } else if (strcmp(argv[1], "read") == 0) {
        failed = reads(rec, atol(argv[2]));
    } else if (strcmp(argv[1], "state") == 0) {
        failed = states(rec, atol(argv[2]));
    } else if (strcmp(argv[1], "slot") == 0) {
        failed = slots(rec, atol(argv[2]));
    } else if (strcmp(argv[1], "slot-exact") == 0) {
        failed = slots_exact(rec, atol(argv[2]));
    } else if (strcmp(argv[1], "batch") == 0) {
        workload fn = strcmp(argv[2], "state") == 0 ? states : strcmp(argv[2], "slot-exact") == 0 ? slots_exact
                    : strcmp(argv[2], "slot") == 0 ? slots : strcmp(argv[2], "ops") == 0 ? ops : NULL;
        long n = atol(argv[3]);
        if (fn == NULL || n <= 0) {
            fprintf(stderr, "cabi_ops batch: unknown workload %s\n", argv[2]);
            failed = 1;
        } else {
            failed = fn(rec, n);
            int64_t t0 = now_ns();
            failed += fn(rec, n);
            printf("%.2f\n", (double)(now_ns() - t0) / n);
        }
    } else {
        enum { ROUNDS = 21, BATCH = 200000, SAMPLES = 500000 };
        double means[ROUNDS];
        failed += ops(rec, BATCH);  // warm up
        for (int r = 0; r < ROUNDS; r++) {
            int64_t t0 = now_ns();
            failed += ops(rec, BATCH);
            means[r] = (double)(now_ns() - t0) / BATCH;
        }
        qsort(means, ROUNDS, sizeof means[0], cmp);
        // Tails: each call timed alone with CLOCK_MONOTONIC (adds its own ~20-30 ns).
        double *s = malloc(SAMPLES * sizeof *s);
        double amount = amount_source;
        for (long i = 0; i < SAMPLES; i++) {
            int64_t t0 = now_ns();
            int rc = (i & 1) ? shmbal_record_release(rec, 2, amount) : shmbal_record_allocate(rec, 2, amount);
            s[i] = (double)(now_ns() - t0);
            if (rc != SHMBAL_OK) failed++;
        }
        qsort(s, SAMPLES, sizeof s[0], cmp);
        printf("cabi %.1f %.0f %.0f\n", means[ROUNDS / 2], s[(long)(0.99 * (SAMPLES - 1))], s[(long)(0.999 * (SAMPLES - 1))]);
        failed += measure("cabi-state", states, rec, BATCH, SAMPLES / 5, s);
        failed += measure("cabi-slot", slots, rec, BATCH, SAMPLES / 5, s);
        failed += measure("cabi-slot-exact", slots_exact, rec, BATCH, SAMPLES / 5, s);
        failed += measure("cabi-read", reads, rec, 50000, SAMPLES / 5, s);
        free(s);
    }
    shmbal_close(books);
    unlink(path);
    if (failed) {
        fprintf(stderr, "cabi_ops: %d operations failed: %s\n", failed, shmbal_last_error());
        return 1;
    }
    return 0;
}
