/*
 * The single-device training step of the GPT family (fp32 or bf16-mixed) on the cpu backend:
 * the GPT counterpart of the MLP baseline's step (docs/model-spec.md
 * sections 12 and 16). Step s >= 1 over a global batch of B sequences split
 * into M micro-batches (micro-batch m = split_range(B, M, m)):
 *   1. grads = 0; for each m: the step's sequences first .. first+count-1
 *      (gpt_sample_batch), forward and backward with dlogit scale
 *      fl32(1 / (B T)), the gradients adding (+=) into grads;
 *      loss = (sum of the micro-batches' loss sums) / (B T), in double.
 *   2. grad_norm = sqrt(sum of g_i^2), each float squared and summed in double.
 *   3. coef = clip_coefficient(grad_norm, clip_norm); g *= fl32(coef) only
 *      when coef < 1 (section 10).
 *   4. The optimizer, step t = s, tensor by tensor: weight decay on the 2-D
 *      tensors (wte, wpe and each block's four weight matrices: the ABI's
 *      DTB_TENSOR_DECAY), 0 on biases and LayerNorm tensors.
 * Parameters start at gpt_init_values(seed, ...) of every tensor; optimizer
 * state at 0. Errors: -1 with a message in be->error.
 */
#ifndef DTB_REFERENCE_GPT_TRAIN_H
#define DTB_REFERENCE_GPT_TRAIN_H

#include <stdint.h>

#include "backend.h"
#include "gpt.h"

typedef struct gpt_train_optim {
    int32_t optimizer;        /* dtb_optimizer: DTB_OPT_SGD_MOMENTUM or DTB_OPT_ADAMW */
    double lr;                /* >= 0 */
    double momentum;          /* SGD, 0..1 */
    double beta1, beta2;      /* AdamW, each in [0, 1) */
    double eps;               /* AdamW, > 0 */
    double weight_decay;      /* >= 0, on the 2-D tensors only */
    double clip_norm;         /* >= 0; 0 disables clipping */
    /* dtb_precision: DTB_PREC_FP32 (0), or DTB_PREC_BF16_MIXED: params are the
     * fp32 masters, the forward and backward read compute = bf16(params)
     * (round to nearest even, widened exactly to fp32, rounded at the start
     * of every step, so from the masters as the last optimizer step or a
     * write between steps left them), gradients and optimizer stay fp32
     * (docs/model-spec.md section 15). */
    int32_t precision;
} gpt_train_optim;

typedef struct gpt_step_result {
    double loss;              /* mean cross-entropy over the B T positions */
    double grad_norm;         /* of the averaged gradient, before clipping */
    double clip_coef;         /* clip_coefficient(grad_norm, clip_norm); 1: not clipped */
} gpt_step_result;

typedef struct gpt_trainer gpt_trainer;

/* be: the cpu backend (the model's kernels are host code); it must outlive
 * the trainer. batch B >= 1 sequences, micro_batches M in 1..B. Allocates
 * parameters, gradients, optimizer state (AdamW m and v; SGD one buffer),
 * activations for the largest micro-batch (ceil(B / M) sequences) and its
 * token buffers. 0, or -1 with a message in be->error (*out = NULL). */
/* The settings gpt_trainer_create and the fp64 oracle accept: a valid
 * config, a known precision and optimizer, 1 <= micro <= batch, activations
 * for pass_batch sequences within gpt_batch_validate's limits, finite
 * non-negative lr, weight decay and clip norm, SGD momentum in 0..1, AdamW
 * betas in [0, 1) and eps > 0. 0, or -1 with the reason in why (no prefix). */
int gpt_train_settings_check(const gpt_config *cfg, int64_t batch, int32_t micro,
                             const gpt_train_optim *opt, int64_t pass_batch, char *why,
                             size_t why_len);

int gpt_trainer_create(dtb_backend *be, const gpt_config *cfg, uint64_t seed, int64_t batch,
                       int32_t micro_batches, const gpt_train_optim *opt, gpt_trainer **out);
/* One training step s (1, 2, ...; the optimizer's t = s; s < 2^32 as the data
 * requires). out may be NULL. 0, or -1 with a message in be->error, after
 * which the parameters may be partly updated. */
int gpt_trainer_step(gpt_trainer *tr, int64_t step, gpt_step_result *out);

/* The flat canonical arrays (gpt.h's layout), gpt_trainer_param_count
 * elements each, in host memory. After a step, grads holds the gradient the
 * optimizer used (clipped when coef < 1). The parameters may be written
 * between steps. */
float *gpt_trainer_params(gpt_trainer *tr);
const float *gpt_trainer_grads(const gpt_trainer *tr);
/* What the last step's forward read: bf16(params) widened under bf16-mixed
 * (as the params were at that step's start), else params. */
const float *gpt_trainer_compute_params(const gpt_trainer *tr);
int64_t gpt_trainer_param_count(const gpt_trainer *tr);
/* Bytes held: parameters, gradients, optimizer state, activations, tokens. */
int64_t gpt_trainer_bytes(const gpt_trainer *tr);

void gpt_trainer_destroy(gpt_trainer *tr);    /* NULL is a no-op */

#endif
