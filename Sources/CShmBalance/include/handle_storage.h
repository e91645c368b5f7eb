#pragma once
#include <pthread.h>
#include <stdint.h>

/* The C library's table of open handles (Sources/ShmBalanceCABI/Handles.swift), in static
 * storage that the loader zeroes. All-zero is the table's empty state (no entry open, no record
 * looked up), so the Swift side reaches it with no lazy global's once-check on every call: that
 * check cost an allocate through the library ~12 of its ~436 instructions. Not installed: only the
 * library's own Swift code includes it, and its symbols stay local (the version script exports
 * the functions of shmbalance.h alone). */

enum { SHMBAL_HANDLE_CAPACITY = 1024 };

/* The records a books handle has looked up (RecordRef[record_capacity], allocated at open). */
struct shmbal_handle_entry {
    void *records;
    intptr_t record_capacity;
};

extern uint64_t shmbal_handle_generations[SHMBAL_HANDLE_CAPACITY]; /* odd while open */
extern intptr_t shmbal_handle_record_counts[SHMBAL_HANDLE_CAPACITY];
extern struct shmbal_handle_entry shmbal_handle_entries[SHMBAL_HANDLE_CAPACITY];
extern void *shmbal_handle_books[SHMBAL_HANDLE_CAPACITY]; /* the open segment: a retained Swift object */
extern pthread_mutex_t shmbal_handle_mutex;               /* open, close, a record's first lookup */

static inline void *shmbal_handle_generations_base(void) { return shmbal_handle_generations; }
static inline void *shmbal_handle_record_counts_base(void) { return shmbal_handle_record_counts; }
static inline void *shmbal_handle_entries_base(void) { return shmbal_handle_entries; }
static inline void *shmbal_handle_books_base(void) { return shmbal_handle_books; }
static inline pthread_mutex_t *shmbal_handle_mutex_address(void) { return &shmbal_handle_mutex; }
