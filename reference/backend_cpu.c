/*
 * The CPU backend: host memory, OpenBLAS sgemm for the matrix products and
 * plain loops (vectorised by the compiler) for the rest. Deterministic: every
 * reduction has a fixed order for a fixed BLAS thread count.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "backend.h"
#include "optim.h"

/* Allocation alignment: one cache line, enough for any vector unit. */
enum {
    CPU_ALIGN = 64
};

static int cpu_alloc(dtb_backend *be, size_t bytes, void **out)
{
    /* aligned_alloc needs a size that is a multiple of the alignment; a
     * zero-byte request still gets a unique pointer. */
    if (bytes > SIZE_MAX - CPU_ALIGN) {
        *out = NULL;
        return backend_error(be, "cpu: allocation of %zu bytes is too large", bytes);
    }
    const size_t rounded = (bytes + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    *out = aligned_alloc(CPU_ALIGN, rounded > 0 ? rounded : CPU_ALIGN);
    if (*out == NULL) {
        return backend_error(be, "cpu: out of memory allocating %zu bytes", bytes);
    }
    return 0;
}

static void cpu_release(dtb_backend *be, void *ptr)
{
    (void)be;
    free(ptr);
}

static int cpu_zero(dtb_backend *be, void *ptr, size_t bytes)
{
    (void)be;
    if (bytes > 0) {
        memset(ptr, 0, bytes);
    }
    return 0;
}

static int cpu_copy(dtb_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes > 0) {
        memcpy(dst, src, bytes);
    }
    return 0;
}

static int cpu_synchronize(dtb_backend *be)
{
    (void)be;
    return 0;
}

/* BLAS takes int dimensions. */
static int check_dims(dtb_backend *be, const char *op, int64_t B, int64_t in, int64_t out)
{
    if (B < 0 || in < 1 || out < 1 || B > INT32_MAX || in > INT32_MAX || out > INT32_MAX) {
        return backend_error(be, "cpu %s: bad sizes B=%lld in=%lld out=%lld", op, (long long)B,
                             (long long)in, (long long)out);
    }
    return 0;
}

/* Z = X W^T (sgemm, beta 0), then Z[j][o] += b[o]. */
static int cpu_linear_forward(dtb_backend *be, const float *X, const float *W, const float *b,
                              float *Z, int64_t B, int64_t in, int64_t out)
{
    if (check_dims(be, "linear_forward", B, in, out) != 0) {
        return -1;
    }
    if (B == 0) {
        return 0;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)out, (int)in, 1.0f, X,
                (int)in, W, (int)in, 0.0f, Z, (int)out);
    for (int64_t j = 0; j < B; j++) {
        float *row = Z + j * out;
        for (int64_t o = 0; o < out; o++) {
            row[o] += b[o];
        }
    }
    return 0;
}

/* dW += dZ^T X (sgemm, beta 1); db[o] += dZ[0][o] + dZ[1][o] + ... in row
 * order; dX = dZ W (sgemm, beta 0). */
static int cpu_linear_backward(dtb_backend *be, const float *dZ, const float *X, const float *W,
                               float *dX, float *dW, float *db, int64_t B, int64_t in,
                               int64_t out)
{
    if (check_dims(be, "linear_backward", B, in, out) != 0) {
        return -1;
    }
    if (B == 0) {
        return 0;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)B, 1.0f, dZ,
                (int)out, X, (int)in, 1.0f, dW, (int)in);
    for (int64_t j = 0; j < B; j++) {
        const float *row = dZ + j * out;
        for (int64_t o = 0; o < out; o++) {
            db[o] += row[o];
        }
    }
    if (dX != NULL) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)out, 1.0f,
                    dZ, (int)out, W, (int)in, 0.0f, dX, (int)in);
    }
    return 0;
}

/* gelu(z) = 0.5 z (1 + tanh(u)),  u = sqrt(2/pi) (z + 0.044715 z^3). */
static const float GELU_SQRT_2_OVER_PI = 0.7978845608028654f;
static const float GELU_CUBIC = 0.044715f;

static int cpu_gelu_forward(dtb_backend *be, const float *Z, float *A, float *T, int64_t n)
{
    (void)be;
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float z = Z[i];
        const float u = GELU_SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z * z);
        const float t = tanhf(u);
        A[i] = 0.5f * z * (1.0f + t);
        if (T != NULL) {
            T[i] = t;
        }
    }
    return 0;
}

/* gelu'(z) = 0.5 (1 + t) + 0.5 z (1 - t^2) sqrt(2/pi) (1 + 3*0.044715 z^2), t = tanh(u). */
static int cpu_gelu_backward(dtb_backend *be, const float *Z, const float *T, const float *dA,
                             float *dZ, int64_t n)
{
    (void)be;
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float z = Z[i];
        /* The forward's t when kept: tanhf costs 15 ns an element, most of GELU. */
        const float t = T != NULL
                            ? T[i]
                            : tanhf(GELU_SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z * z));
        const float du_dz = GELU_SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * z * z);
        const float grad = 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * du_dz;
        dZ[i] = dA[i] * grad;
    }
    return 0;
}

/* Per row: m = max z;  s = sum exp(z - m);  lse = m + log(s) (float);
 * loss += lse - z[y] (widened to double); dz = (exp(z - m)/s - onehot) * scale. */
static int cpu_xent_forward_backward(dtb_backend *be, const float *logits, const int32_t *y,
                                     int64_t B, int64_t C, float scale, float *dlogits,
                                     double *loss_sum)
{
    if (B < 0 || C < 1) {
        return backend_error(be, "cpu xent: bad sizes B=%lld C=%lld", (long long)B,
                             (long long)C);
    }
    double total = 0.0;
    for (int64_t j = 0; j < B; j++) {
        const float *z = logits + j * C;
        float *dz = dlogits + j * C;
        if (y[j] < 0 || y[j] >= C) {
            return backend_error(be, "cpu xent: label %d of sample %lld outside 0..%lld",
                                 (int)y[j], (long long)j, (long long)(C - 1));
        }
        float max = z[0];
        for (int64_t c = 1; c < C; c++) {
            max = z[c] > max ? z[c] : max;
        }
        float sum = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            dz[c] = expf(z[c] - max);
            sum += dz[c];
        }
        const float lse = max + logf(sum);
        total += (double)(lse - z[y[j]]);
        const float inv_sum = 1.0f / sum;
        for (int64_t c = 0; c < C; c++) {
            dz[c] = dz[c] * inv_sum * scale;
        }
        dz[y[j]] -= scale;
    }
    *loss_sum = total;
    return 0;
}

static int cpu_sum_squares(dtb_backend *be, const float *x, int64_t n, double *out)
{
    (void)be;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        sum += (double)x[i] * (double)x[i];
    }
    *out = sum;
    return 0;
}

static int cpu_scale(dtb_backend *be, float *x, int64_t n, float a)
{
    (void)be;
    for (int64_t i = 0; i < n; i++) {
        x[i] *= a;
    }
    return 0;
}

static int cpu_add(dtb_backend *be, float *x, const float *y, int64_t n)
{
    (void)be;
    for (int64_t i = 0; i < n; i++) {
        x[i] += y[i];
    }
    return 0;
}

static int cpu_sgd_momentum_step(dtb_backend *be, float *p, const float *g, float *buf,
                                 int64_t n, double lr, double momentum, double weight_decay,
                                 int64_t t)
{
    if (t < 1) {
        return backend_error(be, "cpu sgd: step %lld < 1", (long long)t);
    }
    sgd_momentum_step_f32(p, g, buf, n, lr, momentum, weight_decay, t);
    return 0;
}

static int cpu_adamw_step(dtb_backend *be, float *p, const float *g, float *m, float *v,
                          int64_t n, double lr, double beta1, double beta2, double eps,
                          double weight_decay, int64_t t)
{
    if (t < 1) {
        return backend_error(be, "cpu adamw: step %lld < 1", (long long)t);
    }
    adamw_step_f32(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, t);
    return 0;
}

static const dtb_backend_ops CPU_OPS = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .release = cpu_release,
    .zero = cpu_zero,
    .copy_in = cpu_copy,
    .copy_out = cpu_copy,
    .synchronize = cpu_synchronize,
    .linear_forward = cpu_linear_forward,
    .linear_backward = cpu_linear_backward,
    .gelu_forward = cpu_gelu_forward,
    .gelu_backward = cpu_gelu_backward,
    .xent_forward_backward = cpu_xent_forward_backward,
    .sum_squares = cpu_sum_squares,
    .scale = cpu_scale,
    .add = cpu_add,
    .sgd_momentum_step = cpu_sgd_momentum_step,
    .adamw_step = cpu_adamw_step,
    .destroy = NULL,
};

int backend_cpu_create(dtb_backend **out)
{
    dtb_backend *be = calloc(1, sizeof *be);
    *out = be;
    if (be == NULL) {
        return -1;
    }
    be->ops = &CPU_OPS;
    be->impl = NULL;
    return 0;
}
