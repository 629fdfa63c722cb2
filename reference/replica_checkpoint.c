/*
 * Canonical checkpoints of a replica (docs/checkpoint.md). Every rank of a
 * DDP world holds the same full state, so rank r of N stores only the slice
 * split_range(n_params, N, r) of each array: the slices tile the canonical
 * array once and the ranks write in parallel. A load reads every array
 * whole, whoever wrote it; the bf16 compute parameters are derived from the
 * loaded masters, as after an optimizer step.
 */
#include "replica.h"

/* The recipe's arrays and the replica's buffers holding them. */
static int arrays_of(const replica *r, int32_t arrays[3], float *values[3])
{
    arrays[0] = DTB_CKPT_PARAMS, values[0] = r->params;
    if (r->spec.optimizer == DTB_OPT_ADAMW) {
        arrays[1] = DTB_CKPT_EXP_AVG, values[1] = r->opt_a;
        arrays[2] = DTB_CKPT_EXP_AVG_SQ, values[2] = r->opt_b;
        return 3;
    }
    arrays[1] = DTB_CKPT_MOMENTUM, values[1] = r->opt_a;
    return 2;
}

int replica_save_checkpoint(replica *r, const dtb_checkpoint_io *io, int rank, int world)
{
    int64_t first, count;
    split_range(r->net.n_params, world, rank, &first, &count);
    int32_t arrays[3];
    float *values[3];
    const int n = arrays_of(r, arrays, values);
    for (int a = 0; a < n; a++)
        if (count > 0 && io->write(io->ctx, arrays[a], first, count, values[a] + first) != 0)
            return replica_fail(r, "the harness refused to store %lld values of array %d",
                                (long long)count, (int)arrays[a]);
    return 0;
}

int replica_load_checkpoint(replica *r, const dtb_checkpoint_io *io)
{
    if (io->step < 0)
        return replica_fail(r, "checkpoint step %lld is negative", (long long)io->step);
    int32_t arrays[3];
    float *values[3];
    const int n = arrays_of(r, arrays, values);
    for (int a = 0; a < n; a++)
        if (io->read(io->ctx, arrays[a], 0, r->net.n_params, values[a]) != 0)
            return replica_fail(r, "the harness refused array %d of the checkpoint",
                                (int)arrays[a]);
    replica_refresh_compute_params(r);
    return 0;
}
