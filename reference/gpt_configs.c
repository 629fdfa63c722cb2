/*
 * The GPT family's named configurations (gpt_configs.h); parameter counts
 * Psi = V C + T C + 2 C + L (12 C^2 + 13 C) in the summaries.
 */
#include "gpt_configs.h"

#include <stdio.h>
#include <string.h>

#include "model.h"

static const gpt_named_config GPT_CONFIGS[] = {
    {"gpt-odd",
     "V 67, T 7, L 2, H 5, C 35, 32970 params: odd: 2, 3 and 4 divide none of V, T, H, C",
     {.vocab = 67, .context = 7, .n_layer = 2, .n_head = 5, .d_model = 35, .eps = 1e-5}},
    {"gpt-3m", "V 1024, T 128, L 4, H 4, C 256, 3454464 params: quick benchmarks",
     {.vocab = 1024, .context = 128, .n_layer = 4, .n_head = 4, .d_model = 256, .eps = 1e-5}},
    {"gpt2-124m", "GPT-2 small: V 50257, T 1024, L 12, H 12, C 768, 124439808 params (tied head)",
     {.vocab = 50257, .context = 1024, .n_layer = 12, .n_head = 12, .d_model = 768, .eps = 1e-5}},
    {"gpt2-355m", "GPT-2 medium: V 50257, T 1024, L 24, H 16, C 1024, 354823168 params",
     {.vocab = 50257, .context = 1024, .n_layer = 24, .n_head = 16, .d_model = 1024, .eps = 1e-5}},
    {"gpt2-774m", "GPT-2 large: V 50257, T 1024, L 36, H 20, C 1280, 774030080 params",
     {.vocab = 50257, .context = 1024, .n_layer = 36, .n_head = 20, .d_model = 1280, .eps = 1e-5}},
    {"gpt2-1558m", "GPT-2 XL: V 50257, T 1024, L 48, H 25, C 1600, 1557611200 params",
     {.vocab = 50257, .context = 1024, .n_layer = 48, .n_head = 25, .d_model = 1600, .eps = 1e-5}},
};

size_t gpt_config_count(void)
{
    return sizeof GPT_CONFIGS / sizeof GPT_CONFIGS[0];
}

const gpt_named_config *gpt_config_at(size_t index)
{
    return index < gpt_config_count() ? &GPT_CONFIGS[index] : NULL;
}

const gpt_named_config *gpt_config_find(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < gpt_config_count(); i++) {
        if (strcmp(GPT_CONFIGS[i].name, name) == 0) {
            return &GPT_CONFIGS[i];
        }
    }
    return NULL;
}

int64_t gpt2_width_family_params(int64_t width)
{
    return 144 * width * width + 51439 * width;
}

const gpt_named_config *gpt_config_generate(const char *name, gpt_config_generated *out)
{
    int64_t c = 0;
    if (family_width_parse(name, "gpt2-w", GPT2_WIDTH_FAMILY_MIN, GPT2_WIDTH_FAMILY_MAX, &c) != 0 ||
        c % GPT2_WIDTH_FAMILY_STEP != 0)
        return NULL;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "gpt2-w%lld", (long long)c);
    snprintf(out->summary, sizeof out->summary, "V 50257, T 1024, L 12, H %lld, C %lld, %lld params",
             (long long)(c / 64), (long long)c, (long long)gpt2_width_family_params(c));
    out->named.name = out->name;
    out->named.summary = out->summary;
    out->named.cfg = (gpt_config){.vocab = 50257, .context = 1024, .n_layer = 12,
                                  .n_head = c / 64, .d_model = c, .eps = 1e-5};
    return &out->named;
}

const gpt_named_config *gpt_config_resolve(const char *name, gpt_config_generated *storage)
{
    const gpt_named_config *g = gpt_config_find(name);
    return g ? g : gpt_config_generate(name, storage);
}

double gpt_step_flops(const gpt_config *cfg, int64_t batch)
{
    const double T = (double)cfg->context;
    const double head_size = (double)(cfg->d_model / cfg->n_head);
    const double per_token = 6.0 * (double)gpt_param_count(cfg) +
                             12.0 * (double)cfg->n_layer * (double)cfg->n_head * head_size * T;
    return per_token * (double)batch * T;
}
