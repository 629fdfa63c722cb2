/*
 * `dtbench list --suite NAME`: every parameter of one suite in the open.
 * A conformance suite: kind, description, default implementation, stage,
 * the capabilities an implementation needs (plan_required_caps) and those
 * a case adds (a precision, skipped when missing), models with parameter
 * counts, world sizes, global batch, micro-batches, steps, checked steps,
 * seed, bucket bytes, prefetch depths, the number of cases, and per recipe
 * its optimizer, lr, momentum or betas and eps, weight decay and clip
 * norm. A benchmark suite: its defaults (implementations, sizes, world
 * sizes, precisions, warm-up and repetitions) and the recipe it trains
 * with. Values come from the suite and the planner, never restated.
 */
#ifndef DTB_HARNESS_SUITE_RECIPE_H
#define DTB_HARNESS_SUITE_RECIPE_H

#include <stddef.h>
#include <stdio.h>

#include "suite.h"

/* 0, or -1 with one line in err (a suite the planner refuses). */
int suite_recipe_print(const dtb_suite *s, FILE *f, char *err, size_t err_len);

#endif
