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

#include "run_types.h"

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
