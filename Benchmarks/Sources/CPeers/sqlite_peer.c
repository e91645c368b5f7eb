// The SQLite peer: one row per record, one IMMEDIATE transaction per operation (read, check,
// update, commit), WAL journal with synchronous=NORMAL: the way one would share balances between
// processes with a database file. Amounts are 64-bit integers (SQLite has no 128-bit type).
#include "CPeers.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct sqlpeer {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *read, *write;
};

static int exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

sqlpeer *sqlpeer_open(const char *path, int count, int64_t balance) {
    sqlpeer *p = calloc(1, sizeof *p);
    if (sqlite3_open(path, &p->db) != SQLITE_OK) {
        fprintf(stderr, "sqlite: open %s: %s\n", path, sqlite3_errmsg(p->db));
        return NULL;
    }
    sqlite3_busy_timeout(p->db, 1000);
    char sql[256];
    if (exec(p->db, "PRAGMA journal_mode=WAL") || exec(p->db, "PRAGMA synchronous=NORMAL") ||
        exec(p->db, "DROP TABLE IF EXISTS slot") ||
        exec(p->db, "CREATE TABLE slot(record INTEGER, idx INTEGER, amount INTEGER NOT NULL, PRIMARY KEY(record, idx)) WITHOUT ROWID") ||
        exec(p->db, "DROP TABLE IF EXISTS record") ||
        exec(p->db, "CREATE TABLE record(id INTEGER PRIMARY KEY, count INTEGER NOT NULL, credit INTEGER NOT NULL)"))
        return NULL;
    snprintf(sql, sizeof sql, "INSERT INTO record VALUES(1, %d, 0)", count);
    if (exec(p->db, sql)) return NULL;
    for (int i = 0; i < count; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO slot VALUES(1, %d, %lld)", i, (long long)(i < 2 ? balance : 0));
        if (exec(p->db, sql)) return NULL;
    }
    p->begin = prepare(p->db, "BEGIN IMMEDIATE");
    p->commit = prepare(p->db, "COMMIT");
    p->rollback = prepare(p->db, "ROLLBACK");
    // count, credit, pool, slot[index] in one statement.
    p->read = prepare(p->db,
        "SELECT r.count, r.credit, (SELECT amount FROM slot WHERE record = 1 AND idx = 1),"
        " (SELECT amount FROM slot WHERE record = 1 AND idx = ?1) FROM record r WHERE r.id = 1");
    p->write = prepare(p->db,
        "UPDATE slot SET amount = CASE idx WHEN 1 THEN ?1 ELSE ?2 END WHERE record = 1 AND idx IN (1, ?3)");
    if (!p->begin || !p->commit || !p->rollback || !p->read || !p->write) return NULL;
    return p;
}

static int step_reset(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -rc;
}

static int op(sqlpeer *p, int index, int64_t amount, int allocate) {
    int rc = step_reset(p->begin);
    if (rc) return rc;
    sqlite3_bind_int(p->read, 1, index);
    if (sqlite3_step(p->read) != SQLITE_ROW) {
        sqlite3_reset(p->read);
        step_reset(p->rollback);
        return -1;
    }
    int64_t count = sqlite3_column_int64(p->read, 0);
    int64_t credit = sqlite3_column_int64(p->read, 1);
    int64_t pool = sqlite3_column_int64(p->read, 2);
    int64_t slot = sqlite3_column_int64(p->read, 3);
    sqlite3_reset(p->read);
    int refused = 0;
    if (index < 2 || index >= count) refused = 3;
    else if (amount <= 0) refused = 4;
    else if (allocate && amount > pool + credit) refused = 5;
    else if (!allocate && amount > slot) refused = 6;
    if (refused) {
        step_reset(p->rollback);
        return refused;
    }
    sqlite3_bind_int64(p->write, 1, allocate ? pool - amount : pool + amount);
    sqlite3_bind_int64(p->write, 2, allocate ? slot + amount : slot - amount);
    sqlite3_bind_int(p->write, 3, index);
    if ((rc = step_reset(p->write)) != 0) {
        step_reset(p->rollback);
        return rc;
    }
    return step_reset(p->commit);
}

int sqlpeer_allocate(sqlpeer *p, int index, int64_t amount) { return op(p, index, amount, 1); }
int sqlpeer_release(sqlpeer *p, int index, int64_t amount) { return op(p, index, amount, 0); }

void sqlpeer_close(sqlpeer *p) {
    sqlite3_finalize(p->begin);
    sqlite3_finalize(p->commit);
    sqlite3_finalize(p->rollback);
    sqlite3_finalize(p->read);
    sqlite3_finalize(p->write);
    sqlite3_close(p->db);
    free(p);
}

const char *sqlite3_libversion_shim(void) { return sqlite3_libversion(); }
