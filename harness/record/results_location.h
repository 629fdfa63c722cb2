/*
 * Which results database a command uses and how long it waits for a
 * locked one: --db FILE, else $DTBENCH_DB, else ./dtbench-results.db;
 * $DTBENCH_DB_TIMEOUT seconds (default 30). `dtbench run` records there and
 * the results commands read there.
 */
#ifndef DTB_HARNESS_RESULTS_LOCATION_H
#define DTB_HARNESS_RESULTS_LOCATION_H

#include <stddef.h>

#include "results_db.h"

#define DTB_DB_ENV "DTBENCH_DB"
#define DTB_DB_TIMEOUT_ENV "DTBENCH_DB_TIMEOUT"

/* --db's value if given, else $DTBENCH_DB if set and non-empty, else
 * RESULTS_DEFAULT_FILE (in the current directory). */
const char *results_location_path(const char *db_opt);

/* Opens that database (results_open) with the timeout from the environment. */
int results_location_open(const char *db_opt, results_mode mode, results_db *db, char *err,
                          size_t err_len);

/* The lock timeout in milliseconds from $DTBENCH_DB_TIMEOUT (seconds). */
int results_location_timeout_ms(int *ms, char *err, size_t err_len);

#endif
