/* Reference DDP: one optimizer step (see ddp.h for the algorithm). */
#include <math.h>
#include <string.h>
#include <time.h>

#include "optim.h"
#include "ddp_state.h"

/* Stress mode: a pause before each reduction and before the optimizer step
 * changes the interleaving of compute and communication, so a race (a buffer
 * read before its reduction finished) shows up as wrong numbers. */
static void stress_pause(const dtb_state *s)
{
    if (s->spec.stress_delay_us <= 0)
        return;
    struct timespec ts = {.tv_sec = s->spec.stress_delay_us / 1000000,
                          .tv_nsec = (long)(s->spec.stress_delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int launch_bucket(dtb_state *s, int b)
{
    const ddp_bucket *bk = &s->buckets[b];
    stress_pause(s);
    if (comm_iallreduce(s->comm, s->grads + bk->first, bk->count, DTB_DTYPE_FP32, COMM_SUM,
                        &s->requests[b]) != 0)
        return ddp_fail(s, "ref-ddp: allreduce of bucket %d failed: %s", b, comm_error(s->comm));
    return 0;
}

static int hook_get_layer_params(void *ctx, int layer, int backward, const float **W,
                                 const float **b)
{
    dtb_state *s = ctx;
    return s->flat_hooks.get_layer_params(s->flat_hooks.ctx, layer, backward, W, b);
}

static int hook_get_layer_grads(void *ctx, int layer, float **dW, float **db)
{
    dtb_state *s = ctx;
    return s->flat_hooks.get_layer_grads(s->flat_hooks.ctx, layer, dW, db);
}

/* Layer `layer` finished its backward, so every layer >= layer is final:
 * launch each bucket whose lowest layer is among them, in backward order,
 * and give MPI a chance to progress the ones already in flight. */
static int hook_layer_grads_ready(void *ctx, int layer)
{
    dtb_state *s = ctx;
    if (!s->reduce_in_backward)
        return 0;
    while (s->next_bucket < s->n_buckets && s->buckets[s->next_bucket].ready_layer >= layer) {
        if (launch_bucket(s, s->next_bucket) != 0)
            return -1;
        s->next_bucket++;
    }
    for (int b = 0; b < s->next_bucket; b++) {
        int done = 0;
        if (comm_test(s->comm, &s->requests[b], &done) != 0)
            return ddp_fail(s, "ref-ddp: progress of bucket %d failed: %s", b,
                            comm_error(s->comm));
    }
    return 0;
}

int ddp_build_hooks(dtb_state *s)
{
    s->flat.layout = s->layout;
    s->flat.params = s->params;
    s->flat.grads = s->grads;
    mlp_flat_hooks(&s->flat, &s->flat_hooks);
    s->hooks = (mlp_hooks){
        .ctx = s,
        .get_layer_params = hook_get_layer_params,
        .put_layer_params = NULL,
        .get_layer_grads = hook_get_layer_grads,
        .layer_grads_ready = hook_layer_grads_ready,
    };
    return 0;
}

static int launch_remaining_and_wait(dtb_state *s)
{
    while (s->next_bucket < s->n_buckets) {
        if (launch_bucket(s, s->next_bucket) != 0)
            return -1;
        s->next_bucket++;
    }
    for (int b = 0; b < s->n_buckets; b++) {
        if (comm_wait(s->comm, &s->requests[b]) != 0)
            return ddp_fail(s, "ref-ddp: wait for bucket %d failed: %s", b, comm_error(s->comm));
    }
    return 0;
}

static int grad_norm(dtb_state *s, double *norm)
{
    double sumsq = 0.0;
    if (s->backend->ops->sum_squares(s->backend, s->grads, s->layout.n_params, &sumsq) != 0)
        return ddp_fail(s, "ref-ddp: %s", s->backend->error);
    *norm = sqrt(sumsq);
    return 0;
}

static int scale_grads(dtb_state *s, double coef)
{
    if (s->backend->ops->scale(s->backend, s->grads, s->layout.n_params, (float)coef) != 0)
        return ddp_fail(s, "ref-ddp: %s", s->backend->error);
    return 0;
}

static int optimizer_step(dtb_state *s, int64_t step)
{
    const dtb_run_spec *p = &s->spec;
    const dtb_backend_ops *ops = s->backend->ops;
    int rc;
    stress_pause(s);
    if (p->optimizer == DTB_OPT_ADAMW)
        rc = ops->adamw_step(s->backend, s->params, s->grads, s->opt_a, s->opt_b,
                             s->layout.n_params, p->lr, p->beta1, p->beta2, p->eps,
                             p->weight_decay, step);
    else
        rc = ops->sgd_momentum_step(s->backend, s->params, s->grads, s->opt_a,
                                    s->layout.n_params, p->lr, p->momentum, p->weight_decay,
                                    step);
    return rc == 0 ? 0 : ddp_fail(s, "ref-ddp: optimizer step failed: %s", s->backend->error);
}

/* Samples this rank sees over the whole step (for the zoo's per-rank average). */
static int64_t local_samples_per_step(const dtb_state *s)
{
    int64_t total = 0;
    for (int m = 0; m < s->spec.micro_batches; m++) {
        int64_t mf, mc, rf, rc;
        split_range(s->spec.global_batch, s->spec.micro_batches, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        total += rc;
    }
    return total;
}

/* Forward and backward of every micro-batch; on the last one the buckets'
 * allreduces start from the backward hooks. Returns the local loss sum. */
static int accumulate_micro_batches(dtb_state *s, int64_t step, double *loss_sum)
{
    const int64_t B = s->spec.global_batch;
    const int M = s->spec.micro_batches;
    const size_t grad_bytes = (size_t)s->layout.n_params * sizeof(float);
    double dlogit_scale = 1.0 / (double)B;
    if (s->bug == DDP_BUG_SUM_NOT_AVERAGE) {
        const int64_t mine = local_samples_per_step(s);
        dlogit_scale = 1.0 / (double)(mine > 0 ? mine : 1);
    }

    *loss_sum = 0.0;
    if (s->backend->ops->zero(s->backend, s->grads, grad_bytes) != 0)
        return ddp_fail(s, "ref-ddp: %s", s->backend->error);
    s->next_bucket = 0;
    for (int m = 0; m < M; m++) {
        int64_t mf, mc, rf, rc;
        split_range(B, M, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        if (s->bug == DDP_BUG_LAST_MICRO_ONLY &&
            s->backend->ops->zero(s->backend, s->grads, grad_bytes) != 0)
            return ddp_fail(s, "ref-ddp: %s", s->backend->error);
        s->reduce_in_backward = (m == M - 1) && s->comm != NULL && s->bug != DDP_BUG_LOCAL_CLIP;
        if (rc > 0 && s->host.sample_batch(s->host.ctx, step, mf + rf, rc, s->x, s->y) != 0)
            return ddp_fail(s, "ref-ddp: host refused samples %lld..%lld of step %lld",
                            (long long)(mf + rf), (long long)(mf + rf + rc - 1), (long long)step);
        double part = 0.0;
        if (mlp_forward_backward(s->backend, s->workspace, &s->hooks, s->x, s->y, rc,
                                 (float)dlogit_scale, &part) != 0)
            return ddp_fail(s, "ref-ddp: forward/backward of micro-batch %d failed: %s", m,
                            s->backend->error);
        *loss_sum += part;
    }
    return 0;
}

int ddp_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    double loss_sum = 0.0, norm = 0.0;
    if (accumulate_micro_batches(s, step, &loss_sum) != 0)
        return -1;

    if (s->bug == DDP_BUG_LOCAL_CLIP) {
        /* The bug: clip by this rank's own share of the gradient. */
        if (grad_norm(s, &norm) != 0)
            return -1;
        const double coef = clip_coefficient(norm, s->spec.clip_norm);
        if (coef < 1.0 && scale_grads(s, coef) != 0)
            return -1;
    }
    if (s->comm != NULL) {
        if (launch_remaining_and_wait(s) != 0)
            return -1;
        if (comm_allreduce(s->comm, &loss_sum, 1, DTB_DTYPE_FP64, COMM_SUM) != 0)
            return ddp_fail(s, "ref-ddp: loss allreduce failed: %s", comm_error(s->comm));
    }
    if (s->bug != DDP_BUG_LOCAL_CLIP) {
        /* The reduced gradient is identical on every rank, so is its norm. */
        if (grad_norm(s, &norm) != 0)
            return -1;
        const double coef = clip_coefficient(norm, s->spec.clip_norm);
        if (coef < 1.0 && scale_grads(s, coef) != 0)
            return -1;
    }
    if (optimizer_step(s, step) != 0)
        return -1;
    report->loss = loss_sum / (double)s->spec.global_batch;
    report->grad_norm = norm;
    return 0;
}
