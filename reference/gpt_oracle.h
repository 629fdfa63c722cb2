/*
 * The GPT family's fp64 oracle: gpt_train.h's training step (docs/model-spec.md
 * sections 12, 15 and 16) in double, the reference the fp32 and bf16-mixed
 * trainers are measured against. Step s >= 1 over a global batch of B
 * sequences:
 *   1. grads = 0; the step's sequences 0 .. B-1 (gpt_sample_batch) in ONE
 *      forward and backward (gpt_f64_forward_backward) with dlogit scale
 *      exactly 1 / (B T) in double; loss = loss_sum / (B T). The micro-batch
 *      count M is validated as the trainer does (1 <= M <= B) but changes
 *      nothing: the mean's gradient does not depend on how it is split.
 *   2. grad_norm = sqrt(sum of g_i^2), all in double.
 *   3. coef = clip_coefficient(grad_norm, clip_norm); g *= coef (unrounded)
 *      only when coef < 1 (section 10).
 *   4. adamw_step_f64 / sgd_momentum_step_f64 with step t = s, tensor by
 *      tensor: weight decay on the 2-D tensors only (ndim == 2 in
 *      gpt_tensor_table), 0 on biases and LayerNorm tensors.
 * Initial parameters: the float32 values of gpt_init_values widened to
 * double (exact), so the oracle and the trainers start from one state;
 * optimizer state starts at 0.
 *
 * Precision (gpt_train_optim.precision):
 *   DTB_PREC_FP32: compute parameters = params (one array).
 *   DTB_PREC_BF16_MIXED: params are the double masters; step 2 reads
 *     compute[i] = bf16(params[i]) rounded ONCE from double to nearest-even
 *     bf16 (double_to_bf16, never through float), held widened to double
 *     (exact); the gradient with respect to compute is applied to the masters
 *     unchanged. compute is rounded at create and at the start of every step
 *     (so from the masters as the last step or a write between steps left
 *     them), as gpt_train does.
 * Memory: params, grads, compute (bf16-mixed), one or two optimizer arrays,
 * all n doubles, and the fp64 activations for B sequences: tiny models only.
 */
#ifndef DTB_REFERENCE_GPT_ORACLE_H
#define DTB_REFERENCE_GPT_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "gpt.h"
#include "gpt_train.h"

typedef struct gpt_oracle gpt_oracle;

/* The settings gpt_trainer_create accepts (config, batch >= 1, 1 <= M <= B,
 * optimizer, ranges, precision fp32 or bf16-mixed). 0, or -1 with a message
 * in err (*out = NULL). */
int gpt_oracle_create(const gpt_config *cfg, uint64_t seed, int64_t batch, int32_t micro_batches,
                      const gpt_train_optim *opt, gpt_oracle **out, char *err, size_t err_len);
/* One training step s (1 .. 2^32-1; the optimizer's t = s). out may be NULL.
 * 0, or -1 with a message in gpt_oracle_error, after which the parameters
 * may be partly updated. */
int gpt_oracle_step(gpt_oracle *o, int64_t step, gpt_step_result *out);
/* The last step's error message ("" when none). */
const char *gpt_oracle_error(const gpt_oracle *o);

/* Flat canonical arrays (gpt.h's layout) of gpt_oracle_param_count doubles.
 * params: the masters; they may be written between steps. */
double *gpt_oracle_params(gpt_oracle *o);
/* What the last step's forward read (before any step: what step 1 would read
 * if the params are left as they are): params under fp32, bf16(params)
 * widened under bf16-mixed. */
const double *gpt_oracle_compute_params(const gpt_oracle *o);
/* After a step: the gradient the optimizer used, with respect to the compute
 * parameters (multiplied by coef when coef < 1); zeros before step 1. */
const double *gpt_oracle_grads(const gpt_oracle *o);
int64_t gpt_oracle_param_count(const gpt_oracle *o);

void gpt_oracle_destroy(gpt_oracle *o);    /* NULL is a no-op */

#endif
