/*
 * The CI gate over a comparison (results_compare.h). HEAD regressed when
 *  - a check that passed in BASE fails in HEAD (matched by case key and
 *    check name; no statistics: a correctness regression), or
 *  - a metric's verdict is "regressed": a timing worse beyond noise and by
 *    at least the minimum effect, or an exact counter or memory figure
 *    worse by at least the minimum effect (results_stats.h).
 * "inconclusive" never fails the gate; it is reported.
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
} results_gate_outcome;

/* Whether the two runs can be judged at all: both complete, and at least
 * one case in common. -1 with the reason otherwise (bad input). */
int results_gate_usable(const results_comparison *c, char *err, size_t err_len);

/* Prints one line per regression ("REGRESSION ...") and the verdict line;
 * returns 1 when HEAD regressed, 0 when it did not. */
int results_gate_judge(const results_comparison *c, const stats_policy *policy, FILE *out,
                       results_gate_outcome *outcome);

#endif
