/*
 * Recording a run: the run row when it starts, each case (with its checks,
 * metrics and every sample) in one transaction as it finishes, and the
 * run's final status. Plain structs only: the harness converts its own
 * case results into these, so this library knows nothing of the harness.
 *
 * Invariant: a case is either recorded whole (case, checks, metrics,
 * samples) or not at all; a run's status leaves 'running' exactly once.
 */
#ifndef DTB_RESULTS_RECORD_H
#define DTB_RESULTS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "results_db.h"

/* Optional integers (rank, step, world run) use RESULTS_NONE for NULL. */
#define RESULTS_NONE (-1)

typedef struct results_run_info {
    const char *suite, *impl, *impl_version; /* impl_version may be NULL */
    const char *backend;                     /* "cpu", "cuda" */
    const char *command_line;
    const char *git_commit;                  /* NULL when unknown */
    int git_dirty;                           /* 0, 1, or RESULTS_NONE when unknown */
    const char *host, *cpu_model, *gpu;      /* NULL when unknown / none */
    int cpu_cores;                           /* online cores; RESULTS_NONE unknown */
    const char *blas;                        /* BLAS library and core; NULL unknown */
    int blas_threads;                        /* per rank; RESULTS_NONE unknown */
    const char *mpi_version;                 /* MPI library version line; NULL unknown */
    int64_t pid;                             /* the recording process */
} results_run_info;

typedef enum results_status { RESULTS_PASS = 0, RESULTS_FAIL = 1, RESULTS_SKIP = 2 } results_status;

typedef struct results_check {
    const char *name;
    results_status status;
    const char *skip_reason;   /* may be NULL */
    double ratio;              /* worst error/tolerance; negative or NaN: none */
    const char *ratio_where;   /* may be NULL */
    const char *diagnostics;   /* YAML text, may be NULL */
} results_check;

typedef struct results_sample {
    int rep, rank, step;       /* RESULTS_NONE where it does not apply */
    int warmup;                /* 1: recorded, left out of statistics */
    double value;              /* finite */
} results_sample;

typedef enum results_kind { RESULTS_TIMING = 0, RESULTS_EXACT = 1 } results_kind;

typedef struct results_metric {
    const char *name, *unit;
    results_kind kind;
    int higher_is_better;      /* 0: lower is better (times, bytes) */
    const results_sample *samples;
    int n_samples;
} results_metric;

typedef struct results_case {
    int index;                 /* position in the run's plan */
    const char *key;           /* matches the case across runs */
    const char *label;
    const char *suite, *impl, *impl_version, *model, *precision, *stage, *recipe, *optimizer;
    int world_size;
    const char *config;        /* JSON */
    int completed;
    double seconds;
    const results_check *checks;
    int n_checks;
    const results_metric *metrics;
    int n_metrics;
} results_case;

/* Inserts the run (status running, started now) and returns its id. */
int results_run_begin(results_db *db, const results_run_info *info, int64_t *run_id,
                      char *err, size_t err_len);

/* One case, all or nothing, in its own transaction. */
int results_record_case(results_db *db, int64_t run_id, const results_case *c, char *err,
                        size_t err_len);

/* Ends a running run: complete (1) or incomplete (0), ended now. A run that
 * already ended is left as it is. */
int results_run_finish(results_db *db, int64_t run_id, int complete, char *err,
                       size_t err_len);

/* Marks incomplete the runs still 'running' on `host` whose process is gone
 * (killed without a chance to mark itself); *n_marked of them. */
int results_mark_dead_runs(results_db *db, const char *host, int *n_marked, char *err,
                           size_t err_len);

/* 1 when a run recorded as running is really dead: on this host, and its
 * process no longer exists, or its pid now belongs to a process that
 * started after the run did (started_at, ISO 8601 UTC: the pid was
 * reused). */
int results_run_is_dead(const char *status, const char *run_host, int64_t pid,
                        const char *started_at);

/* The name of a status, "pass", "fail", "skip". */
const char *results_status_name(results_status s);

#endif
