/*
 * The compute backend: the few fp32 operations a training step needs, behind
 * one table so that the same driver (mlp_train.h) and the same plugins run on
 * the CPU (backend_cpu.c: C11 + BLAS) or a GPU (the CUDA backend, on device
 * pointers). Every operation returns 0, or non-zero after writing a message
 * with backend_error().
 *
 * All matrices are row-major. Pointers are in the backend's memory space
 * (host for cpu, device for cuda); copy_in/copy_out move host <-> backend.
 */
#ifndef DTB_REFERENCE_BACKEND_H
#define DTB_REFERENCE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct dtb_backend dtb_backend;


typedef struct dtb_backend_ops {
    const char *name; /* "cpu", "cuda" */

    int (*alloc)(dtb_backend *be, size_t bytes, void **out);
    void (*release)(dtb_backend *be, void *ptr);
    int (*zero)(dtb_backend *be, void *ptr, size_t bytes);
    int (*copy_in)(dtb_backend *be, void *dst, const void *host_src, size_t bytes);
    int (*copy_out)(dtb_backend *be, void *host_dst, const void *src, size_t bytes);
    int (*synchronize)(dtb_backend *be);

    /* Z[B x out] = X[B x in] * W^T + b,  W is [out x in]. */
    int (*linear_forward)(dtb_backend *be, const float *X, const float *W, const float *b,
                          float *Z, int64_t B, int64_t in, int64_t out);
    /* dW[out x in] += dZ^T X;  db[out] += sum over rows of dZ;
     * dX[B x in] = dZ W (overwritten; skipped when dX is NULL). */
    int (*linear_backward)(dtb_backend *be, const float *dZ, const float *X, const float *W,
                           float *dX, float *dW, float *db, int64_t B, int64_t in, int64_t out);
    /* A = gelu(Z) = 0.5 Z (1 + t),  t = tanh(sqrt(2/pi) (Z + 0.044715 Z^3)).
     * T: NULL, or where t is stored for gelu_backward. */
    int (*gelu_forward)(dtb_backend *be, const float *Z, float *A, float *T, int64_t n);
    /* dZ = dA * gelu'(Z). T: NULL, or the t that gelu_forward stored for
     * this Z: the backward then skips recomputing tanh, with bit for bit
     * the same result. */
    int (*gelu_backward)(dtb_backend *be, const float *Z, const float *T, const float *dA,
                         float *dZ, int64_t n);
    /* Softmax cross-entropy of logits [B x C] against labels y:
     * *loss_sum = sum_j (logsumexp(z_j) - z_j[y_j]), accumulated in double;
     * dlogits = (softmax(z) - onehot(y)) * scale. */
    int (*xent_forward_backward)(dtb_backend *be, const float *logits, const int32_t *y,
                                 int64_t B, int64_t C, float scale, float *dlogits,
                                 double *loss_sum);
    /* *out = sum x_i^2, accumulated in double. */
    int (*sum_squares)(dtb_backend *be, const float *x, int64_t n, double *out);
    /* x *= a. */
    int (*scale)(dtb_backend *be, float *x, int64_t n, float a);
    /* x += y. */
    int (*add)(dtb_backend *be, float *x, const float *y, int64_t n);
    /* Optimizer updates over n elements, step t >= 1, as in optim.h. */
    int (*sgd_momentum_step)(dtb_backend *be, float *p, const float *g, float *buf, int64_t n,
                             double lr, double momentum, double weight_decay, int64_t t);
    int (*adamw_step)(dtb_backend *be, float *p, const float *g, float *m, float *v, int64_t n,
                      double lr, double beta1, double beta2, double eps, double weight_decay,
                      int64_t t);
    /* Releases be->impl (handles, streams); NULL when there is nothing to
     * release. Called by backend_destroy, which then frees be itself. */
    void (*destroy)(dtb_backend *be);
} dtb_backend_ops;

struct dtb_backend {
    const dtb_backend_ops *ops;
    void *impl;          /* backend-private state (cuBLAS handle, stream, ...) */
    char error[256];     /* last error message */
};

/* CPU backend: host memory, BLAS sgemm. Always available. */
int backend_cpu_create(dtb_backend **out);
/* CUDA backend on device `index`; returns non-zero with a message in err when
 * dtbench was built without CUDA or no device is present. */
int backend_cuda_create(int device_index, dtb_backend **out, char *err, size_t err_len);
/* ops->destroy(be) if set, then free(be) (every backend allocates its
 * dtb_backend with malloc/calloc); NULL is a no-op. */
void backend_destroy(dtb_backend *be);

/* printf-style message into be->error; returns -1 for `return backend_error(...)`. */
int backend_error(dtb_backend *be, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
