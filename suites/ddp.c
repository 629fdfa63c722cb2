/*
 * ddp: conformance of plain data parallelism (fp32) against the fp64 oracle.
 *
 * The matrix is chosen so that nothing is vacuous:
 *  - world sizes 1..4 with a global batch of 30 in 3 micro-batches of 10:
 *    3 and 4 ranks get uneven shares (10 = 3+3+4 = 2+3+2+3), and gradients
 *    accumulate over 3 micro-batches;
 *  - mlp-odd has 5209 parameters (divisible by none of 2, 3, 4) and a
 *    3-element bias (smaller than 4 ranks); a 4 KiB bucket (1024 floats)
 *    spreads each model over several buckets, some split across tensors;
 *  - the clip threshold is below the oracle's pre-clip gradient norm at every
 *    step (asserted by the "clipping active" check), so clipping always acts;
 *  - clipping rescales the gradient and Adam is invariant to its scale, so a
 *    gradient summed instead of averaged over ranks is invisible in their
 *    parameters: the unclipped SGD recipe ("sgd noclip") is where it shows,
 *    besides the pre-clip gradient norm every case checks;
 *  - SGD with momentum and weight decay, and AdamW with bias correction.
 */
#include "suite.h"

static const char *const ddp_models[] = {"mlp-odd", "mlp-small"};

#define DDP_SGD                                                                              \
    {.name = "sgd", .kind = DTB_OPT_SGD_MOMENTUM, .lr = 0.05, .momentum = 0.9,              \
     .weight_decay = 1e-4}
#define DDP_ADAMW                                                                            \
    {.name = "adamw", .kind = DTB_OPT_ADAMW, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,      \
     .eps = 1e-8, .weight_decay = 0.01}

static const dtb_recipe ddp_recipes[] = {
    {.name = "sgd", .opt = DDP_SGD, .clip_norm = 0.05},
    {.name = "sgd noclip", .opt = DDP_SGD, .clip_norm = 0},
    {.name = "adamw", .opt = DDP_ADAMW, .clip_norm = 0.05},
};

static const int ddp_world_sizes[] = {1, 2, 3, 4};

const dtb_suite dtb_suite_ddp = {
    .name = "ddp",
    .description = "DDP fp32 vs the fp64 oracle: uneven batches, accumulation, clipping, "
                   "SGD and AdamW",
    .required_caps = DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-ddp",
    .stage = DTB_STAGE_DDP,
    .precision = DTB_PREC_FP32,
    .models = ddp_models,
    .n_models = sizeof ddp_models / sizeof ddp_models[0],
    .recipes = ddp_recipes,
    .n_recipes = sizeof ddp_recipes / sizeof ddp_recipes[0],
    .world_sizes = ddp_world_sizes,
    .n_world_sizes = sizeof ddp_world_sizes / sizeof ddp_world_sizes[0],
    .global_batch = 30,
    .micro_batches = 3,
    .steps = 10,
    .seed = 20261123,
    .bucket_bytes = 4096,
};
