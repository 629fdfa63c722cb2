/*
 * The GPT-2 reference model (reference/gpt.h) on a tiny odd configuration
 * (V=67, T=7, L=2, NH=3, C=21: 2, 4 and 8 divide none of V, T, NH, C):
 *  1. the canonical layout (names, shapes, offsets, sizes of docs/model-spec.md 16);
 *  2. the fp64 model's gradient against central finite differences, on a
 *     sample of elements of every tensor;
 *  3. the fp32 model against the fp64 one (loss and gradient);
 *  4. the tied embedding: wte's gradient is the sum of the head's and the
 *     embedding's contributions, each checked on its own;
 *  5. accumulation (+=) over calls, batch 0, refusals.
 * Fixed seeds; random non-zero parameters (fp32-representable, so both models
 * see the same values) and tokens.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gpt.h"
#include "ref_util.h"

static const gpt_config TINY = {.vocab = 67, .context = 7, .n_layer = 2, .n_head = 3,
                                .d_model = 21, .eps = 1e-5};
enum { MAX_B = 40, MAX_TENSORS = 4 + 12 * 2 };

static double *dalloc(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

static float *falloc(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

/* Weights U(-0.4, 0.4) (wte, wpe U(-0.5, 0.5)), LayerNorm weights U(0.6, 1.4),
 * biases U(-0.2, 0.2); all float values, widened into pd. */
static void init_params(ref_rand *r, const gpt_tensor_info *tab, int64_t nt, float *p, double *pd)
{
    for (int64_t t = 0; t < nt; t++) {
        const int ln_weight = strstr(tab[t].name, "ln_") != NULL && strstr(tab[t].name, "weight");
        const double lo = tab[t].ndim == 2 ? (t < 2 ? -0.5 : -0.4) : ln_weight ? 0.6 : -0.2;
        const double hi = tab[t].ndim == 2 ? -lo : ln_weight ? 1.4 : 0.2;
        ref_fill_f32(r, p + tab[t].offset, tab[t].numel, lo, hi);
    }
    for (int64_t i = 0; i < tab[nt - 1].offset + tab[nt - 1].numel; i++) {
        pd[i] = p[i];
    }
}

static void tokens(ref_rand *r, int32_t *x, int64_t n, int64_t V)
{
    for (int64_t i = 0; i < n; i++) {
        x[i] = (int32_t)ref_rand_below(r, V);
    }
}

/* ---- 1. layout ---------------------------------------------------------------- */

static void check_layout(ref_checker *c, const gpt_tensor_info *tab)
{
    const gpt_config *cfg = &TINY;
    const int64_t nt = gpt_tensor_count(cfg), C = cfg->d_model;
    int ok = nt == 4 + 12 * cfg->n_layer && tab[0].offset == 0 &&
             tab[nt - 1].offset + tab[nt - 1].numel == gpt_param_count(cfg);
    for (int64_t t = 0; t + 1 < nt; t++) {
        ok = ok && tab[t + 1].offset == tab[t].offset + tab[t].numel &&
             tab[t].numel == tab[t].shape[0] * tab[t].shape[1];
    }
    static const char *const names[16] = {
        "wte", "wpe", "ln_f.weight", "ln_f.bias", "h1.ln_1.weight", "h1.ln_1.bias",
        "h1.attn.c_attn.weight", "h1.attn.c_attn.bias", "h1.attn.c_proj.weight",
        "h1.attn.c_proj.bias", "h1.ln_2.weight", "h1.ln_2.bias", "h1.mlp.c_fc.weight",
        "h1.mlp.c_fc.bias", "h1.mlp.c_proj.weight", "h1.mlp.c_proj.bias"};
    const int64_t rows[16] = {67, 7, C, C, C, C, 3 * C, 3 * C, C, C, C, C, 4 * C, 4 * C, C, C};
    const int64_t cols[16] = {C, C, 1, 1, 1, 1, C, 1, C, 1, 1, 1, C, 1, 4 * C, 1};
    for (int k = 0; k < 16; k++) {
        const gpt_tensor_info *t = &tab[k < 4 ? k : 12 + k]; /* block 1 */
        ok = ok && strcmp(t->name, names[k]) == 0 && t->shape[0] == rows[k] &&
             t->shape[1] == cols[k] && t->ndim == (cols[k] > 1 ? 2 : 1) &&
             t->layer == (k < 4 ? -1 : 1) && t->tied == (k == 0);
    }
    /* The index structs agree with the table. */
    const gpt_index gi = gpt_index_of(cfg);
    ok = ok && gi.wte == tab[0].offset && gi.wpe == tab[1].offset && gi.ln_f_w == tab[2].offset &&
         gi.ln_f_b == tab[3].offset;
    for (int64_t l = 0; l < cfg->n_layer; l++) {
        const gpt_block_index bi = gpt_block_index_of(cfg, l);
        const int64_t want[12] = {bi.ln_1_w, bi.ln_1_b, bi.attn_w, bi.attn_b, bi.attn_proj_w,
                                  bi.attn_proj_b, bi.ln_2_w, bi.ln_2_b, bi.fc_w, bi.fc_b,
                                  bi.mlp_proj_w, bi.mlp_proj_b};
        for (int k = 0; k < 12; k++) {
            ok = ok && want[k] == tab[4 + 12 * l + k].offset;
        }
    }
    ref_check(c, ok, "layout: %lld tensors in canonical order, names, shapes, layers, tie flag, "
              "adjacent offsets ending at Psi = %lld; gpt_index_of / gpt_block_index_of agree",
              (long long)nt, (long long)gpt_param_count(cfg));
    /* Sizes of docs/model-spec.md 16.1. */
    const gpt_config odd = {67, 7, 2, 5, 35, 1e-5}, g124 = {50257, 1024, 12, 12, 768, 1e-5};
    const gpt_config g355 = {50257, 1024, 24, 16, 1024, 1e-5}, g1558 = {50257, 1024, 48, 25, 1600, 1e-5};
    ref_check(c, gpt_param_count(&odd) == 32970 && gpt_param_count(&g124) == 124439808 &&
                     gpt_param_count(&g355) == 354823168 && gpt_param_count(&g1558) == 1557611200,
              "parameter counts of gpt-odd, gpt2-124m, -355m, -1558m as in the spec");
    char why[160];
    gpt_config bad = TINY;
    bad.n_head = 4;
    int refused = gpt_config_validate(&bad, why, sizeof why) != 0;
    bad = TINY, bad.eps = 0.0;
    refused = refused && gpt_config_validate(&bad, why, sizeof why) != 0;
    ref_check(c, refused && gpt_config_validate(&TINY, why, sizeof why) == 0 &&
                     gpt_batch_validate(&g124, 1, why, sizeof why) == 0,
              "gpt_config_validate refuses NH not dividing C and eps 0 (\"%s\")", why);
    printf("  gpt2-124m fp32 activations: %.2f GiB for B=1, %.2f GiB for B=8\n",
           (double)gpt_acts_f32_bytes(&g124, 1) / 0x1p30, (double)gpt_acts_f32_bytes(&g124, 8) / 0x1p30);
}

/* ---- 2. fp64 gradient against finite differences --------------------------- */

/* Loss * scale, untied when head != NULL. */
static double loss_of(gpt_acts_f64 *a, const double *p, const double *head, const int32_t *tok,
                      const int32_t *tgt, int64_t B, double scale)
{
    double l = 0.0;
    const int rc = head != NULL ? gpt_f64_loss_untied(a, p, head, tok, tgt, B, &l)
                                : gpt_f64_loss(a, p, tok, tgt, B, &l);
    return rc == 0 ? l * scale : NAN;
}

/* Central difference of loss_of in element i of x (params or head): h = 1e-5,
 * truncation ~ h^2 |f'''| ~ 1e-10, rounding ~ 1e-16 |f| / h ~ 1e-11. */
static double fd_at(gpt_acts_f64 *a, double *p, double *head, double *x, int64_t i,
                    const int32_t *tok, const int32_t *tgt, int64_t B, double scale)
{
    const double h = 1e-5, keep = x[i];
    x[i] = keep + h;
    const double up = loss_of(a, p, head, tok, tgt, B, scale);
    x[i] = keep - h;
    const double down = loss_of(a, p, head, tok, tgt, B, scale);
    x[i] = keep;
    return (up - down) / (2 * h);
}

/* Up to 16 sampled elements of x[0..numel) (first and last included): worst
 * |fd - g| / max(max|g| of the sample, 1e-8); *gmax = that max. */
static double fd_sample(ref_rand *r, gpt_acts_f64 *a, double *p, double *head, double *x,
                        const double *g, int64_t numel, const int32_t *tok, const int32_t *tgt,
                        int64_t B, double scale, double *gmax)
{
    double err = 0.0;
    *gmax = 0.0;
    for (int k = 0; k < 16 && k < numel; k++) {
        const int64_t i = k == 0 ? 0 : k == 1 ? numel - 1 : ref_rand_below(r, numel);
        err = fmax(err, fabs(fd_at(a, p, head, x, i, tok, tgt, B, scale) - g[i]));
        *gmax = fmax(*gmax, fabs(g[i]));
    }
    return err / fmax(*gmax, 1e-8);
}

static void check_fd(ref_checker *c, ref_rand *r, gpt_acts_f64 *a, const gpt_tensor_info *tab,
                     double *p)
{
    const int64_t B = 2, T = TINY.context, n = gpt_param_count(&TINY), nt = gpt_tensor_count(&TINY);
    const double scale = 1.0 / (double)(B * T);
    int32_t tok[14], tgt[14];
    tokens(r, tok, B * T, TINY.vocab), tokens(r, tgt, B * T, TINY.vocab);
    double *g = dalloc(n), loss = 0.0;
    const int rc = gpt_f64_forward_backward(a, p, tok, tgt, B, scale, g, &loss);
    double worst = 0.0, smallest = INFINITY;
    int64_t worst_t = 0;
    for (int64_t t = 0; t < nt; t++) {
        double gmax = 0.0;
        const double e = fd_sample(r, a, p, NULL, p + tab[t].offset, g + tab[t].offset,
                                   tab[t].numel, tok, tgt, B, scale, &gmax);
        smallest = fmin(smallest, gmax);
        if (e > worst) {
            worst = e, worst_t = t;
        }
    }
    ref_check(c, rc == 0 && isfinite(loss) && loss > 0.0 && worst < 1e-6 && smallest > 1e-5,
              "fp64 model (B=2, loss sum %.6f): 16 sampled elements of each of the %lld tensors vs "
              "central differences h=1e-5: worst |fd-g| / max|g| of a tensor = %.2g (%s) < 1e-6; "
              "every tensor's sample has max|g| >= %.2g > 1e-5", loss, (long long)nt, worst,
              tab[worst_t].name, smallest);
    free(g);
}

/* ---- 3. fp32 against fp64 ------------------------------------------------------ */

/* Not a rigorous bound: each operation's result is off by at most about k u
 * (u = 2^-24 = 6e-8) times the magnitudes it sums, k the longest reduction
 * (4C = 84, V = 67, N = 280 terms), and the network amplifies forward errors
 * by its condition, O(1..10) for these random weights. So:
 *   loss: relative error <= 16 u ~ 1e-6 (a sum of 280 positive per-row terms);
 *   each tensor's gradient, normwise: <= 168 u ~ 1e-5;
 *   per element, relative to max(|g|, 1e-2 max|g_t|): <= 2e-4 ~ 3400 u; the
 *   floor because an element's error scales with the magnitudes of the terms
 *   summed into it, not with |g| where they cancel (c_attn's key biases have
 *   gradient exactly 0: softmax ignores a shift of every score in a row).
 * Measured values are printed; they sit 6x or more below these. */
static void check_f32(ref_checker *c, ref_rand *r, dtb_backend *be, gpt_acts_f32 *a32,
                      gpt_acts_f64 *a64, const gpt_tensor_info *tab, const float *p,
                      const double *pd)
{
    const int64_t B = MAX_B, T = TINY.context, n = gpt_param_count(&TINY), nt = gpt_tensor_count(&TINY);
    int32_t tok[MAX_B * 7], tgt[MAX_B * 7];
    tokens(r, tok, B * T, TINY.vocab), tokens(r, tgt, B * T, TINY.vocab);
    float *g = falloc(n), *g2 = falloc(n);
    double *gd = dalloc(n), l32 = 0.0, l64 = 0.0, l32b = 0.0;
    const float scale = 1.0f / (float)(B * T);
    int rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, B, scale, g, &l32);
    rc |= gpt_f64_forward_backward(a64, pd, tok, tgt, B, (double)scale, gd, &l64);
    double worst_norm = 0.0, worst_elem = 0.0;
    int64_t wt = 0;
    for (int64_t t = 0; t < nt; t++) {
        double num = 0.0, den = 0.0, gmax = 0.0;
        const int64_t o = tab[t].offset;
        for (int64_t i = o; i < o + tab[t].numel; i++) {
            num += (g[i] - gd[i]) * (g[i] - gd[i]), den += gd[i] * gd[i];
            gmax = fmax(gmax, fabs(gd[i]));
        }
        for (int64_t i = o; i < o + tab[t].numel; i++) {
            worst_elem = fmax(worst_elem, fabs(g[i] - gd[i]) / fmax(fabs(gd[i]), 1e-2 * gmax));
        }
        if (sqrt(num / den) > worst_norm) {
            worst_norm = sqrt(num / den), wt = t;
        }
    }
    const double lerr = fabs(l32 - l64) / l64;
    ref_check(c, rc == 0 && lerr < 1e-6 && worst_norm < 1e-5 && worst_elem < 2e-4,
              "fp32 model vs fp64 (B=40, N=280: two head chunks): loss rel err %.2g < 1e-6, worst "
              "tensor normwise grad err %.2g (%s) < 1e-5, worst element err / max(|g|, 1e-2 "
              "max|g_t|) %.2g < 2e-4", lerr, worst_norm, tab[wt].name, worst_elem);
    /* Deterministic, and gpt_f32_loss is the same forward. */
    rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, B, scale, g2, &l32b);
    double l_only = 0.0;
    rc |= gpt_f32_loss(be, a32, p, tok, tgt, B, &l_only);
    ref_check(c, rc == 0 && memcmp(g, g2, (size_t)n * sizeof(float)) == 0 && l32b == l32 &&
                     l_only == l32,
              "fp32 model: a second pass gives the same bits; gpt_f32_loss = the pass's loss");
    free(g), free(g2), free(gd);
}

/* ---- 4. the tied embedding --------------------------------------------------- */

static void check_tied(ref_checker *c, ref_rand *r, gpt_acts_f64 *a, double *p)
{
    const int64_t B = 2, T = TINY.context, V = TINY.vocab, C = TINY.d_model, n = gpt_param_count(&TINY);
    const double scale = 1.0 / (double)(B * T);
    int32_t tok[14], tgt[14];
    tokens(r, tok, B * T, V), tokens(r, tgt, B * T, V);
    double *g = dalloc(n), *gu = dalloc(n), *head = dalloc(V * C), *dhead = dalloc(V * C);
    memcpy(head, p, (size_t)(V * C) * sizeof(double)); /* wte is at offset 0 */
    double lt = 0.0, lu = 0.0;
    int rc = gpt_f64_forward_backward(a, p, tok, tgt, B, scale, g, &lt);
    rc |= gpt_f64_forward_backward_untied(a, p, head, tok, tgt, B, scale, gu, dhead, &lu);
    /* Each contribution on its own, by differences of the untied model: in the
     * head copy (the head's share) and in wte (the embedding's, rows of tokens). */
    double gmax = 0.0, e_head = fd_sample(r, a, p, head, head, dhead, V * C, tok, tgt, B, scale, &gmax);
    double e_emb = 0.0, emax = 0.0;
    for (int k = 0; k < 16; k++) {
        const int64_t i = (int64_t)tok[ref_rand_below(r, B * T)] * C + ref_rand_below(r, C);
        e_emb = fmax(e_emb, fabs(fd_at(a, p, head, p, i, tok, tgt, B, scale) - gu[i]));
        emax = fmax(emax, fabs(gu[i]));
    }
    e_emb /= fmax(emax, 1e-8);
    /* The tied gradient is their sum; it is neither alone; rows of wte that no
     * token uses get the head's share only. */
    double sum_err = 0.0, nt = 0.0, ne = 0.0, nh = 0.0, unused = 0.0;
    int other_same = 1;
    for (int64_t i = 0; i < V * C; i++) {
        sum_err = fmax(sum_err, fabs(g[i] - (gu[i] + dhead[i])));
        nt += g[i] * g[i], ne += gu[i] * gu[i], nh += dhead[i] * dhead[i];
        int used = 0;
        for (int64_t m = 0; m < B * T; m++) {
            used = used || tok[m] == i / C;
        }
        unused = used ? unused : fmax(unused, fabs(gu[i]));
    }
    for (int64_t i = V * C; i < n; i++) {
        other_same = other_same && fabs(g[i] - gu[i]) <= 1e-15 * fabs(g[i]);
    }
    nt = sqrt(nt), ne = sqrt(ne), nh = sqrt(nh);
    ref_check(c, rc == 0 && lt == lu && e_head < 1e-6 && e_emb < 1e-6 && gmax > 1e-5 && emax > 1e-5,
              "untied model (head = copy of wte): same loss; 16 elements each of the head share vs "
              "differences in the copy: %.2g, of the embedding share vs differences in wte (token "
              "rows): %.2g (max err / max|g| < 1e-6)", e_head, e_emb);
    ref_check(c, sum_err <= 1e-14 * nt && unused == 0.0 && other_same && ne > 0.05 * nt && nh > 0.05 * nt,
              "tied wte gradient = head share + embedding share (max err %.2g, |g| %.3g, |head| "
              "%.3g, |emb| %.3g: neither alone); unused rows get no embedding share; other tensors "
              "equal", sum_err, nt, nh, ne);
    free(g), free(gu), free(head), free(dhead);
}

/* ---- 5. accumulation, batch 0, refusals -------------------------------------- */

static void check_accumulate(ref_checker *c, ref_rand *r, dtb_backend *be, gpt_acts_f32 *a32,
                             gpt_acts_f64 *a64, const float *p, const double *pd)
{
    const int64_t B = 3, T = TINY.context, V = TINY.vocab, n = gpt_param_count(&TINY);
    int32_t tok[42], tgt[42];
    tokens(r, tok, 2 * B * T, V), tokens(r, tgt, 2 * B * T, V);
    double *g1 = dalloc(n), *g2 = dalloc(n), l1 = 0.0, l2 = 0.0;
    int rc = gpt_f64_forward_backward(a64, pd, tok, tgt, B, 0.1, g1, &l1);
    memcpy(g2, g1, (size_t)n * sizeof(double));
    rc |= gpt_f64_forward_backward(a64, pd, tok, tgt, B, 0.1, g2, &l2);
    double twice = 0.0, gm = 0.0;
    for (int64_t i = 0; i < n; i++) {
        twice = fmax(twice, fabs(g2[i] - 2.0 * g1[i])), gm = fmax(gm, fabs(g1[i]));
    }
    ref_check(c, rc == 0 && l1 == l2 && twice <= 1e-14 * gm,
              "fp64: a second call adds the same gradient again (max |g2 - 2 g1| = %.2g)", twice);
    /* fp32: batch A then batch B into one buffer = gA + gB, to float rounding. */
    float *ga = falloc(n), *gb = falloc(n), *gab = falloc(n);
    double la = 0.0, lb = 0.0, lab = 0.0;
    rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, B, 0.1f, ga, &la);
    rc |= gpt_f32_forward_backward(be, a32, p, tok + B * T, tgt + B * T, B, 0.1f, gb, &lb);
    rc |= gpt_f32_forward_backward(be, a32, p, tok, tgt, B, 0.1f, gab, &lab);
    rc |= gpt_f32_forward_backward(be, a32, p, tok + B * T, tgt + B * T, B, 0.1f, gab, &lab);
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double s = (double)ga[i] + gb[i];
        num += (gab[i] - s) * (gab[i] - s), den += s * s;
    }
    ref_check(c, rc == 0 && lab == lb && sqrt(num / den) < 1e-6,
              "fp32: two calls accumulate gA + gB (normwise err %.2g < 1e-6)", sqrt(num / den));
    /* Batch 0 adds nothing; bad inputs are refused with a message. */
    memcpy(gb, gab, (size_t)n * sizeof(float));
    rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, 0, 0.1f, gab, &lab);
    rc |= gpt_f64_forward_backward(a64, pd, tok, tgt, 0, 0.1, g2, &l2);
    ref_check(c, rc == 0 && lab == 0.0 && l2 == 0.0 && memcmp(gb, gab, (size_t)n * sizeof(float)) == 0,
              "batch 0: loss 0, gradients unchanged");
    tok[5] = (int32_t)V;
    rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, B, 0.1f, gab, &lab) != 0 &&
         strstr(be->error, "token") != NULL;
    rc = rc && gpt_f64_forward_backward(a64, pd, tok, tgt, B, 0.1, g2, &l2) != 0;
    ref_check(c, rc, "token V refused: \"%s\" / \"%s\"", be->error, a64->error);
    tok[5] = 0, tgt[2] = -1;
    rc = gpt_f32_forward_backward(be, a32, p, tok, tgt, B, 0.1f, gab, &lab) != 0;
    rc = rc && gpt_f64_forward_backward(a64, pd, tok, tgt, B, 0.1, g2, &l2) != 0;
    tgt[2] = 0;
    rc = rc && gpt_f32_forward_backward(be, a32, p, tok, tgt, MAX_B + 1, 0.1f, gab, &lab) != 0 &&
         strstr(be->error, "batch") != NULL;
    ref_check(c, rc, "target -1 and a batch above max_batch refused: \"%s\"", be->error);
    free(g1), free(g2), free(ga), free(gb), free(gab);
}

int main(void)
{
    ref_checker c = {.test = "ref_gpt_model"};
    ref_rand r = {0x6E7B0002u};
    const int64_t n = gpt_param_count(&TINY);
    gpt_tensor_info tab[MAX_TENSORS];
    gpt_tensor_table(&TINY, tab);
    check_layout(&c, tab);
    dtb_backend *be = NULL;
    gpt_acts_f32 *a32 = NULL;
    gpt_acts_f64 *a64 = NULL;
    char err[256] = "";
    float *p = falloc(n);
    double *pd = dalloc(n);
    if (ref_check(&c, p && pd && backend_cpu_create(&be) == 0 &&
                          gpt_acts_f32_create(be, &TINY, MAX_B, &a32) == 0 &&
                          gpt_acts_f64_create(&TINY, MAX_B, &a64, err, sizeof err) == 0,
                  "create the cpu backend and activations for B <= %d (%s)", MAX_B, err)) {
        ref_check(&c, a32->bytes == gpt_acts_f32_bytes(&TINY, MAX_B),
                  "gpt_acts_f32_bytes = the bytes allocated (%lld)", (long long)a32->bytes);
        init_params(&r, tab, gpt_tensor_count(&TINY), p, pd);
        check_fd(&c, &r, a64, tab, pd);
        check_f32(&c, &r, be, a32, a64, tab, p, pd);
        check_tied(&c, &r, a64, pd);
        check_accumulate(&c, &r, be, a32, a64, p, pd);
    }
    gpt_acts_f32_destroy(be, a32);
    gpt_acts_f64_destroy(a64);
    backend_destroy(be);
    free(p), free(pd);
    return ref_finish(&c);
}
