/*
 * Expanding a suite's matrix into cases, with the command line's overrides
 * (--np replaces the world sizes, --model the models, --steps and --seed the
 * suite's values). Cases are ordered model, recipe, world size (innermost),
 * so the cases sharing one baseline and oracle are adjacent.
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
    int world_size;
    case_config cfg;
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
 * unknown model or optimizer, or out of memory. */
int plan_cases(const dtb_suite *suite, const plan_overrides *ov, dtb_case **out, int *n,
               char *err, size_t err_len);

/* Capabilities an implementation needs for every case of the suite: the
 * suite's, each recipe's, and the device's (CPU). */
uint64_t plan_required_caps(const dtb_suite *suite);

/* "<impl> <model> <recipe> np=<N> mb=<M>", e.g. "ref-ddp mlp-odd sgd noclip np=3 mb=3" */
void case_label(const dtb_case *c, const char *impl_name, char *buf, size_t len);

/* The fp32 single-device baseline's config for a case: same training, one
 * rank, the whole global batch as one micro-batch, stage single. */
void case_baseline_config(const dtb_case *c, case_config *out);

#endif
