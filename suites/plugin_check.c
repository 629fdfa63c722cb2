/*
 * plugin-check's template (plugin_check.h): the smallest model (mlp-odd,
 * 5209 parameters, none of its layer units divisible by 2, 3 or 4), 3 steps
 * (parameters checked after steps 1 and 3), the conformance suites' seed,
 * optimizers and clipping threshold (conformance.h), each optimizer with
 * and without clipping, fp32 preferred to bf16-mixed, 4 samples per rank and
 * micro-batch, 2 micro-batches in the accumulation case, np 2, the ddp
 * suite's 4 KiB buckets for the DDP stage, and a checkpoint saved after
 * step 2 and resumed in a fresh world of the same size.
 */
#include "plugin_check.h"

#include "conformance.h"

static const char *const MODELS[] = {"mlp-odd"};

static const dtb_recipe RECIPES[] = {
    {.name = "sgd", .opt = CONFORMANCE_SGD, .clip_norm = 0},
    {.name = "sgd clip", .opt = CONFORMANCE_SGD, .clip_norm = CONFORMANCE_CLIP_NORM},
    {.name = "adamw", .opt = CONFORMANCE_ADAMW, .clip_norm = 0},
    {.name = "adamw clip", .opt = CONFORMANCE_ADAMW, .clip_norm = CONFORMANCE_CLIP_NORM},
};

static const int WORLDS[] = {2};

static const int32_t PRECISIONS[] = {DTB_PREC_FP32, DTB_PREC_BF16_MIXED};

const dtb_suite dtb_suite_plugin_check = {
    .name = "plugin-check",
    .description = "one small case per capability a plugin declares",
    .models = MODELS,
    .n_models = 1,
    .recipes = RECIPES,
    .n_recipes = sizeof RECIPES / sizeof RECIPES[0],
    .precisions = PRECISIONS,
    .n_precisions = sizeof PRECISIONS / sizeof PRECISIONS[0],
    .world_sizes = WORLDS,
    .n_world_sizes = sizeof WORLDS / sizeof WORLDS[0],
    .global_batch = 4,  /* per rank and micro-batch (plan_caps.h) */
    .micro_batches = 2, /* of the accumulation case */
    .steps = 3,
    .seed = 20261123,
    .bucket_bytes = 4096,
    .ckpt_save_step = 2, /* the checkpoint case: saved after 2, resumed to 3 */
    .ckpt_crash_every = 1,
};
