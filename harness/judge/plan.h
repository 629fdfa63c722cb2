/*
 * Expanding a suite's matrix into cases, with the command line's overrides
 * (--np replaces the world sizes, --model the models, --steps and --seed the
 * suite's values). Cases are ordered model, recipe, precision, prefetch
 * depth, world size (innermost), so the cases sharing one baseline and oracle
 * (same model, recipe and precision) are adjacent.
 */
#ifndef DTB_HARNESS_PLAN_H
#define DTB_HARNESS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "case_config.h"
#include "suite.h"

typedef struct dtb_case {
    int index;                 /* 0-based position in the plan */
    const dtb_suite *suite;
    const dtb_recipe *recipe;  /* its name labels the case */
    const dtb_edge_case *edge; /* NULL for a case of the matrix */
    int world_size;
    case_config cfg;
    int sweep_index;           /* which seed of a seed sweep (sweep.h); -1: no sweep */
    /* A checkpoint case (the checkpoint suite, plugin-check's checkpoint
     * case): is_ckpt 1 and its shape, held by value so that copies of a
     * plan stand alone; world_size is its from_world. Its cfg checks the
     * save step, the step between it and the last (room permitting), and
     * the last. */
    int is_ckpt;
    dtb_ckpt_transition ckpt;
} dtb_case;

typedef struct plan_overrides {
    const int *world_sizes;    /* NULL: the suite's */
    int n_world_sizes;
    const mlp_config *model;   /* NULL: the suite's */
    int64_t steps;             /* 0: the suite's */
    int has_seed;
    uint64_t seed;
} plan_overrides;

/* Malloc'd array of *n cases; fails (one line in err) on a suite naming an
 * unknown model, optimizer or precision, or out of memory. */
int plan_cases(const dtb_suite *suite, const plan_overrides *ov, dtb_case **out, int *n,
               char *err, size_t err_len);

/* Capabilities an implementation needs to be accepted for the suite at all
 * (a one-line refusal otherwise): the suite's, each recipe's, the device's
 * (CPU), and a precision's only when every case of the suite has it. */
uint64_t plan_required_caps(const dtb_suite *suite);

/* The capabilities case c needs that `impl_caps` lacks (0: it can run).
 * A case with missing capabilities is skipped, not failed (suite.h). */
uint64_t plan_missing_caps(const dtb_case *c, uint64_t impl_caps);

/* "<impl> <model> <recipe> <precision> np=<N> mb=<M>[ pf=<d>][ seed=<S>]", the
 * precision "fp32" or "bf16", pf only for an explicit ZeRO-3 prefetch depth,
 * seed only in a seed sweep, e.g. "ref-ddp mlp-odd sgd noclip fp32 np=3 mb=3",
 * "ref-zero3 mlp-odd adamw bf16 np=4 mb=3 pf=0" */
void case_label(const dtb_case *c, const char *impl_name, char *buf, size_t len);

/* The single-device baseline's config for a case: same training (the same
 * precision recipe: the baseline and the oracle run it too), one rank, the
 * whole global batch as one micro-batch, stage single. */
void case_baseline_config(const dtb_case *c, case_config *out);

#endif
