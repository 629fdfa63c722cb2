/*
 * What one run of one rank world trains: model, optimizer, batch,
 * accumulation, steps, clipping, seed, bucket size, ZeRO-3 prefetch depth,
 * the stage and precision asked for, the capabilities required and the steps whose parameters are
 * checked. The harness turns it into worker arguments; the worker parses them
 * back and builds the plugin's run spec from it; the oracle gets the same
 * spec. One struct, one encoding, so all three always agree.
 */
#ifndef DTB_HARNESS_CASE_CONFIG_H
#define DTB_HARNESS_CASE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"
#include "gpt_configs.h"
#include "model.h"
#include "net_desc.h"
#include "strvec.h"
#include "suite.h"
#include "theory.h"

#define CASE_MAX_CHECKS 8

typedef struct case_config {
    /* The model: exactly one of the two is set (case_config_set_model). The
     * conformance judge takes MLPs only; the benchmarks take both. */
    const mlp_config *model;        /* an MLP */
    const gpt_named_config *gpt;    /* a GPT */
    dtb_optimizer_config opt;       /* opt.name is a static string */
    int64_t global_batch;
    int32_t micro_batches;
    int64_t steps;
    uint64_t seed;
    double clip_norm;
    int64_t bucket_bytes;
    int32_t prefetch_depth;         /* ZeRO-3 layers gathered ahead; -1: plugin default */
    int32_t stage;                  /* dtb_stage asked for */
    int32_t precision;              /* dtb_precision asked for */
    uint64_t required_caps;
    int n_checks;                   /* 0: no parameters fetched ("--check-steps none") */
    int64_t check_steps[CASE_MAX_CHECKS]; /* ascending, in 1..steps */
    /* 1: every rank trains alone, as a world of one on its own (the
     * compute-only timing of a throughput case): no communication at all. */
    int32_t solo;
    /* A generated model ("mlp-w<W>") parsed by case_config_from_values lives
     * here and model points at it: such a config must not outlive the
     * struct it was parsed into (a copy still points at the original). */
    mlp_config_generated model_storage;
    gpt_config_generated gpt_storage;  /* the same for a "gpt2-w<C>" */
} case_config;

/* The model called `name` (an MLP, mlp-w<W> or a GPT of dtbench list): 0,
 * or -1 when there is none. */
int case_config_set_model(case_config *c, const char *name);
const char *case_config_model_name(const case_config *c);
int64_t case_config_n_params(const case_config *c);
/* DTB_CASE_BASE_CAPS with the model's kind: CPU and model-mlp or model-gpt. */
uint64_t case_config_base_caps(const case_config *c);
/* Targets per sample: 1 (MLP) or the context T (GPT, tokens per sequence). */
int64_t case_config_positions(const case_config *c);
/* Training FLOPs of one step over `batch` samples (mlp_step_flops,
 * gpt_step_flops). */
double case_config_step_flops(const case_config *c, int64_t batch);

/* Appends "--model .. --check-steps .." (doubles in the fewest digits that
 * read back exactly, so the worker trains bit for bit what was planned). */
void case_config_to_args(const case_config *c, strvec *v);

/* Recognised option names, for the worker's option table: each entry of
 * case_config_option_names() gets a slot in values[] (same order). */
#define CASE_CONFIG_N_OPTIONS 20
const char *const *case_config_option_names(void);
/* Parses the values collected for those options (every one required). */
int case_config_from_values(const char *const values[CASE_CONFIG_N_OPTIONS], case_config *c,
                            char *err, size_t err_len);

/* The run spec of rank `rank` of `world_size` (the MPI fields are left 0
 * for the caller; device CPU); spec->model points into *model, which must
 * outlive the spec. An MLP case only (the judge's). */
void case_config_to_spec(const case_config *c, int32_t rank, int32_t world_size,
                         mlp_model_desc *model, dtb_run_spec *spec);
/* The same for a case of any model kind, the description in *model (free it
 * with net_desc_free, also after a failure). 0, or -1 with the reason. */
int case_config_to_spec_any(const case_config *c, int32_t rank, int32_t world_size,
                            net_desc *model, dtb_run_spec *spec, char *err, size_t err_len);

/* Same training trajectory (model, optimizer, batch, steps, seed, clip,
 * precision recipe, checked steps): a baseline or oracle result of one serves
 * the other. Micro-batches, buckets, prefetch depth, stage and capabilities
 * do not change the math. */
int case_config_same_training(const case_config *a, const case_config *b);

/* The theory's view of a case (theory.h) on world_size ranks, with ZeRO-3
 * prefetch depth d (negative: unknown). */
void case_config_theory(const case_config *c, int world_size, int32_t prefetch_depth,
                        theory_case *out);

/* Names of enumerations, as used in arguments and messages. */
const char *stage_name(int32_t stage);         /* "single", "ddp", "zero1".. */
const char *precision_name(int32_t precision); /* "fp32", "bf16-mixed" */
const char *optimizer_kind_name(int32_t kind); /* "sgd", "adamw" */

#endif
