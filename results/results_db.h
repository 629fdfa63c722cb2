/*
 * Opening the results database (the statement helpers and write
 * transactions over an open one are results_sql.h's).
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
 *  - a read open of a file this process cannot write, or whose folder it
 *    cannot write, with no write-ahead data beside it, is immutable: SQLite
 *    reads the file alone and creates no -shm or -wal;
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

#include "results_schema.h"
#include "results_sql.h"

/* The database `dtbench run` records into when neither --db nor
 * $DTBENCH_DB names one: this file in the current directory. */
#define RESULTS_DEFAULT_FILE "dtbench-results.db"
/* How long a writer waits for another writer's lock before giving up. */
#define RESULTS_DEFAULT_TIMEOUT_MS 30000

int results_open(const char *path, results_mode mode, int timeout_ms, results_db *out,
                 char *err, size_t err_len);
/* Closes the connection (no-op on a db that is not open). */
void results_close(results_db *db);

#endif
