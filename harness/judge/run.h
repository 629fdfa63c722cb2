/*
 * The run loop: for each planned case, run the implementation's world
 * twice (run-to-run determinism), fetch the cached baseline and oracle,
 * compute the checks, write the case's TAP test points, and hand the finished
 * case to the observer (the place where a results database will record it:
 * the harness process is the only writer). A case that does not complete
 * fails its own "completed" point, and the loop goes on to the next case. A
 * case needing a capability the implementation lacks (a precision, suite.h)
 * is not run: its "completed" point is a TAP "# SKIP" naming the capability.
 */
#ifndef DTB_HARNESS_RUN_H
#define DTB_HARNESS_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "checks.h"
#include "plan.h"
#include "world.h"

typedef struct case_result {
    const dtb_case *cs;
    const char *impl_name;
    char label[256];               /* "<impl> <model> <opt> <prec> np=N mb=M[ pf=d]" */
    int skipped;                   /* not run: the implementation lacks a capability */
    int completed;                 /* run 1 completed (0 when skipped) */
    world_outcome run1, run2;      /* run2 is empty when run 1 failed */
    check_list checks;             /* "completed" first, then checks_run's */
    double seconds;                /* wall time of the case, references included */
} case_result;

typedef void (*case_observer_fn)(void *ctx, const case_result *r);

typedef struct run_config {
    const dtb_suite *suite;
    const dtb_case *cases;
    int n_cases;
    const char *impl_path;         /* absolute */
    const char *impl_name;         /* the plugin's own name */
    const char *baseline_path;     /* absolute */
    /* The implementation's capabilities (for skipping the cases it lacks),
     * when the caller has read them already: plugin-check reads them in a
     * child process (plugin_probe.h) so that a third-party plugin is never
     * loaded into this one. 0: run_suite loads the plugin here to read them. */
    int impl_caps_known;
    uint64_t impl_caps;
    world_env env;
    FILE *tap;
    case_observer_fn observer;     /* may be NULL */
    void *observer_ctx;
    int strict;                    /* also the reference's exact comm and memory checks */
    /* A seed sweep's number of seeds (sweep.h; the cases' sweep_index
     * counts them), for the summary; 0 when the run is no sweep. */
    int sweep_seeds;
    uint64_t sweep_base;           /* the seed the sweep's seeds derive from */
    /* May be NULL. When *stop is non-zero after a case (the observer may set
     * it), run_suite runs no further case: they are neither run, written to
     * TAP nor observed, and the summary counts only the cases run. */
    const int *stop;
} run_config;

typedef struct run_summary {
    int cases;
    int points, passed, failed, skipped;
    int cases_skipped;             /* cases not run: a capability was missing */
    char first_skip[320];          /* "<check>: <reason>" of the first skipped point */
    double seconds;
    double worst_ratio;            /* worst err_impl/tolerance of any comparison, -1 if none */
    char worst_where[320];
    int cases_failed;              /* cases with a failed point ("completed" included) */
    int cases_tolerance_failed;    /* ... with a failed tolerance check (loss, norm, params) */
    /* The single-baseline model the envelope replaced (tolerance.h), on the
     * same comparisons: cases it would fail, its worst ratio. */
    int cases_single_failed;
    double worst_single_ratio;
    char worst_single_where[320];
    int seeds_failed;              /* a sweep's seeds with a failed case */
    /* Set by the caller before run_summary_print when something outside the
     * checks went wrong (the results not recorded, the TAP not written):
     * then the summary never says "all passed". "" otherwise. */
    char caveat[256];
} run_summary;

void run_suite(const run_config *cfg, run_summary *out);

/* "dtbench: suite ddp, impl ref-ddp: 16 cases, 160 test points: ...", and for
 * a sweep the false-positive line: failed cases / cases, seeds with a
 * failure, worst ratio, and the single-baseline model's figures. */
void run_summary_print(const run_config *cfg, const run_summary *s, FILE *f);

#endif
