/*
 * shmbalance._speedups: the hot calls of StrategyBalanceManager (allocate, release, get_balance)
 * in C over the C ABI, so a Python strategy pays little more than the C call itself.
 *
 * Built by scripts/build-wheel against CPython's stable ABI (Py_LIMITED_API 3.10: one wheel,
 * `cp310-abi3`, for every CPython from 3.10 on). Without it the package uses the same calls
 * through ctypes (shmbalance/_hot.py); behaviour is identical, only slower.
 *
 * It does not link libshmbalance: the package loads the library once (ctypes) and hands this
 * module the addresses of the functions it calls (bind), so both paths share one library, one
 * handle table and one thread's last error, whichever library $SHMBAL_LIBRARY names.
 *
 * The type `Hot` is the base class of StrategyBalanceManager. Its methods take the fast path only
 * when everything is plain: a currency whose record handle the manager cached (_cache_record), an
 * int index 0…63, a float (or int) amount; anything else (the first call for a currency, text or
 * Decimal amounts, an `op_id=` keyword, keyword mistakes, bad input) calls the Python method
 * `_allocate_slow` (…) with the same arguments, which does what the ctypes path does and words
 * every error. `op_id` is deliberately not among the names `spread` knows: a call without it
 * costs exactly what it did, and one with it goes to the general commit anyway.
 *
 * The calls hold the GIL: they take a few tens of nanoseconds. A record whose lock a stopped
 * process holds makes one wait up to the lock timeout ($SHMBAL_LOCK_TIMEOUT_MS, 1 s) with it.
 */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

#include <stdint.h>

#include "shmbalance.h"

typedef int (*op_double_fn)(shmbal_record, int, double);
typedef int (*op_exact_fn)(shmbal_record, int, shmbal_amount);
typedef int (*balance_fn)(shmbal_record, int, double *, shmbal_amount *);

/* Bound once by shmbalance._native.library(); NULL until then (every call takes the slow path). */
static op_double_fn c_allocate, c_release;
static op_exact_fn c_allocate_exact, c_release_exact;
static balance_fn c_balance;
/* shmbalance._native.error(status) -> the exception to raise (message and class from the library). */
static PyObject *error_factory;

static PyObject *s_currency, *s_index, *s_amount, *s_exact;
static PyObject *s_allocate_slow, *s_release_slow, *s_get_balance_slow;

enum { CACHE = 64, MAX_SLOT = 64 };

typedef struct {
    PyObject_HEAD
    int count;
    PyObject *keys[CACHE];        /* the currencies (str) as the caller passed them, strong refs */
    shmbal_record records[CACHE]; /* their record handles */
} Hot;

/* The cached record handle for `currency`: by identity first (a literal or an enum member passed
 * again), then by string equality. */
static inline const shmbal_record *lookup(Hot *self, PyObject *currency) {
    for (int i = 0; i < self->count; i++)
        if (self->keys[i] == currency) return &self->records[i];
    if (!PyUnicode_Check(currency)) return NULL;
    for (int i = 0; i < self->count; i++)
        if (PyUnicode_Compare(self->keys[i], currency) == 0) return &self->records[i];
    if (PyErr_Occurred()) PyErr_Clear();
    return NULL;
}

/* Spreads positional and keyword arguments over `names`; 0 when anything is unusual (too many,
 * unknown or repeated keywords): the slow path then raises Python's own TypeError. */
static int spread_slow(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **names, int n, PyObject **out,
                       signed char *where) {
    Py_ssize_t nk = PyTuple_Size(kwnames);
    if (nk > n) return 0;
    for (Py_ssize_t k = 0; k < nk; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);
        int j = 0;
        while (j < n && key != names[j]) j++;
        if (j == n)
            for (j = 0; j < n && PyUnicode_Compare(key, names[j]) != 0; j++) {}
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (j == n || out[j] != NULL) return 0;
        out[j] = args[nargs + k];
        where[k] = (signed char)j;
    }
    return 1;
}

/* The keyword names a call site passes are one constant tuple of its code object, the same object
 * on every call: a few (tuple, where each keyword goes) pairs per method save parsing it again. */
enum { KW_CACHE = 4 };
typedef struct {
    PyObject *kwnames; /* a strong reference, so the address cannot be reused by another tuple */
    Py_ssize_t count;
    signed char where[3]; /* distinct: spread_slow refuses a keyword given twice */
    signed char min_where;
} KwShape;
typedef struct {
    KwShape shapes[KW_CACHE];
    int next;
} KwCache;

static int spread(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **names, int n, PyObject **out,
                  KwCache *cache) {
    if (nargs > n) return 0;
    for (int i = 0; i < n; i++) out[i] = i < nargs ? args[i] : NULL;
    if (kwnames == NULL) return 1;
    for (int c = 0; c < KW_CACHE; c++) {
        KwShape *shape = &cache->shapes[c];
        if (shape->kwnames != kwnames) continue;
        if (nargs + shape->count > n) return 0;
        for (Py_ssize_t k = 0; k < shape->count; k++) {
            int j = shape->where[k];
            if (out[j] != NULL) return 0; /* also given positionally */
            out[j] = args[nargs + k];
        }
        return 1;
    }
    signed char where[3];
    if (!spread_slow(args, nargs, kwnames, names, n, out, where)) return 0;
    /* Remember the shape (positional arguments are checked per call, so it holds for any nargs). */
    KwShape *shape = &cache->shapes[cache->next];
    cache->next = (cache->next + 1) % KW_CACHE;
    Py_INCREF(kwnames);
    Py_XDECREF(shape->kwnames);
    shape->kwnames = kwnames;
    shape->count = PyTuple_Size(kwnames);
    shape->min_where = 3;
    for (Py_ssize_t k = 0; k < shape->count; k++) {
        shape->where[k] = where[k];
        if (where[k] < shape->min_where) shape->min_where = where[k];
    }
    return 1;
}

/* The cached shape of `kwnames` when its keywords, after `nargs` positional arguments, fill
 * exactly the places left of `n` (allocate("USDC", index=2, amount=1.0)): the caller then copies
 * the arguments straight into place. NULL for anything else, which `spread` handles. */
static inline const KwShape *exact_shape(const KwCache *cache, PyObject *kwnames, Py_ssize_t nargs, int n) {
    for (int c = 0; c < KW_CACHE; c++) {
        const KwShape *shape = &cache->shapes[c];
        if (shape->kwnames == kwnames) return nargs + shape->count == n && shape->min_where >= nargs ? shape : NULL;
    }
    return NULL;
}

static KwCache allocate_shapes, release_shapes, get_balance_shapes;

/* self.<method>(*args, **kwargs) with the original arguments. (Cold and out of line: the fast
 * paths then keep few registers live and need a short prologue.) */
__attribute__((noinline, cold)) static PyObject *slow(PyObject *self, PyObject *method, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *fn = PyObject_GetAttr(self, method);
    if (fn == NULL) return NULL;
    PyObject *tuple = PyTuple_New(nargs);
    PyObject *kwargs = NULL;
    PyObject *result = NULL;
    if (tuple == NULL) goto done;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SetItem(tuple, i, args[i]);
    }
    if (kwnames != NULL) {
        kwargs = PyDict_New();
        if (kwargs == NULL) goto done;
        Py_ssize_t nk = PyTuple_Size(kwnames);
        for (Py_ssize_t k = 0; k < nk; k++)
            if (PyDict_SetItem(kwargs, PyTuple_GetItem(kwnames, k), args[nargs + k]) < 0) goto done;
    }
    result = PyObject_Call(fn, tuple, kwargs);
done:
    Py_DECREF(fn);
    Py_XDECREF(tuple);
    Py_XDECREF(kwargs);
    return result;
}

/* Raises the package's exception for a failed C call. */
__attribute__((noinline, cold)) static PyObject *fail(int status) {
    PyObject *exc = PyObject_CallFunction(error_factory, "i", status);
    if (exc == NULL) return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

/* The ints 0…63. CPython keeps one object per small int (-5…256), so an index written as a
 * literal or computed from small ints is one of these: recognised by its address, without a call.
 * Init checks that they lie evenly spaced, a power of two apart; otherwise (or for any other
 * object) slot_index asks PyLong_AsLong as before. */
static PyObject *small_ints[MAX_SLOT];
static uintptr_t small_base;
static unsigned small_shift; /* 0: the addresses are not usable, always call PyLong_AsLong */

static void find_small_ints(void) {
    for (int i = 0; i < MAX_SLOT; i++) small_ints[i] = PyLong_FromLong(i); /* strong refs, kept */
    for (int i = 0; i < MAX_SLOT; i++)
        if (small_ints[i] == NULL) {
            PyErr_Clear();
            return;
        }
    uintptr_t base = (uintptr_t)small_ints[0], stride = (uintptr_t)small_ints[1] - base;
    unsigned shift = 0;
    while (shift < 16 && ((uintptr_t)1 << shift) != stride) shift++;
    if (shift == 0 || shift == 16) return;
    for (int i = 0; i < MAX_SLOT; i++)
        if ((uintptr_t)small_ints[i] != base + ((uintptr_t)i << shift)) return;
    small_base = base;
    small_shift = shift;
}

/* A slot index for the fast path (0…63), or -1. */
static inline int slot_index(PyObject *o) {
    if (small_shift != 0) {
        uintptr_t d = (uintptr_t)o - small_base;
        if (d < ((uintptr_t)MAX_SLOT << small_shift) && (d & (((uintptr_t)1 << small_shift) - 1)) == 0 &&
            small_ints[d >> small_shift] == o)
            return (int)(d >> small_shift);
    }
    if (!PyLong_CheckExact(o)) return -1;
    long i = PyLong_AsLong(o);
    if (i == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return i >= 0 && i < MAX_SLOT ? (int)i : -1;
}

__attribute__((always_inline)) static inline PyObject *move(Hot *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, op_double_fn op,
                      op_exact_fn exact_op, PyObject *slow_name, KwCache *shapes) {
    PyObject *a[3];
    const KwShape *shape;
    if (kwnames == NULL && nargs == 3) { /* the usual call: three positional arguments */
        a[0] = args[0];
        a[1] = args[1];
        a[2] = args[2];
    } else if (kwnames != NULL && (shape = exact_shape(shapes, kwnames, nargs, 3)) != NULL) { /* a keyword call seen before */
        for (Py_ssize_t i = 0; i < nargs; i++) a[i] = args[i];
        for (Py_ssize_t k = 0; k < shape->count; k++) a[(int)shape->where[k]] = args[nargs + k];
    } else {
        PyObject *names[3] = {s_currency, s_index, s_amount};
        if (!spread(args, nargs, kwnames, names, 3, a, shapes) || a[0] == NULL || a[1] == NULL || a[2] == NULL)
            return slow((PyObject *)self, slow_name, args, nargs, kwnames);
    }
    if (op == NULL) return slow((PyObject *)self, slow_name, args, nargs, kwnames);
    const shmbal_record *rec = lookup(self, a[0]);
    int index = slot_index(a[1]);
    if (rec == NULL || index < 0) return slow((PyObject *)self, slow_name, args, nargs, kwnames);
    int rc;
    if (PyFloat_CheckExact(a[2])) {
        rc = op(*rec, index, PyFloat_AsDouble(a[2]));
    } else if (PyLong_CheckExact(a[2])) {
        /* An int is exact: whole units, 10^18 raw units each (the text path gives the same). */
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(a[2], &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return slow((PyObject *)self, slow_name, args, nargs, kwnames);
        }
        __int128 raw = (__int128)v * (__int128)1000000000000000000LL;
        shmbal_amount amount = {(uint64_t)raw, (int64_t)(raw >> 64)};
        rc = exact_op(*rec, index, amount);
    } else {
        return slow((PyObject *)self, slow_name, args, nargs, kwnames);
    }
    if (rc != SHMBAL_OK) return fail(rc);
    Py_RETURN_NONE;
}

static PyObject *hot_allocate(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return move((Hot *)self, args, nargs, kwnames, c_allocate, c_allocate_exact, s_allocate_slow, &allocate_shapes);
}

static PyObject *hot_release(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return move((Hot *)self, args, nargs, kwnames, c_release, c_release_exact, s_release_slow, &release_shapes);
}

static PyObject *hot_get_balance(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *a[3];
    if (kwnames == NULL && (nargs == 1 || nargs == 2)) { /* the usual call: currency[, index] */
        a[0] = args[0];
        a[1] = nargs == 2 ? args[1] : NULL;
        a[2] = NULL;
    } else {
        PyObject *names[3] = {s_currency, s_index, s_exact};
        if (!spread(args, nargs, kwnames, names, 3, a, &get_balance_shapes) || a[0] == NULL ||
            (a[2] != NULL && a[2] != Py_False))
            return slow(self, s_get_balance_slow, args, nargs, kwnames);
    }
    if (c_balance == NULL) return slow(self, s_get_balance_slow, args, nargs, kwnames);
    const shmbal_record *rec = lookup((Hot *)self, a[0]);
    int index = a[1] == NULL ? 0 : slot_index(a[1]);
    if (rec == NULL || index < 0) return slow(self, s_get_balance_slow, args, nargs, kwnames);
    double value;
    int rc = c_balance(*rec, index, &value, NULL);
    if (rc != SHMBAL_OK) return fail(rc);
    return PyFloat_FromDouble(value);
}

/* _cache_record(currency, books_id, slot): the manager found the record; later calls go fast. */
static PyObject *hot_cache_record(PyObject *op, PyObject *args) {
    Hot *self = (Hot *)op;
    PyObject *currency;
    unsigned long long books, slot;
    if (!PyArg_ParseTuple(args, "OKK", &currency, &books, &slot)) return NULL;
    if (!PyUnicode_Check(currency) || self->count == CACHE || lookup(self, currency) != NULL) Py_RETURN_NONE;
    Py_INCREF(currency);
    self->keys[self->count] = currency;
    self->records[self->count] = (shmbal_record){books, slot};
    self->count++;
    Py_RETURN_NONE;
}

/* _forget_records(): after close (the handles are dead; calls would say "closed" anyway). */
static PyObject *hot_forget_records(PyObject *op, PyObject *unused) {
    (void)unused;
    Hot *self = (Hot *)op;
    for (int i = 0; i < self->count; i++) Py_CLEAR(self->keys[i]);
    self->count = 0;
    Py_RETURN_NONE;
}

static void hot_dealloc(PyObject *op) {
    PyTypeObject *type = Py_TYPE(op);
    Hot *self = (Hot *)op;
    for (int i = 0; i < self->count; i++) Py_CLEAR(self->keys[i]);
    freefunc free_fn = (freefunc)PyType_GetSlot(type, Py_tp_free);
    free_fn(op);
    Py_DECREF(type);
}

static PyMethodDef hot_methods[] = {
    {"allocate", (PyCFunction)(void (*)(void))hot_allocate, METH_FASTCALL | METH_KEYWORDS,
     "allocate($self, currency, index, amount, *, op_id=None)\n--\n\nSub-strategy `index` (2 <= index < count) takes `amount` from the pool;\n"
     "refused (RefusedError) beyond the headroom (pool + credit). op_id: applied once (the slow path takes it)."},
    {"release", (PyCFunction)(void (*)(void))hot_release, METH_FASTCALL | METH_KEYWORDS,
     "release($self, currency, index, amount, *, op_id=None)\n--\n\nSub-strategy `index` gives `amount` back to the pool; refused beyond its budget."},
    {"get_balance", (PyCFunction)(void (*)(void))hot_get_balance, METH_FASTCALL | METH_KEYWORDS,
     "get_balance($self, currency, index=0, exact=False)\n--\n\nOne slot (default: the total) as a float, as in the seed;\n"
     "exact=True gives the stored value as a Decimal."},
    {"_cache_record", hot_cache_record, METH_VARARGS, "Remembers the record handle of a currency."},
    {"_forget_records", hot_forget_records, METH_NOARGS, "Drops the cached record handles."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot hot_slots[] = {
    {Py_tp_doc, "The hot calls of StrategyBalanceManager, in C over libshmbalance."},
    {Py_tp_methods, hot_methods},
    {Py_tp_dealloc, hot_dealloc},
    {0, NULL},
};

static PyType_Spec hot_spec = {
    "shmbalance._speedups.Hot", sizeof(Hot), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, hot_slots,
};

/* bind(allocate, release, allocate_exact, release_exact, balance, error): the library's function
 * addresses (ints) and the exception factory. */
static PyObject *bind(PyObject *module, PyObject *args) {
    (void)module;
    unsigned long long a, r, ae, re, b;
    PyObject *factory;
    if (!PyArg_ParseTuple(args, "KKKKKO", &a, &r, &ae, &re, &b, &factory)) return NULL;
    if (!a || !r || !ae || !re || !b || !PyCallable_Check(factory)) {
        PyErr_SetString(PyExc_ValueError, "bind: every function address must be non-zero and error callable");
        return NULL;
    }
    Py_INCREF(factory);
    PyObject *old = error_factory;
    error_factory = factory;
    Py_XDECREF(old);
    c_allocate = (op_double_fn)(uintptr_t)a;
    c_release = (op_double_fn)(uintptr_t)r;
    c_allocate_exact = (op_exact_fn)(uintptr_t)ae;
    c_release_exact = (op_exact_fn)(uintptr_t)re;
    c_balance = (balance_fn)(uintptr_t)b;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", bind, METH_VARARGS, "Binds the C functions of the loaded libshmbalance (called by shmbalance._native)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_speedups", "The hot calls of shmbalance in C (see shmbalance._hot for the ctypes fallback).",
    -1, module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    if (!(s_currency = PyUnicode_InternFromString("currency")) || !(s_index = PyUnicode_InternFromString("index")) ||
        !(s_amount = PyUnicode_InternFromString("amount")) || !(s_exact = PyUnicode_InternFromString("exact")) ||
        !(s_allocate_slow = PyUnicode_InternFromString("_allocate_slow")) ||
        !(s_release_slow = PyUnicode_InternFromString("_release_slow")) ||
        !(s_get_balance_slow = PyUnicode_InternFromString("_get_balance_slow")))
        return NULL;
    find_small_ints();
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    PyObject *hot = PyType_FromSpec(&hot_spec);
    if (hot == NULL || PyModule_AddObject(module, "Hot", hot) < 0) {
        Py_XDECREF(hot);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
