/*
 * The ensemble members' fp32 arithmetic (ensemble_backend.h). Each variant
 * evaluates model-spec.md's functions with float operations only; the
 * comments give the exact grouping, which is the whole point: two variants
 * differ by rounding alone. Buffers are host memory (the CPU backend's).
 */
#include "ensemble_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ens_impl {
    ens_arith arith;
    dtb_backend *cpu;    /* buffers, BLAS, and every operation not redefined here */
} ens_impl;

static ens_impl *impl_of(dtb_backend *be)
{
    return be->impl;
}

static dtb_backend *cpu_of(dtb_backend *be)
{
    return impl_of(be)->cpu;
}

/* Forwards a CPU backend failure's message to `be`. */
static int cpu_failed(dtb_backend *be)
{
    return backend_error(be, "%s", cpu_of(be)->error);
}

static int ens_alloc(dtb_backend *be, size_t bytes, void **out)
{
    return cpu_of(be)->ops->alloc(cpu_of(be), bytes, out) ? cpu_failed(be) : 0;
}

static void ens_release(dtb_backend *be, void *ptr)
{
    cpu_of(be)->ops->release(cpu_of(be), ptr);
}

static int ens_zero(dtb_backend *be, void *ptr, size_t bytes)
{
    return cpu_of(be)->ops->zero(cpu_of(be), ptr, bytes) ? cpu_failed(be) : 0;
}

static int ens_copy_in(dtb_backend *be, void *dst, const void *src, size_t bytes)
{
    return cpu_of(be)->ops->copy_in(cpu_of(be), dst, src, bytes) ? cpu_failed(be) : 0;
}

static int ens_copy_out(dtb_backend *be, void *dst, const void *src, size_t bytes)
{
    return cpu_of(be)->ops->copy_out(cpu_of(be), dst, src, bytes) ? cpu_failed(be) : 0;
}

static int ens_synchronize(dtb_backend *be)
{
    (void)be;
    return 0;
}

/* ---- matrix products in loops -------------------------------------------- */

/* sum_i a[i] b[i]: partial sums over i mod 4, then (s0 + s1) + (s2 + s3). */
static float dot4(const float *a, const float *b, int64_t n)
{
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* Z[j][o] = b[o] + sum_i X[j][i] W[o][i], in the variant's grouping:
 * DOT4 dot4(X_j, W_o) + b[o]; REVERSE b[o] + X[j][in-1]W[o][in-1] + ... + X[j][0]W[o][0]
 * (left to right); FMA fmaf-chained over i ascending from 0, then + b[o]. */
static void forward_loops(ens_matmul kind, const float *X, const float *W, const float *b,
                          float *Z, int64_t B, int64_t in, int64_t out)
{
    for (int64_t j = 0; j < B; j++) {
        const float *x = X + j * in;
        for (int64_t o = 0; o < out; o++) {
            const float *w = W + o * in;
            float acc;
            if (kind == ENS_MATMUL_DOT4) {
                acc = dot4(x, w, in) + b[o];
            } else if (kind == ENS_MATMUL_REVERSE) {
                acc = b[o];
                for (int64_t i = in - 1; i >= 0; i--)
                    acc += x[i] * w[i];
            } else {
                acc = 0.0f;
                for (int64_t i = 0; i < in; i++)
                    acc = fmaf(x[i], w[i], acc);
                acc += b[o];
            }
            Z[j * out + o] = acc;
        }
    }
}

/* y[i] += a x[i] (FMA: fmaf(a, x[i], y[i])). */
static void axpy(ens_matmul kind, float *y, float a, const float *x, int64_t n)
{
    if (kind == ENS_MATMUL_FMA) {
        for (int64_t i = 0; i < n; i++)
            y[i] = fmaf(a, x[i], y[i]);
    } else {
        for (int64_t i = 0; i < n; i++)
            y[i] += a * x[i];
    }
}

/* y[i] += (a x[i] + c z[i]): two terms grouped before they reach y. */
static void axpy2(float *y, float a, const float *x, float c, const float *z, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i] + c * z[i];
}

/* dW[o][:] += sum_j dZ[j][o] X[j][:] and db[o] += sum_j dZ[j][o], added into
 * the running gradients sample by sample: j descending for REVERSE, pairs
 * (j, j+1) grouped first for DOT4, ascending otherwise. */
static void weight_grads_loops(ens_matmul kind, const float *dZ, const float *X, float *dW,
                               float *db, int64_t B, int64_t in, int64_t out)
{
    if (kind == ENS_MATMUL_DOT4) {
        int64_t j = 0;
        for (; j + 2 <= B; j += 2) {
            const float *d0 = dZ + j * out, *d1 = d0 + out;
            for (int64_t o = 0; o < out; o++) {
                axpy2(dW + o * in, d0[o], X + j * in, d1[o], X + (j + 1) * in, in);
                db[o] += d0[o] + d1[o];
            }
        }
        for (; j < B; j++)
            for (int64_t o = 0; o < out; o++) {
                axpy(kind, dW + o * in, dZ[j * out + o], X + j * in, in);
                db[o] += dZ[j * out + o];
            }
        return;
    }
    for (int64_t k = 0; k < B; k++) {
        const int64_t j = kind == ENS_MATMUL_REVERSE ? B - 1 - k : k;
        const float *dz = dZ + j * out;
        for (int64_t o = 0; o < out; o++) {
            axpy(kind, dW + o * in, dz[o], X + j * in, in);
            db[o] += dz[o];
        }
    }
}

/* dX[j][:] = sum_o dZ[j][o] W[o][:], from zero: o descending for REVERSE,
 * pairs (o, o+1) grouped first for DOT4, ascending otherwise. */
static void input_grads_loops(ens_matmul kind, const float *dZ, const float *W, float *dX,
                              int64_t B, int64_t in, int64_t out)
{
    for (int64_t j = 0; j < B; j++) {
        const float *dz = dZ + j * out;
        float *dx = dX + j * in;
        memset(dx, 0, (size_t)in * sizeof *dx);
        if (kind == ENS_MATMUL_DOT4) {
            int64_t o = 0;
            for (; o + 2 <= out; o += 2)
                axpy2(dx, dz[o], W + o * in, dz[o + 1], W + (o + 1) * in, in);
            for (; o < out; o++)
                axpy(kind, dx, dz[o], W + o * in, in);
        } else {
            for (int64_t k = 0; k < out; k++) {
                const int64_t o = kind == ENS_MATMUL_REVERSE ? out - 1 - k : k;
                axpy(kind, dx, dz[o], W + o * in, in);
            }
        }
    }
}

static int ens_linear_forward(dtb_backend *be, const float *X, const float *W, const float *b,
                              float *Z, int64_t B, int64_t in, int64_t out)
{
    ens_impl *p = impl_of(be);
    if (p->arith.matmul == ENS_MATMUL_BLAS)
        return p->cpu->ops->linear_forward(p->cpu, X, W, b, Z, B, in, out) ? cpu_failed(be) : 0;
    forward_loops(p->arith.matmul, X, W, b, Z, B, in, out);
    return 0;
}

static int ens_linear_backward(dtb_backend *be, const float *dZ, const float *X, const float *W,
                               float *dX, float *dW, float *db, int64_t B, int64_t in,
                               int64_t out)
{
    ens_impl *p = impl_of(be);
    if (p->arith.matmul == ENS_MATMUL_BLAS)
        return p->cpu->ops->linear_backward(p->cpu, dZ, X, W, dX, dW, db, B, in, out)
                   ? cpu_failed(be)
                   : 0;
    weight_grads_loops(p->arith.matmul, dZ, X, dW, db, B, in, out);
    if (dX != NULL)
        input_grads_loops(p->arith.matmul, dZ, W, dX, B, in, out);
    return 0;
}

/* ---- element-wise: PyTorch's groupings ------------------------------------ */

static const float K_BETA = 0.7978845608028654f;  /* sqrt(2/pi) */
static const float K_KAPPA = 0.044715f;

/* aten: inner = kBeta (x + kKappa (x*x*x));  0.5 x (1 + tanh(inner)). The
 * backward's t is the same float expression, so keeping it in T changes no bit. */
static int ens_gelu_forward(dtb_backend *be, const float *Z, float *A, float *T, int64_t n)
{
    ens_impl *p = impl_of(be);
    if (p->arith.elementwise == ENS_EW_REF)
        return p->cpu->ops->gelu_forward(p->cpu, Z, A, T, n) ? cpu_failed(be) : 0;
    for (int64_t i = 0; i < n; i++) {
        const float x = Z[i];
        const float x_cube = x * x * x;
        const float inner = K_BETA * (x + K_KAPPA * x_cube);
        const float t = tanhf(inner);
        A[i] = 0.5f * x * (1.0f + t);
        if (T != NULL) {
            T[i] = t;
        }
    }
    return 0;
}

/* aten: x_sq = x*x; t = tanh(kBeta (x + kKappa (x_sq x)));
 * dZ = dA ((0.5 (1 + t)) + ((0.5 x) (1 - t*t)) (kBeta (1 + 3 kKappa x_sq))). */
static int ens_gelu_backward(dtb_backend *be, const float *Z, const float *T, const float *dA,
                             float *dZ, int64_t n)
{
    ens_impl *p = impl_of(be);
    if (p->arith.elementwise == ENS_EW_REF)
        return p->cpu->ops->gelu_backward(p->cpu, Z, T, dA, dZ, n) ? cpu_failed(be) : 0;
    for (int64_t i = 0; i < n; i++) {
        const float x = Z[i];
        const float x_sq = x * x;
        const float x_cube = x_sq * x;
        const float t = T != NULL ? T[i] : tanhf(K_BETA * (x + K_KAPPA * x_cube));
        const float left = 0.5f * x;
        const float left_derivative = 0.5f * (1.0f + t);
        const float tanh_derivative = 1.0f - t * t;
        const float inner_derivative = K_BETA * (1.0f + 3.0f * K_KAPPA * x_sq);
        const float right_derivative = left * tanh_derivative * inner_derivative;
        dZ[i] = dA[i] * (left_derivative + right_derivative);
    }
    return 0;
}

/* Log-softmax then NLL, as aten: logp_c = (z_c - m) - log(sum_c exp(z_c - m));
 * loss_j = -logp_y (float, summed in double); the gradient through
 * log_softmax's backward, g - exp(logp) * sum(g) with g = -scale * onehot:
 * dz_c = g_c - exp(logp_c) * (-scale). */
static int ens_xent(dtb_backend *be, const float *logits, const int32_t *y, int64_t B, int64_t C,
                    float scale, float *dlogits, double *loss_sum)
{
    ens_impl *p = impl_of(be);
    if (p->arith.elementwise == ENS_EW_REF)
        return p->cpu->ops->xent_forward_backward(p->cpu, logits, y, B, C, scale, dlogits,
                                                  loss_sum)
                   ? cpu_failed(be)
                   : 0;
    double total = 0.0;
    for (int64_t j = 0; j < B; j++) {
        const float *z = logits + j * C;
        float *dz = dlogits + j * C;
        if (y[j] < 0 || y[j] >= C)
            return backend_error(be, "ensemble xent: label %d outside 0..%lld", (int)y[j],
                                 (long long)(C - 1));
        float max = z[0];
        for (int64_t c = 1; c < C; c++)
            max = z[c] > max ? z[c] : max;
        float sum = 0.0f;
        for (int64_t c = 0; c < C; c++)
            sum += expf(z[c] - max);
        const float log_sum = logf(sum);
        for (int64_t c = 0; c < C; c++) {
            const float logp = (z[c] - max) - log_sum;
            if (c == y[j])
                total += (double)(-logp);
            const float g = c == y[j] ? -scale : 0.0f;
            dz[c] = g - expf(logp) * (-scale);
        }
    }
    *loss_sum = total;
    return 0;
}

static int ens_sum_squares(dtb_backend *be, const float *x, int64_t n, double *out)
{
    return cpu_of(be)->ops->sum_squares(cpu_of(be), x, n, out) ? cpu_failed(be) : 0;
}

static int ens_scale(dtb_backend *be, float *x, int64_t n, float a)
{
    return cpu_of(be)->ops->scale(cpu_of(be), x, n, a) ? cpu_failed(be) : 0;
}

static int ens_add(dtb_backend *be, float *x, const float *y, int64_t n)
{
    return cpu_of(be)->ops->add(cpu_of(be), x, y, n) ? cpu_failed(be) : 0;
}

static int ens_sgd(dtb_backend *be, float *p, const float *g, float *buf, int64_t n, double lr,
                   double momentum, double weight_decay, int64_t t)
{
    /* torch's SGD groups every operation as model-spec.md does. */
    return cpu_of(be)->ops->sgd_momentum_step(cpu_of(be), p, g, buf, n, lr, momentum,
                                              weight_decay, t)
               ? cpu_failed(be)
               : 0;
}

/* torch.optim.AdamW, single-tensor path, in float with the coefficients of
 * model-spec.md: p = p*decay; m = m + (1-b1)(g - m) (lerp); v = (v*b2) +
 * (((1-b2) g) g) (addcmul); denom = sqrt(v)/bc2_sqrt + eps;
 * p = p + (-step_size)(m/denom) (addcdiv). */
static int ens_adamw(dtb_backend *be, float *p, const float *g, float *m, float *v, int64_t n,
                     double lr, double beta1, double beta2, double eps, double weight_decay,
                     int64_t t)
{
    ens_impl *s = impl_of(be);
    if (s->arith.optimizer == ENS_OPT_REF)
        return s->cpu->ops->adamw_step(s->cpu, p, g, m, v, n, lr, beta1, beta2, eps,
                                       weight_decay, t)
                   ? cpu_failed(be)
                   : 0;
    if (t < 1)
        return backend_error(be, "ensemble adamw: step %lld < 1", (long long)t);
    const float decay = (float)(1.0 - lr * weight_decay);
    const float neg_step = (float)(-(lr / (1.0 - pow(beta1, (double)t))));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)t));
    const float w1 = (float)(1.0 - beta1), b2 = (float)beta2, w2 = (float)(1.0 - beta2);
    const float eps_f = (float)eps;
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i];
        const float mi = m[i] + w1 * (gi - m[i]);
        const float vi = v[i] * b2 + (w2 * gi) * gi;
        const float denom = sqrtf(vi) / bc2_sqrt + eps_f;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay + neg_step * (mi / denom);
    }
    return 0;
}

static void ens_destroy(dtb_backend *be)
{
    ens_impl *p = impl_of(be);
    if (p == NULL)
        return;
    backend_destroy(p->cpu);
    free(p);
    be->impl = NULL;
}

static const dtb_backend_ops ENSEMBLE_OPS = {
    .name = "ensemble",
    .alloc = ens_alloc,
    .release = ens_release,
    .zero = ens_zero,
    .copy_in = ens_copy_in,
    .copy_out = ens_copy_out,
    .synchronize = ens_synchronize,
    .linear_forward = ens_linear_forward,
    .linear_backward = ens_linear_backward,
    .gelu_forward = ens_gelu_forward,
    .gelu_backward = ens_gelu_backward,
    .xent_forward_backward = ens_xent,
    .sum_squares = ens_sum_squares,
    .scale = ens_scale,
    .add = ens_add,
    .sgd_momentum_step = ens_sgd,
    .adamw_step = ens_adamw,
    .destroy = ens_destroy,
};

int ensemble_backend_create(const ens_arith *arith, dtb_backend **out)
{
    *out = NULL;
    dtb_backend *be = calloc(1, sizeof *be);
    ens_impl *p = calloc(1, sizeof *p);
    if (be == NULL || p == NULL || backend_cpu_create(&p->cpu) != 0) {
        if (p != NULL)
            backend_destroy(p->cpu);
        free(p);
        free(be);
        return -1;
    }
    p->arith = *arith;
    be->ops = &ENSEMBLE_OPS;
    be->impl = p;
    *out = be;
    return 0;
}
