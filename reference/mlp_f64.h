/*
 * The MLP in fp64 with plain loops (no BLAS), for the oracle and the tests:
 * the same model and loss as mlp_train.h, every product and sum in double.
 * Layer functions take the same row-major shapes as backend.h.
 */
#ifndef DTB_REFERENCE_MLP_F64_H
#define DTB_REFERENCE_MLP_F64_H

#include <stdint.h>

#include "model.h"

/* Z[B x out] = X[B x in] W^T + b. */
void linear_forward_f64(const double *X, const double *W, const double *b, double *Z, int64_t B,
                        int64_t in, int64_t out);
/* dW += dZ^T X;  db += colsum(dZ);  dX = dZ W (skipped when dX is NULL). */
void linear_backward_f64(const double *dZ, const double *X, const double *W, double *dX,
                         double *dW, double *db, int64_t B, int64_t in, int64_t out);
/* A = 0.5 Z (1 + tanh(sqrt(2/pi) (Z + 0.044715 Z^3))). */
void gelu_forward_f64(const double *Z, double *A, int64_t n);
/* dZ = dA * gelu'(Z). */
void gelu_backward_f64(const double *Z, const double *dA, double *dZ, int64_t n);
/* Returns sum_j (logsumexp(z_j) - z_j[y_j]); dlogits (if not NULL) =
 * (softmax(z) - onehot(y)) * scale. Labels must be in 0..C-1. */
double xent_forward_backward_f64(const double *logits, const int32_t *y, int64_t B, int64_t C,
                                 double scale, double *dlogits);

/* Activations of a whole-model pass over up to max_batch samples. */
typedef struct mlp_f64_scratch {
    mlp_config cfg;
    mlp_layout layout;
    int64_t max_batch;
    double *a[DTB_MAX_LINEAR];   /* a[l] = gelu(z[l-1]) for l >= 1; a[0] unused */
    double *z[DTB_MAX_LINEAR];   /* pre-activations; z[L-1] = logits */
    double *dz, *da;             /* [max_batch x widest] */
} mlp_f64_scratch;

/* Returns 0, or -1 when out of memory. cfg must be valid. */
int mlp_f64_scratch_create(const mlp_config *cfg, int64_t max_batch, mlp_f64_scratch *out);
void mlp_f64_scratch_free(mlp_f64_scratch *scratch);

/* Sum over the batch of the per-sample loss, for canonical params (double)
 * and inputs x [B x dims[0]] (double). B <= max_batch. */
double mlp_f64_loss(mlp_f64_scratch *s, const double *params, const double *x, const int32_t *y,
                    int64_t B);
/* The same, and adds into grads (canonical layout) the gradient of
 * dlogit_scale * (that sum): with dlogit_scale = 1/B the mean-loss gradient. */
double mlp_f64_forward_backward(mlp_f64_scratch *s, const double *params, const double *x,
                                const int32_t *y, int64_t B, double dlogit_scale, double *grads);

#endif
