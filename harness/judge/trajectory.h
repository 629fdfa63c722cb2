/*
 * A golden trajectory: the two references the conformance checks compare
 * with (references.h), step by step, computed in this process. For one case
 * configuration (model, recipe, batch, steps, seed, precision):
 *
 *   baseline  the single-device fp32 run (bf16-mixed: fp32 masters) exactly
 *             as the `baseline` plugin trains it (reference/baseline_plugin.c):
 *             one replica (reference/replica.h) on the host API of
 *             reference/model_host.h, the whole global batch in one
 *             forward/backward, dlogits scaled by fl32(1/B), norm, clip,
 *             optimizer step s;
 *   oracle    oracle_train_f64 (reference/oracle.h) with every step checked.
 *
 * Micro-batches change neither (they only split the data files); the stage
 * is single. The process's BLAS thread count is the caller's business: a rank
 * worker runs one thread, and so does `dtbench trajectory`.
 */
#ifndef DTB_HARNESS_TRAJECTORY_H
#define DTB_HARNESS_TRAJECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "case_config.h"
#include "model.h"
#include "oracle.h"

typedef struct trajectory {
    int64_t steps;
    int64_t n_params;
    mlp_layout layout;           /* canonical layout of the model */
    float *init;                 /* [n_params] initial parameters from the host API */
    /* Per step s at index s-1. */
    double *baseline_loss;       /* mean loss with the parameters before step s */
    double *baseline_grad_norm;  /* pre-clip global norm */
    double *baseline_clip_coef;  /* as the plugin reports it: 1 when nothing was scaled */
    double *oracle_clip_coef;    /* clip_coefficient(oracle grad norm, clip), as the oracle
                                    applies it */
    float *baseline_params;      /* [steps x n_params] after step s at row s-1 (the fp32
                                    masters under bf16-mixed) */
    oracle_trace oracle;         /* loss, grad_norm; params [steps x n_params] (check step
                                    k is step k+1) */
} trajectory;

/* An upper estimate of the bytes trajectory_compute holds for c at once:
 * what it keeps (init, the per-step scalars, the baseline's (4) and the
 * oracle's (8) parameters after every step) and the larger reference's
 * training state and activations. */
int64_t trajectory_bytes(const case_config *c);

/* Trains both references for c->steps steps. 0, or -1 with a one-line
 * message in err (*out is then empty). */
int trajectory_compute(const case_config *c, trajectory *out, char *err, size_t err_len);
void trajectory_free(trajectory *t);

#endif
