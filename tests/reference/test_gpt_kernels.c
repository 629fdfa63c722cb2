/*
 * The GPT-2 kernels (reference/gpt_kernels.h), each in two steps:
 *  1. the fp64 kernel's backward against central finite differences of a
 *     random linear functional sum(R .* out) of its output;
 *  2. the fp32 kernel, forward and backward, against the fp64 kernel on the
 *     same fp32-representable inputs, within first-order rounding bounds
 *     derived at each check (u = 2^-24; a sum of k terms in float is off by at
 *     most about k u times the sum of the terms' magnitudes).
 * Fixed seeds, random non-zero data, odd sizes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_kernels.h"
#include "ref_util.h"

static const double U32 = 0x1p-24; /* unit roundoff of fp32 */

static double *dalloc(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

static float *falloc(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

static void fill_f64(ref_rand *r, double *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) {
        x[i] = ref_rand_uniform(r, lo, hi);
    }
}

static void widen(const float *src, double *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        dst[i] = src[i];
    }
}

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

/* max_i |an_i - fd_i| / max_i |fd_i| */
static double fd_rel(const double *an, const double *fd, int64_t n)
{
    double err = 0.0, mag = 1e-300;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, fabs(an[i] - fd[i]));
        mag = fmax(mag, fabs(fd[i]));
    }
    return err / mag;
}

/* max_i |a32_i - a64_i| / (u mag_i): the error in units of u times its magnitude bound. */
static double ratio_u(const float *a32, const double *a64, const double *mag, int64_t n)
{
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(a32[i] - a64[i]) / (U32 * mag[i] + 1e-300));
    }
    return worst;
}

/* ---- LayerNorm ---------------------------------------------------------------- */

typedef struct ln_case {
    int64_t N, C;
    double *x, *w, *b, *R, *out, *mean, *rstd;
} ln_case;

static double ln_objective(ln_case *k)
{
    gpt_layernorm_forward_f64(k->x, k->w, k->b, k->out, k->mean, k->rstd, k->N, k->C, 1e-5);
    return dot(k->out, k->R, k->N * k->C);
}

static void check_layernorm_fd(ref_checker *c, ref_rand *r)
{
    ln_case k = {.N = 5, .C = 13};
    const int64_t N = k.N, C = k.C, n_all = N * C + 2 * C;
    k.x = dalloc(N * C), k.w = dalloc(C), k.b = dalloc(C), k.R = dalloc(N * C);
    k.out = dalloc(N * C), k.mean = dalloc(N), k.rstd = dalloc(N);
    double *an = dalloc(n_all), *fd = dalloc(n_all), *start = dalloc(n_all);
    fill_f64(r, k.x, N * C, -1, 3), fill_f64(r, k.w, C, 0.5, 1.5), fill_f64(r, k.b, C, -0.5, 0.5);
    fill_f64(r, k.R, N * C, -1, 1), fill_f64(r, start, n_all, -1, 1);
    ln_objective(&k);
    /* xhat = (out - b) / w has mean 0 and mean square var / (var + eps) per row. */
    double moments = 0.0;
    for (int64_t n = 0; n < N; n++) {
        double m1 = 0.0, m2 = 0.0, var = 0.0;
        for (int64_t j = 0; j < C; j++) {
            const double xh = (k.out[n * C + j] - k.b[j]) / k.w[j];
            m1 += xh / (double)C, m2 += xh * xh / (double)C;
            var += (k.x[n * C + j] - k.mean[n]) * (k.x[n * C + j] - k.mean[n]) / (double)C;
        }
        moments = fmax(moments, fmax(fabs(m1), fabs(m2 - var / (var + 1e-5))));
    }
    ref_check(c, moments < 1e-14, "layernorm_f64: normalised rows have mean 0, mean square "
              "var/(var+eps) (err %.2g)", moments);
    /* Backward adds into dx, dw, db: start them non-zero and subtract. */
    memcpy(an, start, (size_t)n_all * sizeof(double));
    gpt_layernorm_backward_f64(k.R, k.x, k.w, k.mean, k.rstd, an, an + N * C, an + N * C + C, N, C);
    for (int64_t i = 0; i < n_all; i++) {
        an[i] -= start[i];
    }
    /* Central differences: truncation ~h^2 |f'''|, rounding ~1e-16 |f| / h. */
    const double h = 1e-6;
    double *params[3] = {k.x, k.w, k.b};
    const int64_t sizes[3] = {N * C, C, C};
    int64_t at = 0;
    for (int p = 0; p < 3; p++) {
        for (int64_t i = 0; i < sizes[p]; i++) {
            const double keep = params[p][i];
            params[p][i] = keep + h;
            const double up = ln_objective(&k);
            params[p][i] = keep - h;
            const double down = ln_objective(&k);
            params[p][i] = keep;
            fd[at++] = (up - down) / (2 * h);
        }
    }
    const double err = fd_rel(an, fd, n_all);
    ref_check(c, err < 1e-8, "layernorm_backward_f64 (dx, dw, db +=) vs central differences "
              "h=1e-6, N=5 C=13: max err / max|g| = %.2g < 1e-8", err);
    free(k.x), free(k.w), free(k.b), free(k.R), free(k.out), free(k.mean), free(k.rstd);
    free(an), free(fd), free(start);
}

/* Bounds (first order, per element, rm = rstd * mean_c |x| of the row):
 *   rstd: var = sum (x - mean)^2 / C is off by (C+6)u relatively (the error of
 *         mean enters only squared), so rstd by (C/2 + 5)u;
 *   xhat: |d xhat| <= (C+7) u (|xhat| + rm)  (mean is off by (C+1) u mean|x|);
 *   out = xhat w + b:  |d out| <= (C+9) u (|w| (|xhat| + rm) + |b|);
 *   with g = dout w: mean(g) is off by (C+2)u mean|g|, mean(g xhat) by
 *   (2C+10) u mean(|g| (|xhat| + rm)), so
 *   |d dx| <= (4C+32) u rstd (|g| + mean|g| + (|xhat| + rm) mean(|g| (|xhat| + rm)));
 *   |d dw| <= (N+C+8) u sum_n |dout| (|xhat| + rm);  |d db| <= N u sum_n |dout|. */
static void check_layernorm_f32(ref_checker *c, ref_rand *r)
{
    /* N C >= DTB_PARALLEL_MIN: rows split over OpenMP threads. */
    const int64_t N = 347, C = 96;
    float *x = falloc(N * C), *w = falloc(C), *b = falloc(C), *dout = falloc(N * C);
    float *out = falloc(N * C), *mean = falloc(N), *rstd = falloc(N), *dx = falloc(N * C);
    float *dw = falloc(C), *db = falloc(C), *dx0 = falloc(N * C);
    double *xd = dalloc(N * C), *wd = dalloc(C), *bd = dalloc(C), *doutd = dalloc(N * C);
    double *outd = dalloc(N * C), *meand = dalloc(N), *rstdd = dalloc(N), *dxd = dalloc(N * C);
    double *dwd = dalloc(C), *dbd = dalloc(C);
    double *m_out = dalloc(N * C), *m_dx = dalloc(N * C), *m_dw = dalloc(C), *m_db = dalloc(C);
    ref_fill_f32(r, x, N * C, -1, 3), ref_fill_f32(r, w, C, -1.5, 1.5);
    ref_fill_f32(r, b, C, -0.5, 0.5), ref_fill_f32(r, dout, N * C, -1, 1);
    widen(x, xd, N * C), widen(w, wd, C), widen(b, bd, C), widen(dout, doutd, N * C);
    gpt_layernorm_forward_f32(x, w, b, out, mean, rstd, N, C, 1e-5f);
    gpt_layernorm_forward_f64(xd, wd, bd, outd, meand, rstdd, N, C, (double)1e-5f);
    gpt_layernorm_backward_f32(dout, x, w, mean, rstd, dx, dw, db, N, C);
    gpt_layernorm_backward_f64(doutd, xd, wd, meand, rstdd, dxd, dwd, dbd, N, C);
    for (int64_t n = 0; n < N; n++) {
        double ax = 0.0, mg = 0.0, mgx = 0.0;
        for (int64_t j = 0; j < C; j++) {
            ax += fabs(xd[n * C + j]) / (double)C;
        }
        const double rm = rstdd[n] * ax;
        for (int64_t j = 0; j < C; j++) {
            const double xh = (xd[n * C + j] - meand[n]) * rstdd[n], g = fabs(doutd[n * C + j] * wd[j]);
            m_out[n * C + j] = fabs(wd[j]) * (fabs(xh) + rm) + fabs(bd[j]);
            m_dw[j] += fabs(doutd[n * C + j]) * (fabs(xh) + rm);
            m_db[j] += fabs(doutd[n * C + j]);
            mg += g / (double)C, mgx += g * (fabs(xh) + rm) / (double)C;
        }
        for (int64_t j = 0; j < C; j++) {
            const double xh = (xd[n * C + j] - meand[n]) * rstdd[n], g = fabs(doutd[n * C + j] * wd[j]);
            m_dx[n * C + j] = rstdd[n] * (g + mg + (fabs(xh) + rm) * mgx);
        }
    }
    const double r_out = ratio_u(out, outd, m_out, N * C), r_dx = ratio_u(dx, dxd, m_dx, N * C);
    const double r_dw = ratio_u(dw, dwd, m_dw, C), r_db = ratio_u(db, dbd, m_db, C);
    double r_rstd = 0.0;
    for (int64_t n = 0; n < N; n++) {
        r_rstd = fmax(r_rstd, fabs(rstd[n] - rstdd[n]) / (U32 * rstdd[n]));
    }
    ref_check(c, r_out <= C + 9 && r_rstd <= C / 2 + 5,
              "layernorm_forward_f32 vs f64 (N=347 C=96): out err/(u (|w|(|xhat|+rm)+|b|)) = %.2f "
              "<= C+9; rstd rel err/u = %.2f <= C/2+5", r_out, r_rstd);
    ref_check(c, r_dx <= 4 * C + 32 && r_dw <= N + C + 8 && r_db <= N,
              "layernorm_backward_f32 vs f64: dx %.2f <= 4C+32, dw %.2f <= N+C+8, db %.2f <= N "
              "(err / (u magnitude))", r_dx, r_dw, r_db);
    /* dx +=: the same update from a non-zero start is fl(dx0 + dx) bit for bit. */
    ref_fill_f32(r, dx0, N * C, -1, 1);
    memcpy(out, dx0, (size_t)(N * C) * sizeof(float));
    gpt_layernorm_backward_f32(dout, x, w, mean, rstd, out, dw, db, N, C);
    int same = 1;
    for (int64_t i = 0; i < N * C; i++) {
        same = same && out[i] == dx0[i] + dx[i];
    }
    ref_check(c, same, "layernorm_backward_f32 adds into dx (fl(dx0 + dx) bit for bit)");
    free(x), free(w), free(b), free(dout), free(out), free(mean), free(rstd), free(dx), free(dw);
    free(db), free(dx0), free(xd), free(wd), free(bd), free(doutd), free(outd), free(meand);
    free(rstdd), free(dxd), free(dwd), free(dbd), free(m_out), free(m_dx), free(m_dw), free(m_db);
}

/* ---- attention ---------------------------------------------------------------- */

static void check_attention_fd(ref_checker *c, ref_rand *r)
{
    const int64_t B = 2, T = 5, C = 12, NH = 3, N = B * T;
    double *qkv = dalloc(N * 3 * C), *att = dalloc(B * NH * T * T), *y = dalloc(N * C);
    double *y2 = dalloc(N * C), *R = dalloc(N * C), *dqkv = dalloc(N * 3 * C);
    double *fd = dalloc(N * 3 * C);
    fill_f64(r, qkv, N * 3 * C, -1.5, 1.5), fill_f64(r, R, N * C, -1, 1);
    gpt_attention_forward_f64(qkv, att, y, B, T, C, NH);
    double row_err = 0.0;
    int upper_zero = 1;
    for (int64_t row = 0; row < B * NH * T; row++) {
        const int64_t t = row % T;
        double s = 0.0;
        for (int64_t t2 = 0; t2 < T; t2++) {
            s += att[row * T + t2];
            upper_zero = upper_zero && (t2 <= t ? att[row * T + t2] > 0.0 : att[row * T + t2] == 0.0);
        }
        row_err = fmax(row_err, fabs(s - 1.0));
    }
    ref_check(c, row_err < 1e-15 && upper_zero, "attention_f64: probability rows sum to 1 "
              "(err %.2g), positive for t2 <= t and exactly 0 above the diagonal", row_err);
    /* Causality: changing q, k, v at t = 3 of sequence 0 changes y only at t >= 3 of it. */
    double *keep_qkv = dalloc(N * 3 * C), *att3 = dalloc(B * NH * T * T), *y3 = dalloc(N * C);
    memcpy(keep_qkv, qkv, (size_t)(N * 3 * C) * sizeof(double));
    for (int64_t j = 0; j < 3 * C; j++) {
        qkv[3 * 3 * C + j] += ref_rand_uniform(r, 0.5, 1.0);
    }
    gpt_attention_forward_f64(qkv, att3, y3, B, T, C, NH);
    int causal = 1;
    for (int64_t n = 0; n < N; n++) {
        const int changed = memcmp(y3 + n * C, y + n * C, (size_t)C * sizeof(double)) != 0;
        causal = causal && changed == (n >= 3 && n < T);
    }
    ref_check(c, causal, "attention_f64 is causal: a change at position 3 of sequence 0 changes "
              "y at positions 3..4 of it and nowhere else");
    memcpy(qkv, keep_qkv, (size_t)(N * 3 * C) * sizeof(double));
    gpt_attention_forward_f64(qkv, att, y, B, T, C, NH);
    /* Backward overwrites dqkv: fill it with garbage first. */
    fill_f64(r, dqkv, N * 3 * C, 5, 6);
    gpt_attention_backward_f64(R, qkv, att, dqkv, B, T, C, NH);
    const double h = 1e-6;
    for (int64_t i = 0; i < N * 3 * C; i++) {
        const double keep = qkv[i];
        qkv[i] = keep + h;
        gpt_attention_forward_f64(qkv, att, y2, B, T, C, NH);
        const double up = dot(y2, R, N * C);
        qkv[i] = keep - h;
        gpt_attention_forward_f64(qkv, att, y2, B, T, C, NH);
        const double down = dot(y2, R, N * C);
        qkv[i] = keep;
        fd[i] = (up - down) / (2 * h);
    }
    const double err = fd_rel(dqkv, fd, N * 3 * C);
    ref_check(c, err < 1e-8, "attention_backward_f64 (dq, dk, dv) vs central differences h=1e-6, "
              "B=2 T=5 C=12 NH=3: max err / max|g| = %.2g < 1e-8", err);
    free(qkv), free(att), free(y), free(y2), free(y3), free(R), free(dqkv), free(fd);
    free(keep_qkv), free(att3);
}

/* Bounds (first order). Scores s = alpha q.k (alpha = 1/sqrt(hs), itself off by 2u)
 * are off by Es u with Es = (hs+4) max alpha sum_i |q_i k_i|; the softmax's
 * p = exp(s - max) / sum is off relatively by Ep u, Ep = 4 Es + 2 Dmax + T + 6
 * (Dmax = max |s - max|; exp 2u, sum T u, divide u); then with P v over T terms:
 *   |d y|  <= (Ep + T + 1) u sum_t2 p |v|;   |d dv| <= (Ep + T + 1) u sum_t p |dy|;
 *   dP = dy v^T off by hs u mdP (mdP = sum_i |dy_i v_i|), dS = p (dP - sum p dP)
 *   off by (Ep + hs + T + 2) u magS, magS = p (mdP + sum_t2 p mdP);
 *   |d dq| <= (Ep + hs + 2T + 5) u alpha sum_t2 magS |k|, dk likewise with q. */
static void check_attention_f32(ref_checker *c, ref_rand *r)
{
    /* T T >= DTB_PARALLEL_MIN: the softmax rows split over OpenMP threads. */
    const int64_t B = 2, T = 191, C = 48, NH = 4, N = B * T, hs = C / NH, C3 = 3 * C;
    float *qkv = falloc(N * C3), *att = falloc(B * NH * T * T), *y = falloc(N * C);
    float *dy = falloc(N * C), *dqkv = falloc(N * C3), *scratch = falloc(T * T);
    double *qkvd = dalloc(N * C3), *attd = dalloc(B * NH * T * T), *yd = dalloc(N * C);
    double *dyd = dalloc(N * C), *dqkvd = dalloc(N * C3), *m_y = dalloc(N * C);
    double *m_d = dalloc(N * C3), *magS = dalloc(T * T);
    ref_fill_f32(r, qkv, N * C3, -1.5, 1.5), ref_fill_f32(r, dy, N * C, -1, 1);
    widen(qkv, qkvd, N * C3), widen(dy, dyd, N * C);
    gpt_attention_forward_f32(qkv, att, y, B, T, C, NH);
    gpt_attention_forward_f64(qkvd, attd, yd, B, T, C, NH);
    gpt_attention_backward_f32(dy, qkv, att, dqkv, scratch, B, T, C, NH);
    gpt_attention_backward_f64(dyd, qkvd, attd, dqkvd, B, T, C, NH);
    const double alpha = 1.0 / sqrt((double)hs);
    double es = 0.0, dmax = 0.0;
    for (int64_t bh = 0; bh < B * NH; bh++) {
        const int64_t b = bh / NH, h = bh % NH;
        const double *P = attd + bh * T * T;
        for (int64_t t = 0; t < T; t++) {
            const double *q = qkvd + (b * T + t) * C3 + h * hs, *dyt = dyd + (b * T + t) * C + h * hs;
            double smax = -INFINITY, smin = INFINITY, r_mag = 0.0;
            for (int64_t t2 = 0; t2 <= t; t2++) {
                const double *k = qkvd + (b * T + t2) * C3 + C + h * hs, *v = k + C;
                double s = 0.0, qk = 0.0, mdp = 0.0;
                for (int64_t i = 0; i < hs; i++) {
                    s += q[i] * k[i], qk += fabs(q[i] * k[i]), mdp += fabs(dyt[i] * v[i]);
                }
                smax = fmax(smax, alpha * s), smin = fmin(smin, alpha * s);
                es = fmax(es, (double)(hs + 4) * alpha * qk);
                magS[t * T + t2] = mdp;
                r_mag += P[t * T + t2] * mdp;
                for (int64_t i = 0; i < hs; i++) {
                    m_y[(b * T + t) * C + h * hs + i] += P[t * T + t2] * fabs(v[i]);
                    m_d[(b * T + t2) * C3 + 2 * C + h * hs + i] += P[t * T + t2] * fabs(dyt[i]);
                }
            }
            dmax = fmax(dmax, smax - smin);
            for (int64_t t2 = 0; t2 <= t; t2++) {
                magS[t * T + t2] = P[t * T + t2] * (magS[t * T + t2] + r_mag);
            }
        }
        for (int64_t t = 0; t < T; t++) {
            for (int64_t t2 = 0; t2 <= t; t2++) {
                const double *q = qkvd + (b * T + t) * C3 + h * hs;
                const double *k = qkvd + (b * T + t2) * C3 + C + h * hs;
                for (int64_t i = 0; i < hs; i++) {
                    m_d[(b * T + t) * C3 + h * hs + i] += alpha * magS[t * T + t2] * fabs(k[i]);
                    m_d[(b * T + t2) * C3 + C + h * hs + i] += alpha * magS[t * T + t2] * fabs(q[i]);
                }
            }
        }
    }
    const double ep = 4.0 * es + 2.0 * dmax + (double)T + 6.0;
    const double r_y = ratio_u(y, yd, m_y, N * C);
    double r_qk = 0.0, r_v = 0.0;
    for (int64_t n = 0; n < N; n++) {
        r_qk = fmax(r_qk, ratio_u(dqkv + n * C3, dqkvd + n * C3, m_d + n * C3, 2 * C));
        r_v = fmax(r_v, ratio_u(dqkv + n * C3 + 2 * C, dqkvd + n * C3 + 2 * C, m_d + n * C3 + 2 * C, C));
    }
    double r_p = 0.0;
    for (int64_t i = 0; i < B * NH * T * T; i++) {
        /* Above the diagonal both are exactly 0. */
        r_p = fmax(r_p, attd[i] > 0.0 ? fabs(att[i] - attd[i]) / (U32 * attd[i])
                                      : (att[i] == 0.0f ? 0.0 : INFINITY));
    }
    ref_check(c, r_p <= ep && r_y <= ep + T + 1,
              "attention_forward_f32 vs f64 (B=2 T=191 C=48 NH=4): p rel err/u = %.2f <= Ep = %.0f, "
              "y err/(u sum p|v|) = %.2f <= Ep+T+1", r_p, ep, r_y);
    ref_check(c, r_v <= ep + T + 1 && r_qk <= ep + hs + 2 * T + 5,
              "attention_backward_f32 vs f64: dv err/(u mag) = %.2f <= Ep+T+1, dq and dk %.2f <= "
              "Ep+hs+2T+5 = %.0f", r_v, r_qk, ep + (double)(hs + 2 * T + 5));
    free(qkv), free(att), free(y), free(dy), free(dqkv), free(scratch), free(qkvd), free(attd);
    free(yd), free(dyd), free(dqkvd), free(m_y), free(m_d), free(magS);
}

/* ---- embedding and residual -------------------------------------------------- */

static void check_embedding(ref_checker *c, ref_rand *r)
{
    const int64_t B = 3, T = 4, C = 5, V = 6, N = B * T;
    int32_t tok[12];
    for (int64_t n = 0; n < N; n++) {
        tok[n] = (int32_t)ref_rand_below(r, V - 1); /* row V-1 unused */
    }
    tok[7] = tok[2]; /* a repeat, at another position */
    double *wte = dalloc(V * C), *wpe = dalloc(T * C), *x = dalloc(N * C), *R = dalloc(N * C);
    double *g = dalloc(V * C + T * C), *fd = dalloc(V * C + T * C), *start = dalloc(V * C + T * C);
    fill_f64(r, wte, V * C, -1, 1), fill_f64(r, wpe, T * C, -1, 1), fill_f64(r, R, N * C, -1, 1);
    fill_f64(r, start, V * C + T * C, -1, 1);
    memcpy(g, start, (size_t)(V * C + T * C) * sizeof(double));
    gpt_embed_backward_f64(R, tok, g, g + V * C, B, T, C);
    for (int64_t i = 0; i < V * C + T * C; i++) {
        g[i] -= start[i];
    }
    /* The output is linear in wte and wpe: no truncation error, so a large h. */
    const double h = 1e-3;
    double *params[2] = {wte, wpe};
    const int64_t sizes[2] = {V * C, T * C};
    int64_t at = 0;
    for (int p = 0; p < 2; p++) {
        for (int64_t i = 0; i < sizes[p]; i++) {
            const double keep = params[p][i];
            params[p][i] = keep + h;
            gpt_embed_forward_f64(tok, wte, wpe, x, B, T, C);
            const double up = dot(x, R, N * C);
            params[p][i] = keep - h;
            gpt_embed_forward_f64(tok, wte, wpe, x, B, T, C);
            const double down = dot(x, R, N * C);
            params[p][i] = keep;
            fd[at++] = (up - down) / (2 * h);
        }
    }
    double unused = 0.0;
    for (int64_t j = 0; j < C; j++) {
        unused = fmax(unused, fabs(g[(V - 1) * C + j]));
    }
    const double err = fd_rel(g, fd, at);
    ref_check(c, err < 1e-9 && unused == 0.0, "embed_backward_f64 (dwte, dwpe +=) vs central "
              "differences h=1e-3, a token repeated: max err / max|g| = %.2g < 1e-9; unused row 0", err);
    /* fp32: forward is one rounding, |d x| <= u |x|; backward sums at most N
     * rows into each gradient row: |d g| <= N u sum |dx|, the sum being the
     * fp64 kernel's on |dx| (from zero). */
    float *wte32 = falloc(V * C), *wpe32 = falloc(T * C), *x32 = falloc(N * C), *dx32 = falloc(N * C);
    float *g32 = falloc(V * C + T * C);
    double *mag = dalloc(V * C + T * C), *adx = dalloc(N * C);
    ref_fill_f32(r, wte32, V * C, -1, 1), ref_fill_f32(r, wpe32, T * C, -1, 1);
    ref_fill_f32(r, dx32, N * C, -1, 1);
    widen(wte32, wte, V * C), widen(wpe32, wpe, T * C), widen(dx32, R, N * C);
    for (int64_t i = 0; i < N * C; i++) {
        adx[i] = fabs(R[i]);
    }
    gpt_embed_forward_f32(tok, wte32, wpe32, x32, B, T, C);
    gpt_embed_forward_f64(tok, wte, wpe, x, B, T, C);
    double r_x = 0.0;
    for (int64_t i = 0; i < N * C; i++) {
        r_x = fmax(r_x, fabs(x32[i] - x[i]) / (U32 * fabs(x[i])));
    }
    memset(g, 0, (size_t)(V * C + T * C) * sizeof(double));
    gpt_embed_backward_f32(dx32, tok, g32, g32 + V * C, B, T, C);
    gpt_embed_backward_f64(R, tok, g, g + V * C, B, T, C);
    gpt_embed_backward_f64(adx, tok, mag, mag + V * C, B, T, C);
    const double r_g = ratio_u(g32, g, mag, V * C + T * C);
    ref_check(c, r_x <= 1.0 && r_g <= (double)N, "embed_f32 vs f64: forward err/(u|x|) = %.2f <= "
              "1, backward err/(u sum|dx|) = %.2f <= N = %lld", r_x, r_g, (long long)N);
    /* Residual add: one addition per element. */
    float *s32 = falloc(N * C);
    double *s64 = dalloc(N * C);
    memcpy(s32, x32, (size_t)(N * C) * sizeof(float));
    memcpy(s64, x, (size_t)(N * C) * sizeof(double));
    gpt_residual_add_f32(s32, dx32, N * C);
    gpt_residual_add_f64(s64, R, N * C);
    int exact = 1;
    for (int64_t i = 0; i < N * C; i++) {
        exact = exact && s32[i] == x32[i] + dx32[i] && s64[i] == x[i] + R[i];
    }
    free(s32), free(s64);
    ref_check(c, exact, "residual_add f32 and f64: x += y element by element");
    free(wte), free(wpe), free(x), free(R), free(g), free(fd), free(start), free(wte32), free(wpe32);
    free(x32), free(dx32), free(g32), free(mag), free(adx);
}

int main(void)
{
    ref_checker c = {.test = "ref_gpt_kernels"};
    ref_rand r = {0x6E7B0001u};
    check_layernorm_fd(&c, &r);
    check_layernorm_f32(&c, &r);
    check_attention_fd(&c, &r);
    check_attention_f32(&c, &r);
    check_embedding(&c, &r);
    return ref_finish(&c);
}
