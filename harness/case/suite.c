/* What a suite's matrix asks of an implementation, and its size. */
#include "suite.h"

#include <string.h>

uint64_t recipe_caps(const dtb_recipe *recipe)
{
    return optimizer_cap(recipe->opt.kind) | (recipe->clip_norm > 0 ? DTB_CAP_GRAD_CLIP : 0);
}

uint64_t precision_cap(int32_t precision)
{
    switch (precision) {
    case DTB_PREC_FP32:
        return DTB_CAP_FP32;
    case DTB_PREC_BF16_MIXED:
        return DTB_CAP_BF16_MIXED;
    default:
        return 0;
    }
}

uint64_t stage_cap(int32_t stage)
{
    switch (stage) {
    case DTB_STAGE_SINGLE:
        return DTB_CAP_SINGLE_DEVICE;
    case DTB_STAGE_DDP:
        return DTB_CAP_DDP;
    case DTB_STAGE_ZERO1:
        return DTB_CAP_ZERO1;
    case DTB_STAGE_ZERO2:
        return DTB_CAP_ZERO2;
    case DTB_STAGE_ZERO3:
        return DTB_CAP_ZERO3;
    default:
        return 0;
    }
}

void suite_model_depths(const dtb_suite *suite, const char *model, const int32_t **depths,
                        int *n)
{
    static const int32_t plugin_default = -1;
    if (!suite->prefetch_depths || suite->n_prefetch_depths < 1) {
        *depths = &plugin_default;
        *n = 1;
        return;
    }
    *depths = suite->prefetch_depths;
    *n = suite->n_prefetch_depths;
    if (!suite->extra_depth_models)
        return;
    for (int m = 0; m < suite->n_extra_depth_models; m++)
        if (strcmp(suite->extra_depth_models[m], model) == 0)
            return;
    *n = 1; /* only the first depth for the other models */
}

int suite_case_count(const dtb_suite *suite)
{
    int per_model = 0;
    for (int m = 0; m < suite->n_models; m++) {
        const int32_t *depths;
        int n_depths;
        suite_model_depths(suite, suite->models[m], &depths, &n_depths);
        per_model += n_depths;
    }
    const int innermost =
        suite->n_ckpt_transitions > 0 ? suite->n_ckpt_transitions : suite->n_world_sizes;
    return per_model * suite->n_recipes * suite->n_precisions * innermost + suite->n_edge_cases;
}

uint64_t optimizer_cap(int32_t kind)
{
    switch (kind) {
    case DTB_OPT_SGD_MOMENTUM:
        return DTB_CAP_SGD_MOMENTUM;
    case DTB_OPT_ADAMW:
        return DTB_CAP_ADAMW;
    default:
        return 0;
    }
}
