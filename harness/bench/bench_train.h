/*
 * What the throughput and memory suites share: a training world of one
 * implementation on one model, precision and world size, planned the same
 * way (AdamW with clipping, one micro-batch, no parameters fetched), named
 * the same way in TAP and in the database, and judged "completed" the same
 * way.
 */
#ifndef DTB_HARNESS_BENCH_TRAIN_H
#define DTB_HARNESS_BENCH_TRAIN_H

#include "bench.h"
#include "case_config.h"

/* AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01), global-norm
 * clipping at 1.0: the optimizer state (K) the ZeRO paper counts. */
extern const dtb_recipe BENCH_RECIPE;

/* The config of `steps` steps of impl on the model called `model` (a name
 * case_config_set_model knows) at precision: the suite's global batch (of
 * sequences for a GPT: gpt_global_batch) and seed, no check steps. */
void bench_train_config(const bench_context *ctx, const bench_impl *impl, const char *model,
                        int32_t precision, int64_t steps, case_config *out);

/* Key "<suite> <stage> <model> <precision> np=N", label "<impl> <model>
 * <precision> np=N", identity columns and the JSON config of the case. */
void bench_train_case_begin(bench_context *ctx, bench_case *bc, const bench_impl *impl,
                            const case_config *cfg, int np);

/* "fp32" / "bf16": as labels and keys show a precision. */
const char *bench_precision_label(int32_t precision);

/* When impl cannot run the case, the check `name` skipped with the reason
 * and 1 (the caller ends the case): it lacks a capability of `need`, or it
 * is single-device only and np > 1. Else 0. */
int bench_skip_unrunnable(bench_case *bc, const bench_impl *impl, uint64_t need, int np,
                          const char *name);

/* The "completed" check of a world (name given): pass, or fail with the
 * reason, the tail of its log and how to reproduce it. 1 if it completed. */
int bench_check_world(bench_case *bc, const char *name, const world_outcome *w);

/* The world's time of step s (0-based): the slowest rank's. */
double bench_world_step_seconds(const world_outcome *w, int64_t s);

#endif
