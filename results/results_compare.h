/*
 * Comparing two recorded runs, BASE and HEAD. Cases are matched by their
 * key (suite, model, recipe, world size, micro-batches: not the
 * implementation, so two implementations compare); within a matched case,
 * metrics by name (results_stats.h decides each) and checks by name (a
 * check that passed in BASE and fails in HEAD is a correctness regression;
 * it needs no statistics).
 *
 * A timing metric is judged twice: per case, from its samples, and only
 * "beyond noise" when the change also exceeds the launch noise envelope of
 * the two runs (the largest difference between two launches of one case in
 * one run, over every case); and over the suite, with launches as the
 * replicates and cases as the strata (stats_suite_test), which a few noisy
 * cases cannot sway.
 */
#ifndef DTB_RESULTS_COMPARE_H
#define DTB_RESULTS_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "results_db.h"
#include "results_stats.h"

typedef struct results_run_brief {
    int64_t id;
    char status[16];          /* effective: a dead 'running' run reads incomplete */
    char started_at[32];
    char suite[64], impl[64], impl_version[32], backend[16];
    char commit[48];          /* "" when unknown */
    int dirty;                /* 0, 1, or -1 unknown */
    /* The machine it measured on; "" or -1 when unknown (older runs). */
    char host[128], cpu_model[128], blas[128], mpi_version[160];
    int64_t cpu_cores;
} results_run_brief;

/* The machine facts in which a and b differ, when both know them, as one
 * line ("host 'a' vs 'b', cores 2 vs 16"). 1 when they differ, else 0 (and
 * what is ""). Timings from different machines are not comparable. */
int results_machines_differ(const results_run_brief *a, const results_run_brief *b, char *what,
                            size_t len);

typedef struct results_metric_cmp {
    char case_key[256];
    char metric[64], unit[16];
    int exact, higher_is_better;
    stats_launches base_launches, head_launches;  /* timing metrics */
    stats_result s;
} results_metric_cmp;

/* A timing metric over the whole suite: the stratified launch test
 * (stats_suite_test) and the launch noise envelope of the two runs. */
typedef struct results_suite_cmp {
    char metric[64], unit[16];
    int higher_is_better;
    double envelope;          /* log: the largest launch spread of any case */
    stats_result s;
} results_suite_cmp;

typedef enum results_check_change_kind {
    RESULTS_CHECK_REGRESSED = 0,  /* passed in BASE, fails in HEAD */
    RESULTS_CHECK_FIXED = 1,      /* failed in BASE, passes in HEAD */
    RESULTS_CHECK_NEW_FAIL = 2,   /* fails in HEAD, absent or skipped in BASE */
    RESULTS_CHECK_STILL_FAILS = 3 /* fails in both */
} results_check_change_kind;

typedef struct results_check_change {
    char case_key[256];
    char check[64];
    char base_status[8], head_status[8];  /* "pass", "fail", "skip", "-" absent */
    results_check_change_kind kind;
    char head_message[200];                /* first line of HEAD's diagnostics */
} results_check_change;

typedef struct results_comparison {
    results_run_brief base, head;
    results_metric_cmp *metrics;
    int n_metrics, cap_metrics;
    results_check_change *checks;   /* only checks whose outcome is not pass/pass */
    int n_checks, cap_checks;
    int n_common;                   /* cases in both runs */
    int n_base_only, n_head_only;
    char first_base_only[256], first_head_only[256];
    int n_config_differs;           /* matched cases whose configuration differs */
    char first_config_differs[256];
    results_suite_cmp *suite;       /* one per timing metric name */
    int n_suite;
} results_comparison;

/* Loads one run's summary; fails for an unknown id. */
int results_run_brief_load(results_db *db, int64_t run_id, results_run_brief *out, char *err,
                           size_t err_len);

int results_compare(results_db *db, int64_t base, int64_t head, const stats_policy *policy,
                    results_comparison *out, char *err, size_t err_len);
void results_comparison_free(results_comparison *c);

/* The comparison as a table: per case, per metric both values, the ratio,
 * the verdict and why; then the checks whose outcome changed; then a
 * summary. all: also the exact metrics that are zero in both runs. */
void results_comparison_print(const results_comparison *c, const stats_policy *policy, int all,
                              FILE *out);

/* "1.23 ms", "20836 B", "12" for a value in `unit`. */
void results_format_value(double v, const char *unit, char *buf, size_t len);

#endif
