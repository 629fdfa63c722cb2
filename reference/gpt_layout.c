/*
 * The GPT configuration check and the canonical layout (gpt.h), shared by
 * the fp32 and fp64 models, the initial values and the ABI's tensor table.
 */
#include "gpt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- configuration and layout --------------------------------------------- */

int gpt_config_validate(const gpt_config *cfg, char *err, size_t err_len)
{
    const int64_t big = (int64_t)1 << 20;
    if (cfg->vocab < 1 || cfg->vocab > INT32_MAX || cfg->context < 1 || cfg->context > big ||
        cfg->d_model < 1 || cfg->d_model > big || cfg->n_layer < 1 || cfg->n_layer > 4096) {
        snprintf(err, err_len,
                 "gpt: sizes V=%lld T=%lld C=%lld L=%lld outside V 1..2^31-1, T and C 1..2^20, "
                 "L 1..4096",
                 (long long)cfg->vocab, (long long)cfg->context, (long long)cfg->d_model,
                 (long long)cfg->n_layer);
        return -1;
    }
    if (cfg->n_head < 1 || cfg->d_model % cfg->n_head != 0) {
        snprintf(err, err_len, "gpt: %lld heads do not divide d_model %lld", (long long)cfg->n_head,
                 (long long)cfg->d_model);
        return -1;
    }
    if (!(cfg->eps > 0.0) || !isfinite(cfg->eps)) {
        snprintf(err, err_len, "gpt: LayerNorm eps %g is not positive and finite", cfg->eps);
        return -1;
    }
    return 0;
}

int gpt_batch_validate(const gpt_config *cfg, int64_t max_batch, char *err, size_t err_len)
{
    if (gpt_config_validate(cfg, err, err_len) != 0) {
        return -1;
    }
    if (max_batch < 0 || max_batch > INT32_MAX / cfg->context) {
        snprintf(err, err_len, "gpt: max_batch %lld outside 0..%lld (B T rows are BLAS ints)",
                 (long long)max_batch, (long long)(INT32_MAX / cfg->context));
        return -1;
    }
    /* Elements of the activations, in double so that nothing overflows first:
     * the attention probabilities, about 30 [N x C] buffers per block, the logits. */
    const double B = (double)(max_batch > 0 ? max_batch : 1), T = (double)cfg->context;
    const double L = (double)cfg->n_layer, C = (double)cfg->d_model;
    const double elems = L * B * (double)cfg->n_head * T * T + 30.0 * (L + 1.0) * B * T * C +
                         2.0 * B * T * (double)cfg->vocab;
    if (elems > 0x1p58) {
        snprintf(err, err_len, "gpt: activations of %.3g elements for batch %lld are too large",
                 elems, (long long)max_batch);
        return -1;
    }
    return 0;
}

int64_t gpt_block_param_count(const gpt_config *cfg)
{
    const int64_t C = cfg->d_model;
    return 12 * C * C + 13 * C;
}

int64_t gpt_param_count(const gpt_config *cfg)
{
    const int64_t C = cfg->d_model;
    return cfg->vocab * C + cfg->context * C + 2 * C + cfg->n_layer * gpt_block_param_count(cfg);
}

gpt_index gpt_index_of(const gpt_config *cfg)
{
    const int64_t C = cfg->d_model;
    gpt_index ix;
    ix.wte = 0;
    ix.wpe = cfg->vocab * C;
    ix.ln_f_w = ix.wpe + cfg->context * C;
    ix.ln_f_b = ix.ln_f_w + C;
    return ix;
}

gpt_block_index gpt_block_index_of(const gpt_config *cfg, int64_t l)
{
    const int64_t C = cfg->d_model;
    gpt_block_index bi;
    bi.ln_1_w = gpt_index_of(cfg).ln_f_b + C + l * gpt_block_param_count(cfg);
    bi.ln_1_b = bi.ln_1_w + C;
    bi.attn_w = bi.ln_1_b + C;
    bi.attn_b = bi.attn_w + 3 * C * C;
    bi.attn_proj_w = bi.attn_b + 3 * C;
    bi.attn_proj_b = bi.attn_proj_w + C * C;
    bi.ln_2_w = bi.attn_proj_b + C;
    bi.ln_2_b = bi.ln_2_w + C;
    bi.fc_w = bi.ln_2_b + C;
    bi.fc_b = bi.fc_w + 4 * C * C;
    bi.mlp_proj_w = bi.fc_b + 4 * C;
    bi.mlp_proj_b = bi.mlp_proj_w + 4 * C * C;
    return bi;
}

int64_t gpt_tensor_count(const gpt_config *cfg)
{
    return GPT_GLOBAL_TENSORS + GPT_BLOCK_TENSORS * cfg->n_layer;
}

/* Appends one tensor at *offset (offsets are cumulative, independent of gpt_index_of). */
static void add_tensor(gpt_tensor_info *out, int64_t *at, int64_t *offset, int ndim,
                       int64_t rows, int64_t cols, int32_t layer, const char *name)
{
    gpt_tensor_info *t = &out[(*at)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->numel = rows * cols;
    t->offset = *offset;
    t->layer = layer;
    t->tied = strcmp(name, "wte") == 0;
    *offset += t->numel;
}

void gpt_tensor_table(const gpt_config *cfg, gpt_tensor_info *out)
{
    const int64_t V = cfg->vocab, T = cfg->context, C = cfg->d_model;
    int64_t at = 0, offset = 0;
    add_tensor(out, &at, &offset, 2, V, C, -1, "wte");
    add_tensor(out, &at, &offset, 2, T, C, -1, "wpe");
    add_tensor(out, &at, &offset, 1, C, 1, -1, "ln_f.weight");
    add_tensor(out, &at, &offset, 1, C, 1, -1, "ln_f.bias");
    static const struct {
        const char *suffix;
        int ndim;
        int64_t rows_c, cols_c; /* shape in units of C (cols 0: a vector) */
    } block[GPT_BLOCK_TENSORS] = {
        {"ln_1.weight", 1, 1, 0},     {"ln_1.bias", 1, 1, 0},
        {"attn.c_attn.weight", 2, 3, 1}, {"attn.c_attn.bias", 1, 3, 0},
        {"attn.c_proj.weight", 2, 1, 1}, {"attn.c_proj.bias", 1, 1, 0},
        {"ln_2.weight", 1, 1, 0},     {"ln_2.bias", 1, 1, 0},
        {"mlp.c_fc.weight", 2, 4, 1}, {"mlp.c_fc.bias", 1, 4, 0},
        {"mlp.c_proj.weight", 2, 1, 4}, {"mlp.c_proj.bias", 1, 1, 0},
    };
    for (int64_t l = 0; l < cfg->n_layer; l++) {
        for (int k = 0; k < GPT_BLOCK_TENSORS; k++) {
            char name[DTB_NAME_LEN];
            snprintf(name, sizeof name, "h%lld.%s", (long long)l, block[k].suffix);
            add_tensor(out, &at, &offset, block[k].ndim, block[k].rows_c * C,
                       block[k].cols_c > 0 ? block[k].cols_c * C : 1, (int32_t)l, name);
        }
    }
}

