/*
 * The checks of one case (one TAP test point each), computed only from
 * rank files already read back (rank_file.h) and from the baseline and
 * oracle results: a check never talks to a plugin, so the harness process is
 * the only one that decides or records anything.
 */
#ifndef DTB_HARNESS_CHECKS_H
#define DTB_HARNESS_CHECKS_H

#include "check_types.h"

void check_list_init(check_list *l);
void check_list_free(check_list *l);
/* Appends a check (status pass, no diag) and returns it; NULL when full. */
check_result *check_list_add(check_list *l, const char *name);

/* Appends, in order: ran what was asked, loss every step, grad norm every
 * step, clipping active (cases that clip), params after each check step,
 * every row changed, ranks bitwise identical (np > 1), bitwise
 * deterministic run to run, world of 1 issues no collectives (np = 1), clip
 * coefficient exact, compute parameters are the rounded masters, and for
 * the DDP and ZeRO stages the neutral communication volume and memory
 * within formula and activations and buffers within bounds
 * (theory_neutral.h), then, strict only, communication matches theory,
 * memory within theory (theory.h) and activations and buffers match
 * theory; then reported figures match measured (check_measured.h). Their
 * YAML carries the bus bytes and measured/theory ratios on passing points
 * too. Last, hints.c adds likely causes to failing points. */
void checks_run(const check_inputs *in, check_list *out);

/* Parts of the list above, for suites that judge part of a trajectory (the
 * checkpoint suite): the parameters after check step index k, as a point
 * called `name`; the loss of steps first..cfg->steps (the envelope's running
 * maximum still taken from step 1), as a point called `name`. */
void checks_params_point(const check_inputs *in, check_list *out, int k, const char *name);
void checks_loss_from(const check_inputs *in, check_list *out, int64_t first, const char *name);

#endif
