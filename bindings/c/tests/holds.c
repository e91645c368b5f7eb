/* Holds, fills and operation ids through the C ABI alone (SPEC §9): hold → partial fill → final
 * fill whose fee overruns the hold (from free, then from the pool) → void refused on the closed
 * hold → receive; op-id replays (applied once, same result) and reuse with other arguments
 * (refused, nothing changed); bad ids refused as bad input. Run by
 * Tests/BindingsTests/HoldBindingTests.swift on a small segment it created ($SHMBAL_SEGMENT). */
#include "shmbalance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
                    shmbal_last_error());                                        \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* The call fails with `status` (and, for a refusal, `refusal`). */
#define CHECK_FAILS(call, status, refusal)                                       \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != (status) || shmbal_last_refusal() != (refusal)) {             \
            fprintf(stderr, "%s:%d: %s returned %d (refusal %d, \"%s\"), expected %d (refusal %d)\n", __FILE__, \
                    __LINE__, #call, rc_, shmbal_last_refusal(), shmbal_last_error(), (status), (refusal)); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static shmbal_amount A(const char *text) {
    shmbal_amount a = {0, 0};
    if (shmbal_amount_parse(text, &a) != SHMBAL_OK) {
        fprintf(stderr, "bad amount in the test: %s\n", text);
        exit(2);
    }
    return a;
}

static int same(shmbal_amount a, const char *text) {
    shmbal_amount b = A(text);
    return a.lo == b.lo && a.hi == b.hi;
}

static shmbal_books books;
static const char *EX = "KRAKEN", *CUR = "USDC";

static shmbal_slot_holds slots(void) {
    shmbal_slot_holds s;
    memset(&s, 0xAB, sizeof s);
    if (shmbal_get_slot_holds(books, EX, CUR, &s) != SHMBAL_OK) {
        fprintf(stderr, "shmbal_get_slot_holds: %s\n", shmbal_last_error());
        exit(3);
    }
    return s;
}

/* Nothing changed since `before`: the same op count, budgets and held sums. */
static int unchanged(const shmbal_slot_holds *before) {
    shmbal_slot_holds now = slots();
    return now.op_count == before->op_count && memcmp(now.budget, before->budget, sizeof now.budget) == 0 &&
           memcmp(now.held, before->held, sizeof now.held) == 0 && memcmp(now.hold_count, before->hold_count, sizeof now.hold_count) == 0;
}

int main(void) {
    if (shmbal_open(NULL, SHMBAL_OPEN_READ_WRITE, &books) != SHMBAL_OK) {
        fprintf(stderr, "open: %s\n", shmbal_last_error());
        return 2;
    }
    CHECK(shmbal_reset_text(books, EX, CUR, "10000", 4) == SHMBAL_OK);
    CHECK(shmbal_allocate_text(books, EX, CUR, 2, "700") == SHMBAL_OK);

    /* hold 600 of #2's 700: held 600, free 100; the same hold again is a replay. */
    CHECK(shmbal_hold(books, EX, CUR, 2, A("600"), "ord-1", 0) == SHMBAL_OK);
    shmbal_slot_holds s = slots();
    CHECK(s.strategy_count == 4 && s.hold_count[2] == 1 && same(s.held[2], "600") && same(s.free[2], "100") && same(s.budget[2], "700"));
    CHECK(same(s.held[0], "0") && same(s.held[1], "0") && s.hold_count[4] == 0 && same(s.budget[4], "0"));
    CHECK(s.op_id_window >= 16 && s.op_ids_remembered >= 1 && s.reserved == 0);
    CHECK(shmbal_hold(books, EX, CUR, 2, A("600"), "ord-1", 0) == SHMBAL_OK);
    CHECK(unchanged(&s));
    /* The id with other arguments: its op-id entry answers first (HOLD_ID_IN_USE once it left the window). */
    CHECK_FAILS(shmbal_hold(books, EX, CUR, 2, A("601"), "ord-1", 0), SHMBAL_REFUSED, SHMBAL_REFUSAL_OP_ID_REUSED);
    CHECK_FAILS(shmbal_hold(books, EX, CUR, 2, A("101"), "ord-2", 0), SHMBAL_REFUSED, SHMBAL_REFUSAL_EXCEEDS_FREE);
    CHECK_FAILS(shmbal_hold(books, EX, CUR, 1, A("1"), "ord-3", 0), SHMBAL_REFUSED, SHMBAL_REFUSAL_NOT_A_SUB_STRATEGY);
    CHECK_FAILS(shmbal_hold(books, EX, CUR, 2, A("1"), "ord-4", -5), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
    CHECK(unchanged(&s));

    /* The listing and its buffer rule. */
    shmbal_hold_info list[4];
    size_t count = 99;
    CHECK_FAILS(shmbal_holds(books, EX, CUR, -1, NULL, 0, &count), SHMBAL_BUFFER_TOO_SMALL, SHMBAL_REFUSAL_NONE);
    CHECK(count == 1 && strstr(shmbal_last_error(), "need 1") != NULL);
    CHECK_FAILS(shmbal_holds(books, EX, CUR, -1, list, 4, NULL), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
    count = 0;
    CHECK(shmbal_holds(books, EX, CUR, -1, list, 4, &count) == SHMBAL_OK && count == 1);
    CHECK(strcmp(list[0].id, "ord-1") == 0 && list[0].index == 2 && same(list[0].amount, "600") && same(list[0].original, "600"));
    CHECK(list[0].expires_micros == 0 && list[0].expired == 0 && list[0].created_micros > 0);
    CHECK(shmbal_holds(books, EX, CUR, 3, list, 4, &count) == SHMBAL_OK && count == 0);

    /* A partial fill of 200: the hold covers it. */
    shmbal_fill_result f;
    memset(&f, 0xAB, sizeof f);
    CHECK(shmbal_fill(books, EX, CUR, "ord-1", A("200"), A("0"), 0, NULL, &f) == SHMBAL_OK);
    CHECK(same(f.from_hold, "200") && same(f.from_free, "0") && same(f.from_pool, "0") && f.closed == 0 && f.reserved == 0);
    s = slots();
    CHECK(same(s.budget[2], "500") && same(s.held[2], "400") && same(s.free[2], "100") && same(s.budget[0], "9800"));

    /* The final fill, 450 + fee 60 = 510 against 400 held: 100 from free, 10 from the pool. */
    CHECK(shmbal_fill(books, EX, CUR, "ord-1", A("450"), A("60"), 1, "fill-2", &f) == SHMBAL_OK);
    CHECK(same(f.from_hold, "400") && same(f.from_free, "100") && same(f.from_pool, "10") && f.closed == 1);
    s = slots();
    CHECK(same(s.budget[0], "9290") && same(s.budget[1], "9290") && same(s.budget[2], "0") && same(s.held[2], "0") && s.hold_count[2] == 0);
    /* The same op id and arguments: the first result again, nothing applied. */
    memset(&f, 0, sizeof f);
    CHECK(shmbal_fill(books, EX, CUR, "ord-1", A("450"), A("60"), 1, "fill-2", &f) == SHMBAL_OK);
    CHECK(same(f.from_hold, "400") && same(f.from_free, "100") && same(f.from_pool, "10") && f.closed == 1);
    CHECK(unchanged(&s));
    /* The same op id with other arguments: refused, nothing changed. */
    CHECK_FAILS(shmbal_fill(books, EX, CUR, "ord-1", A("451"), A("60"), 1, "fill-2", &f), SHMBAL_REFUSED, SHMBAL_REFUSAL_OP_ID_REUSED);
    CHECK(unchanged(&s));
    /* The hold is closed: a fill or a void of it is refused. */
    CHECK_FAILS(shmbal_void(books, EX, CUR, "ord-1", NULL), SHMBAL_REFUSED, SHMBAL_REFUSAL_UNKNOWN_HOLD);
    CHECK_FAILS(shmbal_fill(books, EX, CUR, "ord-1", A("1"), A("0"), 0, NULL, NULL), SHMBAL_REFUSED, SHMBAL_REFUSAL_UNKNOWN_HOLD);
    CHECK_FAILS(shmbal_fill(books, EX, CUR, "ord-1", A("-1"), A("0"), 0, NULL, NULL), SHMBAL_REFUSED, SHMBAL_REFUSAL_NEGATIVE_FILL);
    CHECK(unchanged(&s));

    /* receive: the proceeds go to #2's budget and the total, once per op id. */
    CHECK(shmbal_receive(books, EX, CUR, 2, A("250"), "recv-1") == SHMBAL_OK);
    CHECK(shmbal_receive(books, EX, CUR, 2, A("250"), "recv-1") == SHMBAL_OK);
    s = slots();
    CHECK(same(s.budget[2], "250") && same(s.budget[0], "9540") && same(s.budget[1], "9290"));
    CHECK_FAILS(shmbal_receive(books, EX, CUR, 2, A("251"), "recv-1"), SHMBAL_REFUSED, SHMBAL_REFUSAL_OP_ID_REUSED);
    CHECK_FAILS(shmbal_receive(books, EX, CUR, 2, A("0"), NULL), SHMBAL_REFUSED, SHMBAL_REFUSAL_NON_POSITIVE_AMOUNT);
    CHECK(unchanged(&s));

    /* A void returns what a hold keeps to free. */
    CHECK(shmbal_hold(books, EX, CUR, 2, A("50"), "ord-5", 60000000) == SHMBAL_OK);
    CHECK(shmbal_holds(books, EX, CUR, 2, list, 4, &count) == SHMBAL_OK && count == 1 && list[0].expires_micros > list[0].created_micros);
    CHECK(shmbal_void(books, EX, CUR, "ord-5", "void-5") == SHMBAL_OK);
    CHECK(shmbal_void(books, EX, CUR, "ord-5", "void-5") == SHMBAL_OK); /* a replay, not "unknown hold" */
    s = slots();
    CHECK(same(s.held[2], "0") && same(s.free[2], "250") && s.hold_count[2] == 0);

    /* Op ids on the operations of SPEC §3, by key and through a record handle. */
    shmbal_record rec;
    CHECK(shmbal_record_find(books, EX, CUR, &rec) == SHMBAL_OK);
    CHECK(shmbal_allocate_op(books, EX, CUR, 3, 100.0, "alloc-1") == SHMBAL_OK);
    CHECK(shmbal_allocate_op(books, EX, CUR, 3, 100.0, "alloc-1") == SHMBAL_OK);
    CHECK(shmbal_record_release_exact_op(rec, 3, A("40"), "rel-1") == SHMBAL_OK);
    CHECK(shmbal_record_release_exact_op(rec, 3, A("40"), "rel-1") == SHMBAL_OK);
    CHECK(shmbal_record_allocate_op(rec, 3, 1.0, NULL) == SHMBAL_OK); /* NULL: no op id, the hot pair */
    CHECK(shmbal_record_allocate_op(rec, 3, 1.0, NULL) == SHMBAL_OK);
    s = slots();
    CHECK(same(s.budget[3], "62") && same(s.budget[1], "9228"));
    CHECK_FAILS(shmbal_allocate_op(books, EX, CUR, 3, 101.0, "alloc-1"), SHMBAL_REFUSED, SHMBAL_REFUSAL_OP_ID_REUSED);
    CHECK(strstr(shmbal_last_error(), "alloc-1") != NULL);
    CHECK_FAILS(shmbal_record_allocate_text_op(rec, 3, "100", "rel-1"), SHMBAL_REFUSED, SHMBAL_REFUSAL_OP_ID_REUSED);
    CHECK(unchanged(&s));
    /* A refusal with an op id is remembered: the retry gets the same refusal. */
    CHECK_FAILS(shmbal_release_text_op(books, EX, CUR, 3, "1000", "rel-2"), SHMBAL_REFUSED, SHMBAL_REFUSAL_EXCEEDS_BUDGET);
    s = slots();
    CHECK_FAILS(shmbal_release_text_op(books, EX, CUR, 3, "1000", "rel-2"), SHMBAL_REFUSED, SHMBAL_REFUSAL_EXCEEDS_BUDGET);
    CHECK(shmbal_set_text_op(books, EX, CUR, "9600", 0, "set-1") == SHMBAL_OK);
    CHECK(shmbal_adjust_op(books, EX, CUR, 10.0, 0, "adj-1") == SHMBAL_OK);
    CHECK(shmbal_adjust_op(books, EX, CUR, 10.0, 0, "adj-1") == SHMBAL_OK);
    CHECK(shmbal_set_credit_limit_text_op(books, EX, CUR, "5", "credit-1") == SHMBAL_OK);
    CHECK(shmbal_set_strategy_count_op(books, EX, CUR, 5, "count-1") == SHMBAL_OK);
    s = slots();
    CHECK(s.strategy_count == 5 && same(s.budget[0], "9610") && same(s.budget[1], "9298"));
    CHECK(shmbal_reset_op(books, EX, CUR, 500.0, 0, "reset-1") == SHMBAL_OK);
    CHECK(shmbal_allocate_op(books, EX, CUR, 2, 100.0, "alloc-9") == SHMBAL_OK);
    CHECK(shmbal_reset_op(books, EX, CUR, 500.0, 0, "reset-1") == SHMBAL_OK); /* not applied again */
    s = slots();
    CHECK(same(s.budget[0], "500") && same(s.budget[2], "100") && same(s.budget[1], "400"));

    /* Bad ids: bad input, nothing changed. */
    char long_id[40];
    memset(long_id, 'x', 33);
    long_id[33] = 0;
    const char *bad[] = {"", long_id, "a b", "tab\there", "\x01", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_FAILS(shmbal_hold(books, EX, CUR, 2, A("1"), bad[i], 0), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK(strstr(shmbal_last_error(), "1–32 printable ASCII") != NULL);
        CHECK_FAILS(shmbal_allocate_op(books, EX, CUR, 2, 1.0, bad[i]), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK_FAILS(shmbal_record_release_op(rec, 2, 1.0, bad[i]), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK_FAILS(shmbal_receive(books, EX, CUR, 2, A("1"), bad[i]), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK_FAILS(shmbal_fill(books, EX, CUR, bad[i], A("1"), A("0"), 0, NULL, NULL), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK_FAILS(shmbal_void(books, EX, CUR, "ord-1", bad[i]), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
        CHECK_FAILS(shmbal_set_op(books, EX, CUR, 1.0, 2, bad[i]), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
    }
    CHECK_FAILS(shmbal_hold(books, EX, CUR, 2, A("1"), NULL, 0), SHMBAL_BAD_INPUT, SHMBAL_REFUSAL_NONE);
    memset(long_id, 'x', 32);
    long_id[32] = 0; /* 32 bytes: the longest id */
    CHECK(unchanged(&s));
    CHECK(shmbal_hold(books, EX, CUR, 2, A("1"), long_id, 0) == SHMBAL_OK);
    CHECK(shmbal_holds(books, EX, CUR, -1, list, 4, &count) == SHMBAL_OK && count == 1 && strcmp(list[0].id, long_id) == 0);

    /* A read-only handle lists and reads holds, and every write through it is refused. */
    shmbal_books ro;
    CHECK(shmbal_open(NULL, SHMBAL_OPEN_READ_ONLY, &ro) == SHMBAL_OK);
    CHECK(shmbal_holds(ro, EX, CUR, -1, list, 4, &count) == SHMBAL_OK && count == 1);
    shmbal_slot_holds ros;
    CHECK(shmbal_get_slot_holds(ro, EX, CUR, &ros) == SHMBAL_OK && same(ros.held[2], "1") && ros.hold_count[2] == 1);
    CHECK_FAILS(shmbal_hold(ro, EX, CUR, 2, A("1"), "ord-ro", 0), SHMBAL_SEGMENT, SHMBAL_REFUSAL_NONE);
    CHECK_FAILS(shmbal_void(ro, EX, CUR, long_id, NULL), SHMBAL_SEGMENT, SHMBAL_REFUSAL_NONE);
    CHECK_FAILS(shmbal_allocate_op(ro, EX, CUR, 2, 1.0, "ro-1"), SHMBAL_SEGMENT, SHMBAL_REFUSAL_NONE);
    CHECK(shmbal_close(ro) == SHMBAL_OK);

    CHECK(shmbal_close(books) == SHMBAL_OK);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("c holds: ok\n");
    return 0;
}
