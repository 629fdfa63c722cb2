/*
 * A full replica of the model's training state on one backend: parameters,
 * gradients and optimizer state over the whole canonical layout, an
 * activation workspace, and host buffers for one batch of samples. The
 * single-device baseline is one replica; reference DDP is one replica per
 * rank plus gradient reductions. Every byte it holds is reported through the
 * host's memory accounting, by category, and returned on release.
 *
 * Precision (docs/zero.md, "The bf16-mixed recipe"):
 *   fp32        params are the fp32 parameters the forward/backward read and
 *               the optimizer updates (PARAMS 4 bytes/param); OPTIM holds
 *               the moments only (SGD 4, AdamW 8 bytes/param).
 *   bf16-mixed  params are the fp32 MASTER copy (counted under OPTIM, so
 *               OPTIM is SGD 8, AdamW 12 bytes/param), and params_bf16 holds
 *               the compute parameters bf16(params), rounded to nearest even,
 *               refreshed after init and after every optimizer step (PARAMS
 *               2 bytes/param). The forward/backward read a unit's compute
 *               parameters widened (exactly) to fp32 in layer_fp32, one unit
 *               at a time (OTHER, 4 * max_u n_u bytes), so the BLAS runs fp32.
 *   Both        gradients are fp32 (GRADS 4 bytes/param), accumulated and
 *               clipped in fp32; the optimizer runs in fp32 on params.
 * Under fp32 nothing of the bf16 path runs: results are bitwise those of the
 * fp32-only replica.
 *
 * The replica runs on the CPU backend only (check_spec), so its backend
 * buffers are host memory and the bf16 widening/narrowing loops touch them
 * directly.
 */
#ifndef DTB_REFERENCE_REPLICA_H
#define DTB_REFERENCE_REPLICA_H

#include <stdint.h>

#include "backend.h"
#include "dtbench/plugin.h"
#include "net.h"

typedef struct replica {
    const char *who;             /* plugin name, prefix of every message */
    dtb_host_api host;
    dtb_run_spec spec;           /* own copy */
    net_model net;               /* the spec's model: kind, units, tensor table */
    dtb_backend *backend;
    int bf16_mixed;              /* spec.precision == DTB_PREC_BF16_MIXED */
    float *params;               /* [n_params] canonical layout: the fp32 parameters,
                                    or under bf16-mixed the fp32 masters */
    uint16_t *params_bf16;       /* [n_params] bf16 compute parameters = bf16(params)
                                    under bf16-mixed; NULL under fp32 */
    float *layer_fp32;           /* [max_u n_u] one unit's compute parameters widened;
                                    NULL under fp32 */
    int64_t layer_fp32_count;    /* max_u n_u (0 under fp32) */
    float *grads;                /* [n_params] fp32 */
    float *opt_a;                /* SGD momentum buffer, or AdamW m */
    float *opt_b;                /* AdamW v; NULL for SGD */
    net_workspace *workspace;
    int64_t max_batch;           /* samples per forward/backward call */
    void *x;                     /* host inputs of max_batch samples */
    int32_t *y;                  /* host targets [max_batch x positions] */
    int64_t sample_bytes;        /* bytes of x and y, as tracked */
    unit_hooks hooks;            /* unit views of the compute parameters and the
                                    gradients (ctx = this replica); wrap them to add
                                    work per unit (DDP's bucket launches) */
} replica;

/* host->error("<who>: <message>"); returns -1. */
int replica_fail(const replica *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Validates the spec's model, optimizer and batch split, creates the CPU
 * backend, allocates everything for batches of up to max_batch samples, and
 * loads the host's initial parameters (and, under bf16-mixed, rounds them to
 * the compute parameters). On failure the replica is left releasable. `r`
 * must be zeroed, and must not move afterwards (r->hooks.ctx points to it). */
int replica_init(replica *r, const char *who, const dtb_run_spec *spec, const dtb_host_api *host,
                 int64_t max_batch);
void replica_release(replica *r);

int replica_zero_grads(replica *r);
/* Fetches samples first..first+count-1 of `step` and runs forward and
 * backward over them with `hooks` (NULL: r->hooks), adding into the
 * gradients; *loss_sum gets the batch's loss sum over its positions. */
int replica_forward_backward(replica *r, const unit_hooks *hooks, int64_t step, int64_t first,
                             int64_t count, float dlogit_scale, double *loss_sum);
/* Positions the loss is averaged over in one step: B * positions per sample
 * (net.h); passes over part of the batch scale by fl32(1 / this). */
double replica_step_positions(const replica *r);
/* Copies the fp32 parameters (the masters under bf16-mixed) out to host
 * memory; n must be n_params. */
int replica_get_params(replica *r, float *out, int64_t n);
/* ||grads||_2, accumulated in double. */
int replica_grad_norm(replica *r, double *norm);
/* grads *= clip_coefficient(norm, clip_norm) when that is below 1; *coef
 * (may be NULL) is the coefficient, 1 when nothing was scaled. */
int replica_clip(replica *r, double norm, double clip_norm, double *coef);
/* grads *= coef (in fp32), whatever coef is. */
int replica_scale_grads(replica *r, double coef);
/* The compute parameters in canonical layout for get_compute_params: the
 * fp32 parameters (*dtype FP32) or, under bf16-mixed, params_bf16 (BF16). */
int replica_get_compute_params(replica *r, void *out, int64_t n, int32_t *dtype);
/* The spec's optimizer, step t >= 1, over the whole replica (on the fp32
 * params); under bf16-mixed then refreshes the compute parameters. */
int replica_optimizer_step(replica *r, int64_t t);
/* params_bf16[i] = bf16(params[i]), nearest even, for every i; a no-op under
 * fp32. Called by replica_init and replica_optimizer_step; exported for
 * implementations that update the masters themselves. */
void replica_refresh_compute_params(replica *r);
/* Canonical checkpoints (replica_checkpoint.c, docs/checkpoint.md): rank
 * `rank` of `world` identical replicas stores its slice of every array;
 * load reads them whole and refreshes the compute parameters. The
 * optimizer's step count is the caller's t (train_step's step). */
int replica_save_checkpoint(replica *r, const dtb_checkpoint_io *io, int rank, int world);
int replica_load_checkpoint(replica *r, const dtb_checkpoint_io *io);
/* Bytes per parameter of the compute parameters (PARAMS): 4 fp32, 2 bf16. */
int replica_param_bytes(const replica *r);

#endif
