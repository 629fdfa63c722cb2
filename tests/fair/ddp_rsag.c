/*
 * fair-ddp-rsag: a correct DDP whose gradient sum is a reduce-scatter then
 * an allgather (what a ring allreduce does inside), over a gradient buffer
 * padded so that every rank's shard is a whole number of 16-float (64-byte)
 * blocks. Built on examples/ddp_simple's kit.
 *
 * Shard = 16 ceil(ceil(Psi / N) / 16) floats, gradient buffer Psi_A = N
 * shards. One step: accumulate into the gradient (zero beyond Psi); ONE
 * MPI_Reduce_scatter_block in place (grads[0, shard) = this rank's shard of
 * the sum, S = 4 Psi_A bytes); move it to its place, grads[rank shard, ...);
 * ONE MPI_Allgather in place (S = 4 Psi_A): every rank holds the summed
 * gradient, bitwise the same, and updates every element as DDP does. Bus
 * bytes 2 (N-1)/N 4 Psi_A, the DDP minimum for Psi_A elements; memory
 * (p + g + K) Psi + 4 (Psi_A - Psi), the excess declared as padding.
 */
#define DDP_SIMPLE_KIT_ONLY
#include "ddp_simple.c"

#define RSAG_ALIGN 16 /* floats per block: 64 bytes */

/* Floats of gradient per rank: ceil(Psi / N) rounded up to whole blocks. */
static int64_t rsag_shard(const dtb_state *s)
{
    const int64_t share = (s->n_params + s->world - 1) / s->world;
    return (share + RSAG_ALIGN - 1) / RSAG_ALIGN * RSAG_ALIGN;
}

static int rsag_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = NULL;
    int rc = kit_create(spec, host, "fair-ddp-rsag", &s);
    if (rc == 0 && spec->stage != DTB_STAGE_DDP)
        rc = kit_fail(s, "stage %d asked; this plugin runs DDP only", (int)spec->stage);
    if (rc == 0)
        rc = kit_alloc_states(s, s->n_params, rsag_shard(s) * s->world, s->n_params);
    if (rc == 0)
        rc = kit_load_params(s);
    if (rc != 0) {
        kit_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* The gradient summed over ranks, on every rank: reduce-scatter, then
 * allgather of the reduced shards. */
static int rsag_sum_gradient(dtb_state *s)
{
    if (s->world == 1)
        return 0;
    const int64_t shard = rsag_shard(s), bytes = s->grads_len * (int64_t)sizeof(float);
    if (kit_mpi(s, MPI_Reduce_scatter_block(MPI_IN_PLACE, s->grads, (int)shard, MPI_FLOAT,
                                            MPI_SUM, s->comm),
                "MPI_Reduce_scatter_block of the gradient") != 0)
        return -1;
    kit_count(s, DTB_COLL_REDUCE_SCATTER, bytes);
    memmove(s->grads + s->rank * shard, s->grads, (size_t)shard * sizeof *s->grads);
    if (kit_mpi(s, MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s->grads, (int)shard,
                                 MPI_FLOAT, s->comm),
                "MPI_Allgather of the gradient") != 0)
        return -1;
    kit_count(s, DTB_COLL_ALLGATHER, bytes);
    return 0;
}

static int rsag_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    double loss_sum = 0.0;
    memset(s->grads, 0, (size_t)s->grads_len * sizeof *s->grads);
    if (kit_accumulate(s, s->params, s->grads, step, &loss_sum) != 0 ||
        rsag_sum_gradient(s) != 0 ||
        kit_allreduce_scalar(s, &loss_sum, "MPI_Allreduce of the loss") != 0)
        return -1;
    const double norm = sqrt(kit_sum_squares(s->grads, s->n_params));
    kit_update(s, s->params, s->grads, s->opt_a, s->opt_b, 0, s->n_params, step, norm, loss_sum,
               report);
    return 0;
}

static int rsag_get_facts(dtb_state *s, dtb_facts *out)
{
    const dtb_facts f = {.stage = DTB_STAGE_DDP,
                         .precision = DTB_PREC_FP32,
                         .reduce_dtype = DTB_DTYPE_FP32,
                         .param_dtype = DTB_DTYPE_FP32,
                         .bucket_bytes = 0,
                         .prefetch_depth = -1,
                         /* the gradient buffer's alignment padding */
                         .mem_padding_bytes = (s->grads_len - s->n_params) * (int64_t)sizeof(float),
                         .mem_working_bytes = 0};
    kit_copy_out(out, &f, sizeof f);
    return 0;
}

/* Checkpoints in 64-byte-aligned slices: rank r stores canonical elements
 * [r shard, (r + 1) shard) that exist (the last rank's may be short or
 * empty); every rank reads everything back. */
static int rsag_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    const int64_t first = s->rank * rsag_shard(s);
    int64_t n = s->n_params - first;
    n = n < 0 ? 0 : n < rsag_shard(s) ? n : rsag_shard(s);
    return kit_ckpt_range(s, io, 1, KIT_CKPT_PARAMS | KIT_CKPT_STATE, first, n, first);
}

static int rsag_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return kit_ckpt_range(s, io, 0, KIT_CKPT_PARAMS | KIT_CKPT_STATE, 0, s->n_params, 0);
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = "fair-ddp-rsag",
        .version = "1.0.0",
        .description = "DDP summing gradients by reduce-scatter + allgather, 64-byte aligned shards",
        .caps = KIT_CAPS | DTB_CAP_DDP | DTB_CAP_CHECKPOINT,
        .create = rsag_create,
        .train_step = rsag_train_step,
        .get_params = kit_get_params,
        .get_counters = kit_get_counters,
        .get_facts = rsag_get_facts,
        .destroy = kit_destroy,
        .get_compute_params = kit_get_compute_params,
        .save_checkpoint = rsag_save_checkpoint,
        .load_checkpoint = rsag_load_checkpoint,
    };
    return &table;
}
