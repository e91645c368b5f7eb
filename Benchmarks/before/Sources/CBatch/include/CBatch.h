#pragma once
#include <stdint.h>

/* The value, through a call the optimizer cannot see into (so the loop's amount and index are
 * not constants it could fold), as CPeers' bench_opaque. */
int64_t batch_opaque(int64_t v);

/* Makes the optimizer assume *p is read here (as CPeers' bench_keep). */
static inline void batch_keep(const void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }
