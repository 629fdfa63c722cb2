/*
 * A full replica of the model's training state on one backend: fp32
 * parameters, gradients and optimizer state over the whole canonical layout,
 * an activation workspace, and host buffers for one batch of samples. The
 * single-device baseline is one replica; reference DDP is one replica per
 * rank plus gradient reductions. Every byte it holds is reported through the
 * host's memory accounting, by category, and returned on release.
 */
#ifndef DTB_REFERENCE_REPLICA_H
#define DTB_REFERENCE_REPLICA_H

#include <stdint.h>

#include "backend.h"
#include "dtbench/plugin.h"
#include "mlp_train.h"
#include "model.h"

typedef struct replica {
    const char *who;             /* plugin name, prefix of every message */
    dtb_host_api host;
    dtb_run_spec spec;           /* own copy: cfg.name points into it */
    mlp_config cfg;
    mlp_layout layout;
    dtb_backend *backend;
    float *params;               /* [n_params] canonical layout */
    float *grads;                /* [n_params] */
    float *opt_a;                /* SGD momentum buffer, or AdamW m */
    float *opt_b;                /* AdamW v; NULL for SGD */
    mlp_workspace *workspace;
    int64_t max_batch;           /* samples per forward/backward call */
    float *x;                    /* host samples [max_batch x dims[0]] */
    int32_t *y;
    int64_t sample_bytes;        /* bytes of x and y, as tracked */
    mlp_flat_ctx flat;           /* layer views of params and grads */
    mlp_hooks flat_hooks;
} replica;

/* host->error("<who>: <message>"); returns -1. */
int replica_fail(const replica *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Validates the spec's model, optimizer and batch split, creates the CPU
 * backend, allocates everything for batches of up to max_batch samples, and
 * loads the host's initial parameters. On failure the replica is left
 * releasable. `r` must be zeroed. */
int replica_init(replica *r, const char *who, const dtb_run_spec *spec, const dtb_host_api *host,
                 int64_t max_batch);
void replica_release(replica *r);

int replica_zero_grads(replica *r);
/* Fetches samples first..first+count-1 of `step` and runs forward and
 * backward over them with `hooks` (NULL: the flat hooks), adding into the
 * gradients; *loss_sum gets the batch's loss sum. */
int replica_forward_backward(replica *r, const mlp_hooks *hooks, int64_t step, int64_t first,
                             int64_t count, float dlogit_scale, double *loss_sum);
/* Copies the parameters out to host memory; n must be n_params. */
int replica_get_params(replica *r, float *out, int64_t n);
/* ||grads||_2, accumulated in double. */
int replica_grad_norm(replica *r, double *norm);
/* grads *= clip_coefficient(norm, clip_norm) when that is below 1. */
int replica_clip(replica *r, double norm, double clip_norm);
/* The spec's optimizer, step t >= 1, over the whole replica. */
int replica_optimizer_step(replica *r, int64_t t);

#endif
