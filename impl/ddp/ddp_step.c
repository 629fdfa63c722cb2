/* Reference DDP: one optimizer step (see ddp.h for the algorithm). */
#include <string.h>
#include <time.h>

#include "ddp_state.h"

/* Stress mode: a pause before each reduction and before the optimizer step
 * changes the interleaving of compute and communication, so a race (a buffer
 * read before its reduction finished) shows up as wrong numbers. */
static void stress_pause(const dtb_state *s)
{
    if (s->r.spec.stress_delay_us <= 0)
        return;
    struct timespec ts = {.tv_sec = s->r.spec.stress_delay_us / 1000000,
                          .tv_nsec = (long)(s->r.spec.stress_delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* DDP_BUG_SKIP_LAYERNORM: the bucket's tensors reduced run by run, blocking,
 * every LayerNorm tensor (name ln_*) left out. */
static int launch_without_layernorm(dtb_state *s, const ddp_bucket *bk)
{
    const dtb_tensor_desc *td = s->r.net.c.desc->tensors;
    for (int t = bk->first_tensor; t <= bk->last_tensor; t++) {
        if (strstr(td[t].name, "ln_") != NULL)
            continue;
        int end = t;
        while (end + 1 <= bk->last_tensor && strstr(td[end + 1].name, "ln_") == NULL)
            end++;
        const int64_t count = td[end].offset + td[end].numel - td[t].offset;
        if (comm_allreduce(s->comm, s->r.grads + td[t].offset, count, DTB_DTYPE_FP32,
                           COMM_SUM) != 0)
            return replica_fail(&s->r, "allreduce of tensors %d..%d failed: %s", t, end,
                                comm_error(s->comm));
        t = end;
    }
    return 0;
}

/* DDP_BUG_TIED_TWICE: every tied tensor's gradient allreduced now, blocking. */
static int reduce_tied_now(dtb_state *s)
{
    const dtb_tensor_desc *td = s->r.net.c.desc->tensors;
    for (int t = 0; t < s->r.net.n_tensors; t++)
        if ((td[t].flags & DTB_TENSOR_TIED) &&
            comm_allreduce(s->comm, s->r.grads + td[t].offset, td[t].numel, DTB_DTYPE_FP32,
                           COMM_SUM) != 0)
            return replica_fail(&s->r, "allreduce of %s failed: %s", td[t].name,
                                comm_error(s->comm));
    return 0;
}

static int launch_bucket(dtb_state *s, int b)
{
    const ddp_bucket *bk = &s->buckets[b];
    int64_t first = bk->first, count = bk->count;
    if (s->bug == DDP_BUG_SKIP_LAYERNORM) {
        stress_pause(s);
        return launch_without_layernorm(s, bk);
    }
    const net_model *m = &s->r.net;
    const int top = m->tensor_unit[bk->last_tensor];
    if (s->bug == DDP_BUG_BUCKET_TOP_LAYER && m->tensor_unit[bk->first_tensor] != top) {
        first = m->unit_offset[top];
        count = bk->first + bk->count - first;
    }
    stress_pause(s);
    if (comm_iallreduce(s->comm, s->r.grads + first, count, DTB_DTYPE_FP32, COMM_SUM,
                        &s->requests[b]) != 0)
        return replica_fail(&s->r, "allreduce of bucket %d failed: %s", b, comm_error(s->comm));
    return 0;
}

/* Unit `unit`'s gradient is final, so every unit >= unit is (unit_hooks.h):
 * launch each bucket whose lowest unit is among them, in backward order,
 * and give MPI a chance to progress the ones already in flight. */
static int hook_unit_grads_ready(void *ctx, int unit)
{
    dtb_state *s = ctx;
    if (s->r.hooks.unit_grads_ready != NULL &&
        s->r.hooks.unit_grads_ready(s->r.hooks.ctx, unit) != 0)
        return -1;
    if (!s->reduce_in_backward)
        return 0;
    while (s->next_bucket < s->n_buckets && s->buckets[s->next_bucket].ready_unit >= unit) {
        if (launch_bucket(s, s->next_bucket) != 0)
            return -1;
        s->next_bucket++;
    }
    for (int b = 0; b < s->next_bucket; b++) {
        int done = 0;
        if (comm_test(s->comm, &s->requests[b], &done) != 0)
            return replica_fail(&s->r, "progress of bucket %d failed: %s", b,
                                comm_error(s->comm));
    }
    return 0;
}

/* Parameters and gradients by unit are the replica's (its hooks widen the
 * bf16 compute parameters under bf16-mixed); DDP only adds the bucket
 * launches. The wrappers forward to the replica's hooks with their context. */
static int hook_get_unit_params(void *ctx, int unit, int backward, const float **P)
{
    dtb_state *s = ctx;
    const unit_hooks *h = &s->r.hooks;
    /* The last unit's backward starts once the head's share of the tied
     * weight's gradient is in (gpt.h's pass): the bug reduces it there. */
    if (s->bug == DDP_BUG_TIED_TWICE && backward && unit == s->r.net.n_units - 1 &&
        s->r.net.open_unit >= 0 && s->reduce_in_backward && s->comm != NULL &&
        reduce_tied_now(s) != 0)
        return -1;
    return h->get_unit_params(h->ctx, unit, backward, P);
}

static int hook_put_unit_params(void *ctx, int unit, int backward)
{
    const unit_hooks *h = &((dtb_state *)ctx)->r.hooks;
    return h->put_unit_params != NULL ? h->put_unit_params(h->ctx, unit, backward) : 0;
}

static int hook_get_unit_grads(void *ctx, int unit, float **G)
{
    const unit_hooks *h = &((dtb_state *)ctx)->r.hooks;
    return h->get_unit_grads(h->ctx, unit, G);
}

void ddp_build_hooks(dtb_state *s)
{
    s->hooks = (unit_hooks){.ctx = s,
                            .get_unit_params = hook_get_unit_params,
                            .put_unit_params = hook_put_unit_params,
                            .get_unit_grads = hook_get_unit_grads,
                            .unit_grads_ready = hook_unit_grads_ready};
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
            return replica_fail(&s->r, "wait for bucket %d failed: %s", b, comm_error(s->comm));
    }
    return 0;
}

/* Samples this rank sees over the whole step (for the zoo's per-rank average
 * and its empty-share skip). */
static int64_t local_samples_per_step(const dtb_state *s)
{
    int64_t total = 0;
    for (int m = 0; m < s->r.spec.micro_batches; m++) {
        int64_t mf, mc, rf, rc;
        split_range(s->r.spec.global_batch, s->r.spec.micro_batches, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        total += rc;
    }
    return total;
}

/* Forward and backward of every micro-batch; on the last one the buckets'
 * allreduces start from the backward hooks. Returns the local loss sum. */
static int accumulate_micro_batches(dtb_state *s, int64_t step, double *loss_sum)
{
    const int64_t B = s->r.spec.global_batch;
    const int M = s->r.spec.micro_batches;
    const double per = (double)s->r.net.c.positions; /* targets per sample */
    double dlogit_scale = 1.0 / replica_step_positions(&s->r);
    if (s->bug == DDP_BUG_SUM_NOT_AVERAGE) {
        const int64_t mine = local_samples_per_step(s);
        dlogit_scale = 1.0 / ((double)(mine > 0 ? mine : 1) * per);
    }

    *loss_sum = 0.0;
    if (replica_zero_grads(&s->r) != 0)
        return -1;
    s->next_bucket = 0;
    for (int m = 0; m < M; m++) {
        int64_t mf, mc, rf, rc;
        split_range(B, M, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        if (s->bug == DDP_BUG_LAST_MICRO_ONLY && replica_zero_grads(&s->r) != 0)
            return -1;
        s->reduce_in_backward = (m == M - 1) && s->comm != NULL && s->bug != DDP_BUG_LOCAL_CLIP;
        double part = 0.0;
        if (s->bug == DDP_BUG_MICRO_MEAN)
            dlogit_scale = 1.0 / ((double)M * (double)mc * per);
        if (replica_forward_backward(&s->r, &s->hooks, step, mf + rf, rc, (float)dlogit_scale,
                                     &part) != 0)
            return -1;
        *loss_sum += part;
    }
    return 0;
}

int ddp_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    replica *r = &s->r;
    double loss_sum = 0.0, norm = 0.0, coef = 1.0;
    if (s->bug == DDP_BUG_EMPTY_SKIP && local_samples_per_step(s) == 0) {
        report->loss = 0.0, report->grad_norm = 0.0, report->clip_coef = 1.0;
        return 0; /* nothing to compute, so nothing to reduce: wrong */
    }
    if (accumulate_micro_batches(s, step, &loss_sum) != 0)
        return -1;

    /* The bug: clip by this rank's own share of the gradient. */
    if (s->bug == DDP_BUG_LOCAL_CLIP &&
        (replica_grad_norm(r, &norm) != 0 ||
         replica_clip(r, norm, r->spec.clip_norm, &coef) != 0))
        return -1;
    if (s->comm != NULL) {
        if (launch_remaining_and_wait(s) != 0)
            return -1;
        if (comm_allreduce(s->comm, &loss_sum, 1, DTB_DTYPE_FP64, COMM_SUM) != 0)
            return replica_fail(r, "loss allreduce failed: %s", comm_error(s->comm));
    }
    /* The reduced gradient is identical on every rank, so is its norm. */
    if (s->bug == DDP_BUG_CLIP_ALWAYS) {
        if (replica_grad_norm(r, &norm) != 0)
            return -1;
        coef = r->spec.clip_norm > 0 ? r->spec.clip_norm / (norm + 1e-6) : 1.0;
        if (replica_scale_grads(r, coef) != 0)
            return -1;
    } else if (s->bug != DDP_BUG_LOCAL_CLIP &&
               (replica_grad_norm(r, &norm) != 0 ||
                replica_clip(r, norm, r->spec.clip_norm, &coef) != 0)) {
        return -1;
    }
    stress_pause(s);
    if (replica_optimizer_step(r, step) != 0)
        return -1;
    report->loss = loss_sum / replica_step_positions(r);
    report->grad_norm = norm;
    report->clip_coef = coef;
    return 0;
}
