/*
 * Reference ZeRO (Rajbhandari et al., "ZeRO: Memory Optimizations Toward
 * Training Trillion Parameter Models"), stages 1, 2 and 3, as dtbench plugins
 * on the CPU backend and the MPI communicator. docs/zero.md is normative for
 * the partition, the bf16-mixed recipe, the memory categories and the
 * collectives each stage issues.
 *
 * One optimizer step over a global batch of B samples in M micro-batches
 * (the same sample split and 1/B scaling as reference DDP, ddp.h):
 *   stage 1: full compute parameters and full fp32 gradients on every rank;
 *            gradients accumulate over the micro-batches, and during the last
 *            backward each unit's reduce-scatter starts as soon as the unit is
 *            final; each rank updates its shard of the fp32 optimizer state
 *            (and master) and the updated compute shards are all-gathered.
 *   stage 2: gradients partitioned too: each unit's gradient is produced in
 *            one of two unit-sized buckets, reduce-scattered (non-blocking)
 *            in every micro-batch's backward and accumulated into the rank's
 *            fp32 gradient shard; a bucket is reused only after its
 *            reduce-scatter completed. No full-size gradient exists.
 *   stage 3: parameters partitioned too: a unit is all-gathered before its
 *            forward and again before its backward into one of d+1 slots,
 *            the next d gathers prefetched (d = prefetch depth, default 1,
 *            0 allowed), so at most d+1 units are ever materialised.
 * Then, all stages: the loss sum and the squared norm of the reduced
 * gradient shards are allreduced (fp64, one element each), every rank clips
 * by the same global norm and steps its shard of the optimizer.
 * A world of one issues no collectives.
 *
 * The zoo (impl/zoo) builds the same code with one deliberate bug each.
 */
#ifndef DTB_IMPL_ZERO_H
#define DTB_IMPL_ZERO_H

#include "dtbench/plugin.h"

typedef enum zero_bug {
    ZERO_BUG_NONE = 0,
    /* the clip norm comes from this rank's shard only (no reduction) */
    ZERO_BUG_LOCAL_CLIP,
    /* gradients placed after the unit's padding while parameters are placed
     * before it: every shard boundary shifted by the padding */
    ZERO_BUG_PADDING,
    /* stage 3: the backward reuses the units it gathered at step 1, never
     * re-gathered after an optimizer step */
    ZERO_BUG_STALE_PARAMS,
    /* bf16-mixed: the gradient accumulator is rounded to bf16 after every
     * micro-batch */
    ZERO_BUG_BF16_ACCUM,
    /* stage 2/3: a bucket is zeroed and refilled without waiting for the
     * reduce-scatter still reading it */
    ZERO_BUG_BUCKET_REUSE,
    /* stage 2/3: reduce-scatter buckets sized to the whole padded model
     * instead of a unit (correct results, ZeRO-2's memory saving gone) */
    ZERO_BUG_FULL_BUCKETS,
    /* stage 3: room for every layer's gathered parameters at once beside the
     * d+1 slots it declares (correct results, ZeRO-3's saving gone) */
    ZERO_BUG_GATHER_ALL,
    /* checkpoint: rank 0 saves the whole parameters but only its own shard of
     * the optimizer state; the other ranks save nothing */
    ZERO_BUG_CKPT_OWN_SHARD,
    /* checkpoint: the optimizer's step counter restarts at 0 on load (AdamW's
     * bias correction and SGD's first-step momentum as if new) */
    ZERO_BUG_CKPT_STEP_RESET,
    /* checkpoint: the parameters are loaded, the optimizer state is left as
     * create made it (zero: momentum re-initialised) */
    ZERO_BUG_CKPT_STATE_RESET,
    /* stage 3: the forward's gather of the last unit fetches the shards of
     * the unit before it (an off-by-one in the gather schedule) when the two
     * are the same size (a GPT's blocks): the last block's forward computes
     * with the block below's parameters; the backward's gather is right */
    ZERO_BUG_WRONG_BLOCK
} zero_bug;

#define ZERO_VERSION "0.1.0"
#define ZERO_DEFAULT_PREFETCH 1
#define ZERO_MAX_PREFETCH 4

#define ZERO_COMMON_CAPS                                                                   \
    (DTB_CAP_FP32 | DTB_CAP_BF16_MIXED | DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW |           \
     DTB_CAP_GRAD_CLIP | DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH | DTB_CAP_MODEL_MLP |     \
     DTB_CAP_MODEL_GPT |                                                                  \
     DTB_CAP_CPU | DTB_CAP_CHECKPOINT)

/* stage: 1, 2 or 3. `name` prefixes every error message. */
int zero_create(const dtb_run_spec *spec, const dtb_host_api *host, const char *name, int stage,
                zero_bug bug, dtb_state **out);
int zero_train_step(dtb_state *state, int64_t step, dtb_step_report *report);
int zero_get_params(dtb_state *state, float *out, int64_t n);
int zero_get_compute_params(dtb_state *state, void *out, int64_t n, int32_t *dtype);
int zero_get_counters(dtb_state *state, dtb_counters *out);
int zero_get_facts(dtb_state *state, dtb_facts *out);
void zero_destroy(dtb_state *state);
/* zero_checkpoint.c (docs/checkpoint.md) */
int zero_save_checkpoint(dtb_state *state, const dtb_checkpoint_io *io);
int zero_load_checkpoint(dtb_state *state, const dtb_checkpoint_io *io);

/* Defines this shared object's entry point: a ZeRO plugin of the given
 * stage (1, 2 or 3), name, description and bug. One use per source file. */
#define ZERO_DEFINE_PLUGIN(NAME, STAGE, DESCRIPTION, BUG)                                   \
    static int zero_plugin_create(const dtb_run_spec *spec, const dtb_host_api *host,      \
                                  dtb_state **out)                                         \
    {                                                                                      \
        return zero_create(spec, host, (NAME), (STAGE), (BUG), out);                       \
    }                                                                                      \
    const dtb_plugin *dtbench_plugin_entry(void);                                          \
    const dtb_plugin *dtbench_plugin_entry(void)                                           \
    {                                                                                      \
        static const dtb_plugin table = {                                                  \
            .abi_version = DTB_ABI_VERSION,                                                \
            .struct_size = sizeof(dtb_plugin),                                             \
            .name = (NAME),                                                                \
            .version = ZERO_VERSION,                                                       \
            .description = (DESCRIPTION),                                                  \
            .caps = ZERO_COMMON_CAPS | ((STAGE) == 1   ? DTB_CAP_ZERO1                     \
                                        : (STAGE) == 2 ? DTB_CAP_ZERO2                     \
                                                       : DTB_CAP_ZERO3),                   \
            .create = zero_plugin_create,                                                  \
            .train_step = zero_train_step,                                                 \
            .get_params = zero_get_params,                                                 \
            .get_counters = zero_get_counters,                                             \
            .get_facts = zero_get_facts,                                                   \
            .destroy = zero_destroy,                                                       \
            .get_compute_params = zero_get_compute_params,                                 \
            .save_checkpoint = zero_save_checkpoint,                                       \
            .load_checkpoint = zero_load_checkpoint,                                       \
        };                                                                                 \
        return &table;                                                                     \
    }

#endif
