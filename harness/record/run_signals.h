/*
 * SIGINT, SIGTERM and SIGHUP during `dtbench run`: the run is marked incomplete in
 * the results database, every case already committed stays, the rank world
 * in flight is killed, and dtbench then dies of the signal as it would have
 * (exit status 128 + signal for the shell).
 *
 * How: the handler only writes the signal number to a pipe (async-signal-
 * safe); a watcher thread reading the pipe does the work. It first takes
 * the recorder's lock and keeps it, so a case being written finishes its
 * transaction and no other case starts one; then it marks the run over its
 * own connection, kills the child process groups (the launcher makes each
 * rank world a group led by a child of dtbench) and re-raises the signal.
 * A signal ignored when dtbench started (a background job of a script)
 * stays ignored.
 */
#ifndef DTB_HARNESS_RUN_SIGNALS_H
#define DTB_HARNESS_RUN_SIGNALS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct run_signals_target {
    const char *db_path;
    int timeout_ms;
    int64_t run_id;
    pthread_mutex_t *record_lock;  /* held while a case is recorded */
    const int *n_recorded;         /* read under record_lock */
} run_signals_target;

typedef struct run_signals run_signals;

/* Installs the handlers and starts the watcher. */
int run_signals_start(run_signals **out, const run_signals_target *target, char *err,
                      size_t err_len);
/* Restores the previous handlers and joins the watcher (NULL: no-op). */
void run_signals_stop(run_signals *s);

#endif
