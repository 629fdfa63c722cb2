/*
 * Reference ZeRO: compute parameters. Stages 1 and 2 keep them whole (padded
 * layout) and all-gather the updated shards after each step; stage 3 keeps
 * only its shard and gathers each unit into a slot right before the forward
 * or backward that needs it, prefetching the next d items of the pass.
 */
#include <string.h>

#include "bf16.h"
#include "zero_state.h"

static dtb_dtype param_dtype(const dtb_state *s)
{
    return s->bf16 ? DTB_DTYPE_BF16 : DTB_DTYPE_FP32;
}

void *zero_compute_unit(const dtb_state *s, int unit)
{
    const int64_t at = s->part.units[unit].padded_offset;
    return s->bf16 ? (void *)(s->full16 + at) : (void *)(s->full + at);
}

void *zero_compute_shard(const dtb_state *s, int unit)
{
    const zero_unit *u = &s->part.units[unit];
    if (s->stage == 3)
        return s->bf16 ? (void *)(s->shard16 + u->shard_offset)
                       : (void *)(s->shard32 + u->shard_offset);
    const int64_t at = u->padded_offset + (int64_t)s->rank * u->shard;
    return s->bf16 ? (void *)(s->full16 + at) : (void *)(s->full + at);
}

float *zero_master_shard(const dtb_state *s, int unit)
{
    if (s->bf16)
        return s->master + s->part.units[unit].shard_offset;
    return zero_compute_shard(s, unit); /* fp32: the compute shard is the master */
}

/* compute shard = bf16(master) under bf16-mixed; then, stages 1 and 2, every
 * rank's shards all-gathered in place into the full compute parameters. */
int zero_refresh_compute(dtb_state *s)
{
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        if (s->bf16)
            bf16_narrow(zero_master_shard(s, l), zero_compute_shard(s, l), u->shard);
        if (s->stage == 3 || s->comm == NULL)
            continue;
        zero_stress_pause(s);
        if (comm_allgather(s->comm, zero_compute_shard(s, l), zero_compute_unit(s, l), u->shard,
                           param_dtype(s)) != 0)
            return zero_fail(s, "allgather of unit %d failed: %s", l, comm_error(s->comm));
    }
    return 0;
}

/* ---- stage 3: the gather schedule of one forward+backward pass ----------- */

static int pass_items(const dtb_state *s)
{
    /* Under the stale-parameters bug the backward never gathers. */
    const int L = s->part.n_units;
    return s->bug == ZERO_BUG_STALE_PARAMS ? L : 2 * L;
}

static int item_unit(const dtb_state *s, int item)
{
    return s->net.pass_units[item];
}

static int slot_of(const dtb_state *s, int item)
{
    return item % (s->prefetch + 1);
}

/* Starts the gather of `item` into its slot. Its slot last held item - d - 1,
 * whose layer is done (the pass uses items in order), so at most d + 1 units
 * are materialised at any time. */
static int issue_gather(dtb_state *s, int item)
{
    const int unit = item_unit(s, item);
    const zero_unit *u = &s->part.units[unit];
    void *slot = s->slots[slot_of(s, item)];
    int source = unit; /* whose shards fill the slot */
    const int last = s->part.n_units - 1;
    if (s->bug == ZERO_BUG_WRONG_BLOCK && item < s->part.n_units && unit == last && last >= 1 &&
        s->part.units[last - 1].shard == u->shard)
        source = last - 1;
    if (s->comm == NULL) {
        memcpy(slot, zero_compute_shard(s, source), (size_t)(u->shard * s->param_bytes));
        return 0;
    }
    zero_stress_pause(s);
    if (comm_iallgather(s->comm, zero_compute_shard(s, source), slot, u->shard, param_dtype(s),
                        &s->gather_req[slot_of(s, item)]) != 0)
        return zero_fail(s, "allgather of unit %d failed: %s", unit, comm_error(s->comm));
    return 0;
}

int zero_pass_begin(dtb_state *s)
{
    s->item_issued = 0;
    s->item_used = -1;
    return 0;
}

int zero_pass_end(dtb_state *s)
{
    if (s->comm == NULL)
        return 0;
    for (int k = 0; k < ZERO_MAX_SLOTS; k++)
        if (comm_wait(s->comm, &s->gather_req[k]) != 0)
            return zero_fail(s, "gather wait failed: %s", comm_error(s->comm));
    return 0;
}

/* The unit's gathered values for `item`, waiting for its gather; the next
 * d items' gathers are started first so they overlap this unit's compute. */
static int gathered_unit(dtb_state *s, int item, void **out)
{
    const int last = pass_items(s) - 1;
    const int horizon = item + s->prefetch < last ? item + s->prefetch : last;
    while (s->item_issued <= horizon) {
        if (issue_gather(s, s->item_issued) != 0)
            return -1;
        s->item_issued++;
    }
    if (s->comm != NULL && comm_wait(s->comm, &s->gather_req[slot_of(s, item)]) != 0)
        return zero_fail(s, "gather wait failed: %s", comm_error(s->comm));
    *out = s->slots[slot_of(s, item)];
    return 0;
}

/* ZERO_BUG_STALE_PARAMS: the backward's copy of a unit, gathered once (at
 * step 1) and kept, so later steps differentiate through old parameters. */
static int stale_unit(dtb_state *s, int unit, void **out)
{
    const zero_unit *u = &s->part.units[unit];
    if (s->stale[unit] == NULL) {
        if (zero_alloc(s, s->part.max_padded * s->param_bytes, DTB_MEM_PARAMS,
                       &s->stale[unit]) != 0)
            return -1;
        if (s->comm == NULL)
            memcpy(s->stale[unit], zero_compute_shard(s, unit),
                   (size_t)(u->shard * s->param_bytes));
        else if (comm_allgather(s->comm, zero_compute_shard(s, unit), s->stale[unit], u->shard,
                                param_dtype(s)) != 0)
            return zero_fail(s, "allgather of unit %d failed: %s", unit, comm_error(s->comm));
    }
    *out = s->stale[unit];
    return 0;
}

/* ---- the hooks ----------------------------------------------------------- */

/* The pass item that gets (unit, phase): the forward's items come first,
 * and each unit appears once among each phase's items. */
static int item_of(const dtb_state *s, int unit, int backward)
{
    const int L = s->part.n_units;
    for (int k = 0; k < L; k++)
        if (s->net.pass_units[backward * L + k] == unit)
            return backward * L + k;
    return -1;
}

static int hook_get_unit_params(void *ctx, int unit, int backward, const float **P)
{
    dtb_state *s = ctx;
    const zero_unit *u = &s->part.units[unit];
    void *values = NULL;
    if (s->stage != 3)
        values = zero_compute_unit(s, unit);
    else if (backward && s->bug == ZERO_BUG_STALE_PARAMS) {
        if (stale_unit(s, unit, &values) != 0)
            return -1;
    } else {
        const int item = item_of(s, unit, backward);
        /* The pass must ask in its own order: the gathers were issued for it. */
        if (item != s->item_used + 1)
            return zero_fail(s, "unit %d (%s) asked for out of the pass's order", unit,
                             backward ? "backward" : "forward");
        if (gathered_unit(s, item, &values) != 0)
            return -1;
        s->item_used = item;
    }
    if (s->bf16) {
        /* The CPU BLAS multiplies fp32: widen (exactly) one unit at a time. */
        bf16_widen(values, s->widened, u->numel);
        values = s->widened;
    }
    *P = values;
    return 0;
}

void zero_param_hooks(dtb_state *s, unit_hooks *h)
{
    h->ctx = s;
    h->get_unit_params = hook_get_unit_params;
    h->put_unit_params = NULL; /* a slot is free once the pass moves past it */
}
