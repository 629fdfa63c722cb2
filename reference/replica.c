#include "replica.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>

#include "bf16.h"
#include "optim.h"

int replica_fail(const replica *r, const char *fmt, ...)
{
    char msg[448], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", r->who, msg);
    r->host.error(r->host.ctx, line);
    return -1;
}

static int check_spec(const replica *r, const dtb_run_spec *spec)
{
    if (spec->struct_size < sizeof(dtb_run_spec))
        return replica_fail(r, "run spec of %u bytes is older than ABI 2's %zu",
                            spec->struct_size, sizeof(dtb_run_spec));
    if (spec->precision != DTB_PREC_FP32 && spec->precision != DTB_PREC_BF16_MIXED)
        return replica_fail(r, "precision %d is not supported (fp32 or bf16-mixed)",
                            spec->precision);
    if (spec->device_kind != DTB_DEVICE_CPU)
        return replica_fail(r, "only the CPU device is supported");
    if (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW)
        return replica_fail(r, "unknown optimizer %d", spec->optimizer);
    if (spec->global_batch < 1 || spec->micro_batches < 1 ||
        spec->micro_batches > spec->global_batch)
        return replica_fail(r, "global batch %lld in %d micro-batches is not a valid split",
                            (long long)spec->global_batch, spec->micro_batches);
    if (spec->world_size < 1 || spec->rank < 0 || spec->rank >= spec->world_size)
        return replica_fail(r, "rank %d of world %d", spec->rank, spec->world_size);
    return 0;
}

/* Backend buffer of `bytes` bytes, counted under `category`. */
static int alloc_tracked(replica *r, size_t bytes, int category, void **out)
{
    void *p = NULL;
    if (r->backend->ops->alloc(r->backend, bytes, &p) != 0)
        return replica_fail(r, "cannot allocate %zu bytes: %s", bytes, r->backend->error);
    *out = p;
    r->host.mem_track(r->host.ctx, category, (int64_t)bytes);
    return 0;
}

static void free_tracked(replica *r, void *p, size_t bytes, int category)
{
    if (p == NULL)
        return;
    r->backend->ops->release(r->backend, p);
    r->host.mem_track(r->host.ctx, category, -(int64_t)bytes);
}

/* Backend buffer of n_params floats, counted under `category`. */
static int alloc_floats(replica *r, int category, float **out)
{
    void *p = NULL;
    const int rc = alloc_tracked(r, (size_t)r->net.n_params * sizeof(float), category, &p);
    *out = p;
    return rc;
}

static void free_floats(replica *r, float *p, int category)
{
    free_tracked(r, p, (size_t)r->net.n_params * sizeof(float), category);
}

/* The fp32 parameters: the compute parameters under fp32 (PARAMS), the
 * master copy under bf16-mixed (optimizer state: OPTIM). */
static int params_category(const replica *r)
{
    return r->bf16_mixed ? DTB_MEM_OPTIM : DTB_MEM_PARAMS;
}

static int load_initial_params(replica *r)
{
    char why[256];
    for (int u = 0; u < r->net.n_units; u++) {
        if (net_unit_init(&r->net, &r->host, u, 0, net_unit_numel(&r->net, u),
                          r->params + r->net.unit_offset[u], why, sizeof why) != 0)
            return replica_fail(r, "%s", why);
    }
    return 0;
}

static int allocate(replica *r)
{
    const int64_t n = r->net.n_params;
    if (alloc_floats(r, params_category(r), &r->params) != 0 ||
        alloc_floats(r, DTB_MEM_GRADS, &r->grads) != 0 ||
        alloc_floats(r, DTB_MEM_OPTIM, &r->opt_a) != 0)
        return -1;
    if (r->spec.optimizer == DTB_OPT_ADAMW && alloc_floats(r, DTB_MEM_OPTIM, &r->opt_b) != 0)
        return -1;
    if (r->bf16_mixed) {
        void *bf = NULL, *layer = NULL;
        r->layer_fp32_count = r->net.max_unit;
        if (alloc_tracked(r, (size_t)n * sizeof(uint16_t), DTB_MEM_PARAMS, &bf) != 0)
            return -1;
        r->params_bf16 = bf;
        if (alloc_tracked(r, (size_t)r->layer_fp32_count * sizeof(float), DTB_MEM_OTHER,
                          &layer) != 0)
            return -1;
        r->layer_fp32 = layer;
    }
    /* Optimizer state starts at zero (SGD's buffer is overwritten at t = 1). */
    const size_t bytes = (size_t)n * sizeof(float);
    if (r->backend->ops->zero(r->backend, r->opt_a, bytes) != 0 ||
        (r->opt_b && r->backend->ops->zero(r->backend, r->opt_b, bytes) != 0))
        return replica_fail(r, "%s", r->backend->error);

    if (net_workspace_create(r->backend, &r->net, r->max_batch, &r->workspace) != 0)
        return replica_fail(r, "cannot create the activation workspace: %s", r->backend->error);
    r->host.mem_track(r->host.ctx, DTB_MEM_ACTIVATIONS, r->workspace->bytes);
    const int64_t rows = r->max_batch > 0 ? r->max_batch : 1;
    const int64_t in_bytes = rows * r->net.c.input_bytes;
    const int64_t tgt_bytes = rows * r->net.c.positions * (int64_t)sizeof(int32_t);
    r->x = malloc((size_t)in_bytes);
    r->y = malloc((size_t)tgt_bytes);
    if (r->x == NULL || r->y == NULL)
        return replica_fail(r, "out of memory for a batch of %lld samples", (long long)rows);
    r->sample_bytes = in_bytes + tgt_bytes;
    r->host.mem_track(r->host.ctx, DTB_MEM_ACTIVATIONS, r->sample_bytes);
    return 0;
}

/* ---- unit hooks over the replica (unit_hooks.h) ---------------------------
 * fp32: unit u's view is params from its canonical offset.
 * bf16-mixed: unit u's compute parameters params_bf16[offset(u) .. +n_u)
 * are widened (exactly) into layer_fp32 and the view points there. One unit
 * at a time suffices: every pass finishes with a unit's parameters before
 * it gets the next unit's (unit_hooks.h). */
static int replica_get_unit_params(void *ctx, int unit, int backward_phase, const float **P)
{
    (void)backward_phase;
    replica *r = ctx;
    const int64_t at = r->net.unit_offset[unit];
    if (!r->bf16_mixed) {
        *P = r->params + at;
        return 0;
    }
    bf16_widen(r->params_bf16 + at, r->layer_fp32, net_unit_numel(&r->net, unit));
    *P = r->layer_fp32;
    return 0;
}

static int replica_get_unit_grads(void *ctx, int unit, float **G)
{
    replica *r = ctx;
    *G = r->grads + r->net.unit_offset[unit];
    return 0;
}

void replica_refresh_compute_params(replica *r)
{
    if (r->bf16_mixed)
        bf16_narrow(r->params, r->params_bf16, r->net.n_params);
}

int replica_param_bytes(const replica *r)
{
    return r->bf16_mixed ? (int)sizeof(uint16_t) : (int)sizeof(float);
}

int replica_init(replica *r, const char *who, const dtb_run_spec *spec, const dtb_host_api *host,
                 int64_t max_batch)
{
    r->who = who;
    r->host = *host;
    r->spec = *spec;
    r->max_batch = max_batch;
    if (check_spec(r, spec) != 0)
        return -1;
    r->bf16_mixed = spec->precision == DTB_PREC_BF16_MIXED;
    char why[512];
    if (net_model_init(&r->spec, &r->net, why, sizeof why) != 0)
        return replica_fail(r, "%s", why);
    if (backend_cpu_create(&r->backend) != 0)
        return replica_fail(r, "cannot create the CPU backend");
    if (allocate(r) != 0 || load_initial_params(r) != 0)
        return -1;
    replica_refresh_compute_params(r);
    r->hooks = (unit_hooks){.ctx = r,
                            .get_unit_params = replica_get_unit_params,
                            .put_unit_params = NULL,
                            .get_unit_grads = replica_get_unit_grads,
                            .unit_grads_ready = NULL};
    return 0;
}

void replica_release(replica *r)
{
    if (r->backend) {
        free_floats(r, r->params, params_category(r));
        free_floats(r, r->grads, DTB_MEM_GRADS);
        free_floats(r, r->opt_a, DTB_MEM_OPTIM);
        free_floats(r, r->opt_b, DTB_MEM_OPTIM);
        free_tracked(r, r->params_bf16, (size_t)r->net.n_params * sizeof(uint16_t),
                     DTB_MEM_PARAMS);
        free_tracked(r, r->layer_fp32, (size_t)r->layer_fp32_count * sizeof(float),
                     DTB_MEM_OTHER);
        if (r->workspace) {
            r->host.mem_track(r->host.ctx, DTB_MEM_ACTIVATIONS, -r->workspace->bytes);
            net_workspace_destroy(r->backend, r->workspace);
        }
        backend_destroy(r->backend);
    }
    free(r->x);
    free(r->y);
    if (r->sample_bytes)
        r->host.mem_track(r->host.ctx, DTB_MEM_ACTIVATIONS, -r->sample_bytes);
    net_model_free(&r->net);
    *r = (replica){0};
}

int replica_zero_grads(replica *r)
{
    if (r->backend->ops->zero(r->backend, r->grads, (size_t)r->net.n_params * sizeof(float)) != 0)
        return replica_fail(r, "%s", r->backend->error);
    return 0;
}

int replica_forward_backward(replica *r, const unit_hooks *hooks, int64_t step, int64_t first,
                             int64_t count, float dlogit_scale, double *loss_sum)
{
    if (count > r->max_batch)
        return replica_fail(r, "batch of %lld samples exceeds the workspace's %lld",
                            (long long)count, (long long)r->max_batch);
    if (count > 0 && r->host.sample_batch(r->host.ctx, step, first, count, r->x, r->y) != 0)
        return replica_fail(r, "host refused samples %lld..%lld of step %lld", (long long)first,
                            (long long)(first + count - 1), (long long)step);
    if (net_pass(r->backend, r->workspace, &r->net, hooks ? hooks : &r->hooks, r->x, r->y,
                 count, dlogit_scale, loss_sum) != 0)
        return replica_fail(r, "forward/backward of step %lld failed: %s", (long long)step,
                            r->backend->error);
    return 0;
}

double replica_step_positions(const replica *r)
{
    return (double)r->spec.global_batch * (double)r->net.c.positions;
}

int replica_grad_norm(replica *r, double *norm)
{
    double sumsq = 0.0;
    if (r->backend->ops->sum_squares(r->backend, r->grads, r->net.n_params, &sumsq) != 0)
        return replica_fail(r, "%s", r->backend->error);
    *norm = sqrt(sumsq);
    return 0;
}

int replica_scale_grads(replica *r, double coef)
{
    if (r->backend->ops->scale(r->backend, r->grads, r->net.n_params, (float)coef) != 0)
        return replica_fail(r, "%s", r->backend->error);
    return 0;
}

int replica_clip(replica *r, double norm, double clip_norm, double *coef_out)
{
    const double coef = clip_coefficient(norm, clip_norm);
    if (coef_out)
        *coef_out = coef;
    return coef < 1.0 ? replica_scale_grads(r, coef) : 0;
}

int replica_optimizer_step(replica *r, int64_t t)
{
    if (net_optimizer_range(r->backend, &r->net, &r->spec, 0, r->net.n_params, r->params,
                            r->grads, r->opt_a, r->opt_b, t) != 0)
        return replica_fail(r, "optimizer step failed: %s", r->backend->error);
    replica_refresh_compute_params(r);
    return 0;
}

int replica_get_compute_params(replica *r, void *out, int64_t n, int32_t *dtype)
{
    if (n != r->net.n_params)
        return replica_fail(r, "get_compute_params asked for %lld values, the model has %lld",
                            (long long)n, (long long)r->net.n_params);
    if (!r->bf16_mixed) {
        *dtype = DTB_DTYPE_FP32;
        return replica_get_params(r, out, n);
    }
    *dtype = DTB_DTYPE_BF16;
    memcpy(out, r->params_bf16, (size_t)n * sizeof *r->params_bf16);
    return 0;
}

int replica_get_params(replica *r, float *out, int64_t n)
{
    if (n != r->net.n_params)
        return replica_fail(r, "get_params asked for %lld values, the model has %lld",
                            (long long)n, (long long)r->net.n_params);
    if (r->backend->ops->copy_out(r->backend, out, r->params, (size_t)n * sizeof(float)) != 0)
        return replica_fail(r, "%s", r->backend->error);
    return 0;
}
