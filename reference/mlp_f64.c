/*
 * fp64 MLP in plain loops (mlp_f64.h). Speed matters only enough for the
 * oracle to run test-sized models in well under a second: the products are
 * written as axpy loops over contiguous rows, or as dot products with four
 * independent partial sums, so that they vectorise and pipeline.
 */
#include "mlp_f64.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* sum_i a[i] b[i] with partial sums over i mod 4, added as (s0 + s1) + (s2 + s3). */
static double dot_f64(const double *a, const double *b, int64_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
        s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
}

/* y += alpha x */
static void axpy_f64(double *y, double alpha, const double *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] += alpha * x[i];
    }
}

void linear_forward_f64(const double *X, const double *W, const double *b, double *Z, int64_t B,
                        int64_t in, int64_t out)
{
    for (int64_t j = 0; j < B; j++) {
        for (int64_t o = 0; o < out; o++) {
            Z[j * out + o] = dot_f64(X + j * in, W + o * in, in) + b[o];
        }
    }
}

void linear_backward_f64(const double *dZ, const double *X, const double *W, double *dX,
                         double *dW, double *db, int64_t B, int64_t in, int64_t out)
{
    for (int64_t j = 0; j < B; j++) {
        const double *dz = dZ + j * out;
        for (int64_t o = 0; o < out; o++) {
            axpy_f64(dW + o * in, dz[o], X + j * in, in); /* dW[o][:] += dz[j][o] X[j][:] */
            db[o] += dz[o];
        }
        if (dX != NULL) {
            double *dx = dX + j * in;
            memset(dx, 0, (size_t)in * sizeof *dx);
            for (int64_t o = 0; o < out; o++) {
                axpy_f64(dx, dz[o], W + o * in, in); /* dX[j][:] += dz[j][o] W[o][:] */
            }
        }
    }
}

static const double SQRT_2_OVER_PI = 0.79788456080286535588; /* sqrt(2/pi) */
static const double GELU_CUBIC = 0.044715;

void gelu_forward_f64(const double *Z, double *A, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const double z = Z[i];
        A[i] = 0.5 * z * (1.0 + tanh(SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z * z)));
    }
}

/* gelu'(z) = 0.5 (1 + t) + 0.5 z (1 - t^2) sqrt(2/pi) (1 + 3*0.044715 z^2). */
void gelu_backward_f64(const double *Z, const double *dA, double *dZ, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const double z = Z[i];
        const double t = tanh(SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z * z));
        const double du_dz = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * z * z);
        dZ[i] = dA[i] * (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du_dz);
    }
}

double xent_forward_backward_f64(const double *logits, const int32_t *y, int64_t B, int64_t C,
                                 double scale, double *dlogits)
{
    double total = 0.0;
    for (int64_t j = 0; j < B; j++) {
        const double *z = logits + j * C;
        double max = z[0];
        for (int64_t c = 1; c < C; c++) {
            max = z[c] > max ? z[c] : max;
        }
        double sum = 0.0;
        for (int64_t c = 0; c < C; c++) {
            sum += exp(z[c] - max);
        }
        total += max + log(sum) - z[y[j]];
        if (dlogits != NULL) {
            double *dz = dlogits + j * C;
            for (int64_t c = 0; c < C; c++) {
                dz[c] = exp(z[c] - max) / sum * scale;
            }
            dz[y[j]] -= scale;
        }
    }
    return total;
}

int mlp_f64_scratch_create(const mlp_config *cfg, int64_t max_batch, mlp_f64_scratch *out)
{
    memset(out, 0, sizeof *out);
    out->cfg = *cfg;
    mlp_layout_init(cfg, &out->layout);
    out->max_batch = max_batch;
    const int64_t rows = max_batch > 0 ? max_batch : 1;
    int64_t widest = 0;
    int ok = 1;
    for (int l = 0; l < cfg->n_linear; l++) {
        const int64_t width = cfg->dims[l + 1];
        widest = width > widest ? width : widest;
        ok = ok && (out->z[l] = malloc((size_t)(rows * width) * sizeof(double))) != NULL;
        if (l + 1 < cfg->n_linear) {
            ok = ok && (out->a[l + 1] = malloc((size_t)(rows * width) * sizeof(double))) != NULL;
        }
    }
    ok = ok && (out->dz = malloc((size_t)(rows * widest) * sizeof(double))) != NULL;
    ok = ok && (out->da = malloc((size_t)(rows * widest) * sizeof(double))) != NULL;
    if (!ok) {
        mlp_f64_scratch_free(out);
        return -1;
    }
    return 0;
}

void mlp_f64_scratch_free(mlp_f64_scratch *scratch)
{
    for (int l = 0; l < DTB_MAX_LINEAR; l++) {
        free(scratch->z[l]);
        if (l > 0) {
            free(scratch->a[l]);
        }
        scratch->z[l] = scratch->a[l] = NULL;
    }
    free(scratch->dz);
    free(scratch->da);
    scratch->dz = scratch->da = NULL;
}

/* Input of layer l: the caller's x for l = 0, else gelu(z[l-1]). */
static const double *layer_input(const mlp_f64_scratch *s, const double *x, int l)
{
    return l == 0 ? x : s->a[l];
}

/* Fills a[1..L-1] and z[]. */
static void forward_f64(mlp_f64_scratch *s, const double *params, const double *x, int64_t B)
{
    const mlp_config *cfg = &s->cfg;
    const int L = cfg->n_linear;
    for (int l = 0; l < L; l++) {
        const double *W = params + s->layout.offset[2 * l];
        const double *b = params + s->layout.offset[2 * l + 1];
        linear_forward_f64(layer_input(s, x, l), W, b, s->z[l], B, cfg->dims[l],
                           cfg->dims[l + 1]);
        if (l + 1 < L) {
            gelu_forward_f64(s->z[l], s->a[l + 1], B * cfg->dims[l + 1]);
        }
    }
}

double mlp_f64_loss(mlp_f64_scratch *s, const double *params, const double *x, const int32_t *y,
                    int64_t B)
{
    forward_f64(s, params, x, B);
    const int L = s->cfg.n_linear;
    return xent_forward_backward_f64(s->z[L - 1], y, B, s->cfg.dims[L], 0.0, NULL);
}

double mlp_f64_forward_backward(mlp_f64_scratch *s, const double *params, const double *x,
                                const int32_t *y, int64_t B, double dlogit_scale, double *grads)
{
    const mlp_config *cfg = &s->cfg;
    const int L = cfg->n_linear;
    forward_f64(s, params, x, B);
    const double loss =
        xent_forward_backward_f64(s->z[L - 1], y, B, cfg->dims[L], dlogit_scale, s->dz);
    for (int l = L - 1; l >= 0; l--) {
        const int64_t in = cfg->dims[l], out = cfg->dims[l + 1];
        linear_backward_f64(s->dz, layer_input(s, x, l), params + s->layout.offset[2 * l],
                            l > 0 ? s->da : NULL, grads + s->layout.offset[2 * l],
                            grads + s->layout.offset[2 * l + 1], B, in, out);
        if (l > 0) {
            gelu_backward_f64(s->z[l - 1], s->da, s->dz, B * in);
        }
    }
    return loss;
}
