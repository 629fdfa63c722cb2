/*
 * A suite is declarative: a name, what it needs from an implementation, and
 * a case matrix (models x recipes x world sizes, a recipe being an optimizer
 * and a clipping setting) with fixed batch, accumulation, steps, seed and
 * bucket size. One short file per
 * suite in suites/, listed in suites/registry.c; the harness expands the
 * matrix into cases (plan.h) and runs them all through one driver (run.h).
 */
#ifndef DTB_HARNESS_SUITE_H
#define DTB_HARNESS_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

typedef struct dtb_optimizer_config {
    const char *name;          /* as it appears in test point names: "sgd", "adamw" */
    int32_t kind;              /* dtb_optimizer */
    double lr;
    double momentum;           /* SGD */
    double beta1, beta2, eps;  /* AdamW */
    double weight_decay;
} dtb_optimizer_config;

/* One training recipe of a suite's matrix: an optimizer and a clipping
 * setting, named as test point names show it ("sgd", "sgd noclip", "adamw"). */
typedef struct dtb_recipe {
    const char *name;
    dtb_optimizer_config opt;
    double clip_norm;              /* 0: no clipping */
} dtb_recipe;

typedef struct dtb_suite {
    const char *name;
    const char *description;       /* one line for `dtbench list` */
    uint64_t required_caps;        /* DTB_CAP_*; each case adds its recipe's */
    const char *default_impl;
    int32_t stage;                 /* dtb_stage every case asks for */
    int32_t precision;             /* dtb_precision every case asks for */

    const char *const *models;     /* reference model names */
    int n_models;
    const dtb_recipe *recipes;
    int n_recipes;
    const int *world_sizes;
    int n_world_sizes;

    int64_t global_batch;
    int32_t micro_batches;
    int64_t steps;
    uint64_t seed;
    int64_t bucket_bytes;          /* 0: the plugin's default */
} dtb_suite;

/* suites/registry.c */
size_t suite_count(void);
const dtb_suite *suite_at(size_t index);
const dtb_suite *suite_find(const char *name); /* NULL if unknown */

/* The DTB_CAP_* flag an optimizer needs (0 for an unknown kind). */
uint64_t optimizer_cap(int32_t kind);
/* What a recipe needs: its optimizer's flag, and DTB_CAP_GRAD_CLIP if it clips. */
uint64_t recipe_caps(const dtb_recipe *recipe);
/* Number of cases in the suite's full matrix. */
int suite_case_count(const dtb_suite *suite);

#endif
