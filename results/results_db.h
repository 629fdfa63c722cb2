/*
 * Opening the results database, and the write discipline every writer uses.
 *
 * Invariants of results_open:
 *  - a file that exists is opened without SQLITE_OPEN_CREATE, and only after
 *    its first 16 bytes read "SQLite format 3\0" (an empty file counts as a
 *    new database for writing): a text file, a CSV, a binary is never
 *    opened by SQLite at all, so never altered;
 *  - nothing is written before the file has been read and validated: its
 *    application_id is dtbench's (or 0 with no tables: a new database), its
 *    user_version is at most RESULTS_SCHEMA_VERSION (a newer dtbench's
 *    database is refused, untouched), and SQLite could read it (a corrupt
 *    file fails on that first read);
 *  - a read open never creates a file; a read open of a database from an
 *    older dtbench reopens it for writing once to migrate it forward;
 *  - every connection has foreign keys on, extended result codes and a busy
 *    timeout; a write open puts the file in WAL mode (persistent).
 *
 * Every function returns 0, or -1 with one line in err (no "dtbench: "
 * prefix, no newline) naming the database and the problem.
 */
#ifndef DTB_RESULTS_DB_H
#define DTB_RESULTS_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Schema versions: 1 runs/cases/checks/metrics/samples/tags; 2 runs.pid and
 * the case-key index (results_schema.c). */
#define RESULTS_SCHEMA_VERSION 3
/* PRAGMA application_id of a dtbench results database: "DTB1". */
#define RESULTS_APPLICATION_ID 0x44544231
/* The database `dtbench run` records into when neither --db nor
 * $DTBENCH_DB names one: this file in the current directory. */
#define RESULTS_DEFAULT_FILE "dtbench-results.db"
/* How long a writer waits for another writer's lock before giving up. */
#define RESULTS_DEFAULT_TIMEOUT_MS 30000

typedef enum results_mode { RESULTS_READ = 0, RESULTS_WRITE = 1 } results_mode;

typedef struct results_db {
    sqlite3 *db;
    char path[4096];
    int timeout_ms;
    results_mode mode;
} results_db;

/* The dtbench version recorded with every run ("0.1.0"). */
const char *results_dtbench_version(void);

int results_open(const char *path, results_mode mode, int timeout_ms, results_db *out,
                 char *err, size_t err_len);
/* Closes the connection (no-op on a db that is not open). */
void results_close(results_db *db);

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

#endif
