/*
 * `dtbench run` recording itself in the results database: open the
 * database before anything runs (a bad one is bad input: exit 2), insert
 * the run (status running) with the facts of run_env.h, record each case as
 * the run loop hands it over (run_config.observer, one transaction each),
 * and mark the run complete when every planned case was recorded, else
 * incomplete. SIGINT/SIGTERM/SIGHUP in between: run_signals.h.
 *
 * A case that cannot be recorded (the database locked beyond the timeout,
 * a full disk) does not stop the run: it is reported once on stderr, the
 * run ends incomplete and dtbench exits 2.
 */
#ifndef DTB_HARNESS_RUN_RECORD_H
#define DTB_HARNESS_RUN_RECORD_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "results_db.h"
#include "results_record.h"
#include "run.h"
#include "run_env.h"
#include "run_signals.h"

typedef struct run_recording {
    results_db db;
    int64_t run_id;             /* 0 until begun */
    const char *impl_version;
    pthread_mutex_t lock;       /* held while a case is recorded */
    int n_recorded, n_failed;
    double record_seconds;      /* spent building and committing case records */
    char first_error[1024];
    run_signals *signals;
    run_env_facts env;
    int created;                /* run_recording_open created the file */
} run_recording;

/* Opens (creating if need be) the database --db / $DTBENCH_DB / default. */
int run_recording_open(run_recording *r, const char *db_opt, char *err, size_t err_len);

/* Records the run's start and starts watching for SIGINT/SIGTERM/SIGHUP. argc and
 * argv: the arguments after "run" (for the command line). */
int run_recording_begin(run_recording *r, const char *suite, const char *impl_name,
                        const char *impl_version, int argc, char **argv, char *err,
                        size_t err_len);

/* The run_config.observer: records one finished case. */
void run_recording_observe(void *ctx, const case_result *c);

/* A benchmark suite's case (bench.h's record hook): records it, or counts
 * and reports the failure (c NULL: it could not even be built, err says
 * why). 0 or -1. */
int run_recording_record(void *ctx, const results_case *c, char *err, size_t err_len);

/* Stops the watcher and ends the run: complete when n_planned cases were
 * recorded. Prints "dtbench: recorded run N ..." (or what went wrong) on
 * msg. Returns 0, or -1 when some case or the end was not recorded. */
int run_recording_finish(run_recording *r, int n_planned, FILE *msg);

/* Closes the database (after finish, or instead of begin). */
void run_recording_close(run_recording *r);

/* Closes the database of a run refused before it began (or whose begin
 * failed), and removes the file when run_recording_open created it and it
 * holds no run: a refused run leaves no empty database behind. */
void run_recording_abandon(run_recording *r);

#endif
