// Compile-time checks that the public structs have the layout the header documents and the
// Python package (ctypes) mirrors: a change here must bump SHMBAL_ABI_VERSION.
#include "shmbalance.h"

_Static_assert(sizeof(shmbal_amount) == 16, "shmbal_amount is two 64-bit halves");
_Static_assert(sizeof(shmbal_books) == 8, "shmbal_books is one 64-bit id");
_Static_assert(sizeof(shmbal_record) == 16, "shmbal_record is two 64-bit words");
_Static_assert(sizeof(shmbal_quote) == 24, "shmbal_quote is the seed's SingleQuote");
_Static_assert(offsetof(shmbal_record_info, credit_limit) == 72, "record_info head");
_Static_assert(offsetof(shmbal_record_info, exact_credit_limit) == 600, "record_info exact values");
_Static_assert(offsetof(shmbal_record_info, names) == 1656, "record_info names");
_Static_assert(sizeof(shmbal_record_info) == 3192, "record_info size");
_Static_assert(offsetof(shmbal_reconcile_result, dropped_amount) == 288, "reconcile_result dropped");
_Static_assert(sizeof(shmbal_reconcile_result) == 1536, "reconcile_result size");
_Static_assert(offsetof(shmbal_record_state, last_change_pid) == 40, "record_state head");
_Static_assert(offsetof(shmbal_record_state, fenced) == 44 && sizeof(((shmbal_record_state *)0)->fenced) == 1, "record_state fence");
_Static_assert(offsetof(shmbal_record_state, credit_limit) == 48, "record_state credit");
_Static_assert(offsetof(shmbal_record_state, slots) == 64, "record_state slots");
_Static_assert(sizeof(shmbal_record_state) == 1088 && _Alignof(shmbal_record_state) == 16, "record_state size");
_Static_assert(sizeof(shmbal_status) == sizeof(int) && sizeof(shmbal_refusal) == sizeof(int), "codes are ints");
_Static_assert(offsetof(shmbal_fill_result, closed) == 48 && sizeof(shmbal_fill_result) == 56, "fill_result");
_Static_assert(offsetof(shmbal_hold_info, amount) == 48 && sizeof(shmbal_hold_info) == 96, "hold_info");
_Static_assert(offsetof(shmbal_slot_holds, budget) == 24 && offsetof(shmbal_slot_holds, hold_count) == 3096, "slot_holds fields");
_Static_assert(sizeof(shmbal_slot_holds) == 3352, "slot_holds size");
