/* Reference ZeRO: one optimizer step (see zero.h for the algorithm). */
#include <math.h>

#include "optim.h"
#include "zero_state.h"

/* Forward and backward of every micro-batch (this rank's share of each),
 * gradients reduced as the stage does it. Returns the local loss sum. */
static int accumulate_micro_batches(dtb_state *s, int64_t step, double *loss_sum)
{
    const int64_t B = s->spec.global_batch;
    const int M = s->spec.micro_batches;
    const double positions = (double)B * (double)s->net.c.positions;
    *loss_sum = 0.0;
    if (zero_grads_begin_step(s) != 0)
        return -1;
    for (int m = 0; m < M; m++) {
        int64_t mf, mc, rf, rc;
        split_range(B, M, m, &mf, &mc);
        split_range(mc, s->world, s->rank, &rf, &rc);
        if (rc > 0 && s->host.sample_batch(s->host.ctx, step, mf + rf, rc, s->x, s->y) != 0)
            return zero_fail(s, "host refused samples %lld..%lld of step %lld",
                             (long long)(mf + rf), (long long)(mf + rf + rc - 1),
                             (long long)step);
        s->reduce_in_backward = m == M - 1;
        double part = 0.0;
        /* Every rank runs every layer's hooks, even with no samples: the
         * gathers and reduce-scatters are collective. */
        if (zero_pass_begin(s) != 0)
            return -1;
        if (net_pass(s->be, s->ws, &s->net, &s->hooks, s->x, s->y, rc,
                     (float)(1.0 / positions), &part) != 0)
            return zero_fail(s, "forward/backward of step %lld failed: %s", (long long)step,
                             s->be->error);
        if (zero_pass_end(s) != 0 || zero_grads_end_micro(s, m == M - 1) != 0)
            return -1;
        *loss_sum += part;
    }
    return 0;
}

/* ||g||_2 of the whole reduced gradient from the shards: each rank's sum of
 * squares (padding is zero), one fp64 allreduce, so every rank gets the
 * same bits. The local-clip bug skips the reduction. */
static int global_grad_norm(dtb_state *s, double *norm)
{
    double sumsq = 0.0;
    if (s->be->ops->sum_squares(s->be, s->grad_shard, s->part.shard_total, &sumsq) != 0)
        return zero_fail(s, "%s", s->be->error);
    if (s->comm != NULL && s->bug != ZERO_BUG_LOCAL_CLIP &&
        comm_allreduce(s->comm, &sumsq, 1, DTB_DTYPE_FP64, COMM_SUM) != 0)
        return zero_fail(s, "gradient norm allreduce failed: %s", comm_error(s->comm));
    *norm = sqrt(sumsq);
    return 0;
}

/* The optimizer over the real elements of this rank's shard of every unit,
 * weight decay by tensor (net_optimizer_range); the padding is never
 * stepped and stays zero. */
static int optimizer_step(dtb_state *s, int64_t t)
{
    for (int l = 0; l < s->part.n_units; l++) {
        const zero_unit *u = &s->part.units[l];
        int64_t first, count;
        zero_owned_range(&s->part, l, s->rank, &first, &count);
        if (count == 0)
            continue;
        const int64_t at = u->shard_offset;
        if (net_optimizer_range(s->be, &s->net, &s->spec, u->canonical_offset + first, count,
                                zero_master_shard(s, l), s->grad_shard + at, s->opt_a + at,
                                s->opt_b != NULL ? s->opt_b + at : NULL, t) != 0)
            return zero_fail(s, "optimizer step of unit %d failed: %s", l, s->be->error);
    }
    return 0;
}

int zero_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    double loss_sum = 0.0, norm = 0.0;
    if (accumulate_micro_batches(s, step, &loss_sum) != 0)
        return -1;
    if (s->comm != NULL && comm_allreduce(s->comm, &loss_sum, 1, DTB_DTYPE_FP64, COMM_SUM) != 0)
        return zero_fail(s, "loss allreduce failed: %s", comm_error(s->comm));
    if (global_grad_norm(s, &norm) != 0)
        return -1;
    const double coef = clip_coefficient(norm, s->spec.clip_norm);
    if (coef < 1.0 &&
        s->be->ops->scale(s->be, s->grad_shard, s->part.shard_total, (float)coef) != 0)
        return zero_fail(s, "%s", s->be->error);
    zero_stress_pause(s);
    if (optimizer_step(s, step - s->step_base) != 0 || zero_refresh_compute(s) != 0)
        return -1;
    report->loss = loss_sum / ((double)s->spec.global_batch * (double)s->net.c.positions);
    report->grad_norm = norm;
    report->clip_coef = coef;
    return 0;
}
