/*
 * The conformance matrix the ddp, zero1, zero2 and zero3 suites share
 * (suites/conformance.c), so that every stage is held to the same cases:
 *  - world sizes 1..4 with a global batch of 30 in 3 micro-batches of 10:
 *    3 and 4 ranks get uneven shares (10 = 3+3+4 = 2+3+2+3), and gradients
 *    accumulate over 3 micro-batches;
 *  - mlp-odd has 5209 parameters (divisible by none of 2, 3, 4; its layer
 *    units of 2014, 3024 and 171 elements are not either) and a 3-element
 *    bias (smaller than 4 ranks); mlp-small is a second, wider shape;
 *  - the clip threshold is below the oracle's pre-clip gradient norm at every
 *    step (asserted by the "clipping active" check), so clipping always acts;
 *  - clipping rescales the gradient and Adam is invariant to its scale, so a
 *    gradient summed instead of averaged over ranks is invisible in their
 *    parameters: the unclipped SGD recipe ("sgd noclip") is where it shows,
 *    besides the pre-clip gradient norm every case checks;
 *  - SGD with momentum and weight decay, and AdamW with bias correction;
 *  - fp32 and bf16-mixed (docs/zero.md): the baseline and the oracle run the
 *    same recipe, so the tolerance compares like with like;
 *  - edge cases where the matrix is blind (conformance_edges): micro-batches
 *    of unequal size (31 in 3: 10, 10, 11), a rank with an empty share of a
 *    micro-batch (6 in 2 over 4 ranks: 0+1+1+1), and mlp-deep's eight
 *    similar small layers, where a few materialised layers or buckets are
 *    far from the whole model, a clip threshold the pre-clip norm
 *    crosses both ways (clip-some), and buckets spanning two layers of
 *    mlp-small (bucket-span).
 */
#ifndef DTB_SUITES_CONFORMANCE_H
#define DTB_SUITES_CONFORMANCE_H

#include "suite.h"

#define CONFORMANCE_N_MODELS 2
#define CONFORMANCE_N_RECIPES 3
#define CONFORMANCE_N_WORLD_SIZES 4
#define CONFORMANCE_N_PRECISIONS 2
#define CONFORMANCE_N_EDGES 6

extern const char *const conformance_models[CONFORMANCE_N_MODELS];
extern const dtb_recipe conformance_recipes[CONFORMANCE_N_RECIPES];
extern const int conformance_world_sizes[CONFORMANCE_N_WORLD_SIZES];
extern const int32_t conformance_precisions[CONFORMANCE_N_PRECISIONS];
extern const dtb_edge_case conformance_edges[CONFORMANCE_N_EDGES];

/* The optimizers of the conformance recipes (also plugin-check's). */
#define CONFORMANCE_SGD                                                                      \
    {.name = "sgd", .kind = DTB_OPT_SGD_MOMENTUM, .lr = 0.05, .momentum = 0.9,              \
     .weight_decay = 1e-4}
#define CONFORMANCE_ADAMW                                                                    \
    {.name = "adamw", .kind = DTB_OPT_ADAMW, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999,      \
     .eps = 1e-8, .weight_decay = 0.01}
/* Their clipping threshold: below the oracle's pre-clip gradient norm at
 * every step of every conformance and plugin-check case. */
#define CONFORMANCE_CLIP_NORM 0.05

/* The fields of a dtb_suite that the conformance suites share. */
#define CONFORMANCE_MATRIX                                                                 \
    .models = conformance_models, .n_models = CONFORMANCE_N_MODELS,                       \
    .recipes = conformance_recipes, .n_recipes = CONFORMANCE_N_RECIPES,                   \
    .precisions = conformance_precisions, .n_precisions = CONFORMANCE_N_PRECISIONS,       \
    .world_sizes = conformance_world_sizes, .n_world_sizes = CONFORMANCE_N_WORLD_SIZES,   \
    .global_batch = 30, .micro_batches = 3, .steps = 10, .seed = 20261123,                \
    .edge_cases = conformance_edges, .n_edge_cases = CONFORMANCE_N_EDGES

#endif
