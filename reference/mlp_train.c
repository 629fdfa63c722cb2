/*
 * The MLP training pass on a backend (mlp_train.h): forward layer by layer,
 * then backward from the loss down to layer 0, with the hooks called in a
 * fixed order so that every rank of a data-parallel world issues the same
 * hook calls (and so the same collectives) whatever its share of the batch,
 * even none of it:
 *   forward,  l = 0 .. L-1:   get_layer_params(l, 0), put_layer_params(l, 0)
 *   backward, l = L-1 .. 0:   get_layer_params(l, 1), get_layer_grads(l),
 *                             layer_grads_ready(l), put_layer_params(l, 1)
 */
#include "mlp_train.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t max_width(const mlp_config *cfg)
{
    int64_t widest = 0;
    for (int l = 1; l <= cfg->n_linear; l++) {
        widest = cfg->dims[l] > widest ? cfg->dims[l] : widest;
    }
    return widest;
}

static int workspace_alloc(dtb_backend *be, mlp_workspace *ws, int64_t elems, size_t elem_size,
                           void **out)
{
    const size_t bytes = (size_t)elems * elem_size;
    if (be->ops->alloc(be, bytes, out) != 0) {
        return -1;
    }
    ws->bytes += (int64_t)bytes;
    return 0;
}

int mlp_workspace_create(dtb_backend *be, const mlp_config *cfg, int64_t max_batch,
                         mlp_workspace **out)
{
    *out = NULL;
    char why[160];
    if (mlp_config_validate(cfg, why, sizeof why) != 0) {
        return backend_error(be, "mlp workspace: %s", why);
    }
    if (max_batch < 0) {
        return backend_error(be, "mlp workspace: max_batch %lld < 0", (long long)max_batch);
    }
    mlp_workspace *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return backend_error(be, "mlp workspace: out of host memory");
    }
    ws->cfg = *cfg;
    ws->max_batch = max_batch;
    /* A rank whose share of every batch is empty still runs the pass. */
    const int64_t rows = max_batch > 0 ? max_batch : 1;
    const int L = cfg->n_linear;
    int rc = workspace_alloc(be, ws, rows * cfg->dims[0], sizeof(float), (void **)&ws->x);
    rc = rc != 0 ? rc : workspace_alloc(be, ws, rows, sizeof(int32_t), (void **)&ws->y);
    ws->a[0] = ws->x;
    for (int l = 0; l < L && rc == 0; l++) {
        rc = workspace_alloc(be, ws, rows * cfg->dims[l + 1], sizeof(float), (void **)&ws->z[l]);
        if (rc == 0 && l + 1 < L) {
            rc = workspace_alloc(be, ws, rows * cfg->dims[l + 1], sizeof(float),
                                 (void **)&ws->a[l + 1]);
        }
        if (rc == 0 && l + 1 < L) {
            rc = workspace_alloc(be, ws, rows * cfg->dims[l + 1], sizeof(float),
                                 (void **)&ws->t[l]);
        }
    }
    const int64_t widest = max_width(cfg);
    rc = rc != 0 ? rc : workspace_alloc(be, ws, rows * widest, sizeof(float), (void **)&ws->dz);
    rc = rc != 0 ? rc : workspace_alloc(be, ws, rows * widest, sizeof(float), (void **)&ws->da);
    if (rc != 0) {
        mlp_workspace_destroy(be, ws);
        return -1;
    }
    *out = ws;
    return 0;
}

void mlp_workspace_destroy(dtb_backend *be, mlp_workspace *ws)
{
    if (ws == NULL) {
        return;
    }
    be->ops->release(be, ws->x);
    be->ops->release(be, ws->y);
    for (int l = 0; l < ws->cfg.n_linear; l++) {
        be->ops->release(be, ws->z[l]);
        if (l > 0) {
            be->ops->release(be, ws->a[l]);
        }
        if (l + 1 < ws->cfg.n_linear) {
            be->ops->release(be, ws->t[l]);
        }
    }
    be->ops->release(be, ws->dz);
    be->ops->release(be, ws->da);
    free(ws);
}

/* Keeps a message the hook left in be->error (cleared at the start of the pass). */
static int hook_failed(dtb_backend *be, const char *hook, int layer, int rc)
{
    char hook_message[sizeof be->error];
    snprintf(hook_message, sizeof hook_message, "%s", be->error);
    backend_error(be, "mlp pass: hook %s failed for layer %d%s%s", hook, layer,
                  hook_message[0] != '\0' ? ": " : "", hook_message);
    return rc;
}

static int forward(dtb_backend *be, mlp_workspace *ws, const mlp_hooks *hooks, int64_t batch)
{
    const mlp_config *cfg = &ws->cfg;
    const int L = cfg->n_linear;
    for (int l = 0; l < L; l++) {
        const float *W = NULL, *b = NULL;
        int rc = hooks->get_layer_params(hooks->ctx, l, 0, &W, &b);
        if (rc != 0) {
            return hook_failed(be, "get_layer_params", l, rc);
        }
        if (be->ops->linear_forward(be, ws->a[l], W, b, ws->z[l], batch, cfg->dims[l],
                                    cfg->dims[l + 1]) != 0) {
            return -1;
        }
        if (hooks->put_layer_params != NULL &&
            (rc = hooks->put_layer_params(hooks->ctx, l, 0)) != 0) {
            return hook_failed(be, "put_layer_params", l, rc);
        }
        if (l + 1 < L && be->ops->gelu_forward(be, ws->z[l], ws->a[l + 1], ws->t[l],
                                               batch * cfg->dims[l + 1]) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Expects dz = dz_{L-1} (the scaled logit gradient). */
static int backward(dtb_backend *be, mlp_workspace *ws, const mlp_hooks *hooks, int64_t batch)
{
    const mlp_config *cfg = &ws->cfg;
    for (int l = cfg->n_linear - 1; l >= 0; l--) {
        const float *W = NULL, *b = NULL;
        float *dW = NULL, *db = NULL;
        int rc = hooks->get_layer_params(hooks->ctx, l, 1, &W, &b);
        if (rc != 0) {
            return hook_failed(be, "get_layer_params", l, rc);
        }
        if ((rc = hooks->get_layer_grads(hooks->ctx, l, &dW, &db)) != 0) {
            return hook_failed(be, "get_layer_grads", l, rc);
        }
        /* da_l = dz_l W_l is needed only to continue into layer l-1. */
        float *da = l > 0 ? ws->da : NULL;
        if (be->ops->linear_backward(be, ws->dz, ws->a[l], W, da, dW, db, batch, cfg->dims[l],
                                     cfg->dims[l + 1]) != 0) {
            return -1;
        }
        if (hooks->layer_grads_ready != NULL &&
            (rc = hooks->layer_grads_ready(hooks->ctx, l)) != 0) {
            return hook_failed(be, "layer_grads_ready", l, rc);
        }
        if (hooks->put_layer_params != NULL &&
            (rc = hooks->put_layer_params(hooks->ctx, l, 1)) != 0) {
            return hook_failed(be, "put_layer_params", l, rc);
        }
        /* dz_{l-1} = da_l * gelu'(z_{l-1}); dz is free again after linear_backward. */
        if (l > 0 &&
            be->ops->gelu_backward(be, ws->z[l - 1], ws->t[l - 1], ws->da, ws->dz,
                                   batch * cfg->dims[l]) != 0) {
            return -1;
        }
    }
    return 0;
}

int mlp_forward_backward(dtb_backend *be, mlp_workspace *ws, const mlp_hooks *hooks,
                         const float *x, const int32_t *y, int64_t batch, float dlogit_scale,
                         double *loss_sum)
{
    *loss_sum = 0.0;
    be->error[0] = '\0';
    if (batch < 0 || batch > ws->max_batch) {
        return backend_error(be, "mlp pass: batch %lld outside 0..%lld (the workspace size)",
                             (long long)batch, (long long)ws->max_batch);
    }
    if (hooks->get_layer_params == NULL || hooks->get_layer_grads == NULL) {
        return backend_error(be, "mlp pass: get_layer_params and get_layer_grads are required");
    }
    const mlp_config *cfg = &ws->cfg;
    const int L = cfg->n_linear;
    if (be->ops->copy_in(be, ws->x, x, (size_t)(batch * cfg->dims[0]) * sizeof(float)) != 0 ||
        be->ops->copy_in(be, ws->y, y, (size_t)batch * sizeof(int32_t)) != 0) {
        return -1;
    }
    if (forward(be, ws, hooks, batch) != 0) {
        return -1;
    }
    if (be->ops->xent_forward_backward(be, ws->z[L - 1], ws->y, batch, cfg->dims[L],
                                       dlogit_scale, ws->dz, loss_sum) != 0) {
        return -1;
    }
    return backward(be, ws, hooks, batch);
}

/* ---- hooks over one flat canonical parameter and gradient buffer ---------- */

static int flat_get_layer_params(void *ctx, int layer, int backward_phase, const float **W,
                                 const float **b)
{
    (void)backward_phase;
    const mlp_flat_ctx *flat = ctx;
    *W = flat->params + flat->layout.offset[2 * layer];
    *b = flat->params + flat->layout.offset[2 * layer + 1];
    return 0;
}

static int flat_get_layer_grads(void *ctx, int layer, float **dW, float **db)
{
    mlp_flat_ctx *flat = ctx;
    *dW = flat->grads + flat->layout.offset[2 * layer];
    *db = flat->grads + flat->layout.offset[2 * layer + 1];
    return 0;
}

void mlp_flat_hooks(mlp_flat_ctx *ctx, mlp_hooks *out)
{
    out->ctx = ctx;
    out->get_layer_params = flat_get_layer_params;
    out->put_layer_params = NULL;
    out->get_layer_grads = flat_get_layer_grads;
    out->layer_grads_ready = NULL;
}
