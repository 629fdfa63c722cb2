/*
 * checkpoint: canonical checkpoints (docs/checkpoint.md) that survive a
 * change of world size, stage and implementation, and crash recovery.
 *
 * Each case trains T = 8 steps of mlp-odd (5209 parameters, layer units
 * that 2, 3 and 4 do not divide) with the conformance batch (30 samples in
 * 3 micro-batches: uneven shares at 3 and 4 ranks), saves after step S = 4,
 * loads the checkpoint in a fresh world and trains to T. Judged: the
 * checkpoint's commit (every element saved by some rank), its parameters
 * against the saving run's own at S (bit for bit), its optimizer state
 * against the fp64 oracle's within the ensemble's envelope, the saving run
 * after T, and the resumed run: bit for bit equal to the saving run when
 * nothing but the process changed (same implementation, stage and world),
 * within the tolerance model against the oracle at steps 6 and 8 and the
 * loss of steps 5-8 otherwise.
 *
 * Transitions (self = the implementation at its stage): the same world
 * (2 -> 2, exact), fewer ranks (4 -> 3, 3 -> 2), more (1 -> 4); and to and
 * from every stage's reference (self@4 -> Y@3, Y@3 -> self@2), so that a
 * checkpoint written by one implementation must load in another. Plus one
 * crash case at 3 ranks per recipe and precision. SGD (momentum buffer) and
 * AdamW (both moments and the step counter), fp32 and bf16-mixed (fp32
 * masters saved).
 */
#include "conformance.h"

static const char *const checkpoint_models[] = {"mlp-odd"};
static const dtb_recipe checkpoint_recipes[] = {
    {.name = "sgd", .opt = CONFORMANCE_SGD, .clip_norm = CONFORMANCE_CLIP_NORM},
    {.name = "adamw", .opt = CONFORMANCE_ADAMW, .clip_norm = CONFORMANCE_CLIP_NORM},
};

#define SELF DTB_CKPT_SELF
static const dtb_ckpt_transition checkpoint_transitions[] = {
    {2, 2, SELF, SELF, 0},
    {4, 3, SELF, SELF, 0},
    {3, 2, SELF, SELF, 0},
    {1, 4, SELF, SELF, 0},
    {4, 3, SELF, DTB_STAGE_DDP, 0},
    {3, 2, DTB_STAGE_DDP, SELF, 0},
    {4, 3, SELF, DTB_STAGE_ZERO1, 0},
    {3, 2, DTB_STAGE_ZERO1, SELF, 0},
    {4, 3, SELF, DTB_STAGE_ZERO2, 0},
    {3, 2, DTB_STAGE_ZERO2, SELF, 0},
    {4, 3, SELF, DTB_STAGE_ZERO3, 0},
    {3, 2, DTB_STAGE_ZERO3, SELF, 0},
    {3, 3, SELF, SELF, 1},
};

const dtb_suite dtb_suite_checkpoint = {
    .name = "checkpoint",
    .description = "canonical checkpoints: save at one world size and stage, resume at "
                   "another (4->3, 3->2, across DDP and ZeRO-1/2/3), crash recovery",
    .required_caps = DTB_CAP_CHECKPOINT | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-zero2",
    .stage = DTB_STAGE_SINGLE, /* each side's stage comes from its transition */
    .models = checkpoint_models,
    .n_models = sizeof checkpoint_models / sizeof checkpoint_models[0],
    .recipes = checkpoint_recipes,
    .n_recipes = sizeof checkpoint_recipes / sizeof checkpoint_recipes[0],
    .precisions = conformance_precisions,
    .n_precisions = CONFORMANCE_N_PRECISIONS,
    .world_sizes = conformance_world_sizes,
    .n_world_sizes = CONFORMANCE_N_WORLD_SIZES,
    .global_batch = 30,
    .micro_batches = 3,
    .steps = 8,
    .seed = 20261205,
    .bucket_bytes = 4096,
    .ckpt_transitions = checkpoint_transitions,
    .n_ckpt_transitions = sizeof checkpoint_transitions / sizeof checkpoint_transitions[0],
    .ckpt_save_step = 4,
    .ckpt_crash_every = 2,
};
