/* Reference ZeRO: creation, queries and teardown (the step is zero_step.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "zero_state.h"

static const int32_t STAGES[] = {0, DTB_STAGE_ZERO1, DTB_STAGE_ZERO2, DTB_STAGE_ZERO3};

static int check_spec(dtb_state *s, const dtb_run_spec *spec, int stage)
{
    if (spec->struct_size < sizeof(dtb_run_spec))
        return zero_fail(s, "run spec of %u bytes is older than ABI 2's %zu", spec->struct_size,
                         sizeof(dtb_run_spec));
    if (spec->stage != STAGES[stage])
        return zero_fail(s, "asked for stage %d; this plugin runs ZeRO-%d (%d) only",
                         (int)spec->stage, stage, (int)STAGES[stage]);
    if (spec->precision != DTB_PREC_FP32 && spec->precision != DTB_PREC_BF16_MIXED)
        return zero_fail(s, "unknown precision %d", spec->precision);
    if (spec->device_kind != DTB_DEVICE_CPU)
        return zero_fail(s, "only the CPU device is supported");
    if (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW)
        return zero_fail(s, "unknown optimizer %d", spec->optimizer);
    if (spec->global_batch < 1 || spec->micro_batches < 1 ||
        spec->micro_batches > spec->global_batch)
        return zero_fail(s, "global batch %lld in %d micro-batches is not a valid split",
                         (long long)spec->global_batch, spec->micro_batches);
    if (spec->world_size < 1 || spec->rank < 0 || spec->rank >= spec->world_size)
        return zero_fail(s, "rank %d of world %d", spec->rank, spec->world_size);
    if (spec->prefetch_depth > ZERO_MAX_PREFETCH)
        return zero_fail(s, "prefetch depth %d exceeds the maximum %d", spec->prefetch_depth,
                         ZERO_MAX_PREFETCH);
    return 0;
}

/* Initial values of unit elements [first, first + count) (host API, which
 * any rank may ask for any range): the range may straddle tensors. */
static int initial_unit_range(dtb_state *s, void *ctx, int unit, int64_t first, int64_t count,
                              float *out)
{
    (void)ctx;
    char why[256];
    if (net_unit_init(&s->net, &s->host, unit, first, count, out, why, sizeof why) != 0)
        return zero_fail(s, "%s", why);
    return 0;
}

static int alloc_floats(dtb_state *s, int64_t n, int category, float **out)
{
    void *p;
    int rc = zero_alloc(s, n * (int64_t)sizeof(float), category, &p);
    *out = p;
    return rc;
}

static int alloc_halves(dtb_state *s, int64_t n, int category, uint16_t **out)
{
    void *p;
    int rc = zero_alloc(s, n * (int64_t)sizeof(uint16_t), category, &p);
    *out = p;
    return rc;
}

/* Every buffer of docs/zero.md's table for this stage and precision. */
static int allocate(dtb_state *s)
{
    const zero_partition *p = &s->part;
    const int64_t full = p->padded_total, shard = p->shard_total, unit = p->max_padded;
    int rc = 0;
    if (s->stage < 3)
        rc = s->bf16 ? alloc_halves(s, full, DTB_MEM_PARAMS, &s->full16)
                     : alloc_floats(s, full, DTB_MEM_PARAMS, &s->full);
    else {
        rc = s->bf16 ? alloc_halves(s, shard, DTB_MEM_PARAMS, &s->shard16)
                     : alloc_floats(s, shard, DTB_MEM_PARAMS, &s->shard32);
        for (int k = 0; rc == 0 && k <= s->prefetch; k++)
            rc = zero_alloc(s, unit * s->param_bytes, DTB_MEM_PARAMS, &s->slots[k]);
        void *everything = NULL; /* the bug: freed with the rest by zero_free_all */
        if (rc == 0 && s->bug == ZERO_BUG_GATHER_ALL)
            rc = zero_alloc(s, full * s->param_bytes, DTB_MEM_PARAMS, &everything);
    }
    if (rc == 0 && s->bf16)
        rc = alloc_floats(s, shard, DTB_MEM_OPTIM, &s->master) ||
             alloc_floats(s, unit, DTB_MEM_OTHER, &s->widened);
    if (rc == 0)
        rc = alloc_floats(s, shard, DTB_MEM_OPTIM, &s->opt_a);
    if (rc == 0 && s->spec.optimizer == DTB_OPT_ADAMW)
        rc = alloc_floats(s, shard, DTB_MEM_OPTIM, &s->opt_b);
    if (rc == 0 && s->stage == 1)
        rc = alloc_floats(s, full, DTB_MEM_GRADS, &s->grads_full) ||
             alloc_floats(s, shard, DTB_MEM_COMM, &s->grad_shard);
    if (rc == 0 && s->stage > 1) {
        rc = alloc_floats(s, shard, DTB_MEM_GRADS, &s->grad_shard);
        /* The two buckets take every unit but the open one, which has its own. */
        const int open = s->net.open_unit;
        int64_t ring = 0;
        for (int l = 0; l < p->n_units; l++)
            if (l != open && p->units[l].padded > ring)
                ring = p->units[l].padded;
        const int64_t bucket = s->bug == ZERO_BUG_FULL_BUCKETS ? full : ring;
        for (int b = 0; rc == 0 && b < ZERO_BUCKETS; b++)
            rc = alloc_floats(s, bucket, DTB_MEM_COMM, &s->buckets[b].grads);
        if (rc == 0 && open >= 0)
            rc = alloc_floats(s, p->units[open].padded, DTB_MEM_COMM, &s->open_bucket.grads);
    }
    if (rc == 0)
        rc = alloc_floats(s, unit, DTB_MEM_OTHER, &s->unit_scratch);
    return rc ? -1 : 0;
}

int zero_load_params(dtb_state *s, zero_unit_source source, void *ctx)
{
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        if (s->stage < 3) {
            float *values = s->bf16 ? s->unit_scratch : zero_compute_unit(s, l);
            if (source(s, ctx, l, 0, u->numel, values) != 0)
                return -1;
            if (s->bf16)
                bf16_narrow(values, zero_compute_unit(s, l), u->numel);
        }
        if (s->stage == 3 || s->bf16) {
            int64_t first, count;
            zero_owned_range(&s->part, l, s->rank, &first, &count);
            if (source(s, ctx, l, first, count, zero_master_shard(s, l)) != 0)
                return -1;
        }
        if (s->stage == 3 && s->bf16)
            bf16_narrow(zero_master_shard(s, l), zero_compute_shard(s, l), u->shard);
    }
    return 0;
}

static int create_runtime(dtb_state *s)
{
    if (backend_cpu_create(&s->be) != 0)
        return zero_fail(s, "cannot create the CPU backend");
    s->max_batch = split_max_rank_share(s->spec.global_batch, s->spec.micro_batches, s->world);
    if (net_workspace_create(s->be, &s->net, s->max_batch, &s->ws) != 0)
        return zero_fail(s, "cannot create the activation workspace: %s", s->be->error);
    s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, s->ws->bytes);
    const int64_t rows = s->max_batch > 0 ? s->max_batch : 1;
    const int64_t in_bytes = rows * s->net.c.input_bytes;
    const int64_t tgt_bytes = rows * s->net.c.positions * (int64_t)sizeof(int32_t);
    s->x = malloc((size_t)in_bytes);
    s->y = malloc((size_t)tgt_bytes);
    if (s->x == NULL || s->y == NULL)
        return zero_fail(s, "out of memory for a batch of %lld samples", (long long)rows);
    /* Staging for one batch of inputs and targets, as allocated (at least a row). */
    s->sample_bytes = in_bytes + tgt_bytes;
    s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, s->sample_bytes);
    if (s->world > 1) {
        char err[256];
        if (comm_create(s->spec.mpi_comm_fortran, &s->comm, err, sizeof err) != 0 ||
            comm_create(s->spec.mpi_comm_fortran, &s->inspect, err, sizeof err) != 0)
            return zero_fail(s, "%s", err);
    }
    return 0;
}

int zero_create(const dtb_run_spec *spec, const dtb_host_api *host, const char *name, int stage,
                zero_bug bug, dtb_state **out)
{
    *out = NULL;
    dtb_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        char line[256];
        snprintf(line, sizeof line, "%s: out of memory for the plugin state", name);
        host->error(host->ctx, line);
        return -1;
    }
    s->who = name;
    s->host = *host;
    s->stage = stage;
    s->bug = bug;
    int rc = check_spec(s, spec, stage);
    if (rc == 0) {
        s->spec = *spec;
        s->rank = spec->rank;
        s->world = spec->world_size;
        s->bf16 = spec->precision == DTB_PREC_BF16_MIXED;
        s->param_bytes = s->bf16 ? 2 : 4;
        s->prefetch = stage == 3 ? (spec->prefetch_depth >= 0 ? spec->prefetch_depth
                                                              : ZERO_DEFAULT_PREFETCH)
                                 : -1;
        char why[512];
        if (net_model_init(&s->spec, &s->net, why, sizeof why) != 0)
            rc = zero_fail(s, "%s", why);
    }
    if (rc == 0 && zero_partition_init(&s->net, s->world, &s->part) != 0)
        rc = zero_fail(s, "model %s has %d units; this implementation takes at most %d",
                       s->net.c.desc->name, s->net.n_units, ZERO_MAX_UNITS);
    if (rc == 0)
        rc = create_runtime(s);
    if (rc == 0)
        rc = allocate(s);
    if (rc == 0)
        rc = zero_load_params(s, initial_unit_range, NULL);
    if (rc != 0) {
        zero_destroy(s);
        return -1;
    }
    zero_param_hooks(s, &s->hooks);
    zero_grad_hooks(s, &s->hooks);
    *out = s;
    return 0;
}

/* Full canonical fp32 parameters (the masters): stages 1 and 2 under fp32
 * hold them whole; otherwise each unit's master shards are gathered through
 * the uncounted inspection communicator. */
int zero_get_params(dtb_state *s, float *out, int64_t n)
{
    if (n != s->net.n_params)
        return zero_fail(s, "get_params asked for %lld values, the model has %lld",
                         (long long)n, (long long)s->net.n_params);
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        const float *unit_values;
        if (s->stage < 3 && !s->bf16) {
            unit_values = zero_compute_unit(s, l);
        } else if (s->inspect == NULL) {
            unit_values = zero_master_shard(s, l);
        } else {
            if (comm_allgather(s->inspect, zero_master_shard(s, l), s->unit_scratch, u->shard,
                               DTB_DTYPE_FP32) != 0)
                return zero_fail(s, "parameter gather of unit %d failed: %s", l,
                                 comm_error(s->inspect));
            unit_values = s->unit_scratch;
        }
        memcpy(out + u->canonical_offset, unit_values, (size_t)u->numel * sizeof(float));
    }
    return 0;
}

int zero_get_compute_params(dtb_state *s, void *out, int64_t n, int32_t *dtype)
{
    if (n != s->net.n_params)
        return zero_fail(s, "get_compute_params asked for %lld values, the model has %lld",
                         (long long)n, (long long)s->net.n_params);
    *dtype = s->bf16 ? DTB_DTYPE_BF16 : DTB_DTYPE_FP32;
    const size_t width = s->bf16 ? 2 : 4;
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        const void *unit_values = NULL;
        if (s->stage < 3) {
            unit_values = zero_compute_unit(s, l);
        } else if (s->inspect == NULL) {
            unit_values = zero_compute_shard(s, l);
        } else {
            /* unit_scratch holds a padded unit of fp32, so of bf16 too. */
            if (comm_allgather(s->inspect, zero_compute_shard(s, l), s->unit_scratch, u->shard,
                               *dtype) != 0)
                return zero_fail(s, "compute parameter gather of unit %d failed: %s", l,
                                 comm_error(s->inspect));
            unit_values = s->unit_scratch;
        }
        memcpy((char *)out + (size_t)u->canonical_offset * width, unit_values,
               (size_t)u->numel * width);
    }
    return 0;
}

/* Model-state bytes beyond the stage's formula this implementation claims
 * (dtb_facts): padding = formula(Psi_P, Psi_s) - formula(Psi, Psi/N) of the
 * layer-unit partition, rounded up; ZeRO-3 also keeps d+1 full units of
 * compute parameters at once (docs/zero.md). */
static void memory_claim(const dtb_state *s, int64_t *padding, int64_t *working)
{
    const double p = (double)s->param_bytes, g = 4.0;
    const double K = (s->spec.optimizer == DTB_OPT_ADAMW ? 8.0 : 4.0) + (s->bf16 ? 4.0 : 0.0);
    const double n = (double)s->world;
    double full_coef, shard_coef;
    switch (s->stage) {
    case 1: full_coef = p + g, shard_coef = K; break;
    case 2: full_coef = p, shard_coef = g + K; break;
    default: full_coef = 0, shard_coef = p + g + K; break;
    }
    const double padded = full_coef * (double)s->part.padded_total +
                          shard_coef * (double)s->part.shard_total;
    const double exact = full_coef * (double)s->part.n_params +
                         shard_coef * (double)s->part.n_params / n;
    *padding = padded > exact ? (int64_t)ceil(padded - exact) : 0;
    *working = s->stage == 3 ? (int64_t)(s->prefetch + 1) * s->param_bytes * s->part.max_padded
                             : 0;
}

int zero_get_counters(dtb_state *s, dtb_counters *out)
{
    memset(out, 0, sizeof *out);
    if (s->comm)
        comm_counters(s->comm, out);
    return 0;
}

int zero_get_facts(dtb_state *s, dtb_facts *out)
{
    int64_t padding, working;
    memory_claim(s, &padding, &working);
    *out = (dtb_facts){.struct_size = out->struct_size,
                       .stage = STAGES[s->stage],
                       .precision = s->bf16 ? DTB_PREC_BF16_MIXED : DTB_PREC_FP32,
                       .reduce_dtype = DTB_DTYPE_FP32,
                       .param_dtype = s->bf16 ? DTB_DTYPE_BF16 : DTB_DTYPE_FP32,
                       .bucket_bytes = s->stage > 1 ? s->part.max_padded * 4 : 0,
                       .prefetch_depth = s->prefetch,
                       .mem_padding_bytes = padding,
                       .mem_working_bytes = working};
    return 0;
}

void zero_destroy(dtb_state *s)
{
    if (s == NULL)
        return;
    if (s->comm) {
        /* Never leave a request in flight on a buffer about to be freed. */
        zero_grads_wait_all(s);
        zero_pass_end(s);
        comm_destroy(s->comm);
    }
    if (s->inspect)
        comm_destroy(s->inspect);
    if (s->be) {
        zero_free_all(s);
        if (s->ws) {
            s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, -s->ws->bytes);
            net_workspace_destroy(s->be, s->ws);
        }
        backend_destroy(s->be);
    }
    if (s->sample_bytes)
        s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, -s->sample_bytes);
    free(s->x);
    free(s->y);
    net_model_free(&s->net);
    free(s);
}
