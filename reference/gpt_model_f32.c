/*
 * GPT-2 in fp32 on the cpu backend (gpt.h): the linear layers, GELU and the
 * loss through the backend's ops (BLAS sgemm), embedding, LayerNorm,
 * attention and the residual adds through the host kernels of gpt_kernels.h.
 * The same sequence of operations as gpt_model_f64.c, so the two differ only
 * by rounding. Backward carries one residual-stream gradient dres [N x C]
 * down the blocks; LayerNorm backward adds into it.
 */
#include "gpt.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_kernels.h"

#define CHECK(call)          \
    do {                     \
        if ((call) != 0) {   \
            return -1;       \
        }                    \
    } while (0)

/* ---- activations ------------------------------------------------------------ */

typedef struct buf_spec {
    float **ptr;
    int64_t count;
} buf_spec;

enum { N_BUFS = 26 };

/* Every buffer with its element count, rows N = max(max_batch, 1) * T. */
static int buffers(const gpt_config *cfg, int64_t max_batch, gpt_acts_f32 *a, buf_spec *s)
{
    const int64_t B = max_batch > 0 ? max_batch : 1, T = cfg->context, N = B * T;
    const int64_t C = cfg->d_model, L = cfg->n_layer, V = cfg->vocab;
    const int64_t head_rows = N < GPT_HEAD_ROWS ? N : GPT_HEAD_ROWS;
    int k = 0;
    s[k++] = (buf_spec){&a->resid, (L + 1) * N * C};
    s[k++] = (buf_spec){&a->ln1, L * N * C};
    s[k++] = (buf_spec){&a->ln1_mean, L * N};
    s[k++] = (buf_spec){&a->ln1_rstd, L * N};
    s[k++] = (buf_spec){&a->qkv, L * N * 3 * C};
    s[k++] = (buf_spec){&a->att, L * B * cfg->n_head * T * T};
    s[k++] = (buf_spec){&a->atty, L * N * C};
    s[k++] = (buf_spec){&a->resid_mid, L * N * C};
    s[k++] = (buf_spec){&a->ln2, L * N * C};
    s[k++] = (buf_spec){&a->ln2_mean, L * N};
    s[k++] = (buf_spec){&a->ln2_rstd, L * N};
    s[k++] = (buf_spec){&a->fch, L * N * 4 * C};
    s[k++] = (buf_spec){&a->fch_gelu, L * N * 4 * C};
    s[k++] = (buf_spec){&a->lnf, N * C};
    s[k++] = (buf_spec){&a->lnf_mean, N};
    s[k++] = (buf_spec){&a->lnf_rstd, N};
    s[k++] = (buf_spec){&a->logits, head_rows * V};
    s[k++] = (buf_spec){&a->dlogits, head_rows * V};
    s[k++] = (buf_spec){&a->dres, N * C};
    s[k++] = (buf_spec){&a->dln, N * C};
    s[k++] = (buf_spec){&a->datty, N * C};
    s[k++] = (buf_spec){&a->dqkv, N * 3 * C};
    s[k++] = (buf_spec){&a->dfch_gelu, N * 4 * C};
    s[k++] = (buf_spec){&a->dfch, N * 4 * C};
    s[k++] = (buf_spec){&a->datt, T * T};
    return k;
}

int64_t gpt_acts_f32_bytes(const gpt_config *cfg, int64_t max_batch)
{
    char why[160];
    if (gpt_batch_validate(cfg, max_batch, why, sizeof why) != 0) {
        return -1;
    }
    gpt_acts_f32 dummy;
    memset(&dummy, 0, sizeof dummy);
    buf_spec s[N_BUFS];
    const int n = buffers(cfg, max_batch, &dummy, s);
    int64_t bytes = 0;
    for (int k = 0; k < n; k++) {
        bytes += s[k].count * (int64_t)sizeof(float);
    }
    return bytes;
}

int gpt_acts_f32_create(dtb_backend *be, const gpt_config *cfg, int64_t max_batch,
                        gpt_acts_f32 **out)
{
    *out = NULL;
    char why[160];
    if (strcmp(be->ops->name, "cpu") != 0) {
        return backend_error(be, "gpt f32: runs on the cpu backend only (host kernels), not %s",
                             be->ops->name);
    }
    if (gpt_batch_validate(cfg, max_batch, why, sizeof why) != 0) {
        return backend_error(be, "gpt f32 activations: %s", why);
    }
    gpt_acts_f32 *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return backend_error(be, "gpt f32 activations: out of host memory");
    }
    a->cfg = *cfg;
    a->max_batch = max_batch;
    buf_spec s[N_BUFS];
    const int n = buffers(cfg, max_batch, a, s);
    for (int k = 0; k < n; k++) {
        const size_t bytes = (size_t)s[k].count * sizeof(float);
        if (be->ops->alloc(be, bytes, (void **)s[k].ptr) != 0) {
            gpt_acts_f32_destroy(be, a);
            return -1;
        }
        a->bytes += (int64_t)bytes;
    }
    *out = a;
    return 0;
}

void gpt_acts_f32_destroy(dtb_backend *be, gpt_acts_f32 *acts)
{
    if (acts == NULL) {
        return;
    }
    buf_spec s[N_BUFS];
    const int n = buffers(&acts->cfg, acts->max_batch, acts, s);
    for (int k = 0; k < n; k++) {
        if (*s[k].ptr != NULL) {
            be->ops->release(be, *s[k].ptr);
        }
    }
    free(acts);
}

/* ---- the passes --------------------------------------------------------------- */

static int check_inputs(dtb_backend *be, const gpt_acts_f32 *a, const int32_t *tok,
                        const int32_t *tgt, int64_t B)
{
    if (B < 0 || B > a->max_batch) {
        return backend_error(be, "gpt f32: batch %lld outside 0..%lld", (long long)B,
                             (long long)a->max_batch);
    }
    for (int64_t n = 0; n < B * a->cfg.context; n++) {
        if (tok[n] < 0 || tok[n] >= a->cfg.vocab || tgt[n] < 0 || tgt[n] >= a->cfg.vocab) {
            return backend_error(be, "gpt f32: row %lld has token %d, target %d outside 0..%lld",
                                 (long long)n, (int)tok[n], (int)tgt[n],
                                 (long long)(a->cfg.vocab - 1));
        }
    }
    return 0;
}

/* Offsets of a block's tensors from the block's first element (ln_1.weight). */
static gpt_block_index block_local(const gpt_config *cfg)
{
    gpt_block_index bi = gpt_block_index_of(cfg, 0);
    const int64_t at = bi.ln_1_w;
    int64_t *f = &bi.ln_1_w;
    for (size_t k = 0; k < sizeof bi / sizeof *f; k++) {
        f[k] -= at;
    }
    return bi;
}

static int hook_failed(dtb_backend *be, const char *hook, int unit, int rc)
{
    if (be->error[0] == '\0') {
        backend_error(be, "gpt pass: %s(unit %d) failed with %d", hook, unit, rc);
    }
    return -1;
}

static int get_params(dtb_backend *be, const unit_hooks *h, int unit, int backward,
                      const float **P)
{
    const int rc = h->get_unit_params(h->ctx, unit, backward, P);
    return rc != 0 ? hook_failed(be, "get_unit_params", unit, rc) : 0;
}

static int put_params(dtb_backend *be, const unit_hooks *h, int unit, int backward)
{
    const int rc = h->put_unit_params != NULL ? h->put_unit_params(h->ctx, unit, backward) : 0;
    return rc != 0 ? hook_failed(be, "put_unit_params", unit, rc) : 0;
}

static int get_grads(dtb_backend *be, const unit_hooks *h, int unit, float **G)
{
    const int rc = h->get_unit_grads(h->ctx, unit, G);
    return rc != 0 ? hook_failed(be, "get_unit_grads", unit, rc) : 0;
}

static int grads_ready(dtb_backend *be, const unit_hooks *h, int unit)
{
    const int rc = h->unit_grads_ready != NULL ? h->unit_grads_ready(h->ctx, unit) : 0;
    return rc != 0 ? hook_failed(be, "unit_grads_ready", unit, rc) : 0;
}

/* The embedding (unit 0's wte and wpe) and the blocks (P of unit 1 + l, at
 * block-local offsets): fills every activation up to the last block's output. */
static int forward(dtb_backend *be, gpt_acts_f32 *a, const unit_hooks *h, const int32_t *tok,
                   int64_t B)
{
    const dtb_backend_ops *ops = be->ops;
    const gpt_config *cfg = &a->cfg;
    const int64_t T = cfg->context, N = B * T, C = cfg->d_model, NH = cfg->n_head;
    const float eps = (float)cfg->eps;
    const gpt_index gi = gpt_index_of(cfg);
    const gpt_block_index bi = block_local(cfg);
    const float *P = NULL;
    CHECK(get_params(be, h, 0, 0, &P));
    gpt_embed_forward_f32(tok, P + gi.wte, P + gi.wpe, a->resid, B, T, C);
    CHECK(put_params(be, h, 0, 0));
    for (int64_t l = 0; l < cfg->n_layer; l++) {
        float *x = a->resid + l * N * C, *ln1 = a->ln1 + l * N * C, *qkv = a->qkv + l * N * 3 * C;
        float *atty = a->atty + l * N * C, *mid = a->resid_mid + l * N * C;
        float *ln2 = a->ln2 + l * N * C, *fch = a->fch + l * N * 4 * C;
        float *fchg = a->fch_gelu + l * N * 4 * C, *next = a->resid + (l + 1) * N * C;
        CHECK(get_params(be, h, (int)(1 + l), 0, &P));
        gpt_layernorm_forward_f32(x, P + bi.ln_1_w, P + bi.ln_1_b, ln1, a->ln1_mean + l * N,
                                  a->ln1_rstd + l * N, N, C, eps);
        CHECK(ops->linear_forward(be, ln1, P + bi.attn_w, P + bi.attn_b, qkv, N, C, 3 * C));
        gpt_attention_forward_f32(qkv, a->att + l * B * NH * T * T, atty, B, T, C, NH);
        CHECK(ops->linear_forward(be, atty, P + bi.attn_proj_w, P + bi.attn_proj_b, mid, N, C, C));
        gpt_residual_add_f32(mid, x, N * C);
        gpt_layernorm_forward_f32(mid, P + bi.ln_2_w, P + bi.ln_2_b, ln2, a->ln2_mean + l * N,
                                  a->ln2_rstd + l * N, N, C, eps);
        CHECK(ops->linear_forward(be, ln2, P + bi.fc_w, P + bi.fc_b, fch, N, C, 4 * C));
        CHECK(ops->gelu_forward(be, fch, fchg, NULL, N * 4 * C));
        CHECK(ops->linear_forward(be, fchg, P + bi.mlp_proj_w, P + bi.mlp_proj_b, next, N, 4 * C,
                                  C));
        gpt_residual_add_f32(next, mid, N * C);
        CHECK(put_params(be, h, (int)(1 + l), 0));
    }
    return 0;
}

/* The head, logits = lnf wte^T, has no bias, and the backend's linear ops
 * need one (cpu adds b[o] and db[o] unconditionally), so its products are
 * cblas_sgemm calls here (host memory, hence the cpu backend only). Runs over
 * the rows in chunks of GPT_HEAD_ROWS; per chunk the backend's softmax
 * cross-entropy gives the loss and dlogits = (softmax - onehot) scale, then,
 * when dwte is not NULL, dln = dlogits wte (overwritten) and dwte += dlogits^T lnf. */
static int head(dtb_backend *be, gpt_acts_f32 *a, const float *wte, const int32_t *tgt, int64_t N,
                float scale, float *dwte, double *loss_sum)
{
    const int64_t V = a->cfg.vocab, C = a->cfg.d_model;
    *loss_sum = 0.0;
    for (int64_t r0 = 0; r0 < N; r0 += GPT_HEAD_ROWS) {
        const int64_t rows = N - r0 < GPT_HEAD_ROWS ? N - r0 : GPT_HEAD_ROWS;
        const float *xf = a->lnf + r0 * C;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)V, (int)C, 1.0f, xf,
                    (int)C, wte, (int)C, 0.0f, a->logits, (int)V);
        double part = 0.0;
        CHECK(be->ops->xent_forward_backward(be, a->logits, tgt + r0, rows, V,
                                             dwte != NULL ? scale : 0.0f, a->dlogits, &part));
        *loss_sum += part;
        if (dwte != NULL) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)C, (int)V, 1.0f,
                        a->dlogits, (int)V, wte, (int)C, 0.0f, a->dln + r0 * C, (int)C);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)V, (int)C, (int)rows, 1.0f,
                        a->dlogits, (int)V, xf, (int)C, 1.0f, dwte, (int)C);
        }
    }
    return 0;
}

/* Unit 0's backward-phase work: ln_f, the loss and, with gradients, the
 * head's share of wte's gradient and ln_f's backward into dres (the gradient
 * at the last block's output). *G0 gets unit 0's gradient view (NULL
 * without gradients); the embedding adds its share at the end of the pass. */
static int final_norm_and_head(dtb_backend *be, gpt_acts_f32 *a, const unit_hooks *h,
                               const int32_t *tgt, int64_t B, float scale, int with_grads,
                               float **G0, double *loss_sum)
{
    const gpt_config *cfg = &a->cfg;
    const int64_t N = B * cfg->context, C = cfg->d_model, L = cfg->n_layer;
    const gpt_index gi = gpt_index_of(cfg);
    const float *P = NULL;
    *G0 = NULL;
    CHECK(get_params(be, h, 0, 1, &P));
    gpt_layernorm_forward_f32(a->resid + L * N * C, P + gi.ln_f_w, P + gi.ln_f_b, a->lnf,
                              a->lnf_mean, a->lnf_rstd, N, C, (float)cfg->eps);
    if (with_grads) {
        CHECK(get_grads(be, h, 0, G0));
    }
    /* The head adds its share of wte's gradient first, the embedding its own last. */
    CHECK(head(be, a, P + gi.wte, tgt, N, scale, with_grads ? *G0 + gi.wte : NULL, loss_sum));
    if (with_grads) {
        memset(a->dres, 0, (size_t)(N * C) * sizeof(float));
        gpt_layernorm_backward_f32(a->dln, a->resid + L * N * C, P + gi.ln_f_w, a->lnf_mean,
                                   a->lnf_rstd, a->dres, *G0 + gi.ln_f_w, *G0 + gi.ln_f_b, N, C);
    }
    return put_params(be, h, 0, 1);
}

/* From dres = gradient at the last block's output down through the blocks;
 * then the embedding's share of unit 0's gradient G0. */
static int backward(dtb_backend *be, gpt_acts_f32 *a, const unit_hooks *h, const int32_t *tok,
                    int64_t B, float *G0)
{
    const dtb_backend_ops *ops = be->ops;
    const gpt_config *cfg = &a->cfg;
    const int64_t T = cfg->context, N = B * T, C = cfg->d_model, NH = cfg->n_head;
    const gpt_index gi = gpt_index_of(cfg);
    const gpt_block_index bi = block_local(cfg);
    for (int64_t l = cfg->n_layer - 1; l >= 0; l--) {
        const float *x = a->resid + l * N * C, *ln1 = a->ln1 + l * N * C;
        const float *qkv = a->qkv + l * N * 3 * C, *atty = a->atty + l * N * C;
        const float *mid = a->resid_mid + l * N * C, *ln2 = a->ln2 + l * N * C;
        const float *fch = a->fch + l * N * 4 * C, *fchg = a->fch_gelu + l * N * 4 * C;
        const int unit = (int)(1 + l);
        const float *P = NULL;
        float *G = NULL;
        CHECK(get_params(be, h, unit, 1, &P));
        CHECK(get_grads(be, h, unit, &G));
        /* MLP: dres is the gradient at the block's output. */
        CHECK(ops->linear_backward(be, a->dres, fchg, P + bi.mlp_proj_w, a->dfch_gelu,
                                   G + bi.mlp_proj_w, G + bi.mlp_proj_b, N, 4 * C, C));
        CHECK(ops->gelu_backward(be, fch, NULL, a->dfch_gelu, a->dfch, N * 4 * C));
        CHECK(ops->linear_backward(be, a->dfch, ln2, P + bi.fc_w, a->dln, G + bi.fc_w,
                                   G + bi.fc_b, N, C, 4 * C));
        gpt_layernorm_backward_f32(a->dln, mid, P + bi.ln_2_w, a->ln2_mean + l * N,
                                   a->ln2_rstd + l * N, a->dres, G + bi.ln_2_w, G + bi.ln_2_b, N,
                                   C);
        /* Attention: dres is now the gradient at the block's middle. */
        CHECK(ops->linear_backward(be, a->dres, atty, P + bi.attn_proj_w, a->datty,
                                   G + bi.attn_proj_w, G + bi.attn_proj_b, N, C, C));
        gpt_attention_backward_f32(a->datty, qkv, a->att + l * B * NH * T * T, a->dqkv, a->datt,
                                   B, T, C, NH);
        CHECK(ops->linear_backward(be, a->dqkv, ln1, P + bi.attn_w, a->dln, G + bi.attn_w,
                                   G + bi.attn_b, N, C, 3 * C));
        gpt_layernorm_backward_f32(a->dln, x, P + bi.ln_1_w, a->ln1_mean + l * N,
                                   a->ln1_rstd + l * N, a->dres, G + bi.ln_1_w, G + bi.ln_1_b, N,
                                   C);
        CHECK(grads_ready(be, h, unit));
        CHECK(put_params(be, h, unit, 1));
    }
    gpt_embed_backward_f32(a->dres, tok, G0 + gi.wte, G0 + gi.wpe, B, T, C);
    return grads_ready(be, h, 0);
}

static int pass(dtb_backend *be, gpt_acts_f32 *a, const unit_hooks *h, const int32_t *tok,
                const int32_t *tgt, int64_t B, float scale, int with_grads, double *loss_sum)
{
    *loss_sum = 0.0;
    if (h->get_unit_params == NULL || (with_grads && h->get_unit_grads == NULL)) {
        return backend_error(be, "gpt pass: get_unit_params and get_unit_grads are required");
    }
    CHECK(check_inputs(be, a, tok, tgt, B));
    /* No rows: every hook still runs (a scheme's collectives are in them),
     * over empty activations. */
    float *G0 = NULL;
    CHECK(forward(be, a, h, tok, B));
    CHECK(final_norm_and_head(be, a, h, tgt, B, scale, with_grads, &G0, loss_sum));
    return with_grads ? backward(be, a, h, tok, B, G0) : 0;
}

int gpt_f32_pass(dtb_backend *be, gpt_acts_f32 *acts, const unit_hooks *hooks,
                 const int32_t *tok, const int32_t *tgt, int64_t B, float scale,
                 double *loss_sum)
{
    return pass(be, acts, hooks, tok, tgt, B, scale, 1, loss_sum);
}

/* ---- flat buffers ------------------------------------------------------------ */

typedef struct flat_ctx {
    const gpt_config *cfg;
    const float *params;
    float *grads;
} flat_ctx;

int64_t gpt_unit_offset(const gpt_config *cfg, int unit)
{
    return unit == 0 ? 0 : gpt_block_index_of(cfg, unit - 1).ln_1_w;
}

static int flat_params(void *ctx, int unit, int backward, const float **P)
{
    (void)backward;
    const flat_ctx *f = ctx;
    *P = f->params + gpt_unit_offset(f->cfg, unit);
    return 0;
}

static int flat_grads(void *ctx, int unit, float **G)
{
    const flat_ctx *f = ctx;
    *G = f->grads + gpt_unit_offset(f->cfg, unit);
    return 0;
}

static int flat_pass(dtb_backend *be, gpt_acts_f32 *a, const float *params, const int32_t *tok,
                     const int32_t *tgt, int64_t B, float scale, float *grads, double *loss_sum)
{
    flat_ctx f = {.cfg = &a->cfg, .params = params, .grads = grads};
    const unit_hooks h = {.ctx = &f, .get_unit_params = flat_params, .get_unit_grads = flat_grads};
    return pass(be, a, &h, tok, tgt, B, scale, grads != NULL, loss_sum);
}

int gpt_f32_forward_backward(dtb_backend *be, gpt_acts_f32 *acts, const float *params,
                             const int32_t *tok, const int32_t *tgt, int64_t B, float scale,
                             float *grads, double *loss_sum)
{
    return flat_pass(be, acts, params, tok, tgt, B, scale, grads, loss_sum);
}

int gpt_f32_loss(dtb_backend *be, gpt_acts_f32 *acts, const float *params, const int32_t *tok,
                 const int32_t *tgt, int64_t B, double *loss_sum)
{
    return flat_pass(be, acts, params, tok, tgt, B, 0.0f, NULL, loss_sum);
}
