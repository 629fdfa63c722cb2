/*
 * The benchmark suites' common driver (throughput, memory, comm): what
 * `dtbench run` hands a benchmark suite, and how a suite reports a case.
 *
 * A conformance suite is a declarative case matrix run by run.c. A
 * benchmark suite instead has a driver, `bench_main`, that plans and runs
 * its own cases (worlds of the implementations, of the BLAS peak, of the
 * collectives) and reports each one through bench_case_*: the case's TAP
 * test points ("<label>: <check>") and its database record (checks,
 * metrics, every sample) come from the same calls, so they always agree.
 *
 * Database contract (docs/benchmarks.md, read by `dtbench report`):
 *   case key    "<suite> <what> ..." without the implementation's name, so
 *               that `dtbench compare` matches a third party's case with ours
 *               (the stage stands for the implementation: "throughput zero2
 *               mlp-8m fp32 np=4");
 *   samples     every timed repetition, warm-ups flagged (warmup = 1);
 *               per-rank values carry their rank, world-wide values
 *               (the max over ranks of a barrier-aligned step) rank NONE.
 */
#ifndef DTB_HARNESS_BENCH_H
#define DTB_HARNESS_BENCH_H

#include <limits.h>
#include <stdint.h>

#include "bytes.h"
#include "cli_parse.h"
#include "clock.h"
#include "model.h"
#include "results_record.h"
#include "suite.h"
#include "tap.h"
#include "world.h"

#define BENCH_MAX_IMPLS 16
#define BENCH_MAX_SIZES 32
#define BENCH_MIN_REPS 5
#define BENCH_DEFAULT_REPS BENCH_MIN_REPS /* without --reps */
#define BENCH_DEFAULT_WARMUP 2            /* without --warmup */
#define BENCH_MAX_REPS 1000
#define BENCH_MAX_WARMUP 100

/* An implementation the run benchmarks: a loaded, vetted plugin. */
typedef struct bench_impl {
    char path[PATH_MAX];
    char name[64];
    char version[64];
    uint64_t caps;
    int32_t stage;             /* dtb_stage it runs: the highest of its stage caps */
} bench_impl;

/* `dtbench run` options as a benchmark suite sees them, validated. */
typedef struct bench_options {
    bench_impl impls[BENCH_MAX_IMPLS];   /* --impl LIST, else the suite's defaults */
    int n_impls;
    /* --sizes LIST, else the suite's: model names case_config_set_model
     * knows (checked when parsed). */
    char sizes[BENCH_MAX_SIZES][64];
    int n_sizes;
    /* Suites whose --sizes are message sizes (comm): bytes, distinct; none
     * given: n_message_sizes 0 (the suite's defaults). */
    int64_t message_sizes[BENCH_MAX_SIZES];
    int n_message_sizes;
    int world_sizes[DTB_NP_LIST_MAX];    /* --np LIST, else the suite's */
    int n_world_sizes;
    int32_t precisions[2];               /* --precision LIST, else the suite's */
    int n_precisions;
    int warmup;                          /* --warmup N: untimed repetitions */
    int reps;                            /* --reps N (>= 5): timed repetitions */
    int64_t mem_budget;                  /* --mem-budget SIZE in bytes; 0: none */
    uint64_t seed;
    char baseline_path[PATH_MAX];        /* the single-device baseline plugin */
} bench_options;

typedef struct bench_context {
    const dtb_suite *suite;
    bench_options opt;
    world_env env;
    tap_writer *tap;
    /* Filled by the driver: */
    int n_planned;                        /* cases it will report (for "complete") */
    /* Kept by bench_case_end: */
    int cases, points, passed, failed, skipped;
    /* Where a case goes once reported; NULL: TAP only (unit tests). */
    int (*record)(void *ctx, const results_case *c, char *err, size_t err_len);
    void *record_ctx;
} bench_context;

/* One case being reported: its identity, checks and metrics, owned. */
typedef struct bench_case {
    bench_context *ctx;
    char key[256], label[256];
    char impl[64], impl_version[64], model[64], precision[16], stage[16], recipe[32],
        optimizer[16];
    int world_size;
    char *config;                         /* JSON, owned */
    int completed;
    double start;                         /* monotonic seconds */
    results_check *checks;
    char **check_texts;                   /* names, skip reasons, diagnostics: owned */
    int n_checks, cap_checks;
    results_metric *metrics;
    int n_metrics, cap_metrics;
    int oom;                              /* an allocation failed: the case is not recorded */
} bench_case;

/* Starts a case. label: "<impl> <what> np=N" as TAP shows it; key: see
 * above; config: the case's JSON (copied). Fields not set are "-". */
void bench_case_begin(bench_context *ctx, bench_case *bc, const char *key, const char *label,
                      const char *config_json);

/* A check: writes the TAP point "<label>: <name>" now and keeps it for the
 * record. status: RESULTS_PASS/FAIL/SKIP; skip_reason for SKIP; ratio:
 * negative for none; diag may be NULL. */
void bench_case_check(bench_case *bc, const char *name, results_status status,
                      const char *skip_reason, double ratio, const tap_diag *diag);

/* A metric with its samples (copied). */
void bench_case_metric(bench_case *bc, const char *name, const char *unit, results_kind kind,
                       int higher_is_better, const results_sample *samples, int n_samples);

/* Records the case (all or nothing), counts it, frees it. */
void bench_case_end(bench_case *bc);

/* ---- statistics of repetitions ------------------------------------------ */
typedef struct bench_summary {
    int n;
    double median, min, max;
    double spread;             /* (max - min) / median */
} bench_summary;

/* Summary of x[0..n-1] (not modified); n = 0 gives zeros. */
bench_summary bench_summarise(const double *x, int n);

/* Matrix inputs of the sgemm rates (bench-step, worker-peak): uniform in
 * [-1, 1) from a fixed-seed xorshift, never all zero. */
void bench_fill_uniform(float *p, size_t n, uint64_t seed);

#endif
