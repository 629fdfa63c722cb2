/*
 * Reference ZeRO: canonical checkpoints (docs/checkpoint.md).
 *
 * Save: rank r stores, of every unit l, the real elements it owns, unit
 * elements [r*s_l, min((r+1)*s_l, n_l)) at canonical offset
 * canonical_offset(l) + r*s_l: of the fp32 masters and of each optimizer
 * state array. The ranks' ranges tile every unit exactly once, so the
 * checkpoint is written in parallel with no communication, and padding
 * (always zero) is never stored.
 *
 * Load: whatever world size and stage saved it, each rank reads the ranges
 * its own partition needs (zero_load_params: its master shard, stages 1 and
 * 2 the whole compute parameters too; its optimizer state shard), so no
 * collective either. The optimizer's step count is the checkpoint's step:
 * train_step(step + 1) steps the optimizer with t = step + 1, as an
 * uninterrupted run does.
 */
#include <stdlib.h>

#include "zero_state.h"

/* The optimizer state arrays of the recipe and where their shards live. */
static int state_arrays(const dtb_state *s, int32_t arrays[2], float *shards[2])
{
    if (s->spec.optimizer == DTB_OPT_ADAMW) {
        arrays[0] = DTB_CKPT_EXP_AVG, shards[0] = s->opt_a;
        arrays[1] = DTB_CKPT_EXP_AVG_SQ, shards[1] = s->opt_b;
        return 2;
    }
    arrays[0] = DTB_CKPT_MOMENTUM, shards[0] = s->opt_a;
    return 1;
}

static int put(dtb_state *s, const dtb_checkpoint_io *io, int32_t array, int64_t at,
               int64_t count, const float *values)
{
    if (count > 0 && io->write(io->ctx, array, at, count, values) != 0)
        return zero_fail(s, "the harness refused to store %lld values of array %d at %lld",
                         (long long)count, (int)array, (long long)at);
    return 0;
}

static int get(dtb_state *s, const dtb_checkpoint_io *io, int32_t array, int64_t at,
               int64_t count, float *out)
{
    if (count > 0 && io->read(io->ctx, array, at, count, out) != 0)
        return zero_fail(s, "the harness refused array %d elements %lld..%lld of the checkpoint",
                         (int)array, (long long)at, (long long)(at + count - 1));
    return 0;
}

/* This rank's owned range of every unit between its shards and the
 * checkpoint: the optimizer state, and (with_masters, on a save) the fp32
 * masters. A load takes the parameters through zero_load_params instead,
 * since stages 1 and 2 need whole units of them. */
static int move_owned(dtb_state *s, const dtb_checkpoint_io *io, int save, int with_masters)
{
    int32_t arrays[2];
    float *shards[2];
    const int n_arrays = state_arrays(s, arrays, shards);
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        int64_t first, count;
        zero_owned_range(&s->part, l, s->rank, &first, &count);
        const int64_t at = u->canonical_offset + first;
        if (with_masters && put(s, io, DTB_CKPT_PARAMS, at, count, zero_master_shard(s, l)) != 0)
            return -1;
        for (int a = 0; a < n_arrays; a++) {
            float *shard = shards[a] + u->shard_offset;
            if ((save ? put(s, io, arrays[a], at, count, shard)
                      : get(s, io, arrays[a], at, count, shard)) != 0)
                return -1;
        }
    }
    return 0;
}

/* ZERO_BUG_CKPT_OWN_SHARD: rank 0 stores the gathered parameters and its own
 * optimizer shard; the other ranks only take part in the gather. */
static int save_rank0_only(dtb_state *s, const dtb_checkpoint_io *io)
{
    const int64_t n = s->net.n_params;
    float *all = malloc((size_t)n * sizeof *all);
    if (all == NULL)
        return zero_fail(s, "out of memory for %lld parameters", (long long)n);
    int rc = zero_get_params(s, all, n);
    if (rc == 0 && s->rank == 0)
        rc = put(s, io, DTB_CKPT_PARAMS, 0, n, all);
    free(all);
    if (rc == 0 && s->rank == 0)
        rc = move_owned(s, io, 1, 0);
    return rc;
}

int zero_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    if (s->bug == ZERO_BUG_CKPT_OWN_SHARD && s->world > 1)
        return save_rank0_only(s, io);
    return move_owned(s, io, 1, 1);
}

static int read_params(dtb_state *s, void *ctx, int unit, int64_t first, int64_t count,
                       float *out)
{
    return get(s, ctx, DTB_CKPT_PARAMS, s->part.units[unit].canonical_offset + first, count,
               out);
}

int zero_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    if (io->step < 0)
        return zero_fail(s, "checkpoint step %lld is negative", (long long)io->step);
    if (zero_load_params(s, read_params, (void *)io) != 0)
        return -1;
    if (s->bug == ZERO_BUG_CKPT_STEP_RESET)
        s->step_base = io->step;
    if (s->bug == ZERO_BUG_CKPT_STATE_RESET)
        return 0;
    return move_owned(s, io, 0, 0);
}
