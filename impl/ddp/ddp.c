/* Reference DDP: creation, queries and teardown (the step is ddp_step.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddp_state.h"

int ddp_fail(dtb_state *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->host.error(s->host.ctx, msg);
    return -1;
}

/* Backend buffer of n floats, counted under `category`. */
static int alloc_floats(dtb_state *s, int64_t n, int category, float **out)
{
    size_t bytes = (size_t)n * sizeof(float);
    void *p = NULL;
    if (s->backend->ops->alloc(s->backend, bytes, &p) != 0)
        return ddp_fail(s, "ref-ddp: cannot allocate %zu bytes: %s", bytes, s->backend->error);
    *out = p;
    s->host.mem_track(s->host.ctx, category, (int64_t)bytes);
    return 0;
}

static void free_floats(dtb_state *s, float *p, int64_t n, int category)
{
    if (p == NULL)
        return;
    s->backend->ops->release(s->backend, p);
    s->host.mem_track(s->host.ctx, category, -(int64_t)((size_t)n * sizeof(float)));
}

static int check_spec(dtb_state *s, const dtb_run_spec *spec)
{
    if (spec->struct_size < sizeof(dtb_run_spec))
        return ddp_fail(s, "ref-ddp: run spec of %u bytes is older than ABI 1's %zu",
                        spec->struct_size, sizeof(dtb_run_spec));
    if (spec->precision != DTB_PREC_FP32)
        return ddp_fail(s, "ref-ddp: precision %d is not supported (fp32 only)", spec->precision);
    if (spec->device_kind != DTB_DEVICE_CPU)
        return ddp_fail(s, "ref-ddp: only the CPU device is supported");
    if (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW)
        return ddp_fail(s, "ref-ddp: unknown optimizer %d", spec->optimizer);
    if (spec->global_batch < 1 || spec->micro_batches < 1 || spec->micro_batches > spec->global_batch)
        return ddp_fail(s, "ref-ddp: global batch %lld in %d micro-batches is not a valid split",
                        (long long)spec->global_batch, spec->micro_batches);
    if (spec->world_size < 1 || spec->rank < 0 || spec->rank >= spec->world_size)
        return ddp_fail(s, "ref-ddp: rank %d of world %d", spec->rank, spec->world_size);
    return 0;
}

/* Initial parameters from the host's deterministic init, tensor by tensor. */
static int load_initial_params(dtb_state *s)
{
    for (int t = 0; t < s->layout.n_tensors; t++) {
        if (s->host.init_params(s->host.ctx, t, 0, s->layout.numel[t],
                                s->params + s->layout.offset[t]) != 0)
            return ddp_fail(s, "ref-ddp: host refused initial values of tensor %s",
                            s->layout.name[t]);
    }
    return 0;
}

/* The largest share of one micro-batch any rank gets. */
static int64_t max_local_share(int64_t batch, int micro, int world)
{
    int64_t best = 0;
    for (int m = 0; m < micro; m++) {
        int64_t first, count;
        split_range(batch, micro, m, &first, &count);
        for (int r = 0; r < world; r++) {
            int64_t rf, rc;
            split_range(count, world, r, &rf, &rc);
            if (rc > best)
                best = rc;
        }
    }
    return best;
}

int ddp_build_hooks(dtb_state *s); /* ddp_step.c */

static int ddp_init(dtb_state *s, const dtb_run_spec *spec)
{
    if (check_spec(s, spec) != 0)
        return -1;
    s->rank = spec->rank;
    s->world = spec->world_size;
    mlp_config_from_spec(&s->spec, &s->cfg);
    char err[256];
    if (mlp_config_validate(&s->cfg, err, sizeof err) != 0)
        return ddp_fail(s, "ref-ddp: %s", err);
    mlp_layout_init(&s->cfg, &s->layout);
    if (s->layout.n_params != spec->n_params)
        return ddp_fail(s, "ref-ddp: spec says %lld parameters, the dims give %lld",
                        (long long)spec->n_params, (long long)s->layout.n_params);
    if (backend_cpu_create(&s->backend) != 0)
        return ddp_fail(s, "ref-ddp: cannot create the CPU backend");
    if (s->world > 1) {
        if (comm_create(spec->mpi_comm_fortran, &s->comm, err, sizeof err) != 0)
            return ddp_fail(s, "ref-ddp: %s", err);
    }

    const int64_t n = s->layout.n_params;
    if (alloc_floats(s, n, DTB_MEM_PARAMS, &s->params) != 0 ||
        alloc_floats(s, n, DTB_MEM_GRADS, &s->grads) != 0 ||
        alloc_floats(s, n, DTB_MEM_OPTIM, &s->opt_a) != 0)
        return -1;
    if (spec->optimizer == DTB_OPT_ADAMW && alloc_floats(s, n, DTB_MEM_OPTIM, &s->opt_b) != 0)
        return -1;
    /* Optimizer state starts at zero (SGD's buffer is overwritten at t = 1). */
    if (s->backend->ops->zero(s->backend, s->opt_a, (size_t)n * sizeof(float)) != 0 ||
        (s->opt_b && s->backend->ops->zero(s->backend, s->opt_b, (size_t)n * sizeof(float)) != 0))
        return ddp_fail(s, "ref-ddp: %s", s->backend->error);
    if (load_initial_params(s) != 0)
        return -1;

    s->max_local_batch = max_local_share(spec->global_batch, spec->micro_batches, s->world);
    const int64_t ws_batch = s->max_local_batch > 0 ? s->max_local_batch : 1;
    if (mlp_workspace_create(s->backend, &s->cfg, ws_batch, &s->workspace) != 0)
        return ddp_fail(s, "ref-ddp: cannot create the activation workspace: %s",
                        s->backend->error);
    s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, s->workspace->bytes);
    s->x = malloc((size_t)ws_batch * (size_t)s->cfg.dims[0] * sizeof(float));
    s->y = malloc((size_t)ws_batch * sizeof(int32_t));
    if (s->x == NULL || s->y == NULL)
        return ddp_fail(s, "ref-ddp: out of memory for a micro-batch of %lld samples",
                        (long long)ws_batch);
    s->sample_bytes = ws_batch * (s->cfg.dims[0] * (int64_t)sizeof(float) + (int64_t)sizeof(int32_t));
    s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, s->sample_bytes);

    s->bucket_bytes = spec->bucket_bytes > 0 ? spec->bucket_bytes : DDP_DEFAULT_BUCKET_BYTES;
    s->n_buckets = ddp_plan_buckets(&s->layout, s->bucket_bytes, s->buckets);
    return ddp_build_hooks(s);
}

int ddp_create(const dtb_run_spec *spec, const dtb_host_api *host, ddp_bug bug, dtb_state **out)
{
    *out = NULL;
    dtb_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        host->error(host->ctx, "ref-ddp: out of memory for the plugin state");
        return -1;
    }
    s->spec = *spec;
    s->host = *host;
    s->bug = bug;
    if (ddp_init(s, spec) != 0) {
        ddp_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

int ddp_get_params(dtb_state *s, float *out, int64_t n)
{
    if (n != s->layout.n_params)
        return ddp_fail(s, "ref-ddp: get_params asked for %lld values, the model has %lld",
                        (long long)n, (long long)s->layout.n_params);
    if (s->backend->ops->copy_out(s->backend, out, s->params, (size_t)n * sizeof(float)) != 0)
        return ddp_fail(s, "ref-ddp: %s", s->backend->error);
    return 0;
}

int ddp_get_counters(dtb_state *s, dtb_counters *out)
{
    memset(out, 0, sizeof *out);
    if (s->comm)
        comm_counters(s->comm, out);
    return 0;
}

int ddp_get_facts(dtb_state *s, dtb_facts *out)
{
    out->stage = DTB_STAGE_DDP;
    out->precision = DTB_PREC_FP32;
    out->reduce_dtype = DTB_DTYPE_FP32;
    out->param_dtype = DTB_DTYPE_FP32;
    out->bucket_bytes = s->bucket_bytes;
    out->prefetch_depth = -1;
    return 0;
}

void ddp_destroy(dtb_state *s)
{
    if (s == NULL)
        return;
    if (s->comm) {
        /* Never leave a request in flight on a freed buffer. */
        for (int b = 0; b < s->n_buckets; b++)
            comm_wait(s->comm, &s->requests[b]);
    }
    if (s->backend) {
        const int64_t n = s->layout.n_params;
        free_floats(s, s->params, n, DTB_MEM_PARAMS);
        free_floats(s, s->grads, n, DTB_MEM_GRADS);
        free_floats(s, s->opt_a, n, DTB_MEM_OPTIM);
        free_floats(s, s->opt_b, n, DTB_MEM_OPTIM);
        if (s->workspace) {
            s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, -s->workspace->bytes);
            mlp_workspace_destroy(s->backend, s->workspace);
        }
        backend_destroy(s->backend);
    }
    free(s->x);
    free(s->y);
    s->host.mem_track(s->host.ctx, DTB_MEM_ACTIVATIONS, -s->sample_bytes);
    if (s->comm)
        comm_destroy(s->comm);
    free(s);
}
