/*
 * A connection to the results database and the write discipline every
 * writer uses: busy-aware statement helpers and all-or-nothing write
 * transactions with retries. results_db.h opens connections (validating
 * and migrating the file, results_schema.h); everything else writes and
 * reads through these helpers.
 *
 * Every function returns 0, or -1 with one line in err (no "dtbench: "
 * prefix, no newline) naming the database and the problem.
 */
#ifndef DTB_RESULTS_SQL_H
#define DTB_RESULTS_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

typedef enum results_mode { RESULTS_READ = 0, RESULTS_WRITE = 1 } results_mode;

typedef struct results_db {
    sqlite3 *db;
    char path[4096];
    int timeout_ms;
    results_mode mode;
} results_db;

/* The dtbench version recorded with every run ("0.1.0"). */
const char *results_dtbench_version(void);

/* 1 for SQLITE_BUSY and SQLITE_LOCKED (any extended code): retry later. */
int results_rc_busy(int rc);

/* Formats "<path>: <what>: <sqlite message>" into err, or "<path> is locked
 * by another process (waited N s)" for a busy result code. */
void results_error(const results_db *db, int rc, const char *what, char *err, size_t err_len);

/* Body of a write transaction: returns 0 on success, RESULTS_RETRY when an
 * SQLite call was busy (the transaction is rolled back and retried), or -1
 * with err set (rolled back, not retried). */
#define RESULTS_RETRY 1
typedef int (*results_txn_fn)(results_db *db, void *ctx, char *err, size_t err_len);

/* BEGIN IMMEDIATE; body; COMMIT -- all or nothing. A busy lock at any point
 * rolls back and retries with back-off until timeout_ms have passed since
 * the first attempt; then fails with "locked". */
int results_write(results_db *db, results_txn_fn body, void *ctx, char *err, size_t err_len);

/* Statement helpers: prepare (err on failure), and step to completion of a
 * statement that returns no rows: 0 done, RESULTS_RETRY busy, -1 error.
 * bind_rc is what the results_bind_* calls gathered: a failed bind fails
 * the step without running it. The statement is reset either way. */
int results_prepare(results_db *db, const char *sql, sqlite3_stmt **st, char *err,
                    size_t err_len);
int results_step_done(results_db *db, sqlite3_stmt *st, int bind_rc, const char *what,
                      char *err, size_t err_len);
/* Runs SQL text (several statements, no results): 0, RESULTS_RETRY or -1. */
int results_exec(results_db *db, const char *sql, const char *what, char *err, size_t err_len);

/* Binding parameter idx; *rc keeps the first failure (SQLITE_OK while all
 * binds succeed) so one check before the step covers them all. Text is
 * copied; a NULL string binds SQL NULL. */
void results_bind_text(sqlite3_stmt *st, int idx, const char *s, int *rc);
void results_bind_int64(sqlite3_stmt *st, int idx, int64_t v, int *rc);
void results_bind_double(sqlite3_stmt *st, int idx, double v, int *rc);
void results_bind_null(sqlite3_stmt *st, int idx, int *rc);

/* Busy-retry loops: a monotonic clock in seconds, and a sleep that resumes
 * after signals. */
double results_clock_seconds(void);
void results_sleep_ms(long ms);

#endif
