/*
 * Reference ZeRO: gradients.
 *
 * Stage 1: the backward accumulates into full padded fp32 gradients over all
 * micro-batches; in the last one, each unit's reduce-scatter (into this
 * rank's reduced shard) starts as soon as the unit is final.
 * Stages 2, 3: each unit's gradient of each micro-batch goes to one of two
 * buckets and is reduce-scattered in place right away (non-blocking); before
 * a bucket is refilled, and at the end of the micro-batch, its reduce-scatter
 * is waited for and the reduced block (at the bucket's start) is added into
 * the fp32 shard accumulator. The open unit (GPT's embeddings, whose
 * gradient takes the head's share first and the embedding's last) has a
 * bucket of its own, since the blocks' backward cycles through the two
 * meanwhile.
 * With one rank the "reduce-scatter" is a copy and no collective is issued.
 */
#include <string.h>

#include "bf16.h"
#include "zero_state.h"

/* ZERO_BUG_PADDING: the unit's padding put in front of the gradient while the
 * parameters keep it at the end, so element i's gradient lands at i + pad. */
static int64_t grad_shift(const dtb_state *s, int unit)
{
    return s->bug == ZERO_BUG_PADDING ? zero_unit_padding(&s->part, unit) : 0;
}

/* ZERO_BUG_BF16_ACCUM: the accumulator kept in bf16 precision. */
static void round_accumulator(const dtb_state *s, float *g, int64_t n)
{
    if (s->bug != ZERO_BUG_BF16_ACCUM || !s->bf16)
        return;
    for (int64_t i = 0; i < n; i++)
        g[i] = round_to_bf16(g[i]);
}

/* Reduce-scatter of one padded unit (`src`, U_l elements) into this rank's
 * s_l-element block `dst`, started and left in flight. dst == src is the
 * in-place form (the block lands at the start of src). */
static int start_reduce_scatter(dtb_state *s, int unit, float *src, float *dst)
{
    const zero_unit *u = &s->part.units[unit];
    if (s->comm == NULL) {
        if (dst != src)
            memcpy(dst, src, (size_t)u->shard * sizeof(float));
        return 0;
    }
    zero_stress_pause(s);
    if (comm_ireduce_scatter(s->comm, src, dst, u->shard, DTB_DTYPE_FP32, COMM_SUM,
                             &s->unit_req[unit]) != 0)
        return zero_fail(s, "reduce-scatter of unit %d failed: %s", unit, comm_error(s->comm));
    /* Give MPI a chance to progress the units already in flight. */
    for (int l = 0; l < s->part.n_units; l++) {
        int done = 0;
        if (comm_test(s->comm, &s->unit_req[l], &done) != 0)
            return zero_fail(s, "progress of unit %d failed: %s", l, comm_error(s->comm));
    }
    return 0;
}

static int wait_unit(dtb_state *s, int unit)
{
    if (s->comm != NULL && comm_wait(s->comm, &s->unit_req[unit]) != 0)
        return zero_fail(s, "reduce-scatter wait of unit %d failed: %s", unit,
                         comm_error(s->comm));
    return 0;
}

int zero_grads_wait_all(dtb_state *s)
{
    for (int l = 0; l < s->part.n_units; l++)
        if (wait_unit(s, l) != 0)
            return -1;
    return 0;
}

/* Stages 2, 3: waits for the reduce-scatter that last used bucket b and adds
 * its result (the start of the bucket) into the unit's accumulator shard. */
static int drain_bucket(dtb_state *s, zero_bucket *bk)
{
    if (bk->unit < 0)
        return 0;
    const zero_unit *u = &s->part.units[bk->unit];
    if (wait_unit(s, bk->unit) != 0)
        return -1;
    if (s->be->ops->add(s->be, s->grad_shard + u->shard_offset, bk->grads, u->shard) != 0)
        return zero_fail(s, "%s", s->be->error);
    bk->unit = -1;
    return 0;
}

static int hook_get_unit_grads(void *ctx, int unit, float **G)
{
    dtb_state *s = ctx;
    const zero_unit *u = &s->part.units[unit];
    float *unit_grads;
    if (s->stage == 1) {
        unit_grads = s->grads_full + u->padded_offset;
    } else if (unit == s->net.open_unit) {
        zero_bucket *bk = &s->open_bucket;
        if (drain_bucket(s, bk) != 0)
            return -1;
        memset(bk->grads, 0, (size_t)u->padded * sizeof(float));
        bk->unit = unit;
        s->unit_bucket[unit] = bk;
        unit_grads = bk->grads;
    } else {
        zero_bucket *bk = &s->buckets[s->next_bucket];
        s->next_bucket = (s->next_bucket + 1) % ZERO_BUCKETS;
        /* The bug refills the bucket while its reduce-scatter may still be
         * running, and drains it only at the end of the micro-batch. */
        if (s->bug != ZERO_BUG_BUCKET_REUSE && drain_bucket(s, bk) != 0)
            return -1;
        if (s->bug == ZERO_BUG_BUCKET_REUSE && bk->unit >= 0)
            s->late_units[s->n_late++] = bk->unit;
        memset(bk->grads, 0, (size_t)u->padded * sizeof(float));
        bk->unit = unit;
        s->unit_bucket[unit] = bk;
        unit_grads = bk->grads;
    }
    *G = unit_grads + grad_shift(s, unit);
    return 0;
}

static int hook_unit_grads_ready(void *ctx, int unit)
{
    dtb_state *s = ctx;
    if (s->stage == 1) {
        const zero_unit *u = &s->part.units[unit];
        float *unit_grads = s->grads_full + u->padded_offset;
        round_accumulator(s, unit_grads, u->padded);
        if (!s->reduce_in_backward)
            return 0;
        return start_reduce_scatter(s, unit, unit_grads,
                                    s->grad_shard + u->shard_offset);
    }
    /* Reduced in place, in the bucket this unit's get_unit_grads took. */
    float *grads = s->unit_bucket[unit]->grads;
    return start_reduce_scatter(s, unit, grads, grads);
}

void zero_grad_hooks(dtb_state *s, unit_hooks *h)
{
    h->ctx = s;
    h->get_unit_grads = hook_get_unit_grads;
    h->unit_grads_ready = hook_unit_grads_ready;
}

int zero_grads_begin_step(dtb_state *s)
{
    const size_t full = (size_t)s->part.padded_total * sizeof(float);
    const size_t shard = (size_t)s->part.shard_total * sizeof(float);
    if (s->stage == 1)
        memset(s->grads_full, 0, full);
    memset(s->grad_shard, 0, shard);
    s->next_bucket = 0;
    s->n_late = 0;
    for (int b = 0; b < ZERO_BUCKETS; b++)
        s->buckets[b].unit = -1;
    s->open_bucket.unit = -1;
    return 0;
}

/* After each micro-batch's backward: stage 1 waits for its reduce-scatters
 * after the last one; stages 2 and 3 fold every bucket still holding a
 * result into the fp32 accumulator. */
int zero_grads_end_micro(dtb_state *s, int last_micro)
{
    if (s->stage == 1)
        return last_micro ? zero_grads_wait_all(s) : 0;
    for (int b = 0; b < ZERO_BUCKETS; b++)
        if (drain_bucket(s, &s->buckets[b]) != 0)
            return -1;
    if (drain_bucket(s, &s->open_bucket) != 0)
        return -1;
    /* The bug's overwritten buckets: their units' results are gone; what it
     * adds is whatever the bucket holds now. */
    for (int k = 0; k < s->n_late; k++) {
        zero_bucket late = {.grads = s->buckets[k % ZERO_BUCKETS].grads,
                            .unit = s->late_units[k]};
        if (drain_bucket(s, &late) != 0)
            return -1;
    }
    s->n_late = 0;
    round_accumulator(s, s->grad_shard, s->part.shard_total);
    return 0;
}
