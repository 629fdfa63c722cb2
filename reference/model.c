/*
 * Named MLP configurations, the canonical layout, and the counter-based
 * initial values and data of docs/model-spec.md.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"

/* Counter word 3 separates the streams so that no two share a counter. */
enum {
    STREAM_INIT = 0,
    STREAM_DATA_X = 1,
    STREAM_DATA_LABEL = 2
};

static const mlp_config MLP_CONFIGS[] = {
    {"mlp-odd",
     "37-53-56-3, 5209 params: odd and not divisible by 2, 3 or 4; b2 has 3 < 4 elements",
     3, {37, 53, 56, 3}},
    {"mlp-small", "64-128-128-10, 26122 params: quick conformance runs", 3, {64, 128, 128, 10}},
    {"mlp-deep", "33-48x7-5 (8 layers), 15989 params: many similar small layers, so that a "
                 "few materialised layers or buckets are not the whole model",
     8, {33, 48, 48, 48, 48, 48, 48, 48, 5}},
    {"mlp-100k", "128-256-256-10, 101386 params", 3, {128, 256, 256, 10}},
    {"mlp-1m", "512-1024-512-10, 1055242 params", 3, {512, 1024, 512, 10}},
    {"mlp-8m", "1024-2048-2048-1024-10, 8403978 params", 4, {1024, 2048, 2048, 1024, 10}},
    {"mlp-20m", "1024-2048-4096-2048-16, 18915344 params", 4, {1024, 2048, 4096, 2048, 16}},
    {"mlp-100m", "mlp-w4096: 1024-4096x7-1024 (8 layers), 109081600 params: throughput runs", 8,
     {1024, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 1024}},
    {"mlp-240m", "mlp-w6144: 1024-6144x7-1024 (8 layers), 239119360 params: memory sweeps", 8,
     {1024, 6144, 6144, 6144, 6144, 6144, 6144, 6144, 1024}},
    {"mlp-420m", "mlp-w8192: 1024-8192x7-1024 (8 layers), 419488768 params: memory sweeps", 8,
     {1024, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 1024}},
    {"mlp-650m", "mlp-w10240: 1024-10240x7-1024 (8 layers), 650189824 params: ZeRO-3 at 4 "
                 "ranks in 24 GiB",
     8, {1024, 10240, 10240, 10240, 10240, 10240, 10240, 10240, 1024}},
};

size_t mlp_config_count(void)
{
    return sizeof MLP_CONFIGS / sizeof MLP_CONFIGS[0];
}

const mlp_config *mlp_config_at(size_t index)
{
    return index < mlp_config_count() ? &MLP_CONFIGS[index] : NULL;
}

const mlp_config *mlp_config_find(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < mlp_config_count(); i++) {
        if (strcmp(MLP_CONFIGS[i].name, name) == 0) {
            return &MLP_CONFIGS[i];
        }
    }
    return NULL;
}

int64_t mlp_width_family_params(int64_t width)
{
    return 6 * width * width + 2055 * width + 1024;
}

int family_width_parse(const char *name, const char *prefix, int64_t min, int64_t max,
                       int64_t *width)
{
    const size_t n = strlen(prefix);
    if (name == NULL || strncmp(name, prefix, n) != 0)
        return -1;
    const char *p = name + n;
    int64_t w = 0;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        w = 10 * w + (*p - '0');
        if (w > max)
            return -1;
    }
    if (*p != '\0' || w < min)
        return -1;
    *width = w;
    return 0;
}

const mlp_config *mlp_config_generate(const char *name, mlp_config_generated *out)
{
    int64_t w = 0;
    if (family_width_parse(name, "mlp-w", MLP_WIDTH_FAMILY_MIN, MLP_WIDTH_FAMILY_MAX, &w) != 0)
        return NULL;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "mlp-w%lld", (long long)w);
    snprintf(out->summary, sizeof out->summary, "1024-%lldx7-1024 (8 layers), %lld params",
             (long long)w, (long long)mlp_width_family_params(w));
    out->cfg.name = out->name;
    out->cfg.summary = out->summary;
    out->cfg.n_linear = 8;
    out->cfg.dims[0] = 1024;
    for (int l = 1; l < 8; l++)
        out->cfg.dims[l] = w;
    out->cfg.dims[8] = 1024;
    return &out->cfg;
}

const mlp_config *mlp_config_resolve(const char *name, mlp_config_generated *storage)
{
    const mlp_config *c = mlp_config_find(name);
    return c ? c : mlp_config_generate(name, storage);
}

int mlp_config_validate(const mlp_config *cfg, char *err, size_t err_len)
{
    if (cfg->n_linear < 1 || cfg->n_linear > DTB_MAX_LINEAR) {
        snprintf(err, err_len, "model has %d linear layers; supported are 1..%d", cfg->n_linear,
                 DTB_MAX_LINEAR);
        return -1;
    }
    for (int l = 0; l <= cfg->n_linear; l++) {
        /* Widths index counter words of 32 bits (model-spec.md, "Data"). */
        if (cfg->dims[l] < 1 || cfg->dims[l] > INT32_MAX) {
            snprintf(err, err_len, "model width dims[%d] = %lld is outside 1..%d", l,
                     (long long)cfg->dims[l], INT32_MAX);
            return -1;
        }
    }
    return 0;
}

int64_t mlp_param_count(const mlp_config *cfg)
{
    int64_t n = 0;
    for (int l = 0; l < cfg->n_linear; l++) {
        n += cfg->dims[l + 1] * cfg->dims[l] + cfg->dims[l + 1];
    }
    return n;
}

double mlp_step_flops(const mlp_config *cfg, int64_t batch)
{
    double macs_per_sample = 0.0;
    for (int l = 0; l < cfg->n_linear; l++) {
        macs_per_sample += (double)cfg->dims[l] * (double)cfg->dims[l + 1];
    }
    return 6.0 * (double)batch * macs_per_sample;
}

void mlp_layout_init(const mlp_config *cfg, mlp_layout *out)
{
    memset(out, 0, sizeof *out);
    out->n_tensors = 2 * cfg->n_linear;
    int64_t offset = 0;
    for (int l = 0; l < cfg->n_linear; l++) {
        const int w = 2 * l, b = 2 * l + 1;
        out->rows[w] = cfg->dims[l + 1];
        out->cols[w] = cfg->dims[l];
        out->rows[b] = cfg->dims[l + 1];
        out->cols[b] = 1;
        for (int t = w; t <= b; t++) {
            out->numel[t] = out->rows[t] * out->cols[t];
            out->offset[t] = offset;
            offset += out->numel[t];
        }
        snprintf(out->name[w], sizeof out->name[w], "W%d", l);
        snprintf(out->name[b], sizeof out->name[b], "b%d", l);
    }
    out->offset[out->n_tensors] = offset;
    out->n_params = offset;
}

int mlp_config_from_spec(const dtb_run_spec *spec, mlp_config *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const dtb_model_desc *m = spec->model;
    if (!m || m->struct_size < sizeof *m) {
        snprintf(err, err_len, "the run spec has no model description");
        return -1;
    }
    out->name = m->name;
    out->summary = "model from a run spec";
    if (m->kind != DTB_MODEL_MLP) {
        snprintf(err, err_len, "model %s is of kind %d, not an MLP (kind %d)", m->name,
                 (int)m->kind, (int)DTB_MODEL_MLP);
        return -1;
    }
    if (m->n_layers < 1 || m->n_layers > DTB_MAX_LINEAR || !m->dims) {
        snprintf(err, err_len, "MLP %s has %d layers; this implementation takes 1 to %d",
                 m->name, (int)m->n_layers, DTB_MAX_LINEAR);
        return -1;
    }
    out->n_linear = m->n_layers;
    for (int l = 0; l <= m->n_layers; l++)
        out->dims[l] = m->dims[l];
    if (mlp_config_validate(out, err, err_len) != 0)
        return -1;
    /* The tensor table must be the canonical one the dims imply. */
    mlp_layout lay;
    mlp_layout_init(out, &lay);
    if (m->n_tensors != lay.n_tensors || m->n_params != lay.n_params || !m->tensors) {
        snprintf(err, err_len, "MLP %s: %d tensors and %lld parameters described, the dims "
                 "imply %d and %lld", m->name, (int)m->n_tensors, (long long)m->n_params,
                 lay.n_tensors, (long long)lay.n_params);
        return -1;
    }
    for (int t = 0; t < lay.n_tensors; t++) {
        if (m->tensors[t].offset != lay.offset[t] || m->tensors[t].numel != lay.numel[t]) {
            snprintf(err, err_len, "MLP %s: tensor %d (%s) at offset %lld with %lld elements, "
                     "the canonical layout has %lld and %lld", m->name, t, m->tensors[t].name,
                     (long long)m->tensors[t].offset, (long long)m->tensors[t].numel,
                     (long long)lay.offset[t], (long long)lay.numel[t]);
            return -1;
        }
    }
    return 0;
}

int mlp_init_values(uint64_t seed, const mlp_config *cfg, int32_t tensor, int64_t first,
                    int64_t count, float *out)
{
    if (tensor < 0 || tensor >= 2 * cfg->n_linear || first < 0 || count < 0) {
        return -1;
    }
    const int layer = tensor / 2;
    const int64_t numel =
        cfg->dims[layer + 1] * ((tensor % 2 == 0) ? cfg->dims[layer] : 1);
    if (count > numel - first) {
        return -1;
    }
    const philox4x32_key key = philox_key_from_seed(seed);
    const double bound = 1.0 / sqrt((double)cfg->dims[layer]);
    for (int64_t k = 0; k < count; k++) {
        const uint64_t i = (uint64_t)(first + k);
        const philox4x32_ctr ctr = {{(uint32_t)i, (uint32_t)(i >> 32), (uint32_t)tensor,
                                     STREAM_INIT}};
        const double u = philox_unit_open(philox4x32_10(ctr, key).v[0]);
        out[k] = (float)(bound * (2.0 * u - 1.0));
    }
    return 0;
}

int mlp_sample_batch(uint64_t seed, const mlp_config *cfg, int64_t step, int64_t first,
                     int64_t count, float *x, int32_t *y)
{
    /* Step and sample index are single 32-bit counter words. */
    if (step < 1 || step > (int64_t)UINT32_MAX || first < 0 || count < 0 ||
        count > ((int64_t)UINT32_MAX + 1) - first) {
        return -1;
    }
    const philox4x32_key key = philox_key_from_seed(seed);
    const int64_t inputs = cfg->dims[0];
    const uint64_t classes = (uint64_t)cfg->dims[cfg->n_linear];
    for (int64_t k = 0; k < count; k++) {
        const uint32_t j = (uint32_t)(first + k);
        if (x != NULL) {
            float *row = x + k * inputs;
            for (int64_t i = 0; i < inputs; i++) {
                const philox4x32_ctr ctr = {{(uint32_t)i, j, (uint32_t)step, STREAM_DATA_X}};
                const double u = philox_unit_open(philox4x32_10(ctr, key).v[0]);
                row[i] = (float)(2.0 * u - 1.0);
            }
        }
        if (y != NULL) {
            const philox4x32_ctr ctr = {{0, j, (uint32_t)step, STREAM_DATA_LABEL}};
            const uint64_t v0 = philox4x32_10(ctr, key).v[0];
            y[k] = (int32_t)((v0 * classes) >> 32);
        }
    }
    return 0;
}

void split_range(int64_t total, int64_t parts, int64_t part, int64_t *first, int64_t *count)
{
    /* floor(p*total/parts) = p*q + floor(p*r/parts) with total = q*parts + r;
     * p*r < parts^2 cannot overflow where p*total could. */
    const int64_t q = total / parts, r = total % parts;
    const int64_t begin = part * q + (part * r) / parts;
    const int64_t end = (part + 1) * q + ((part + 1) * r) / parts;
    *first = begin;
    *count = end - begin;
}

void mlp_model_desc_init(const mlp_config *cfg, mlp_model_desc *out)
{
    memset(out, 0, sizeof *out);
    mlp_layout lay;
    mlp_layout_init(cfg, &lay);
    for (int l = 0; l <= cfg->n_linear && l <= DTB_MAX_LINEAR; l++)
        out->dims[l] = cfg->dims[l];
    for (int t = 0; t < lay.n_tensors; t++) {
        dtb_tensor_desc *d = &out->tensors[t];
        snprintf(d->name, sizeof d->name, "%s", lay.name[t]);
        d->ndim = t % 2 == 0 ? 2 : 1;
        d->shape[0] = lay.rows[t];
        d->shape[1] = t % 2 == 0 ? lay.cols[t] : 0;
        d->numel = lay.numel[t];
        d->offset = lay.offset[t];
        d->layer = t / 2;
        d->flags = DTB_TENSOR_DECAY;
    }
    dtb_model_desc *m = &out->desc;
    m->struct_size = sizeof *m;
    m->kind = DTB_MODEL_MLP;
    snprintf(m->name, sizeof m->name, "%s", cfg->name);
    m->n_params = lay.n_params;
    m->n_tensors = lay.n_tensors;
    m->tensors = out->tensors;
    m->n_layers = cfg->n_linear;
    m->dims = out->dims;
}

void mlp_spec_set_model(dtb_run_spec *spec, const mlp_config *cfg, mlp_model_desc *storage)
{
    mlp_model_desc_init(cfg, storage);
    spec->model = &storage->desc;
}

int64_t split_max_rank_share(int64_t batch, int micro, int ranks)
{
    int64_t best = 0;
    for (int m = 0; m < micro; m++) {
        int64_t first, count;
        split_range(batch, micro, m, &first, &count);
        for (int r = 0; r < ranks; r++) {
            int64_t rf, rc;
            split_range(count, ranks, r, &rf, &rc);
            best = rc > best ? rc : best;
        }
    }
    return best;
}
