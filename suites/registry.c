/* Every suite dtbench knows, in `dtbench list` order. */
#include <string.h>

#include "suite.h"

extern const dtb_suite dtb_suite_ddp;
extern const dtb_suite dtb_suite_zero1;
extern const dtb_suite dtb_suite_zero2;
extern const dtb_suite dtb_suite_zero3;
extern const dtb_suite dtb_suite_throughput;
extern const dtb_suite dtb_suite_memory;
extern const dtb_suite dtb_suite_comm;

static const dtb_suite *const SUITES[] = {
    &dtb_suite_ddp,
    &dtb_suite_zero1,
    &dtb_suite_zero2,
    &dtb_suite_zero3,
    &dtb_suite_throughput,
    &dtb_suite_memory,
    &dtb_suite_comm,
};

size_t suite_count(void)
{
    return sizeof SUITES / sizeof SUITES[0];
}

const dtb_suite *suite_at(size_t index)
{
    return index < suite_count() ? SUITES[index] : NULL;
}

const dtb_suite *suite_find(const char *name)
{
    for (size_t i = 0; i < suite_count(); i++)
        if (strcmp(SUITES[i]->name, name) == 0)
            return SUITES[i];
    return NULL;
}

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
    return per_model * suite->n_recipes * suite->n_precisions * suite->n_world_sizes;
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
