#include "gpt_desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gpt_model_desc_init(const char *name, const gpt_config *cfg, gpt_model_desc *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (gpt_config_validate(cfg, err, err_len) != 0) {
        return -1;
    }
    const int64_t n = gpt_tensor_count(cfg);
    gpt_tensor_info *info = calloc((size_t)n, sizeof *info);
    out->tensors = calloc((size_t)n, sizeof *out->tensors);
    if (info == NULL || out->tensors == NULL) {
        free(info);
        snprintf(err, err_len, "gpt %s: out of memory for %lld tensor descriptions", name,
                 (long long)n);
        return -1;
    }
    gpt_tensor_table(cfg, info);
    for (int64_t t = 0; t < n; t++) {
        dtb_tensor_desc *d = &out->tensors[t];
        memcpy(d->name, info[t].name, sizeof d->name);
        d->ndim = info[t].ndim;
        d->shape[0] = info[t].shape[0];
        d->shape[1] = info[t].ndim == 2 ? info[t].shape[1] : 0;
        d->numel = info[t].numel;
        d->offset = info[t].offset;
        d->layer = info[t].layer;
        d->flags = (info[t].ndim == 2 ? DTB_TENSOR_DECAY : 0u) |
                   (info[t].tied ? DTB_TENSOR_TIED : 0u);
    }
    free(info);
    dtb_model_desc *m = &out->desc;
    m->struct_size = sizeof *m;
    m->kind = DTB_MODEL_GPT;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->n_params = gpt_param_count(cfg);
    m->n_tensors = (int32_t)n;
    m->tensors = out->tensors;
    m->n_layers = (int32_t)cfg->n_layer;
    m->vocab = cfg->vocab;
    m->context = cfg->context;
    m->n_head = cfg->n_head;
    m->d_model = cfg->d_model;
    m->layer_norm_eps = cfg->eps;
    return 0;
}

void gpt_model_desc_free(gpt_model_desc *d)
{
    free(d->tensors);
    memset(d, 0, sizeof *d);
}

int gpt_config_from_desc(const dtb_model_desc *m, gpt_config *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (m == NULL || m->struct_size < sizeof *m) {
        snprintf(err, err_len, "the run spec has no model description");
        return -1;
    }
    if (m->kind != DTB_MODEL_GPT) {
        snprintf(err, err_len, "model %s is of kind %d, not a GPT (kind %d)", m->name,
                 (int)m->kind, (int)DTB_MODEL_GPT);
        return -1;
    }
    *out = (gpt_config){.vocab = m->vocab, .context = m->context, .n_layer = m->n_layers,
                        .n_head = m->n_head, .d_model = m->d_model, .eps = m->layer_norm_eps};
    char why[200];
    if (gpt_config_validate(out, why, sizeof why) != 0) {
        snprintf(err, err_len, "GPT %s: %s", m->name, why);
        return -1;
    }
    const int64_t n = gpt_tensor_count(out);
    if (m->n_tensors != n || m->n_params != gpt_param_count(out) || m->tensors == NULL) {
        snprintf(err, err_len, "GPT %s: %d tensors and %lld parameters described, the sizes "
                 "imply %lld and %lld", m->name, (int)m->n_tensors, (long long)m->n_params,
                 (long long)n, (long long)gpt_param_count(out));
        return -1;
    }
    gpt_tensor_info *info = calloc((size_t)n, sizeof *info);
    if (info == NULL) {
        snprintf(err, err_len, "GPT %s: out of memory checking %lld tensors", m->name,
                 (long long)n);
        return -1;
    }
    gpt_tensor_table(out, info);
    int rc = 0;
    for (int64_t t = 0; t < n && rc == 0; t++) {
        const dtb_tensor_desc *d = &m->tensors[t];
        if (d->offset != info[t].offset || d->numel != info[t].numel ||
            d->layer != info[t].layer) {
            snprintf(err, err_len, "GPT %s: tensor %lld (%s) at offset %lld, %lld elements, "
                     "layer %d; the canonical layout has %s at %lld, %lld, layer %d", m->name,
                     (long long)t, d->name, (long long)d->offset, (long long)d->numel,
                     (int)d->layer, info[t].name, (long long)info[t].offset,
                     (long long)info[t].numel, (int)info[t].layer);
            rc = -1;
        }
    }
    free(info);
    return rc;
}
