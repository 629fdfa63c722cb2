/*
 * Reference DDP (PyTorch DistributedDataParallel's algorithm) as a dtbench
 * plugin, on the CPU backend and the MPI communicator.
 *
 * Each rank holds the full parameters, gradients and optimizer state. One
 * optimizer step over a global batch of B samples in M micro-batches:
 *   - micro-batch m covers global samples split_range(B, M, m); rank r takes
 *     split_range(count_m, N, r) of it (shares may be uneven or empty);
 *   - the backward pass scales dlogits by 1/B, so the gradients each rank
 *     accumulates sum to the gradient of the loss averaged over the global
 *     batch: the reduction is a plain sum and the average is exact for any
 *     split ("averaged by the number of contributing samples");
 *   - micro-batches 0..M-2 only accumulate (no_sync); during the backward of
 *     micro-batch M-1 each bucket's allreduce starts, non-blocking, as soon as
 *     its layers are final, overlapping the rest of the backward;
 *   - the loss sum is allreduced (one fp64 element); the global norm of the
 *     reduced gradient, identical on every rank, drives clipping; every rank
 *     applies the same optimizer update, so parameters stay bitwise equal.
 * A world of one rank issues no collectives.
 *
 * bf16-mixed (docs/zero.md, "The bf16-mixed recipe"; the replica does it):
 * the forward/backward read bf16 compute parameters (bf16 of the fp32
 * masters, refreshed after every step, widened to fp32 one layer at a time);
 * gradients, their accumulation and their allreduce stay fp32, so the
 * reduction is exactly the fp32 recipe's and rounds nowhere the single-device
 * baseline does not. Memory per rank: PARAMS 2 Psi, GRADS 4 Psi, OPTIM
 * K Psi (master + moments: SGD 8, AdamW 12), OTHER one widened layer.
 *
 * The zoo (impl/zoo) builds the same code with one deliberate bug each.
 */
#ifndef DTB_IMPL_DDP_H
#define DTB_IMPL_DDP_H

#include "dtbench/plugin.h"

typedef enum ddp_bug {
    DDP_BUG_NONE = 0,
    /* each rank averages over its own samples, ranks' gradients summed: N x too large */
    DDP_BUG_SUM_NOT_AVERAGE,
    /* gradient accumulator zeroed at every micro-batch: only the last one counts */
    DDP_BUG_LAST_MICRO_ONLY,
    /* each rank clips its local gradient by its local norm before the reduction */
    DDP_BUG_LOCAL_CLIP,
    /* each micro-batch's gradient averaged over its own samples, then over the
     * M micro-batches: right only when every micro-batch has the same size */
    DDP_BUG_MICRO_MEAN,
    /* the activation workspace sized for the global batch, not the rank's share */
    DDP_BUG_GLOBAL_WORKSPACE,
    /* a rank whose share of the whole step is empty returns before the
     * step's collectives: the other ranks wait for it forever */
    DDP_BUG_EMPTY_SKIP,
    /* the gradient scaled by clip / (norm + 1e-6) at every step, also below
     * the threshold (a coefficient above 1), not by min(1, that) */
    DDP_BUG_CLIP_ALWAYS,
    /* a bucket that spans two layers is reduced only over its top layer's
     * tensors (bookkeeping per layer): the lower layer's gradient in it
     * stays each rank's own partial sum */
    DDP_BUG_BUCKET_TOP_LAYER,
    /* checkpoint: the save stages each rank's slice through its momentum
     * buffer, which ranks other than 0 leave zeroed afterwards: the saved
     * checkpoint is right, the training that goes on is not, on those ranks */
    DDP_BUG_CKPT_SCRATCH,
    /* a tied weight (DTB_TENSOR_TIED: GPT's wte) reduced twice: once when
     * its first use's gradient is in (the head's, before the blocks'
     * backward) and again with its bucket, so that share is summed N times
     * over; a model without a tied weight is unaffected */
    DDP_BUG_TIED_TWICE,
    /* LayerNorm parameters (tensors named ln_*) left out of the gradient
     * reduction: each rank steps them with its own partial gradient, and
     * the ranks' replicas drift apart; an MLP is unaffected */
    DDP_BUG_SKIP_LAYERNORM
} ddp_bug;

#define DDP_CAPS                                                                          \
    (DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_BF16_MIXED | DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | \
     DTB_CAP_GRAD_CLIP | DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH | DTB_CAP_MODEL_MLP |     \
     DTB_CAP_MODEL_GPT |                                                                  \
     DTB_CAP_CPU | DTB_CAP_CHECKPOINT)
#define DDP_VERSION "0.1.0"
#define DDP_DEFAULT_BUCKET_BYTES (25ll << 20)

/* `name` prefixes every error message (the plugin's name). */
int ddp_create(const dtb_run_spec *spec, const dtb_host_api *host, const char *name, ddp_bug bug,
               dtb_state **out);
int ddp_train_step(dtb_state *state, int64_t step, dtb_step_report *report);
int ddp_get_params(dtb_state *state, float *out, int64_t n);
int ddp_get_compute_params(dtb_state *state, void *out, int64_t n, int32_t *dtype);
int ddp_get_counters(dtb_state *state, dtb_counters *out);
int ddp_get_facts(dtb_state *state, dtb_facts *out);
void ddp_destroy(dtb_state *state);
/* Canonical checkpoints (docs/checkpoint.md): each rank stores its 1/N slice. */
int ddp_save_checkpoint(dtb_state *state, const dtb_checkpoint_io *io);
int ddp_load_checkpoint(dtb_state *state, const dtb_checkpoint_io *io);

/* Defines this shared object's entry point: a DDP plugin with the given
 * name, description and bug. One use per plugin source file. */
#define DDP_DEFINE_PLUGIN(NAME, DESCRIPTION, BUG)                                          \
    static int ddp_plugin_create(const dtb_run_spec *spec, const dtb_host_api *host,      \
                                 dtb_state **out)                                         \
    {                                                                                     \
        return ddp_create(spec, host, (NAME), (BUG), out);                                \
    }                                                                                     \
    const dtb_plugin *dtbench_plugin_entry(void);                                         \
    const dtb_plugin *dtbench_plugin_entry(void)                                          \
    {                                                                                     \
        static const dtb_plugin table = {                                                 \
            .abi_version = DTB_ABI_VERSION,                                               \
            .struct_size = sizeof(dtb_plugin),                                            \
            .name = (NAME),                                                               \
            .version = DDP_VERSION,                                                       \
            .description = (DESCRIPTION),                                                 \
            .caps = DDP_CAPS,                                                             \
            .create = ddp_plugin_create,                                                  \
            .train_step = ddp_train_step,                                                 \
            .get_params = ddp_get_params,                                                 \
            .get_counters = ddp_get_counters,                                             \
            .get_facts = ddp_get_facts,                                                   \
            .destroy = ddp_destroy,                                                       \
            .get_compute_params = ddp_get_compute_params,                                 \
            .save_checkpoint = ddp_save_checkpoint,                                       \
            .load_checkpoint = ddp_load_checkpoint,                                       \
        };                                                                                \
        return &table;                                                                    \
    }

#endif
