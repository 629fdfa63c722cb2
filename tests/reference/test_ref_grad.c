/*
 * Gradients of the reference model.
 *
 * 1. The fp64 layers (mlp_f64.h) against central finite differences in fp64:
 *    linear, GELU, softmax cross-entropy, and the whole model's mean loss.
 * 2. The fp32 CPU backend's operations and mlp_forward_backward against the
 *    fp64 versions on the same (fp32-representable) inputs, within tolerances
 *    derived from fp32 rounding (u = 2^-24), stated at each check.
 * 3. The hook protocol of mlp_forward_backward, including a batch of 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mlp_f64.h"
#include "mlp_train.h"
#include "model.h"
#include "ref_util.h"

static const double U32 = 0x1p-24; /* unit roundoff of fp32 */

static double *dalloc(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

static void fill_f64(ref_rand *r, double *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) {
        x[i] = ref_rand_uniform(r, lo, hi);
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

/* max_i |a_i - b_i| / max(max_i |b_i|, floor) */
static double max_rel(const double *a, const double *b, int64_t n, double floor)
{
    double err = 0.0, scale = floor;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return err / scale;
}

/* ---- 1. fp64 layers against finite differences ----------------------------- */

/* L(X, W, b) = sum R .* (X W^T + b): dL/dZ = R. */
static double linear_objective(const double *X, const double *W, const double *b, const double *R,
                               double *Z, int64_t B, int64_t in, int64_t out)
{
    linear_forward_f64(X, W, b, Z, B, in, out);
    return dot(Z, R, B * out);
}

static void check_linear_fd(ref_checker *c, ref_rand *r)
{
    const int64_t B = 5, in = 7, out = 6;
    double *X = dalloc(B * in), *W = dalloc(out * in), *b = dalloc(out), *R = dalloc(B * out);
    double *Z = dalloc(B * out), *dX = dalloc(B * in), *dW = dalloc(out * in), *db = dalloc(out);
    double *fd = dalloc(B * in + out * in + out), *an = dalloc(B * in + out * in + out);
    fill_f64(r, X, B * in, -1, 1), fill_f64(r, W, out * in, -1, 1), fill_f64(r, b, out, -1, 1);
    fill_f64(r, R, B * out, -1, 1);
    /* Forward against a plain triple loop. */
    linear_forward_f64(X, W, b, Z, B, in, out);
    double fwd_err = 0.0;
    for (int64_t j = 0; j < B; j++) {
        for (int64_t o = 0; o < out; o++) {
            double z = b[o];
            for (int64_t i = 0; i < in; i++) {
                z += X[j * in + i] * W[o * in + i];
            }
            fwd_err = fmax(fwd_err, fabs(z - Z[j * out + o]));
        }
    }
    ref_check(c, fwd_err < 1e-14, "linear_forward_f64 = X W^T + b (max err %.2g)", fwd_err);
    /* dW and db start non-zero: backward adds into them. */
    fill_f64(r, dW, out * in, -1, 1), fill_f64(r, db, out, -1, 1), fill_f64(r, dX, B * in, 5, 6);
    double *dW0 = dalloc(out * in), *db0 = dalloc(out);
    memcpy(dW0, dW, (size_t)(out * in) * sizeof(double));
    memcpy(db0, db, (size_t)out * sizeof(double));
    linear_backward_f64(R, X, W, dX, dW, db, B, in, out);
    for (int64_t k = 0; k < out * in; k++) {
        dW[k] -= dW0[k];
    }
    for (int64_t k = 0; k < out; k++) {
        db[k] -= db0[k];
    }
    const double h = 1e-6;
    double *params[3] = {X, W, b};
    const int64_t sizes[3] = {B * in, out * in, out};
    int64_t at = 0;
    for (int p = 0; p < 3; p++) {
        for (int64_t k = 0; k < sizes[p]; k++) {
            const double keep = params[p][k];
            params[p][k] = keep + h;
            const double up = linear_objective(X, W, b, R, Z, B, in, out);
            params[p][k] = keep - h;
            const double down = linear_objective(X, W, b, R, Z, B, in, out);
            params[p][k] = keep;
            fd[at++] = (up - down) / (2 * h);
        }
    }
    memcpy(an, dX, (size_t)(B * in) * sizeof(double));
    memcpy(an + B * in, dW, (size_t)(out * in) * sizeof(double));
    memcpy(an + B * in + out * in, db, (size_t)out * sizeof(double));
    const double err = max_rel(an, fd, at, 1e-300);
    ref_check(c, err < 1e-8,
              "linear_backward_f64 (dX, dW += , db +=) vs central differences h=1e-6: max rel err "
              "%.2g < 1e-8",
              err);
    /* dX NULL: dW and db still accumulate. */
    memcpy(dW0, dW, (size_t)(out * in) * sizeof(double));
    linear_backward_f64(R, X, W, NULL, dW, db, B, in, out);
    double twice = 0.0;
    for (int64_t k = 0; k < out * in; k++) {
        twice = fmax(twice, fabs(dW[k] - 2.0 * dW0[k]));
    }
    ref_check(c, twice < 1e-12, "linear_backward_f64 with dX NULL adds dW again (err %.2g)", twice);
    free(X), free(W), free(b), free(R), free(Z), free(dX), free(dW), free(db), free(fd), free(an);
    free(dW0), free(db0);
}

static double gelu_objective(const double *Z, const double *R, double *A, int64_t n)
{
    gelu_forward_f64(Z, A, n);
    return dot(A, R, n);
}

static void check_gelu_fd(ref_checker *c, ref_rand *r)
{
    const int64_t n = 400;
    double *Z = dalloc(n), *R = dalloc(n), *A = dalloc(n), *dZ = dalloc(n), *fd = dalloc(n);
    fill_f64(r, Z, n, -6, 6), fill_f64(r, R, n, -1, 1);
    Z[0] = 0.0, Z[1] = -8.0, Z[2] = 8.0;
    gelu_backward_f64(Z, R, dZ, n);
    const double h = 1e-5;
    for (int64_t k = 0; k < n; k++) {
        const double keep = Z[k];
        Z[k] = keep + h;
        const double up = gelu_objective(Z, R, A, n);
        Z[k] = keep - h;
        const double down = gelu_objective(Z, R, A, n);
        Z[k] = keep;
        fd[k] = (up - down) / (2 * h);
    }
    const double err = max_rel(dZ, fd, n, 1e-300);
    ref_check(c, err < 1e-7, "gelu_backward_f64 vs central differences h=1e-5 on [-8, 8]: max rel err %.2g",
              err);
    /* Spot values of the tanh form: gelu(0) = 0, gelu(1) = 0.5 (1 + tanh(sqrt(2/pi) 1.044715)). */
    const double z[3] = {0.0, 1.0, -1.0};
    double a[3];
    gelu_forward_f64(z, a, 3);
    const double g1 = 0.5 * (1.0 + tanh(0.79788456080286535588 * 1.044715));
    ref_check(c, a[0] == 0.0 && fabs(a[1] - g1) < 1e-16 && fabs(a[2] + (1.0 - g1)) < 1e-16,
              "gelu_f64: gelu(0) = 0, gelu(1) = %.15f (tanh form), gelu(-1) = gelu(1) - 1", a[1]);
    free(Z), free(R), free(A), free(dZ), free(fd);
}

static void check_xent_fd(ref_checker *c, ref_rand *r)
{
    const int64_t B = 6, C = 5;
    double *z = dalloc(B * C), *dz = dalloc(B * C), *fd = dalloc(B * C);
    int32_t y[6];
    fill_f64(r, z, B * C, -4, 4);
    for (int64_t j = 0; j < B; j++) {
        y[j] = (int32_t)ref_rand_below(r, C);
    }
    const double scale = 1.0 / (double)B;
    xent_forward_backward_f64(z, y, B, C, scale, dz);
    const double h = 1e-6;
    for (int64_t k = 0; k < B * C; k++) {
        const double keep = z[k];
        z[k] = keep + h;
        const double up = xent_forward_backward_f64(z, y, B, C, 0.0, NULL);
        z[k] = keep - h;
        const double down = xent_forward_backward_f64(z, y, B, C, 0.0, NULL);
        z[k] = keep;
        fd[k] = (up - down) / (2 * h) * scale;
    }
    const double err = max_rel(dz, fd, B * C, 1e-300);
    ref_check(c, err < 1e-8, "xent_forward_backward_f64 dlogits (scale 1/B) vs central differences: max rel err %.2g",
              err);
    double row_sum = 0.0;
    for (int64_t j = 0; j < B; j++) {
        double s = 0.0;
        for (int64_t k = 0; k < C; k++) {
            s += dz[j * C + k];
        }
        row_sum = fmax(row_sum, fabs(s));
    }
    ref_check(c, row_sum < 1e-16, "dlogits rows sum to 0 (max |sum| %.2g)", row_sum);
    /* Loss by hand for one row and stability for huge logits. */
    const double zz[3] = {1.0, 2.0, 3.0}, big[3] = {1000.0, 1001.0, 999.0};
    const int32_t yy[1] = {0};
    const double l1 = xent_forward_backward_f64(zz, yy, 1, 3, 0.0, NULL);
    const double want = log(exp(1.0) + exp(2.0) + exp(3.0)) - 1.0;
    const double l2 = xent_forward_backward_f64(big, yy, 1, 3, 0.0, NULL);
    const double want2 = 1.0 + log(exp(-1.0) + 1.0 + exp(-2.0));
    ref_check(c, fabs(l1 - want) < 1e-15 && fabs(l2 - want2) < 1e-12,
              "xent_f64: logsumexp(1,2,3) - 1 = %.15f; logits near 1000 stay finite (%.15f)", l1, l2);
    free(z), free(dz), free(fd);
}

/* Whole-model gradient of the mean loss against finite differences. */
static void check_model_fd(ref_checker *c)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    mlp_layout L;
    mlp_layout_init(cfg, &L);
    const int64_t B = 4, n = L.n_params;
    mlp_f64_scratch s;
    double *p = dalloc(n), *g = dalloc(n), *x = dalloc(B * cfg->dims[0]);
    float *pf = malloc((size_t)n * sizeof(float)), *xf = malloc((size_t)(B * cfg->dims[0]) * sizeof(float));
    int32_t y[4];
    if (!ref_check(c, p && g && x && pf && xf && mlp_f64_scratch_create(cfg, B, &s) == 0,
                   "allocate the fp64 model pass")) {
        free(p), free(g), free(x), free(pf), free(xf);
        return;
    }
    for (int t = 0; t < L.n_tensors; t++) {
        mlp_init_values(31337, cfg, t, 0, L.numel[t], pf + L.offset[t]);
    }
    mlp_sample_batch(31337, cfg, 1, 0, B, xf, y);
    for (int64_t i = 0; i < n; i++) {
        p[i] = pf[i];
    }
    for (int64_t i = 0; i < B * cfg->dims[0]; i++) {
        x[i] = xf[i];
    }
    const double loss_sum = mlp_f64_forward_backward(&s, p, x, y, B, 1.0 / (double)B, g);
    const double loss_only = mlp_f64_loss(&s, p, x, y, B);
    ref_check(c, loss_sum == loss_only && isfinite(loss_sum) && loss_sum > 0.0,
              "mlp_f64_forward_backward and mlp_f64_loss agree: loss sum %.15f", loss_sum);
    const double h = 1e-6;
    double worst = 0.0, gmax = 0.0;
    int64_t worst_at = 0;
    for (int64_t i = 0; i < n; i++) {
        const double keep = p[i];
        p[i] = keep + h;
        const double up = mlp_f64_loss(&s, p, x, y, B) / (double)B;
        p[i] = keep - h;
        const double down = mlp_f64_loss(&s, p, x, y, B) / (double)B;
        p[i] = keep;
        const double fd = (up - down) / (2 * h);
        if (fabs(fd - g[i]) > worst) {
            worst = fabs(fd - g[i]);
            worst_at = i;
        }
        gmax = fmax(gmax, fabs(g[i]));
    }
    int t_at = 0;
    while (t_at + 1 < L.n_tensors && L.offset[t_at + 1] <= worst_at) {
        t_at++;
    }
    ref_check(c, worst < 1e-7 * gmax,
              "mlp-odd (B=4): all %lld gradients of the mean loss vs central differences: max abs err "
              "%.2g (at %s[%lld]) < 1e-7 * max|g| = %.2g",
              (long long)n, worst, L.name[t_at], (long long)(worst_at - L.offset[t_at]), 1e-7 * gmax);
    /* Adds into grads: a second call doubles them. */
    double *g2 = dalloc(n);
    memcpy(g2, g, (size_t)n * sizeof(double));
    mlp_f64_forward_backward(&s, p, x, y, B, 1.0 / (double)B, g2);
    double twice = 0.0, gabs = 0.0;
    for (int64_t i = 0; i < n; i++) {
        twice = fmax(twice, fabs(g2[i] - 2.0 * g[i]));
        gabs = fmax(gabs, fabs(g[i]));
    }
    ref_check(c, twice <= 1e-14 * gabs,
              "mlp_f64_forward_backward adds into grads (second call doubles them, err %.2g)", twice);
    free(g2);
    mlp_f64_scratch_free(&s);
    free(p), free(g), free(x), free(pf), free(xf);
}

/* ---- 2. the fp32 CPU backend against fp64 ---------------------------------- */

static void widen(const float *src, double *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        dst[i] = src[i];
    }
}

static void check_backend_ops(ref_checker *c, dtb_backend *be, ref_rand *r)
{
    const dtb_backend_ops *ops = be->ops;
    const int64_t B = 13, in = 37, out = 29;
    float *X = malloc((size_t)(B * in) * sizeof(float)), *W = malloc((size_t)(out * in) * sizeof(float));
    float *b = malloc((size_t)out * sizeof(float)), *Z = malloc((size_t)(B * out) * sizeof(float));
    float *dZ = malloc((size_t)(B * out) * sizeof(float)), *dX = malloc((size_t)(B * in) * sizeof(float));
    float *dW = malloc((size_t)(out * in) * sizeof(float)), *db = malloc((size_t)out * sizeof(float));
    double *Xd = dalloc(B * in), *Wd = dalloc(out * in), *bd = dalloc(out), *Zd = dalloc(B * out);
    double *dZd = dalloc(B * out), *dXd = dalloc(B * in), *dWd = dalloc(out * in), *dbd = dalloc(out);
    if (!ref_check(c, X && W && b && Z && dZ && dX && dW && db && Xd && Wd && bd && Zd && dZd && dXd && dWd && dbd,
                   "allocate layer buffers")) {
        goto done;
    }
    ref_fill_f32(r, X, B * in, -1, 1), ref_fill_f32(r, W, out * in, -0.5, 0.5);
    ref_fill_f32(r, b, out, -0.5, 0.5), ref_fill_f32(r, dZ, B * out, -1, 1);
    ref_fill_f32(r, dW, out * in, -1, 1), ref_fill_f32(r, db, out, -1, 1);
    widen(X, Xd, B * in), widen(W, Wd, out * in), widen(b, bd, out), widen(dZ, dZd, B * out);
    widen(dW, dWd, out * in), widen(db, dbd, out);

    /* linear forward: |z32 - z64| <= gamma_{in+1} (sum_i |x_i w_i| + |b|), the
     * standard dot-product bound with gamma_k ~ k u; report the ratio. */
    int rc = ops->linear_forward(be, X, W, b, Z, B, in, out);
    linear_forward_f64(Xd, Wd, bd, Zd, B, in, out);
    double ratio = 0.0;
    for (int64_t j = 0; j < B; j++) {
        for (int64_t o = 0; o < out; o++) {
            double mag = fabs(bd[o]);
            for (int64_t i = 0; i < in; i++) {
                mag += fabs(Xd[j * in + i] * Wd[o * in + i]);
            }
            ratio = fmax(ratio, fabs(Z[j * out + o] - Zd[j * out + o]) / (U32 * mag));
        }
    }
    ref_check(c, rc == 0 && ratio <= (double)(in + 1),
              "cpu linear_forward [13x37]x[29x37]^T: max |err| / (u sum|x w|) = %.2f <= in+1 = %lld",
              ratio, (long long)(in + 1));

    /* linear backward: dW += dZ^T X (B terms + the old value), db += colsum, dX = dZ W. */
    memset(dX, 0x7f, (size_t)(B * in) * sizeof(float)); /* garbage: dX is overwritten */
    rc = ops->linear_backward(be, dZ, X, W, dX, dW, db, B, in, out);
    linear_backward_f64(dZd, Xd, Wd, dXd, dWd, dbd, B, in, out);
    double r_dw = 0.0, r_db = 0.0, r_dx = 0.0;
    for (int64_t o = 0; o < out; o++) {
        double mag_b = fabs(dbd[o]);
        for (int64_t j = 0; j < B; j++) {
            mag_b += fabs(dZd[j * out + o]);
        }
        r_db = fmax(r_db, fabs(db[o] - dbd[o]) / (U32 * mag_b));
        for (int64_t i = 0; i < in; i++) {
            double mag = fabs(dWd[o * in + i]);
            for (int64_t j = 0; j < B; j++) {
                mag += fabs(dZd[j * out + o] * Xd[j * in + i]);
            }
            r_dw = fmax(r_dw, fabs(dW[o * in + i] - dWd[o * in + i]) / (U32 * mag));
        }
    }
    for (int64_t j = 0; j < B; j++) {
        for (int64_t i = 0; i < in; i++) {
            double mag = 0.0;
            for (int64_t o = 0; o < out; o++) {
                mag += fabs(dZd[j * out + o] * Wd[o * in + i]);
            }
            r_dx = fmax(r_dx, fabs(dX[j * in + i] - dXd[j * in + i]) / (U32 * mag));
        }
    }
    ref_check(c, rc == 0 && r_dw <= B + 1 && r_db <= B + 1 && r_dx <= out,
              "cpu linear_backward: err/(u sum|terms|) dW += %.2f, db += %.2f (<= B+1 = %lld), dX = %.2f (<= out = %lld)",
              r_dw, r_db, (long long)(B + 1), r_dx, (long long)out);
    /* dX NULL: only dW and db. */
    memcpy(Z, dW, (size_t)out * sizeof(float)); /* keep a few dW values */
    rc = ops->linear_backward(be, dZ, X, W, NULL, dW, db, B, in, out);
    ref_check(c, rc == 0 && Z[0] != dW[0], "cpu linear_backward with dX NULL still accumulates dW");
    /* B = 0: nothing written. */
    float keep = dW[5];
    rc = ops->linear_forward(be, X, W, b, Z, 0, in, out) | ops->linear_backward(be, dZ, X, W, dX, dW, db, 0, in, out);
    ref_check(c, rc == 0 && dW[5] == keep, "cpu linear ops with B = 0 succeed and change nothing");
    ref_check(c, ops->linear_forward(be, X, W, b, Z, -1, in, out) != 0 && strlen(be->error) > 0,
              "cpu linear_forward refuses B = -1: \"%s\"", be->error);

    /* GELU on fp32 inputs in [-8, 8]: errors are absolute in scale of |z|
     * (1 + tanh(u) and 1 - t^2 cancel): |a32 - a64| <= 8u (1 + |z|),
     * |dz32 - dz64| <= 8u |dA| (1 + |z|^3). */
    const int64_t n = B * out;
    ref_fill_f32(r, Z, n, -8, 8);
    Z[0] = 0.0f, Z[1] = -8.0f, Z[2] = 8.0f, Z[3] = 1e-3f;
    widen(Z, Zd, n);
    float *A = dX;
    double *Ad = dXd;
    rc = ops->gelu_forward(be, Z, A, NULL, n);
    gelu_forward_f64(Zd, Ad, n);
    double r_a = 0.0;
    for (int64_t k = 0; k < n; k++) {
        r_a = fmax(r_a, fabs(A[k] - Ad[k]) / (U32 * (1.0 + fabs(Zd[k]))));
    }
    ref_check(c, rc == 0 && r_a <= 8.0, "cpu gelu_forward: max |err| / (u (1+|z|)) = %.2f <= 8", r_a);
    rc = ops->gelu_backward(be, Z, NULL, dZ, A, n);
    gelu_backward_f64(Zd, dZd, Ad, n);
    double r_g = 0.0;
    for (int64_t k = 0; k < n; k++) {
        const double z = fabs(Zd[k]);
        r_g = fmax(r_g, fabs(A[k] - Ad[k]) / (U32 * fabs(dZd[k]) * (1.0 + z * z * z)));
    }
    ref_check(c, rc == 0 && r_g <= 8.0, "cpu gelu_backward: max |err| / (u |dA| (1+|z|^3)) = %.2f <= 8", r_g);
    /* The forward's t kept in T: the same A, and the backward reading T gives
     * the same bits as the backward recomputing tanh. */
    float *T = malloc(sizeof(float) * (size_t)n), *Akept = malloc(sizeof(float) * (size_t)n);
    float *Afresh = malloc(sizeof(float) * (size_t)n), *Gkept = malloc(sizeof(float) * (size_t)n);
    if (ref_check(c, T != NULL && Akept != NULL && Afresh != NULL && Gkept != NULL,
                  "buffers for the kept tanh")) {
        rc = ops->gelu_forward(be, Z, Akept, T, n) | ops->gelu_forward(be, Z, Afresh, NULL, n);
        rc |= ops->gelu_backward(be, Z, T, dZ, Gkept, n); /* A holds the backward without T */
        int same_t = 1;
        for (int64_t k = 0; k < n; k++) {
            const float z = Z[k];
            same_t &= T[k] == tanhf(0.7978845608028654f * (z + 0.044715f * z * z * z));
        }
        ref_check(c, rc == 0 && same_t && memcmp(Akept, Afresh, sizeof(float) * (size_t)n) == 0 &&
                         memcmp(Gkept, A, sizeof(float) * (size_t)n) == 0,
                  "cpu gelu: T keeps tanhf(u), the same A, and gelu_backward reading T gives "
                  "the bits of recomputing it");
    }
    free(T), free(Akept), free(Afresh), free(Gkept);

    /* Softmax cross-entropy, logits in [-10, 10] and one row near 80. */
    const int64_t C = 7, Bx = 9;
    int32_t y[9];
    ref_fill_f32(r, Z, Bx * C, -10, 10);
    for (int64_t k = 0; k < C; k++) {
        Z[k] = 80.0f + (float)k * 0.25f;
    }
    for (int64_t j = 0; j < Bx; j++) {
        y[j] = (int32_t)ref_rand_below(r, C);
    }
    widen(Z, Zd, Bx * C);
    double loss32 = 0.0;
    const float scale = 1.0f / 9.0f;
    rc = ops->xent_forward_backward(be, Z, y, Bx, C, scale, A, &loss32);
    const double loss64 = xent_forward_backward_f64(Zd, y, Bx, C, (double)scale, Ad);
    double r_d = 0.0;
    for (int64_t k = 0; k < Bx * C; k++) {
        r_d = fmax(r_d, fabs(A[k] - Ad[k]) / (U32 * scale));
    }
    /* Per row the float error is a few u times (|max| + log C). */
    double loss_mag = 0.0;
    for (int64_t j = 0; j < Bx; j++) {
        double m = 0.0;
        for (int64_t k = 0; k < C; k++) {
            m = fmax(m, fabs(Zd[j * C + k]));
        }
        loss_mag += m + log((double)C);
    }
    const double r_l = fabs(loss32 - loss64) / (U32 * loss_mag);
    ref_check(c, rc == 0 && r_l <= 4.0 && r_d <= 8.0,
              "cpu xent: loss err / (u sum(max|z| + log C)) = %.2f <= 4; dlogits err / (u scale) = %.2f <= 8",
              r_l, r_d);
    y[3] = (int32_t)C;
    ref_check(c, ops->xent_forward_backward(be, Z, y, Bx, C, scale, A, &loss32) != 0 && strlen(be->error) > 0,
              "cpu xent refuses label %lld with %lld classes: \"%s\"", (long long)C, (long long)C, be->error);

    /* sum_squares: exact products in double, summed in index order. */
    double ss = 0.0, want = 0.0;
    rc = ops->sum_squares(be, X, B * in, &ss);
    for (int64_t k = 0; k < B * in; k++) {
        want += (double)X[k] * (double)X[k];
    }
    ref_check(c, rc == 0 && ss == want, "cpu sum_squares = double sum of exact squares (%.15g)", ss);
    /* scale and add are single float operations per element. */
    memcpy(A, X, (size_t)(B * in) * sizeof(float));
    int exact = ops->scale(be, A, B * in, 0.3f) == 0;
    for (int64_t k = 0; k < B * in; k++) {
        exact = exact && A[k] == X[k] * 0.3f;
    }
    float *A2 = malloc((size_t)(B * in) * sizeof(float));
    if (A2 != NULL) {
        memcpy(A2, A, (size_t)(B * in) * sizeof(float));
        exact = exact && ops->add(be, A, X, B * in) == 0;
        for (int64_t k = 0; k < B * in; k++) {
            exact = exact && A[k] == A2[k] + X[k];
        }
    }
    ref_check(c, exact && A2 != NULL, "cpu scale and add are x*a and x+y in float, element by element");
    free(A2);
done:
    free(X), free(W), free(b), free(Z), free(dZ), free(dX), free(dW), free(db);
    free(Xd), free(Wd), free(bd), free(Zd), free(dZd), free(dXd), free(dWd), free(dbd);
}

/* ---- 3. whole pass, fp32 vs fp64, and the hook protocol -------------------- */

typedef struct trace_hooks {
    mlp_flat_ctx flat;
    char events[256];
    int n_events;
} trace_hooks;

static void note(trace_hooks *t, char kind, int layer)
{
    if (t->n_events + 3 < (int)sizeof t->events) {
        t->events[t->n_events++] = kind;
        t->events[t->n_events++] = (char)('0' + layer);
        t->events[t->n_events++] = ' ';
        t->events[t->n_events] = '\0';
    }
}

static int tr_get_params(void *ctx, int layer, int backward, const float **W, const float **b)
{
    trace_hooks *t = ctx;
    note(t, backward ? 'P' : 'p', layer);
    *W = t->flat.params + t->flat.layout.offset[2 * layer];
    *b = t->flat.params + t->flat.layout.offset[2 * layer + 1];
    return 0;
}

static int tr_put_params(void *ctx, int layer, int backward)
{
    note(ctx, backward ? 'Q' : 'q', layer);
    return 0;
}

static int tr_get_grads(void *ctx, int layer, float **dW, float **db)
{
    trace_hooks *t = ctx;
    note(t, 'g', layer);
    *dW = t->flat.grads + t->flat.layout.offset[2 * layer];
    *db = t->flat.grads + t->flat.layout.offset[2 * layer + 1];
    return 0;
}

static int tr_ready(void *ctx, int layer)
{
    note(ctx, 'r', layer);
    return 0;
}

static int failing_ready(void *ctx, int layer)
{
    (void)ctx;
    return layer == 1 ? 7 : 0;
}

/* Per-tensor normwise relative error ||g32 - g64|| / ||g64||, worst tensor. */
static double worst_tensor_error(const mlp_layout *L, const float *g32, const double *g64, int *worst_t)
{
    double worst = 0.0;
    *worst_t = 0;
    for (int t = 0; t < L->n_tensors; t++) {
        double num = 0.0, den = 0.0;
        for (int64_t i = L->offset[t]; i < L->offset[t + 1]; i++) {
            num += ((double)g32[i] - g64[i]) * ((double)g32[i] - g64[i]);
            den += g64[i] * g64[i];
        }
        const double e = sqrt(num) / sqrt(den);
        if (e > worst) {
            worst = e;
            *worst_t = t;
        }
    }
    return worst;
}

static void check_pass(ref_checker *c, dtb_backend *be)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    mlp_layout L;
    mlp_layout_init(cfg, &L);
    const int64_t B = 30, n = L.n_params, in = cfg->dims[0];
    const uint64_t seed = 777;
    float *p = malloc((size_t)n * sizeof(float)), *g = calloc((size_t)n, sizeof(float));
    float *g_parts = calloc((size_t)n, sizeof(float)), *x = malloc((size_t)(B * in) * sizeof(float));
    double *pd = dalloc(n), *gd = dalloc(n), *xd = dalloc(B * in);
    int32_t y[30];
    mlp_workspace *ws = NULL;
    mlp_f64_scratch s;
    memset(&s, 0, sizeof s);
    if (!ref_check(c, p && g && g_parts && x && pd && gd && xd && mlp_workspace_create(be, cfg, B, &ws) == 0 &&
                          mlp_f64_scratch_create(cfg, B, &s) == 0,
                   "allocate mlp-odd pass buffers (B = 30)")) {
        goto done;
    }
    for (int t = 0; t < L.n_tensors; t++) {
        mlp_init_values(seed, cfg, t, 0, L.numel[t], p + L.offset[t]);
    }
    mlp_sample_batch(seed, cfg, 1, 0, B, x, y);
    widen(p, pd, n), widen(x, xd, B * in);

    trace_hooks th = {.flat = {.layout = L, .params = p, .grads = g}};
    mlp_hooks hooks = {.ctx = &th, .get_layer_params = tr_get_params, .put_layer_params = tr_put_params,
                       .get_layer_grads = tr_get_grads, .layer_grads_ready = tr_ready};
    double loss32 = 0.0;
    int rc = mlp_forward_backward(be, ws, &hooks, x, y, B, (float)(1.0 / B), &loss32);
    const double loss64 = mlp_f64_forward_backward(&s, pd, xd, y, B, 1.0 / B, gd);
    const char *order = "p0 q0 p1 q1 p2 q2 P2 g2 r2 Q2 P1 g1 r1 Q1 P0 g0 r0 Q0 ";
    ref_check(c, rc == 0 && strcmp(th.events, order) == 0,
              "hook order: forward get/put 0..L-1, backward get params, get grads, ready, put for L-1..0 "
              "(%s)", th.events);
    const double loss_err = fabs(loss32 - loss64) / fabs(loss64);
    int wt = 0;
    const double gerr = worst_tensor_error(&L, g, gd, &wt);
    double gmax_err = 0.0, gmax = 0.0;
    for (int64_t i = 0; i < n; i++) {
        gmax_err = fmax(gmax_err, fabs(g[i] - gd[i]));
        gmax = fmax(gmax, fabs(gd[i]));
    }
    printf("  observed fp32 vs fp64 (mlp-odd, B=30): loss rel err %.2e, worst tensor normwise grad err "
           "%.2e (%s), max abs grad err / max|g| %.2e\n",
           loss_err, gerr, L.name[wt], gmax_err / gmax);
    ref_check(c, loss_err < 1e-6 && gerr < 1e-5 && gmax_err < 1e-5 * gmax,
              "mlp_forward_backward (fp32 cpu) vs mlp_f64_forward_backward: loss rel %.2g < 1e-6, "
              "grads normwise per tensor %.2g < 1e-5, max abs %.2g < 1e-5 max|g|",
              loss_err, gerr, gmax_err / gmax);

    /* The same batch in three uneven micro-batches (9, 10, 11) with scale 1/B
     * accumulates the same gradient up to fp32 rounding. */
    mlp_flat_ctx flat = {.layout = L, .params = p, .grads = g_parts};
    mlp_hooks fh;
    mlp_flat_hooks(&flat, &fh);
    double parts_loss = 0.0;
    for (int64_t part = 0; part < 3; part++) {
        int64_t first, count;
        split_range(B, 3, part, &first, &count);
        double ls = 0.0;
        rc |= mlp_forward_backward(be, ws, &fh, x + first * in, y + first, count, (float)(1.0 / B), &ls);
        parts_loss += ls;
    }
    const double perr = worst_tensor_error(&L, g_parts, gd, &wt);
    ref_check(c, rc == 0 && fabs(parts_loss - loss64) / loss64 < 1e-6 && perr < 1e-5,
              "3 micro-batches (split_range) with scale 1/B give the whole-batch gradient: normwise err %.2g",
              perr);

    /* Batch 0: every hook still called, layer_grads_ready for every layer, nothing added. */
    memcpy(g_parts, g, (size_t)n * sizeof(float));
    th.flat.grads = g_parts;
    th.n_events = 0, th.events[0] = '\0';
    double zero_loss = -1.0;
    rc = mlp_forward_backward(be, ws, &hooks, x, y, 0, (float)(1.0 / B), &zero_loss);
    ref_check(c, rc == 0 && strcmp(th.events, order) == 0 && zero_loss == 0.0 &&
                     memcmp(g_parts, g, (size_t)n * sizeof(float)) == 0,
              "batch 0: same hook calls (%s), layer_grads_ready for every layer, loss 0, grads unchanged",
              th.events);
    /* Refusals. */
    rc = mlp_forward_backward(be, ws, &hooks, x, y, B + 1, 1.0f, &zero_loss);
    ref_check(c, rc != 0 && strstr(be->error, "batch") != NULL, "batch above the workspace is refused: \"%s\"",
              be->error);
    hooks.layer_grads_ready = failing_ready;
    rc = mlp_forward_backward(be, ws, &hooks, x, y, B, 1.0f, &zero_loss);
    ref_check(c, rc != 0 && strstr(be->error, "layer_grads_ready") != NULL,
              "a failing hook stops the pass with its name and layer: \"%s\"", be->error);
    hooks.get_layer_grads = NULL;
    rc = mlp_forward_backward(be, ws, &hooks, x, y, B, 1.0f, &zero_loss);
    ref_check(c, rc != 0, "missing get_layer_grads is refused: \"%s\"", be->error);
done:
    mlp_workspace_destroy(be, ws);
    mlp_f64_scratch_free(&s);
    free(p), free(g), free(g_parts), free(x), free(pd), free(gd), free(xd);
}

int main(void)
{
    ref_checker c = {.test = "ref_grad"};
    ref_rand r = {0x67AD0001u};
    check_linear_fd(&c, &r);
    check_gelu_fd(&c, &r);
    check_xent_fd(&c, &r);
    check_model_fd(&c);
    dtb_backend *be = NULL;
    if (ref_check(&c, backend_cpu_create(&be) == 0 && strcmp(be->ops->name, "cpu") == 0,
                  "create the cpu backend")) {
        check_backend_ops(&c, be, &r);
        check_pass(&c, be);
    }
    backend_destroy(be);
    return ref_finish(&c);
}
