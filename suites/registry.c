/* Every suite dtbench knows, in `dtbench list` order. */
#include <string.h>

#include "suite.h"

extern const dtb_suite dtb_suite_ddp;

static const dtb_suite *const SUITES[] = {
    &dtb_suite_ddp,
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

int suite_case_count(const dtb_suite *suite)
{
    return suite->n_models * suite->n_recipes * suite->n_world_sizes;
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
