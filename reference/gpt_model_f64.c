/*
 * GPT-2 in fp64 with plain loops (gpt.h): the oracle for tiny models.
 *
 * Backward runs one residual-stream gradient dres [N x C] down the blocks:
 * LayerNorm backward adds into it (gpt_kernels.h), so after LN2's backward it
 * is the gradient at the block's middle and after LN1's at the block's input.
 */
#include "gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_kernels.h"
#include "mlp_f64.h"

/* ---- activations ------------------------------------------------------------ */

typedef struct buf_spec {
    double **ptr;
    int64_t count;
} buf_spec;

enum { N_BUFS = 24 };

/* Every buffer with its element count, rows N = max(max_batch, 1) * T. */
static int buffers(const gpt_config *cfg, int64_t max_batch, gpt_acts_f64 *a, buf_spec *s)
{
    const int64_t B = max_batch > 0 ? max_batch : 1, T = cfg->context, N = B * T;
    const int64_t C = cfg->d_model, L = cfg->n_layer, V = cfg->vocab;
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
    s[k++] = (buf_spec){&a->logits, N * V};
    s[k++] = (buf_spec){&a->dlogits, N * V};
    s[k++] = (buf_spec){&a->dres, N * C};
    s[k++] = (buf_spec){&a->dln, N * C};
    s[k++] = (buf_spec){&a->datty, N * C};
    s[k++] = (buf_spec){&a->dqkv, N * 3 * C};
    s[k++] = (buf_spec){&a->dfch_gelu, N * 4 * C};
    s[k++] = (buf_spec){&a->dfch, N * 4 * C};
    return k;
}

int gpt_acts_f64_create(const gpt_config *cfg, int64_t max_batch, gpt_acts_f64 **out, char *err,
                        size_t err_len)
{
    *out = NULL;
    if (gpt_batch_validate(cfg, max_batch, err, err_len) != 0) {
        return -1;
    }
    gpt_acts_f64 *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, err_len, "gpt f64: out of memory");
        return -1;
    }
    a->cfg = *cfg;
    a->max_batch = max_batch;
    buf_spec s[N_BUFS];
    const int n = buffers(cfg, max_batch, a, s);
    for (int k = 0; k < n; k++) {
        *s[k].ptr = malloc((size_t)s[k].count * sizeof(double));
        if (*s[k].ptr == NULL) {
            snprintf(err, err_len, "gpt f64: out of memory allocating %lld doubles",
                     (long long)s[k].count);
            gpt_acts_f64_destroy(a);
            return -1;
        }
        a->bytes += s[k].count * (int64_t)sizeof(double);
    }
    *out = a;
    return 0;
}

void gpt_acts_f64_destroy(gpt_acts_f64 *acts)
{
    if (acts == NULL) {
        return;
    }
    buf_spec s[N_BUFS];
    const int n = buffers(&acts->cfg, acts->max_batch, acts, s);
    for (int k = 0; k < n; k++) {
        free(*s[k].ptr);
    }
    free(acts);
}

/* ---- the passes --------------------------------------------------------------- */

static int check_inputs(gpt_acts_f64 *a, const int32_t *tok, const int32_t *tgt, int64_t B)
{
    if (B < 0 || B > a->max_batch) {
        snprintf(a->error, sizeof a->error, "gpt f64: batch %lld outside 0..%lld", (long long)B,
                 (long long)a->max_batch);
        return -1;
    }
    for (int64_t n = 0; n < B * a->cfg.context; n++) {
        if (tok[n] < 0 || tok[n] >= a->cfg.vocab || tgt[n] < 0 || tgt[n] >= a->cfg.vocab) {
            snprintf(a->error, sizeof a->error,
                     "gpt f64: row %lld has token %d, target %d outside 0..%lld", (long long)n,
                     (int)tok[n], (int)tgt[n], (long long)(a->cfg.vocab - 1));
            return -1;
        }
    }
    return 0;
}

/* Embedding, the blocks and ln_f: fills every activation up to a->lnf. */
static void forward(gpt_acts_f64 *a, const double *P, const int32_t *tok, int64_t B)
{
    const gpt_config *cfg = &a->cfg;
    const int64_t T = cfg->context, N = B * T, C = cfg->d_model, NH = cfg->n_head;
    const gpt_index gi = gpt_index_of(cfg);
    gpt_embed_forward_f64(tok, P + gi.wte, P + gi.wpe, a->resid, B, T, C);
    for (int64_t l = 0; l < cfg->n_layer; l++) {
        const gpt_block_index bi = gpt_block_index_of(cfg, l);
        double *x = a->resid + l * N * C, *ln1 = a->ln1 + l * N * C, *qkv = a->qkv + l * N * 3 * C;
        double *atty = a->atty + l * N * C, *mid = a->resid_mid + l * N * C;
        double *ln2 = a->ln2 + l * N * C, *fch = a->fch + l * N * 4 * C;
        double *fchg = a->fch_gelu + l * N * 4 * C, *next = a->resid + (l + 1) * N * C;
        gpt_layernorm_forward_f64(x, P + bi.ln_1_w, P + bi.ln_1_b, ln1, a->ln1_mean + l * N,
                                  a->ln1_rstd + l * N, N, C, cfg->eps);
        linear_forward_f64(ln1, P + bi.attn_w, P + bi.attn_b, qkv, N, C, 3 * C);
        gpt_attention_forward_f64(qkv, a->att + l * B * NH * T * T, atty, B, T, C, NH);
        linear_forward_f64(atty, P + bi.attn_proj_w, P + bi.attn_proj_b, mid, N, C, C);
        gpt_residual_add_f64(mid, x, N * C);
        gpt_layernorm_forward_f64(mid, P + bi.ln_2_w, P + bi.ln_2_b, ln2, a->ln2_mean + l * N,
                                  a->ln2_rstd + l * N, N, C, cfg->eps);
        linear_forward_f64(ln2, P + bi.fc_w, P + bi.fc_b, fch, N, C, 4 * C);
        gelu_forward_f64(fch, fchg, N * 4 * C);
        linear_forward_f64(fchg, P + bi.mlp_proj_w, P + bi.mlp_proj_b, next, N, 4 * C, C);
        gpt_residual_add_f64(next, mid, N * C);
    }
    gpt_layernorm_forward_f64(a->resid + cfg->n_layer * N * C, P + gi.ln_f_w, P + gi.ln_f_b, a->lnf,
                              a->lnf_mean, a->lnf_rstd, N, C, cfg->eps);
}

/* logits = lnf head^T (no bias); returns the loss sum; with dhead != NULL also
 * dlogits = (softmax - onehot) scale, dln = dlogits head, dhead += dlogits^T lnf. */
static double head_pass(gpt_acts_f64 *a, const double *H, const int32_t *tgt, int64_t N, double scale,
                   double *dhead)
{
    const int64_t V = a->cfg.vocab, C = a->cfg.d_model;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t v = 0; v < V; v++) {
            double s = 0.0;
            for (int64_t c = 0; c < C; c++) {
                s += a->lnf[n * C + c] * H[v * C + c];
            }
            a->logits[n * V + v] = s;
        }
    }
    if (dhead == NULL) {
        return xent_forward_backward_f64(a->logits, tgt, N, V, 0.0, NULL);
    }
    const double loss = xent_forward_backward_f64(a->logits, tgt, N, V, scale, a->dlogits);
    memset(a->dln, 0, (size_t)(N * C) * sizeof(double));
    for (int64_t n = 0; n < N; n++) {
        for (int64_t v = 0; v < V; v++) {
            const double g = a->dlogits[n * V + v];
            for (int64_t c = 0; c < C; c++) {
                a->dln[n * C + c] += g * H[v * C + c];
                dhead[v * C + c] += g * a->lnf[n * C + c];
            }
        }
    }
    return loss;
}

static void backward(gpt_acts_f64 *a, const double *P, const int32_t *tok, int64_t B, double *G)
{
    const gpt_config *cfg = &a->cfg;
    const int64_t T = cfg->context, N = B * T, C = cfg->d_model, NH = cfg->n_head;
    const int64_t L = cfg->n_layer;
    const gpt_index gi = gpt_index_of(cfg);
    memset(a->dres, 0, (size_t)(N * C) * sizeof(double));
    gpt_layernorm_backward_f64(a->dln, a->resid + L * N * C, P + gi.ln_f_w, a->lnf_mean,
                               a->lnf_rstd, a->dres, G + gi.ln_f_w, G + gi.ln_f_b, N, C);
    for (int64_t l = L - 1; l >= 0; l--) {
        const gpt_block_index bi = gpt_block_index_of(cfg, l);
        const double *x = a->resid + l * N * C, *ln1 = a->ln1 + l * N * C;
        const double *qkv = a->qkv + l * N * 3 * C, *atty = a->atty + l * N * C;
        const double *mid = a->resid_mid + l * N * C, *ln2 = a->ln2 + l * N * C;
        const double *fch = a->fch + l * N * 4 * C, *fchg = a->fch_gelu + l * N * 4 * C;
        /* MLP: dres is the gradient at the block's output. */
        linear_backward_f64(a->dres, fchg, P + bi.mlp_proj_w, a->dfch_gelu, G + bi.mlp_proj_w,
                            G + bi.mlp_proj_b, N, 4 * C, C);
        gelu_backward_f64(fch, a->dfch_gelu, a->dfch, N * 4 * C);
        linear_backward_f64(a->dfch, ln2, P + bi.fc_w, a->dln, G + bi.fc_w, G + bi.fc_b, N, C,
                            4 * C);
        gpt_layernorm_backward_f64(a->dln, mid, P + bi.ln_2_w, a->ln2_mean + l * N,
                                   a->ln2_rstd + l * N, a->dres, G + bi.ln_2_w, G + bi.ln_2_b, N,
                                   C);
        /* Attention: dres is now the gradient at the block's middle. */
        linear_backward_f64(a->dres, atty, P + bi.attn_proj_w, a->datty, G + bi.attn_proj_w,
                            G + bi.attn_proj_b, N, C, C);
        gpt_attention_backward_f64(a->datty, qkv, a->att + l * B * NH * T * T, a->dqkv, B, T, C,
                                   NH);
        linear_backward_f64(a->dqkv, ln1, P + bi.attn_w, a->dln, G + bi.attn_w, G + bi.attn_b, N,
                            C, 3 * C);
        gpt_layernorm_backward_f64(a->dln, x, P + bi.ln_1_w, a->ln1_mean + l * N,
                                   a->ln1_rstd + l * N, a->dres, G + bi.ln_1_w, G + bi.ln_1_b, N,
                                   C);
    }
    gpt_embed_backward_f64(a->dres, tok, G + gi.wte, G + gi.wpe, B, T, C);
}

/* H: the head's weight (NULL: wte); dH: its gradient (NULL: grads' wte). */
static int pass(gpt_acts_f64 *a, const double *P, const double *H, const int32_t *tok,
                const int32_t *tgt, int64_t B, double scale, double *G, double *dH,
                double *loss_sum)
{
    *loss_sum = 0.0;
    if (check_inputs(a, tok, tgt, B) != 0) {
        return -1;
    }
    if (B == 0) {
        return 0;
    }
    const gpt_index gi = gpt_index_of(&a->cfg);
    forward(a, P, tok, B);
    const int64_t N = B * a->cfg.context;
    const double *Hw = H != NULL ? H : P + gi.wte;
    if (G == NULL) {
        *loss_sum = head_pass(a, Hw, tgt, N, 0.0, NULL);
        return 0;
    }
    *loss_sum = head_pass(a, Hw, tgt, N, scale, dH != NULL ? dH : G + gi.wte);
    backward(a, P, tok, B, G);
    return 0;
}

int gpt_f64_forward_backward(gpt_acts_f64 *acts, const double *params, const int32_t *tok,
                             const int32_t *tgt, int64_t B, double scale, double *grads,
                             double *loss_sum)
{
    return pass(acts, params, NULL, tok, tgt, B, scale, grads, NULL, loss_sum);
}

int gpt_f64_loss(gpt_acts_f64 *acts, const double *params, const int32_t *tok,
                 const int32_t *tgt, int64_t B, double *loss_sum)
{
    return pass(acts, params, NULL, tok, tgt, B, 0.0, NULL, NULL, loss_sum);
}

int gpt_f64_forward_backward_untied(gpt_acts_f64 *acts, const double *params, const double *head,
                                    const int32_t *tok, const int32_t *tgt, int64_t B,
                                    double scale, double *grads, double *dhead,
                                    double *loss_sum)
{
    if (head == NULL || dhead == NULL) {
        *loss_sum = 0.0;
        snprintf(acts->error, sizeof acts->error, "gpt f64 untied: head or dhead is NULL");
        return -1;
    }
    return pass(acts, params, head, tok, tgt, B, scale, grads, dhead, loss_sum);
}

int gpt_f64_loss_untied(gpt_acts_f64 *acts, const double *params, const double *head,
                        const int32_t *tok, const int32_t *tgt, int64_t B, double *loss_sum)
{
    return pass(acts, params, head, tok, tgt, B, 0.0, NULL, NULL, loss_sum);
}
