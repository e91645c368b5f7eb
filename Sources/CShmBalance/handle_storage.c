#include "handle_storage.h"

uint64_t shmbal_handle_generations[SHMBAL_HANDLE_CAPACITY];
intptr_t shmbal_handle_record_counts[SHMBAL_HANDLE_CAPACITY];
struct shmbal_handle_entry shmbal_handle_entries[SHMBAL_HANDLE_CAPACITY];
void *shmbal_handle_books[SHMBAL_HANDLE_CAPACITY];
pthread_mutex_t shmbal_handle_mutex = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(sizeof(struct shmbal_handle_entry) == 16, "Handles.swift's Entry: an optional pointer and an Int");
_Static_assert(sizeof(void *) == 8 && sizeof(intptr_t) == 8, "64-bit: the Swift side binds these as UInt64, Int and pointers");
