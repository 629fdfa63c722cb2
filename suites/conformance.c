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
