/*
 * The CI gate over a comparison (results_compare.h). HEAD regressed when
 *  - a check that passed in BASE fails in HEAD (matched by case key and
 *    check name; no statistics: a correctness regression), or
 *  - an exact counter or memory figure of a case is worse by at least the
 *    minimum effect, or
 *  - a timing metric is "regressed" over the suite (the stratified launch
 *    test, results_stats.h), or, with per_case_timing, in one case.
 * Per-case timing verdicts do not gate by default: on a shared machine a
 * whole run can fall into a slower scheduling regime for some kinds of case
 * (measured: every two-rank case of a run 30-100x slower, its launches
 * agreeing), which no test on two runs can tell from a real regression of
 * those cases; they are printed as notes. "inconclusive" never gates.
 */
#ifndef DTB_RESULTS_GATE_H
#define DTB_RESULTS_GATE_H

#include <stddef.h>
#include <stdio.h>

#include "results_compare.h"

typedef struct results_gate_outcome {
    int check_regressions;
    int perf_regressions;
    int inconclusive;
    int compared_metrics;
    int case_timing_notes;   /* per-case timing regressions that did not gate */
} results_gate_outcome;

/* Whether the two runs can be judged at all: both complete, and at least
 * one case in common. -1 with the reason otherwise (bad input). */
int results_gate_usable(const results_comparison *c, char *err, size_t err_len);

/* Prints one line per regression ("REGRESSION ...") and per non-gating
 * per-case timing regression ("note: ..."), then the verdict line; returns
 * 1 when HEAD regressed, 0 when it did not. */
int results_gate_judge(const results_comparison *c, const stats_policy *policy,
                       int per_case_timing, FILE *out, results_gate_outcome *outcome);

#endif
