#include "run_record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case_record.h"
#include "clock.h"
#include "results_location.h"
#include "results_record.h"

int run_recording_open(run_recording *r, const char *db_opt, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        snprintf(err, err_len, "cannot create a mutex");
        return -1;
    }
    struct stat st;
    r->created = stat(results_location_path(db_opt), &st) != 0 && errno == ENOENT;
    if (results_location_open(db_opt, RESULTS_WRITE, &r->db, err, err_len)) {
        pthread_mutex_destroy(&r->lock);
        return -1;
    }
    return 0;
}

/* Runs in the database over r's connection; -1 when it cannot be read. */
static int64_t count_runs(run_recording *r)
{
    sqlite3_stmt *st;
    char err[256];
    if (results_prepare(&r->db, "SELECT count(*) FROM runs", &st, err, sizeof err))
        return -1;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

void run_recording_abandon(run_recording *r)
{
    /* Only a file this process created and that holds no run (another
     * dtbench run may have begun recording into it meanwhile) is removed. */
    int remove_it = r->created && r->run_id == 0 && r->db.db && count_runs(r) == 0;
    char path[sizeof r->db.path + 8];
    snprintf(path, sizeof path, "%s", r->db.path);
    run_recording_close(r);
    if (!remove_it)
        return;
    static const char *const suffixes[] = {"-wal", "-shm", ""};
    size_t len = strlen(path);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path + len, sizeof path - len, "%s", suffixes[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            fprintf(stderr, "dtbench: cannot remove %s: %s\n", path, strerror(errno));
    }
}

int run_recording_begin(run_recording *r, const char *suite, const char *impl_name,
                        const char *impl_version, int argc, char **argv, char *err,
                        size_t err_len)
{
    r->impl_version = impl_version;
    run_env_collect(&r->env, argc, argv);
    /* Runs of this host whose process was killed before it could mark them. */
    int n_dead;
    if (r->env.host[0] &&
        results_mark_dead_runs(&r->db, r->env.host, &n_dead, err, err_len))
        return -1;
    results_run_info info = {
        .suite = suite,
        .impl = impl_name,
        .impl_version = impl_version,
        .backend = "cpu", /* every case runs on the CPU backend today (case_config_to_spec) */
        .command_line = r->env.command_line ? r->env.command_line : "dtbench run",
        .git_commit = r->env.commit[0] ? r->env.commit : NULL,
        .git_dirty = r->env.dirty,
        .host = r->env.host[0] ? r->env.host : NULL,
        .cpu_model = r->env.cpu_model[0] ? r->env.cpu_model : NULL,
        .gpu = r->env.gpu[0] ? r->env.gpu : NULL,
        .cpu_cores = r->env.cpu_cores,
        .blas = r->env.blas[0] ? r->env.blas : NULL,
        .blas_threads = r->env.blas_threads,
        .mpi_version = r->env.mpi_version[0] ? r->env.mpi_version : NULL,
        .pid = (int64_t)getpid(),
    };
    if (results_run_begin(&r->db, &info, &r->run_id, err, err_len))
        return -1;
    run_signals_target t = {
        .db_path = r->db.path,
        .timeout_ms = r->db.timeout_ms,
        .run_id = r->run_id,
        .record_lock = &r->lock,
        .n_recorded = &r->n_recorded,
    };
    if (run_signals_start(&r->signals, &t, err, err_len)) {
        char ignored[256];
        results_run_finish(&r->db, r->run_id, 0, ignored, sizeof ignored);
        return -1;
    }
    return 0;
}

/* Records c (NULL: it could not be built, err says why) under the lock,
 * counts it, and reports the first failure once. start: when building began. */
static int record_built(run_recording *r, const results_case *c, double start, char *err,
                        size_t err_len)
{
    int rc = -1;
    if (c) {
        pthread_mutex_lock(&r->lock);
        rc = results_record_case(&r->db, r->run_id, c, err, err_len);
        if (rc == 0)
            r->n_recorded++;
        pthread_mutex_unlock(&r->lock);
    }
    r->record_seconds += monotonic_seconds() - start;
    if (rc != 0 && r->n_failed++ == 0) {
        snprintf(r->first_error, sizeof r->first_error, "%s", err);
        if (c)
            fprintf(stderr, "dtbench: could not record case %d (%s): %s\n", c->index, c->label,
                    err);
        else
            fprintf(stderr, "dtbench: could not record a case: %s\n", err);
    }
    return rc;
}

void run_recording_observe(void *ctx, const case_result *c)
{
    run_recording *r = ctx;
    double start = monotonic_seconds();
    char err[1024];
    case_record rec;
    if (case_record_build(c, r->impl_version, &rec) != 0) {
        snprintf(err, sizeof err, "out of memory building case %d (%s)", c->cs->index, c->label);
        record_built(r, NULL, start, err, sizeof err);
        return;
    }
    record_built(r, &rec.c, start, err, sizeof err);
    case_record_free(&rec);
}

int run_recording_record(void *ctx, const results_case *c, char *err, size_t err_len)
{
    return record_built(ctx, c, monotonic_seconds(), err, err_len);
}

int run_recording_finish(run_recording *r, int n_planned, FILE *msg)
{
    run_signals_stop(r->signals);
    r->signals = NULL;
    int complete = r->n_failed == 0 && r->n_recorded == n_planned;
    char err[1024];
    if (results_run_finish(&r->db, r->run_id, complete, err, sizeof err)) {
        fprintf(msg, "dtbench: could not end run %lld in %s: %s (%d of %d cases recorded%s)\n",
                (long long)r->run_id, r->db.path, err, r->n_recorded, n_planned,
                r->n_recorded == 0 && n_planned > 0 ? ": all of this run's results are lost"
                                                     : "");
        return -1;
    }
    if (!complete && r->n_recorded == 0 && n_planned > 0) {
        fprintf(msg, "dtbench: none of the %d cases could be recorded in %s: all of run %lld's "
                     "results are lost (first error: %s)\n",
                n_planned, r->db.path, (long long)r->run_id, r->first_error);
        return -1;
    }
    if (!complete) {
        fprintf(msg, "dtbench: run %lld recorded incomplete in %s: %d of %d cases recorded "
                     "(first error: %s)\n",
                (long long)r->run_id, r->db.path, r->n_recorded, n_planned, r->first_error);
        return -1;
    }
    fprintf(msg, "dtbench: recorded run %lld (%d case%s, %.1f ms per case) in %s\n",
            (long long)r->run_id, r->n_recorded, r->n_recorded == 1 ? "" : "s",
            r->n_recorded ? 1e3 * r->record_seconds / r->n_recorded : 0.0, r->db.path);
    return 0;
}

void run_recording_close(run_recording *r)
{
    run_signals_stop(r->signals);
    r->signals = NULL;
    results_close(&r->db);
    run_env_free(&r->env);
    pthread_mutex_destroy(&r->lock);
}
