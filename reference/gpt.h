/*
 * GPT-2 (pre-LayerNorm, tied output head) as reference math on the CPU: the
 * configuration, the canonical parameter layout, and whole-model forward and
 * backward passes in fp32 (gpt_model_f32.c: BLAS through the cpu backend,
 * kernels of gpt_kernels.h) and in fp64 (gpt_model_f64.c: plain loops, the
 * oracle for tiny models).
 *
 * Rows: a batch of B sequences of exactly T = context tokens gives N = B*T
 * rows n = b*T + t; tok[n] and tgt[n] (the next token) are in 0..V-1.
 * Forward, per row:
 *   x = wte[tok] + wpe[t]
 *   per block: a = LN1(x);  qkv = a Wattn^T + battn   ([N x 3C]: q, k, v in
 *              columns 0..C-1, C..2C-1, 2C..3C-1; head h uses h*hs..h*hs+hs-1)
 *              y = causal softmax(q k^T / sqrt(hs)) v  (per sequence and head)
 *              x = x + (y Wproj^T + bproj)
 *              m = LN2(x);  f = gelu(m Wfc^T + bfc);  x = x + (f Wmproj^T + bmproj)
 *   xf = LNf(x);  logits = xf wte^T  (no bias)
 *   loss_sum = sum_n (logsumexp(logits_n) - logits_n[tgt_n])
 * Backward adds (+=) the gradient of scale * loss_sum into a flat gradient
 * array of the parameters' layout; wte's gradient sums its two uses.
 */
#ifndef DTB_REFERENCE_GPT_H
#define DTB_REFERENCE_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "dtbench/plugin.h"
#include "unit_hooks.h"

typedef struct gpt_config {
    int64_t vocab;     /* V */
    int64_t context;   /* T: every sample is a full sequence of T tokens */
    int64_t n_layer;   /* L blocks */
    int64_t n_head;    /* NH, divides d_model; head size hs = C / NH */
    int64_t d_model;   /* C */
    double eps;        /* LayerNorm epsilon (GPT-2: 1e-5) */
} gpt_config;

/* 0, or -1 with a reason in err: sizes >= 1, NH divides C, eps > 0 and
 * finite, and sizes small enough for BLAS int dimensions and int64 counts
 * (V <= 2^31-1, T, C <= 2^20, L <= 4096). */
int gpt_config_validate(const gpt_config *cfg, char *err, size_t err_len);
/* gpt_config_validate, and 0 <= max_batch with max_batch * T <= 2^31-1 and
 * the activations' element count below 2^58. */
int gpt_batch_validate(const gpt_config *cfg, int64_t max_batch, char *err, size_t err_len);

/* ---- canonical layout ------------------------------------------------------
 * One flat array, tensors adjacent in this order (weights [out x in]
 * row-major, like torch.nn.Linear):
 *   wte [V x C], wpe [T x C], ln_f.weight [C], ln_f.bias [C], then for each
 *   block l: h{l}.ln_1.weight [C], h{l}.ln_1.bias [C],
 *   h{l}.attn.c_attn.weight [3C x C], h{l}.attn.c_attn.bias [3C],
 *   h{l}.attn.c_proj.weight [C x C], h{l}.attn.c_proj.bias [C],
 *   h{l}.ln_2.weight [C], h{l}.ln_2.bias [C], h{l}.mlp.c_fc.weight [4C x C],
 *   h{l}.mlp.c_fc.bias [4C], h{l}.mlp.c_proj.weight [C x 4C], h{l}.mlp.c_proj.bias [C].
 * Psi = V C + T C + 2 C + L (12 C^2 + 13 C)  (GPT-2 124M: 124,439,808). */
#define GPT_GLOBAL_TENSORS 4
#define GPT_BLOCK_TENSORS 12

/* Element offsets of the tensors in the flat array (index-based, so the same
 * struct serves float, double and device arrays). */
typedef struct gpt_index {
    int64_t wte, wpe, ln_f_w, ln_f_b;
} gpt_index;
typedef struct gpt_block_index {
    int64_t ln_1_w, ln_1_b;
    int64_t attn_w, attn_b;      /* attn.c_attn */
    int64_t attn_proj_w, attn_proj_b; /* attn.c_proj */
    int64_t ln_2_w, ln_2_b;
    int64_t fc_w, fc_b;          /* mlp.c_fc */
    int64_t mlp_proj_w, mlp_proj_b; /* mlp.c_proj */
} gpt_block_index;

int64_t gpt_param_count(const gpt_config *cfg);
/* Elements of one block: 12 C^2 + 13 C. */
int64_t gpt_block_param_count(const gpt_config *cfg);
gpt_index gpt_index_of(const gpt_config *cfg);
/* Block l in 0..L-1. */
gpt_block_index gpt_block_index_of(const gpt_config *cfg, int64_t l);

/* One tensor of the table (the lead maps it onto dtb_tensor_desc). */
typedef struct gpt_tensor_info {
    char name[DTB_NAME_LEN];   /* "wte", "h3.attn.c_attn.weight", ... */
    int32_t ndim;              /* 1 or 2 */
    int64_t shape[2];          /* [out, in] for weights; [n, 1] for vectors */
    int64_t numel;
    int64_t offset;
    int32_t layer;             /* block; -1 for wte, wpe, ln_f */
    int32_t tied;              /* 1 for wte (token embedding and output head) */
} gpt_tensor_info;

/* 4 + 12 L. */
int64_t gpt_tensor_count(const gpt_config *cfg);
/* Fills out[0 .. gpt_tensor_count(cfg)-1] in canonical order. */
void gpt_tensor_table(const gpt_config *cfg, gpt_tensor_info *out);

/* ---- fp32 model on the cpu backend (gpt_model_f32.c) ---------------------- */

/* Rows of logits held at once: the head runs over the N rows in chunks. */
#define GPT_HEAD_ROWS 256

/* What backward needs, for batches of up to max_batch sequences; layer l's
 * slice of a per-layer buffer starts at l * (its size for the call's B). */
typedef struct gpt_acts_f32 {
    gpt_config cfg;
    int64_t max_batch;
    float *resid;      /* [L+1][N][C]: resid[l] = input of block l, resid[L] = input of ln_f */
    float *ln1;        /* [L][N][C] LN1 output */
    float *ln1_mean, *ln1_rstd; /* [L][N] */
    float *qkv;        /* [L][N][3C] */
    float *att;        /* [L][B][NH][T][T] probabilities (0 above the diagonal) */
    float *atty;       /* [L][N][C] attention output y (input of attn.c_proj) */
    float *resid_mid;  /* [L][N][C] x after the attention residual (input of LN2) */
    float *ln2;        /* [L][N][C] */
    float *ln2_mean, *ln2_rstd; /* [L][N] */
    float *fch;        /* [L][N][4C] pre-GELU */
    float *fch_gelu;   /* [L][N][4C] */
    float *lnf;        /* [N][C] */
    float *lnf_mean, *lnf_rstd; /* [N] */
    float *logits, *dlogits;    /* [min(N, GPT_HEAD_ROWS)][V] */
    /* backward scratch */
    float *dres;       /* [N][C] gradient of the residual stream */
    float *dln;        /* [N][C] gradient of an LN output */
    float *datty;      /* [N][C] */
    float *dqkv;       /* [N][3C] */
    float *dfch_gelu, *dfch; /* [N][4C] */
    float *datt;       /* [T][T] */
    int64_t bytes;     /* total held */
} gpt_acts_f32;

/* Bytes gpt_acts_f32_create allocates for (cfg, max_batch); -1 when cfg is
 * invalid, max_batch < 0 or the size overflows. */
int64_t gpt_acts_f32_bytes(const gpt_config *cfg, int64_t max_batch);
/* be must be the cpu backend (the kernels are host code). 0, or -1 with a
 * message in be->error. */
int gpt_acts_f32_create(dtb_backend *be, const gpt_config *cfg, int64_t max_batch,
                        gpt_acts_f32 **out);
void gpt_acts_f32_destroy(dtb_backend *be, gpt_acts_f32 *acts);

/* Forward and backward over B <= max_batch sequences (tok, tgt [B][T] host).
 * Adds the gradient of scale * loss_sum into grads (same layout as params),
 * stores loss_sum (summed in double). B = 0 adds nothing, loss 0. 0, or -1
 * with a message in be->error (token or target outside 0..V-1, B too large). */
int gpt_f32_forward_backward(dtb_backend *be, gpt_acts_f32 *acts, const float *params,
                             const int32_t *tok, const int32_t *tgt, int64_t B, float scale,
                             float *grads, double *loss_sum);
/* The same pass through unit hooks (unit_hooks.h): unit 0 is wte, wpe and
 * ln_f (canonical offset 0), unit 1 + l is block l (from h{l}.ln_1.weight).
 * The hooks are called in this order:
 *   forward   get_params(0, 0) embedding put_params(0, 0);
 *             l = 0 .. L-1: get_params(1+l, 0) block put_params(1+l, 0)
 *   head      get_params(0, 1) ln_f, get_grads(0), logits, loss, the head's
 *             share of wte's gradient, ln_f backward, put_params(0, 1)
 *   backward  l = L-1 .. 0: get_params(1+l, 1) get_grads(1+l) block
 *             grads_ready(1+l) put_params(1+l, 1)
 *   embedding its share of wte's (and wpe's) gradient, grads_ready(0).
 * Unit 0's gradient is open from the head to the end of the pass (both uses
 * of wte add into it before it is ready); every other unit's only within
 * its own backward. B = 0 still calls every hook. */
int gpt_f32_pass(dtb_backend *be, gpt_acts_f32 *acts, const unit_hooks *hooks,
                 const int32_t *tok, const int32_t *tgt, int64_t B, float scale,
                 double *loss_sum);
/* Canonical offset of unit u (0 .. L). */
int64_t gpt_unit_offset(const gpt_config *cfg, int unit);
/* Forward only: loss_sum. */
int gpt_f32_loss(dtb_backend *be, gpt_acts_f32 *acts, const float *params, const int32_t *tok,
                 const int32_t *tgt, int64_t B, double *loss_sum);

/* ---- fp64 oracle (gpt_model_f64.c) ----------------------------------------- */

typedef struct gpt_acts_f64 {
    gpt_config cfg;
    int64_t max_batch;
    double *resid, *ln1, *ln1_mean, *ln1_rstd, *qkv, *att, *atty, *resid_mid;
    double *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *lnf, *lnf_mean, *lnf_rstd;
    double *logits, *dlogits;   /* [N][V] (whole batch) */
    double *dres, *dln, *datty, *dqkv, *dfch_gelu, *dfch;
    int64_t bytes;
    char error[256];            /* last error message */
} gpt_acts_f64;

/* 0, or -1 with a message in err (invalid cfg, out of memory). */
int gpt_acts_f64_create(const gpt_config *cfg, int64_t max_batch, gpt_acts_f64 **out, char *err,
                        size_t err_len);
void gpt_acts_f64_destroy(gpt_acts_f64 *acts);

/* As gpt_f32_forward_backward, in double; errors in acts->error. */
int gpt_f64_forward_backward(gpt_acts_f64 *acts, const double *params, const int32_t *tok,
                             const int32_t *tgt, int64_t B, double scale, double *grads,
                             double *loss_sum);
int gpt_f64_loss(gpt_acts_f64 *acts, const double *params, const int32_t *tok,
                 const int32_t *tgt, int64_t B, double *loss_sum);
/* The model with its two uses of wte separated, for tests of the tie: the
 * head reads head [V x C] instead of wte, and its gradient is added into
 * dhead instead of grads' wte (which then holds the embedding's share only).
 * With head = wte, grads' wte + dhead is the tied gradient. */
int gpt_f64_forward_backward_untied(gpt_acts_f64 *acts, const double *params, const double *head,
                                    const int32_t *tok, const int32_t *tgt, int64_t B,
                                    double scale, double *grads, double *dhead,
                                    double *loss_sum);
int gpt_f64_loss_untied(gpt_acts_f64 *acts, const double *params, const double *head,
                        const int32_t *tok, const int32_t *tgt, int64_t B, double *loss_sum);

#endif
