/*
 * A capability plan: the fewest small cases that exercise each capability
 * a plugin declares once (what `dtbench plugin-check` runs), planned from a
 * template suite and the plugin's capabilities instead of a suite's matrix.
 *
 * The template (suites/plugin_check.c) gives the model (its first), the
 * steps, seed, recipes, precisions in order of preference, the default world
 * sizes, the DDP bucket size, and two sizes read differently from a
 * conformance suite:
 *   global_batch    samples per rank and micro-batch: a case of N ranks and
 *                   M micro-batches trains global_batch * N * M samples a
 *                   step (every rank's share is even), the uneven case one
 *                   more (shares differ by one, N > 1);
 *   micro_batches   the accumulation case's M (the others run M = 1).
 *
 * The cases, per world size N (a single-device stage always at N = 1, once):
 *   one per declared stage (single-device, ddp, zero1, zero2, zero3):
 *       the base: the first template precision declared, the first recipe
 *       without clipping whose optimizer is declared, M = 1, even shares;
 *   then on the first declared stage, each adding one capability to its base:
 *       each other declared precision;  each other declared optimizer
 *       (its recipe without clipping);  grad-clip (the base optimizer's
 *       recipe with clipping: the template's threshold bites, which the
 *       "clipping active" check asserts);  grad-accum (M micro-batches);
 *       uneven-batch (N > 1 only).
 * Each case requires exactly the capabilities it uses (case_config
 * required_caps), all declared, so no case is ever skipped. Cases are
 * ordered per N: the stages, then the capabilities in the order above.
 */
#ifndef DTB_HARNESS_PLAN_CAPS_H
#define DTB_HARNESS_PLAN_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* Malloc'd cases (each c->suite = tmpl) for a plugin declaring `caps`, at
 * world sizes `worlds` (NULL: the template's). Fails with one line naming
 * what the plugin lacks for any case (the CPU device and model kind every
 * case needs, a stage, a precision or an optimizer of the template), when
 * a plugin whose only stage is single-device is given worlds other than 1,
 * or out of memory. */
int plan_capability_cases(const dtb_suite *tmpl, uint64_t caps, const int *worlds,
                          int n_worlds, dtb_case **out, int *n, char *err, size_t err_len);

/* "<stage> <fp32|bf16> <recipe>[ accum mb=M][ uneven batch=B] np=N", e.g.
 * "zero1 fp32 adamw np=2", "ddp fp32 sgd accum mb=2 np=2". */
void capability_case_label(const dtb_case *c, char *buf, size_t len);

#endif
