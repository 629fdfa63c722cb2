/* The shared conformance matrix (conformance.h). */
#include "conformance.h"

const char *const conformance_models[CONFORMANCE_N_MODELS] = {"mlp-odd", "mlp-small"};

const dtb_recipe conformance_recipes[CONFORMANCE_N_RECIPES] = {
    {.name = "sgd", .opt = CONFORMANCE_SGD, .clip_norm = CONFORMANCE_CLIP_NORM},
    {.name = "sgd noclip", .opt = CONFORMANCE_SGD, .clip_norm = 0},
    {.name = "adamw", .opt = CONFORMANCE_ADAMW, .clip_norm = CONFORMANCE_CLIP_NORM},
};

const int conformance_world_sizes[CONFORMANCE_N_WORLD_SIZES] = {1, 2, 3, 4};

const int32_t conformance_precisions[CONFORMANCE_N_PRECISIONS] = {DTB_PREC_FP32,
                                                                  DTB_PREC_BF16_MIXED};

/* Recipe indices: 0 sgd, 1 sgd noclip, 2 adamw. */
const dtb_edge_case conformance_edges[CONFORMANCE_N_EDGES] = {
    {.name = "uneven-micro", .why = "micro-batches of 10, 10 and 11 samples: each must weigh by "
                                    "its size, not 1/M",
     .model = "mlp-odd", .recipe = 1, .precision = DTB_PREC_FP32, .world_size = 2,
     .global_batch = 31},
    {.name = "empty-share", .why = "3-sample micro-batches over 4 ranks: one rank has nothing to "
                                   "compute yet must take part in every collective",
     .model = "mlp-odd", .recipe = 2, .precision = DTB_PREC_FP32, .world_size = 4,
     .global_batch = 6, .micro_batches = 2},
    {.name = "deep", .why = "eight similar layers: buffers or materialised parameters sized to the "
                            "whole model stand out from a layer or two",
     .model = "mlp-deep", .recipe = 0, .precision = DTB_PREC_FP32, .world_size = 4},
    {.name = "deep-bf16", .why = "the same under bf16-mixed",
     .model = "mlp-deep", .recipe = 0, .precision = DTB_PREC_BF16_MIXED, .world_size = 3},
    {.name = "clip-some", .why = "a threshold the pre-clip norm crosses both ways: clipping "
                                 "applied below it, or skipped above it, shows",
     .model = "mlp-odd", .recipe = 0, .precision = DTB_PREC_FP32, .world_size = 3,
     .clip_norm = 0.2, .clip_mixed = 1},
    {.name = "bucket-span", .why = "8 KiB buckets over 64-128-128-10: b1 shares the bucket of W2 "
                                   "and b2, so one bucket spans two layers; a bucket mapped per "
                                   "layer shows",
     .model = "mlp-small", .recipe = 1, .precision = DTB_PREC_FP32, .world_size = 2,
     .bucket_bytes = 8192},
};
