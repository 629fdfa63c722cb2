/*
 * One forward + backward pass of the MLP over a batch, on a backend, with
 * hooks so that every data-parallel scheme uses the same driver:
 *   - the baseline and DDP keep one flat parameter and gradient buffer
 *     (mlp_flat_hooks);
 *   - ZeRO-3 gathers a layer's parameters in get_layer_params and frees them
 *     in put_layer_params;
 *   - DDP and ZeRO-2 start a bucket's reduction in layer_grads_ready, which
 *     the backward pass calls for layers L-1 .. 0 as soon as each is final.
 *
 * Forward:  a_0 = x;  z_l = a_l W_l^T + b_l;  a_{l+1} = gelu(z_l) for l < L-1;
 *           logits = z_{L-1}.
 * Backward: dz_{L-1} = (softmax(logits) - onehot(y)) * dlogit_scale, then for
 *           l = L-1 .. 0:  dW_l += dz_l^T a_l;  db_l += colsum(dz_l);
 *           da_l = dz_l W_l;  dz_{l-1} = da_l * gelu'(z_{l-1}).
 * With dlogit_scale = 1/B_global the gradients are those of the loss averaged
 * over the global batch, whatever the share of it this call sees.
 */
#ifndef DTB_REFERENCE_MLP_TRAIN_H
#define DTB_REFERENCE_MLP_TRAIN_H

#include <stdint.h>

#include "backend.h"
#include "model.h"

typedef struct mlp_hooks {
    void *ctx;
    /* Layer l's parameters for its forward (backward = 0) or backward (1). */
    int (*get_layer_params)(void *ctx, int layer, int backward, const float **W, const float **b);
    /* Done with layer l's parameters for this phase; NULL if nothing to do. */
    int (*put_layer_params)(void *ctx, int layer, int backward);
    /* Where layer l's gradients accumulate (the backward adds into them). */
    int (*get_layer_grads)(void *ctx, int layer, float **dW, float **db);
    /* Layer l's gradients for this pass are complete; NULL if nothing to do. */
    int (*layer_grads_ready)(void *ctx, int layer);
} mlp_hooks;

/* Activations for batches of up to max_batch samples, in backend memory. */
typedef struct mlp_workspace {
    mlp_config cfg;
    int64_t max_batch;
    float *x;                          /* input [max_batch x dims[0]] */
    int32_t *y;                        /* labels (backend memory) */
    float *z[DTB_MAX_LINEAR];          /* pre-activations [max_batch x dims[l+1]] */
    float *a[DTB_MAX_LINEAR];          /* a[0] = x; a[l] = gelu(z[l-1]) */
    float *t[DTB_MAX_LINEAR];          /* t[l] = tanh of GELU's argument at z[l], l < L-1,
                                          kept by the forward for the backward */
    float *dz;                         /* scratch [max_batch x max dim] */
    float *da;                         /* scratch [max_batch x max dim] */
    int64_t bytes;                     /* total bytes held, for memory accounting */
} mlp_workspace;

int mlp_workspace_create(dtb_backend *be, const mlp_config *cfg, int64_t max_batch,
                         mlp_workspace **out);
void mlp_workspace_destroy(dtb_backend *be, mlp_workspace *ws);

/* Forward and backward over `batch` samples (x, y in host memory; they are
 * copied into the workspace). Adds the gradients into the hooks' buffers and
 * stores sum over the batch of the per-sample loss in *loss_sum. */
int mlp_forward_backward(dtb_backend *be, mlp_workspace *ws, const mlp_hooks *hooks,
                         const float *x, const int32_t *y, int64_t batch, float dlogit_scale,
                         double *loss_sum);

/* Hooks over one flat canonical parameter buffer and one flat gradient buffer
 * (both in backend memory). The context must outlive the hooks. */
typedef struct mlp_flat_ctx {
    mlp_layout layout;
    const float *params;
    float *grads;
} mlp_flat_ctx;
void mlp_flat_hooks(mlp_flat_ctx *ctx, mlp_hooks *out);

#endif
