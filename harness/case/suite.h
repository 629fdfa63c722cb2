/*
 * A suite is declarative: a name, what it needs from an implementation, and
 * a case matrix (models x recipes x precisions x ZeRO-3 prefetch depths x
 * world sizes, a recipe being an optimizer and a clipping setting) with fixed
 * batch, accumulation, steps, seed and bucket size. One short file per
 * suite in suites/, listed in suites/registry.c; the harness expands the
 * matrix into cases (plan.h) and runs them all through one driver (run.h).
 *
 * Capabilities: required_caps are the suite's own (stage, accumulation,
 * uneven batches, ...); an implementation lacking one is refused for the
 * whole suite, in one line. Each case adds its recipe's optimizer and
 * clipping (also required of the whole suite, as every recipe runs) and its
 * precision (DTB_CAP_FP32 or DTB_CAP_BF16_MIXED): a precision the
 * implementation lacks skips that precision's cases (TAP "# SKIP", naming the
 * capability) unless every case of the suite needs it.
 */
#ifndef DTB_HARNESS_SUITE_H
#define DTB_HARNESS_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

/* What every case of today's models asks of a plugin besides its suite's
 * and recipe's capabilities: the CPU device and the MLP model kind. */
#define DTB_CASE_BASE_CAPS (DTB_CAP_CPU | DTB_CAP_MODEL_MLP)

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

/* A targeted case a conformance suite runs besides its matrix: a setting the
 * matrix never reaches, named after the blind spot it covers (the TAP label
 * ends "edge=<name>"). Fields not given take the suite's values. */
typedef struct dtb_edge_case {
    const char *name;              /* "uneven-micro", "empty-share", ... */
    const char *why;               /* what it exposes, for `dtbench list --suite` */
    const char *model;
    int recipe;                    /* index into the suite's recipes */
    int32_t precision;             /* dtb_precision */
    int world_size;
    int64_t global_batch;          /* 0: the suite's */
    int32_t micro_batches;         /* 0: the suite's */
    int64_t bucket_bytes;          /* 0: the suite's */
    double clip_norm;              /* 0: the recipe's */
    int clip_mixed;                /* the norm crosses clip_norm both ways over the steps */
} dtb_edge_case;

/* One case shape of the checkpoint suite (docs/checkpoint.md): train at
 * from_world ranks, save after the suite's ckpt_save_step, load the
 * checkpoint in a fresh world of to_world ranks and train on to the last
 * step. A side is the implementation under test (DTB_CKPT_SELF: at the
 * lowest data-parallel stage it declares) or a stage (dtb_stage), which the
 * implementation runs when it declares that stage and the reference of that
 * stage (ref-<stage>) runs otherwise: checkpoints cross implementations as
 * well as world sizes and stages. crash: recovery instead: the harness
 * kills one rank of a world saving every ckpt_crash_every steps after its
 * first checkpoint, restarts the world from the latest committed one, and
 * the final parameters must equal those of an uninterrupted run bit for bit
 * (from_world = to_world, both sides the implementation). */
#define DTB_CKPT_SELF (-1)
typedef struct dtb_ckpt_transition {
    int from_world, to_world;
    int32_t from_stage, to_stage;  /* DTB_CKPT_SELF or a dtb_stage */
    int crash;
} dtb_ckpt_transition;

struct bench_context;

/* A conformance suite is the declarative matrix below, run by run.c; a
 * benchmark suite has a driver instead (harness/bench.h) and uses the
 * matrix fields as its defaults: models (--sizes), world_sizes (--np),
 * precisions (--precision), global_batch, micro_batches, steps (0: warm-ups
 * plus repetitions), seed, and bench_impls (--impl). */
typedef enum dtb_suite_kind { DTB_SUITE_CONFORMANCE = 0, DTB_SUITE_BENCH = 1 } dtb_suite_kind;

typedef struct dtb_suite {
    const char *name;
    dtb_suite_kind kind;
    /* DTB_SUITE_BENCH: plans, runs and reports its cases; 0, or -1 when it
     * could not run at all (message already printed). */
    int (*bench_main)(struct bench_context *ctx);
    /* DTB_SUITE_BENCH, optional: before anything is recorded, whether the
     * validated options leave the driver something to measure; 0, or -1
     * with one line in err (the run is then bad input). */
    int (*bench_plan)(const struct bench_context *ctx, char *err, size_t err_len);
    const char *const *bench_impls;    /* default implementations */
    int n_bench_impls;
    int bench_mem_budget;              /* takes --mem-budget */
    int bench_sizes_are_bytes;         /* --sizes lists message sizes, not models */
    const int64_t *bench_message_sizes; /* ...and these are its default sizes, bytes */
    int n_bench_message_sizes;
    const char *description;       /* one line for `dtbench list` */
    uint64_t required_caps;        /* DTB_CAP_*; each case adds its recipe's */
    const char *default_impl;
    int32_t stage;                 /* dtb_stage every case asks for */
    const int32_t *precisions;     /* dtb_precision, one case each */
    int n_precisions;
    /* ZeRO-3 prefetch depths, one case each; NULL: the plugin's default (-1).
     * Depths after the first run only with the models in extra_depth_models
     * (NULL: with every model), to keep a suite's runtime in check. */
    const int32_t *prefetch_depths;
    int n_prefetch_depths;
    const char *const *extra_depth_models;
    int n_extra_depth_models;

    const char *const *models;     /* reference model names */
    int n_models;
    const dtb_recipe *recipes;
    int n_recipes;
    const int *world_sizes;
    int n_world_sizes;

    int64_t global_batch;
    /* Benchmark suites: sequences per step for a GPT model (its samples are
     * T tokens each); 0: global_batch. */
    int64_t gpt_global_batch;
    int32_t micro_batches;
    int64_t steps;
    uint64_t seed;
    int64_t bucket_bytes;          /* 0: the plugin's default */

    const dtb_edge_case *edge_cases; /* run after the matrix, each at its world size */
    int n_edge_cases;

    /* The checkpoint suite: its matrix's innermost axis is these instead of
     * world_sizes (--np keeps those whose worlds it lists). */
    const dtb_ckpt_transition *ckpt_transitions;
    int n_ckpt_transitions;
    int64_t ckpt_save_step;        /* S: the checkpoint of a transition */
    int64_t ckpt_crash_every;      /* crash cases save after every this many steps */
} dtb_suite;

/* The DTB_CAP_* flag an optimizer needs (0 for an unknown kind). */
uint64_t optimizer_cap(int32_t kind);
/* What a recipe needs: its optimizer's flag, and DTB_CAP_GRAD_CLIP if it clips. */
uint64_t recipe_caps(const dtb_recipe *recipe);
/* The DTB_CAP_* flag of a stage (dtb_stage; 0 for an unknown one). */
uint64_t stage_cap(int32_t stage);
/* The DTB_CAP_* flag of a precision recipe (0 for an unknown one). */
uint64_t precision_cap(int32_t precision);
/* The prefetch depths a model runs with: 1 <= *n <= n_prefetch_depths; the
 * plugin default (one depth, -1) when the suite lists none. */
void suite_model_depths(const dtb_suite *suite, const char *model, const int32_t **depths,
                        int *n);
/* Number of cases in the suite's full matrix, edge cases included. */
int suite_case_count(const dtb_suite *suite);

#endif
