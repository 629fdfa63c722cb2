/*
 * Reading the database for people: the list of runs, and one run's cases,
 * checks and metrics. Read-only.
 */
#ifndef DTB_RESULTS_QUERY_H
#define DTB_RESULTS_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results_db.h"

/* One line per run, newest first (at most `limit`, 0 for all): id, start,
 * status, commit, suite, implementation, backend, cases, pass/fail/skip
 * counts, tags. */
int results_print_runs(results_db *db, int limit, FILE *out, char *err, size_t err_len);

/* The run's fields, then per case its checks (failed ones with their
 * diagnostics) and metrics (samples, median, min, max). */
int results_print_run(results_db *db, int64_t run_id, FILE *out, char *err, size_t err_len);

#endif
