/*
 * The types the run loop (run.h) and the case runners it calls (ckpt_case.h)
 * share: what a finished case is, and what a run of a suite is configured
 * with. A header of its own, with no .c beside it, so that a case runner
 * needs no part of the run loop.
 */
#ifndef DTB_HARNESS_RUN_TYPES_H
#define DTB_HARNESS_RUN_TYPES_H

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

#endif
