/*
 * The single-device baseline as a plugin ("baseline"): one replica, the
 * whole global batch in one forward/backward per step (micro_batches is
 * ignored: accumulation would only change rounding), dlogits scaled by 1/B
 * (1/(B T) for a GPT: the loss is the mean over every position),
 * global-norm clipping, then the optimizer. fp32 arithmetic throughout; under
 * bf16-mixed the replica's recipe (bf16 compute parameters, fp32 masters,
 * moments and gradients; replica.h). The conformance tolerance is built from
 * this run's own error against the fp64 oracle of the same precision.
 */
#include <stdlib.h>
#include <string.h>

#include "replica.h"

struct dtb_state {
    replica r;
};

static int baseline_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    *out = NULL;
    if (spec->world_size != 1) {
        host->error(host->ctx, "baseline: runs on a single device only (world size 1)");
        return -1;
    }
    if (spec->stage != DTB_STAGE_SINGLE) {
        host->error(host->ctx, "baseline: asked for a distributed stage; it runs stage single");
        return -1;
    }
    dtb_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        host->error(host->ctx, "baseline: out of memory for the plugin state");
        return -1;
    }
    if (replica_init(&s->r, "baseline", spec, host, spec->global_batch) != 0) {
        replica_release(&s->r);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int baseline_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    replica *r = &s->r;
    const int64_t B = r->spec.global_batch;
    const double positions = replica_step_positions(r);
    double loss_sum = 0.0, norm = 0.0, coef = 1.0;
    if (replica_zero_grads(r) != 0 ||
        replica_forward_backward(r, NULL, step, 0, B, (float)(1.0 / positions), &loss_sum) != 0 ||
        replica_grad_norm(r, &norm) != 0 || replica_clip(r, norm, r->spec.clip_norm, &coef) != 0 ||
        replica_optimizer_step(r, step) != 0)
        return -1;
    report->loss = loss_sum / positions;
    report->grad_norm = norm;
    report->clip_coef = coef;
    return 0;
}

static int baseline_get_compute_params(dtb_state *s, void *out, int64_t n, int32_t *dtype)
{
    return replica_get_compute_params(&s->r, out, n, dtype);
}

static int baseline_get_params(dtb_state *s, float *out, int64_t n)
{
    return replica_get_params(&s->r, out, n);
}

static int baseline_get_counters(dtb_state *s, dtb_counters *out)
{
    (void)s;
    memset(out, 0, sizeof *out); /* one device: no communication at all */
    return 0;
}

static int baseline_get_facts(dtb_state *s, dtb_facts *out)
{
    /* No reduction on one device: reduce_dtype is that of the gradients. */
    const int bf16 = s->r.bf16_mixed;
    *out = (dtb_facts){.struct_size = out->struct_size,
                       .stage = DTB_STAGE_SINGLE,
                       .precision = bf16 ? DTB_PREC_BF16_MIXED : DTB_PREC_FP32,
                       .reduce_dtype = DTB_DTYPE_FP32,
                       .param_dtype = bf16 ? DTB_DTYPE_BF16 : DTB_DTYPE_FP32,
                       .bucket_bytes = 0, .prefetch_depth = -1,
                       .mem_padding_bytes = 0, .mem_working_bytes = 0};
    return 0;
}

static int baseline_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return replica_save_checkpoint(&s->r, io, 0, 1);
}

static int baseline_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return replica_load_checkpoint(&s->r, io);
}

static void baseline_destroy(dtb_state *s)
{
    if (s == NULL)
        return;
    replica_release(&s->r);
    free(s);
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = "baseline",
        .version = "0.1.0",
        .description = "single-device baseline (fp32 or bf16-mixed): whole global batch in one pass",
        .caps = DTB_CAP_SINGLE_DEVICE | DTB_CAP_FP32 | DTB_CAP_BF16_MIXED |
                DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW |
                DTB_CAP_GRAD_CLIP | DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH |
                DTB_CAP_MODEL_MLP | DTB_CAP_MODEL_GPT | DTB_CAP_CPU | DTB_CAP_CHECKPOINT,
        .create = baseline_create,
        .train_step = baseline_train_step,
        .get_params = baseline_get_params,
        .get_counters = baseline_get_counters,
        .get_facts = baseline_get_facts,
        .destroy = baseline_destroy,
        .get_compute_params = baseline_get_compute_params,
        .save_checkpoint = baseline_save_checkpoint,
        .load_checkpoint = baseline_load_checkpoint,
    };
    return &table;
}
