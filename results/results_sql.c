#include "results_sql.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef DTB_RESULTS_DTBENCH_VERSION
#define DTB_RESULTS_DTBENCH_VERSION "unknown"
#endif

const char *results_dtbench_version(void)
{
    return DTB_RESULTS_DTBENCH_VERSION;
}

double results_clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void results_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int results_rc_busy(int rc)
{
    int prim = rc & 0xff;
    return prim == SQLITE_BUSY || prim == SQLITE_LOCKED;
}

void results_error(const results_db *db, int rc, const char *what, char *err, size_t err_len)
{
    int prim = rc & 0xff;
    const char *msg = db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        snprintf(err, err_len, "%s is locked by another process (gave up after %.1f s)",
                 db->path, db->timeout_ms / 1000.0);
    else if (prim == SQLITE_NOTADB)
        snprintf(err, err_len, "%s is not a SQLite database (refusing to touch it)", db->path);
    else if (prim == SQLITE_CORRUPT)
        snprintf(err, err_len, "%s is a corrupt SQLite database (%s); refusing to touch it",
                 db->path, msg);
    else if (prim == SQLITE_READONLY)
        snprintf(err, err_len, "%s: cannot write (%s)", db->path, msg);
    else if (prim == SQLITE_FULL)
        snprintf(err, err_len, "%s: %s: disk full", db->path, what);
    else
        snprintf(err, err_len, "%s: %s: %s", db->path, what, msg);
}

int results_prepare(results_db *db, const char *sql, sqlite3_stmt **st, char *err,
                    size_t err_len)
{
    *st = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
    if (rc == SQLITE_OK)
        return 0;
    results_error(db, rc, "preparing a statement", err, err_len);
    sqlite3_finalize(*st);
    *st = NULL;
    return results_rc_busy(rc) ? RESULTS_RETRY : -1;
}

int results_step_done(results_db *db, sqlite3_stmt *st, int bind_rc, const char *what,
                      char *err, size_t err_len)
{
    if (bind_rc != SQLITE_OK) {
        results_error(db, bind_rc, what, err, err_len);
        sqlite3_reset(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    results_error(db, rc, what, err, err_len);
    return results_rc_busy(rc) ? RESULTS_RETRY : -1;
}

int results_exec(results_db *db, const char *sql, const char *what, char *err, size_t err_len)
{
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    results_error(db, rc, what, err, err_len);
    return results_rc_busy(rc) ? RESULTS_RETRY : -1;
}

static void keep_first(int *rc, int now)
{
    if (*rc == SQLITE_OK)
        *rc = now;
}

void results_bind_text(sqlite3_stmt *st, int idx, const char *s, int *rc)
{
    keep_first(rc, s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
                     : sqlite3_bind_null(st, idx));
}

void results_bind_int64(sqlite3_stmt *st, int idx, int64_t v, int *rc)
{
    keep_first(rc, sqlite3_bind_int64(st, idx, v));
}

void results_bind_double(sqlite3_stmt *st, int idx, double v, int *rc)
{
    keep_first(rc, sqlite3_bind_double(st, idx, v));
}

void results_bind_null(sqlite3_stmt *st, int idx, int *rc)
{
    keep_first(rc, sqlite3_bind_null(st, idx));
}

int results_write(results_db *db, results_txn_fn body, void *ctx, char *err, size_t err_len)
{
    double start = results_clock_seconds();
    long delay_ms = 2;
    for (;;) {
        int r;
        int rc = sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            r = body(db, ctx, err, err_len);
            if (r == 0) {
                rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
                if (rc == SQLITE_OK)
                    return 0;
                results_error(db, rc, "committing", err, err_len);
                r = results_rc_busy(rc) ? RESULTS_RETRY : -1;
            }
        } else {
            results_error(db, rc, "starting a write transaction", err, err_len);
            r = results_rc_busy(rc) ? RESULTS_RETRY : -1;
        }
        if (!sqlite3_get_autocommit(db->db))
            sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        if (r != RESULTS_RETRY)
            return -1;
        if ((results_clock_seconds() - start) * 1000.0 >= db->timeout_ms) {
            results_error(db, SQLITE_BUSY, "writing", err, err_len);
            return -1;
        }
        results_sleep_ms(delay_ms);
        delay_ms = delay_ms < 100 ? 2 * delay_ms : 200;
    }
}
