/*
 * Hints at the likely cause of a failure (a hint, never a verdict): after
 * the checks of a case, signatures of known bug classes are looked for in
 * the raw results and, where one matches, the first failing point it
 * explains gets a "likely_cause" line in its YAML. The statuses of the
 * checks are not touched.
 *
 *   uniform factor     the reported gradient norm is k times the oracle's at
 *                      every step (max/min of the ratios within 1%): k = N is
 *                      a sum over ranks instead of a mean, k = M a sum over
 *                      micro-batches, any other k a wrong divisor
 *   a wrong weighting  the step-1 gradient norm equals (to 1e-4) that of a
 *                      known wrong weighting of the samples, recomputed in
 *                      fp64 from the initial parameters and step 1's data:
 *                      each rank's mean (PyTorch DDP's default loss mean),
 *                      the sum of the ranks' means, each micro-batch's mean
 *   step 1 only        parameters right after step 1 and wrong at the end:
 *                      state carried between steps (momentum, Adam moments,
 *                      the bias-correction count, stale gathered parameters)
 *   one layer          a single layer's tensors are off (each over 10x its
 *                      fp32 spread) while every other is within 2x: a bucket,
 *                      shard or offset error for that layer
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks_internal.h"
#include "mlp_f64.h"
#include "model.h"

static check_result *failing(check_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (l->items[i].status == CHECK_FAIL && strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

static const check_result *named(const check_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

/* The common ratio of the reported to the oracle's gradient norm over every
 * step, or 0 when the ratios are not uniform (or not all reported). */
static double uniform_norm_factor(const check_inputs *in)
{
    double lo = INFINITY, hi = 0;
    for (int64_t s = 0; s < in->cfg->steps; s++) {
        const double x = in->run1[0].grad_norm[s], o = in->oracle->grad_norm[s];
        if (x < 0 || !(o > 0))
            return 0;
        lo = fmin(lo, x / o);
        hi = fmax(hi, x / o);
    }
    return lo > 0 && hi / lo <= 1.01 ? sqrt(lo * hi) : 0;
}

static int near(double a, double b)
{
    return fabs(a - b) <= 0.02 * b;
}

/* ---- wrong weightings of the samples, recomputed at step 1 ---------------
 * With every sample's gradient g_i at the initial parameters, the specified
 * step-1 gradient is (1/B) sum_i g_i. The wrong weightings: */
enum { W_RANK_MEAN, W_RANK_SUM, W_MICRO_MEAN, N_WEIGHTINGS };
static const char *const WEIGHTING_TEXT[N_WEIGHTINGS] = {
    "each rank averaged its own samples and the ranks' results were averaged (PyTorch DDP's "
    "default loss mean): exact only for equal shares; scale each rank's summed loss by 1/B",
    "each rank averaged its own samples and the ranks' results were summed",
    "each micro-batch was averaged over its own samples, then over the micro-batches: exact "
    "only for equal micro-batches; scale every sample by 1/B",
};

/* Sample i's weight under weighting w, for sample i of micro-batch m held by
 * rank r (b_mr samples of that micro-batch, b_r of the step, c_m in it). */
static double weight(int w, int64_t n, int64_t m_count, int64_t c_m, int64_t b_mr, int64_t b_r)
{
    switch (w) {
    case W_RANK_MEAN:
        return 1.0 / ((double)m_count * (double)n * (double)b_mr);
    case W_RANK_SUM:
        return 1.0 / (double)b_r;
    default:
        return 1.0 / ((double)m_count * (double)c_m);
    }
}

/* Fills norms[w] with the gradient norm at step 1 under each weighting;
 * 0 on success. fp32 cases only (the oracle's params are the init). */
static int weighted_norms(const check_inputs *in, double norms[N_WEIGHTINGS])
{
    const case_config *cfg = in->cfg;
    mlp_layout lay;
    mlp_layout_init(cfg->model, &lay);
    const int64_t P = lay.n_params, B = cfg->global_batch, M = cfg->micro_batches;
    const int64_t N = in->world_size, d0 = cfg->model->dims[0];
    mlp_f64_scratch s;
    if (mlp_f64_scratch_create(cfg->model, 1, &s) != 0)
        return -1;
    double *params = calloc((size_t)P, sizeof *params);
    double *g = calloc((size_t)P * N_WEIGHTINGS, sizeof *g);
    double *one = calloc((size_t)P, sizeof *one);
    float *init = calloc((size_t)P, sizeof *init), *xf = calloc((size_t)d0, sizeof *xf);
    double *x = calloc((size_t)d0, sizeof *x);
    int rc = params && g && one && init && xf && x ? 0 : -1;
    for (int t = 0; rc == 0 && t < lay.n_tensors; t++)
        rc = mlp_init_values(cfg->seed, cfg->model, t, 0, lay.numel[t], init + lay.offset[t]);
    for (int64_t i = 0; rc == 0 && i < P; i++)
        params[i] = init[i];
    /* b_r: a rank's samples over the whole step. */
    int64_t b_r[64] = {0};
    for (int64_t m = 0; rc == 0 && m < M && N <= 64; m++) {
        int64_t mf, mc;
        split_range(B, M, m, &mf, &mc);
        for (int64_t r = 0; r < N; r++) {
            int64_t rf, rc2;
            split_range(mc, N, r, &rf, &rc2);
            b_r[r] += rc2;
        }
    }
    for (int64_t m = 0; rc == 0 && m < M && N <= 64; m++) {
        int64_t mf, mc;
        split_range(B, M, m, &mf, &mc);
        for (int64_t r = 0; rc == 0 && r < N; r++) {
            int64_t rf, cnt;
            split_range(mc, N, r, &rf, &cnt);
            for (int64_t j = 0; rc == 0 && j < cnt; j++) {
                int32_t y;
                rc = mlp_sample_batch(cfg->seed, cfg->model, 1, mf + rf + j, 1, xf, &y);
                for (int64_t k = 0; k < d0; k++)
                    x[k] = xf[k];
                memset(one, 0, (size_t)P * sizeof *one);
                mlp_f64_forward_backward(&s, params, x, &y, 1, 1.0, one);
                for (int w = 0; w < N_WEIGHTINGS; w++) {
                    const double a = weight(w, N, M, mc, cnt, b_r[r]);
                    for (int64_t i = 0; i < P; i++)
                        g[(size_t)w * (size_t)P + (size_t)i] += a * one[i];
                }
            }
        }
    }
    for (int w = 0; rc == 0 && w < N_WEIGHTINGS; w++) {
        double sum = 0;
        for (int64_t i = 0; i < P; i++)
            sum += g[(size_t)w * (size_t)P + (size_t)i] * g[(size_t)w * (size_t)P + (size_t)i];
        norms[w] = sqrt(sum);
    }
    mlp_f64_scratch_free(&s);
    free(params), free(g), free(one), free(init), free(xf), free(x);
    return N > 64 ? -1 : rc;
}

/* The text of the wrong weighting whose step-1 norm the implementation
 * reported, or NULL. */
static const char *weighting_hint(const check_inputs *in)
{
    static _Thread_local char text[400];
    const double x = in->run1[0].grad_norm[0], o = in->oracle->grad_norm[0];
    if (in->cfg->precision != DTB_PREC_FP32 || !(x > 0) || fabs(x - o) <= 1e-4 * o)
        return NULL;
    double norms[N_WEIGHTINGS];
    if (weighted_norms(in, norms) != 0)
        return NULL;
    for (int w = 0; w < N_WEIGHTINGS; w++) {
        if (fabs(norms[w] - o) <= 1e-4 * o || fabs(x - norms[w]) > 1e-4 * norms[w])
            continue; /* indistinguishable from the right weighting here, or not it */
        snprintf(text, sizeof text, "the step-1 gradient norm %.6g is that of a wrong weighting "
                 "of the samples (%.6g; the specified mean gives %.6g): %s", x, norms[w], o,
                 WEIGHTING_TEXT[w]);
        return text;
    }
    return NULL;
}

static void hint_norm(const check_inputs *in, check_list *out)
{
    check_result *c = failing(out, "grad norm every step");
    if (!c)
        return;
    /* A recomputed weighting is the sharper evidence: it goes first. */
    const char *why = weighting_hint(in);
    if (why) {
        diag_text(&c->diag, "likely_cause", "%s", why);
        return;
    }
    const double k = uniform_norm_factor(in);
    const int n = in->world_size, m = in->cfg->micro_batches;
    if (!(k > 0 && fabs(k - 1) > 0.01))
        return;
    if (n > 1 && near(k, n))
        diag_text(&c->diag, "likely_cause", "the gradient norm is N = %d times the oracle's at "
                  "every step: gradients summed over the ranks instead of averaged", n);
    else if (m > 1 && near(k, m))
        diag_text(&c->diag, "likely_cause", "the gradient norm is M = %d times the oracle's at "
                  "every step: micro-batches summed instead of averaged", m);
    else
        diag_text(&c->diag, "likely_cause", "the gradient norm is %.4g times the oracle's at "
                  "every step: a wrong divisor in the loss or gradient average", k);
}

static void hint_steps(const check_inputs *in, check_list *out)
{
    if (in->cfg->n_checks < 2)
        return;
    char first[64], last[64];
    snprintf(first, sizeof first, "params after step %lld", (long long)in->cfg->check_steps[0]);
    snprintf(last, sizeof last, "params after step %lld",
             (long long)in->cfg->check_steps[in->cfg->n_checks - 1]);
    const check_result *one = named(out, first);
    check_result *end = failing(out, last);
    const check_result *loss = named(out, "loss every step");
    if (!end || !one || one->status != CHECK_PASS || diag_get_text(&end->diag, "likely_cause"))
        return;
    if (loss && loss->status == CHECK_FAIL && !failing(out, "grad norm every step"))
        return; /* a loss-only defect says more than the parameters */
    diag_text(&end->diag, "likely_cause", "parameters match the oracle after %s and not after "
              "%s: state carried between steps is wrong (momentum buffer, Adam moments, the "
              "bias-correction step count, or parameters gathered before the update)",
              first + strlen("params after "), last + strlen("params after "));
}

/* Per tensor: worst |x - o| over the baseline's worst |b - o| plus a few ulps. */
static void hint_one_layer(const check_inputs *in, check_list *out)
{
    const int k = in->cfg->n_checks - 1;
    if (k < 0)
        return;
    char name[64];
    snprintf(name, sizeof name, "params after step %lld", (long long)in->cfg->check_steps[k]);
    check_result *c = failing(out, name);
    if (!c)
        return;
    mlp_layout lay;
    mlp_layout_init(in->cfg->model, &lay);
    const int64_t n = lay.n_params;
    const double *o = in->oracle->params + (size_t)k * (size_t)n;
    const float *b = in->baseline->params + (size_t)k * (size_t)n;
    const float *x = in->run1[0].params + (size_t)k * (size_t)n;
    int bad_layer = -1, layers_off = 0, others_near = 1;
    for (int t = 0; t < lay.n_tensors; t++) {
        double ex = 0, eb = 0, scale = 0;
        for (int64_t i = lay.offset[t]; i < lay.offset[t + 1]; i++) {
            ex = fmax(ex, fabs((double)x[i] - o[i]));
            eb = fmax(eb, fabs((double)b[i] - o[i]));
            scale = fmax(scale, fabs(o[i]));
        }
        const double r = ex / (eb + 8 * FLT_EPSILON * scale + DBL_MIN);
        const int layer = t / 2;
        if (r > 10) {
            if (layer != bad_layer)
                layers_off++;
            bad_layer = layer;
        } else if (r > 2) {
            others_near = 0;
        }
    }
    if (layers_off == 1 && others_near && lay.n_tensors > 2)
        diag_text(&c->diag, "likely_cause", "only layer %d (%s, %s) is off, every other tensor "
                  "is within its fp32 spread: a bucket, shard or offset error for that layer",
                  bad_layer, lay.name[2 * bad_layer], lay.name[2 * bad_layer + 1]);
}

void checks_hint(const check_inputs *in, check_list *out)
{
    if (!in->oracle || !in->baseline)
        return;
    hint_norm(in, out);
    hint_one_layer(in, out); /* the more specific of the two on the last parameters */
    hint_steps(in, out);
}
