/*
 * The GPT family's fp32 single-device training step (gpt_train.h): zero the
 * gradients, accumulate the micro-batches' gradients of the mean loss, take
 * the global norm, clip, and step the optimizer tensor by tensor so that
 * weight decay reaches only the 2-D tensors.
 */
#include "gpt_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "dtbench/plugin.h"
#include "gpt_init_data.h"
#include "model.h"
#include "optim.h"

struct gpt_trainer {
    dtb_backend *be;              /* not owned */
    gpt_config cfg;
    uint64_t seed;
    int64_t batch;                /* B sequences per step */
    int32_t micro;                /* M micro-batches */
    int64_t max_micro;            /* ceil(B / M): the largest micro-batch */
    gpt_train_optim opt;
    int64_t n_params, n_tensors;
    gpt_tensor_info *table;       /* [n_tensors], canonical order */
    float *params, *grads;        /* [n_params] each; params: the masters under bf16-mixed */
    float *compute;               /* [n_params] bf16(params) widened (bf16-mixed), else params */
    float *opt_a, *opt_b;         /* AdamW m, v; SGD buf, NULL */
    gpt_acts_f32 *acts;
    int32_t *tok, *tgt;           /* [max_micro x T] */
    int64_t bytes;
};

/* x in [lo, hi] and finite (NaN fails every comparison). */
static int in_range(double x, double lo, double hi)
{
    return x >= lo && x <= hi && isfinite(x);
}

int gpt_train_settings_check(const gpt_config *cfg, int64_t batch, int32_t micro,
                             const gpt_train_optim *opt, int64_t pass_batch, char *why,
                             size_t why_len)
{
    char inner[160];
    if (gpt_config_validate(cfg, inner, sizeof inner) != 0) {
        snprintf(why, why_len, "%s", inner);
        return -1;
    }
    if (opt->precision != DTB_PREC_FP32 && opt->precision != DTB_PREC_BF16_MIXED) {
        snprintf(why, why_len, "unknown precision %d (fp32 %d, bf16-mixed %d)",
                 (int)opt->precision, DTB_PREC_FP32, DTB_PREC_BF16_MIXED);
        return -1;
    }
    if (batch < 1 || micro < 1 || micro > batch) {
        snprintf(why, why_len,
                 "global batch %lld and %d micro-batches: need batch >= 1 and 1 <= "
                 "micro-batches <= batch",
                 (long long)batch, (int)micro);
        return -1;
    }
    if (gpt_batch_validate(cfg, pass_batch, inner, sizeof inner) != 0) {
        snprintf(why, why_len, "%s", inner);
        return -1;
    }
    if (opt->optimizer != DTB_OPT_SGD_MOMENTUM && opt->optimizer != DTB_OPT_ADAMW) {
        snprintf(why, why_len, "unknown optimizer %d (SGD-momentum %d, AdamW %d)",
                 (int)opt->optimizer, DTB_OPT_SGD_MOMENTUM, DTB_OPT_ADAMW);
        return -1;
    }
    if (!in_range(opt->lr, 0.0, HUGE_VAL) || !in_range(opt->weight_decay, 0.0, HUGE_VAL) ||
        !in_range(opt->clip_norm, 0.0, HUGE_VAL)) {
        snprintf(why, why_len, "lr %g, weight decay %g and clip norm %g must be finite and >= 0",
                 opt->lr, opt->weight_decay, opt->clip_norm);
        return -1;
    }
    if (opt->optimizer == DTB_OPT_SGD_MOMENTUM && !in_range(opt->momentum, 0.0, 1.0)) {
        snprintf(why, why_len, "SGD momentum %g outside 0..1", opt->momentum);
        return -1;
    }
    if (opt->optimizer == DTB_OPT_ADAMW &&
        (!in_range(opt->beta1, 0.0, 1.0) || opt->beta1 == 1.0 || !in_range(opt->beta2, 0.0, 1.0) ||
         opt->beta2 == 1.0 || !in_range(opt->eps, 0.0, HUGE_VAL) || opt->eps == 0.0)) {
        snprintf(why, why_len, "AdamW needs betas in [0, 1) and eps > 0, not %g, %g, %g",
                 opt->beta1, opt->beta2, opt->eps);
        return -1;
    }
    return 0;
}

/* 0, or -1 with the reason in be->error. */
static int check_settings(dtb_backend *be, const gpt_config *cfg, int64_t batch,
                          int32_t micro, const gpt_train_optim *opt)
{
    char why[240];
    if (strcmp(be->ops->name, "cpu") != 0) {
        return backend_error(be, "gpt train: runs on the cpu backend only, not %s",
                             be->ops->name);
    }
    /* Activations hold the largest micro-batch. */
    const int64_t max_micro = micro >= 1 ? (batch + micro - 1) / micro : batch;
    if (gpt_train_settings_check(cfg, batch, micro, opt, max_micro, why, sizeof why) != 0) {
        return backend_error(be, "gpt train: %s", why);
    }
    return 0;
}

/* n floats of backend memory, counted in tr->bytes. */
static int alloc_floats(gpt_trainer *tr, int64_t n, float **out)
{
    const size_t bytes = (size_t)n * sizeof(float);
    if (tr->be->ops->alloc(tr->be, bytes, (void **)out) != 0) {
        return -1;
    }
    tr->bytes += (int64_t)bytes;
    return tr->be->ops->zero(tr->be, *out, bytes);
}

/* bf16-mixed: compute = bf16(params), round to nearest even, widened exactly
 * (host memory: the cpu backend). Nothing under fp32, where compute = params. */
static void refresh_compute(gpt_trainer *tr)
{
    if (tr->compute == tr->params) {
        return;
    }
    for (int64_t i = 0; i < tr->n_params; i++) {
        tr->compute[i] = round_to_bf16(tr->params[i]);
    }
}

/* Allocations and initial values; 0 or -1 (message in be->error). */
static int setup(gpt_trainer *tr)
{
    dtb_backend *be = tr->be;
    const int64_t n = tr->n_params, rows = tr->max_micro * tr->cfg.context;
    tr->table = calloc((size_t)tr->n_tensors, sizeof *tr->table);
    tr->tok = calloc((size_t)rows, sizeof *tr->tok);
    tr->tgt = calloc((size_t)rows, sizeof *tr->tgt);
    if (tr->table == NULL || tr->tok == NULL || tr->tgt == NULL) {
        return backend_error(be, "gpt train: out of host memory");
    }
    tr->bytes += 2 * rows * (int64_t)sizeof *tr->tok;
    gpt_tensor_table(&tr->cfg, tr->table);
    if (alloc_floats(tr, n, &tr->params) != 0 || alloc_floats(tr, n, &tr->grads) != 0 ||
        alloc_floats(tr, n, &tr->opt_a) != 0 ||
        (tr->opt.optimizer == DTB_OPT_ADAMW && alloc_floats(tr, n, &tr->opt_b) != 0)) {
        return -1;
    }
    if (tr->opt.precision == DTB_PREC_BF16_MIXED) {
        if (alloc_floats(tr, n, &tr->compute) != 0) {
            return -1;
        }
    } else {
        tr->compute = tr->params;
    }
    if (gpt_acts_f32_create(be, &tr->cfg, tr->max_micro, &tr->acts) != 0) {
        return -1;
    }
    tr->bytes += tr->acts->bytes;
    for (int64_t t = 0; t < tr->n_tensors; t++) {
        const gpt_tensor_info *ti = &tr->table[t];
        if (gpt_init_values(tr->seed, tr->cfg.n_layer, (int32_t)t, ti->numel, 0, ti->numel,
                            tr->params + ti->offset) != 0) {
            return backend_error(be, "gpt train: initial values of tensor %s failed", ti->name);
        }
    }
    return 0;
}

int gpt_trainer_create(dtb_backend *be, const gpt_config *cfg, uint64_t seed, int64_t batch,
                       int32_t micro_batches, const gpt_train_optim *opt, gpt_trainer **out)
{
    *out = NULL;
    be->error[0] = '\0';
    if (check_settings(be, cfg, batch, micro_batches, opt) != 0) {
        return -1;
    }
    gpt_trainer *tr = calloc(1, sizeof *tr);
    if (tr == NULL) {
        return backend_error(be, "gpt train: out of host memory");
    }
    tr->be = be;
    tr->cfg = *cfg;
    tr->seed = seed;
    tr->batch = batch;
    tr->micro = micro_batches;
    tr->max_micro = (batch + micro_batches - 1) / micro_batches;
    tr->opt = *opt;
    tr->n_params = gpt_param_count(cfg);
    tr->n_tensors = gpt_tensor_count(cfg);
    if (setup(tr) != 0) {
        gpt_trainer_destroy(tr);
        return -1;
    }
    *out = tr;
    return 0;
}

void gpt_trainer_destroy(gpt_trainer *tr)
{
    if (tr == NULL) {
        return;
    }
    dtb_backend *be = tr->be;
    gpt_acts_f32_destroy(be, tr->acts);
    float *bufs[5] = {tr->params, tr->grads, tr->opt_a, tr->opt_b,
                      tr->compute != tr->params ? tr->compute : NULL};
    for (int k = 0; k < 5; k++) {
        if (bufs[k] != NULL) {
            be->ops->release(be, bufs[k]);
        }
    }
    free(tr->table);
    free(tr->tok);
    free(tr->tgt);
    free(tr);
}

/* Prefixes the message a callee left in be->error; returns -1. */
static int failed(dtb_backend *be, const char *what, long long step)
{
    char inner[sizeof be->error];
    snprintf(inner, sizeof inner, "%s", be->error);
    return backend_error(be, "gpt train: %s of step %lld failed: %s", what, step, inner);
}

/* Step 1: zero the gradients and accumulate every micro-batch's share of the
 * gradient of the mean loss; *loss = the mean loss. */
static int accumulate(gpt_trainer *tr, int64_t step, double *loss)
{
    dtb_backend *be = tr->be;
    const int64_t T = tr->cfg.context;
    const double positions = (double)tr->batch * (double)T;
    const float scale = (float)(1.0 / positions);
    if (be->ops->zero(be, tr->grads, (size_t)tr->n_params * sizeof(float)) != 0) {
        return failed(be, "zeroing the gradients", (long long)step);
    }
    double loss_sum = 0.0;
    for (int32_t m = 0; m < tr->micro; m++) {
        int64_t first = 0, count = 0;
        split_range(tr->batch, tr->micro, m, &first, &count);
        if (gpt_sample_batch(tr->seed, tr->cfg.vocab, T, step, first, count, tr->tok, tr->tgt) !=
            0) {
            return backend_error(be, "gpt train: no data for sequences %lld..%lld of step %lld",
                                 (long long)first, (long long)(first + count - 1),
                                 (long long)step);
        }
        double part = 0.0;
        if (gpt_f32_forward_backward(be, tr->acts, tr->compute, tr->tok, tr->tgt, count, scale,
                                     tr->grads, &part) != 0) {
            return failed(be, "forward/backward", (long long)step);
        }
        loss_sum += part;
    }
    *loss = loss_sum / positions;
    return 0;
}

/* Step 4: tensor by tensor, weight decay on the 2-D tensors only. */
static int optimizer_step(gpt_trainer *tr, int64_t step)
{
    dtb_backend *be = tr->be;
    const gpt_train_optim *o = &tr->opt;
    for (int64_t t = 0; t < tr->n_tensors; t++) {
        const gpt_tensor_info *ti = &tr->table[t];
        const int64_t off = ti->offset;
        const double wd = ti->ndim == 2 ? o->weight_decay : 0.0;
        const int rc =
            o->optimizer == DTB_OPT_ADAMW
                ? be->ops->adamw_step(be, tr->params + off, tr->grads + off, tr->opt_a + off,
                                      tr->opt_b + off, ti->numel, o->lr, o->beta1, o->beta2,
                                      o->eps, wd, step)
                : be->ops->sgd_momentum_step(be, tr->params + off, tr->grads + off,
                                             tr->opt_a + off, ti->numel, o->lr, o->momentum, wd,
                                             step);
        if (rc != 0) {
            return failed(be, "optimizer update", (long long)step);
        }
    }
    return 0;
}

int gpt_trainer_step(gpt_trainer *tr, int64_t step, gpt_step_result *out)
{
    dtb_backend *be = tr->be;
    be->error[0] = '\0';
    if (step < 1 || step > (int64_t)UINT32_MAX) {
        return backend_error(be, "gpt train: step %lld outside 1..2^32-1", (long long)step);
    }
    gpt_step_result r = {0.0, 0.0, 1.0};
    refresh_compute(tr); /* the masters change in the optimizer step or between steps */
    if (accumulate(tr, step, &r.loss) != 0) {
        return -1;
    }
    /* Steps 2 and 3: the norm of the averaged gradient, then clipping. */
    double sumsq = 0.0;
    if (be->ops->sum_squares(be, tr->grads, tr->n_params, &sumsq) != 0) {
        return failed(be, "gradient norm", (long long)step);
    }
    r.grad_norm = sqrt(sumsq);
    r.clip_coef = clip_coefficient(r.grad_norm, tr->opt.clip_norm);
    if (r.clip_coef < 1.0 &&
        be->ops->scale(be, tr->grads, tr->n_params, (float)r.clip_coef) != 0) {
        return failed(be, "clipping", (long long)step);
    }
    if (optimizer_step(tr, step) != 0) {
        return -1;
    }
    if (out != NULL) {
        *out = r;
    }
    return 0;
}

float *gpt_trainer_params(gpt_trainer *tr)
{
    return tr->params;
}

const float *gpt_trainer_grads(const gpt_trainer *tr)
{
    return tr->grads;
}

const float *gpt_trainer_compute_params(const gpt_trainer *tr)
{
    return tr->compute;
}

int64_t gpt_trainer_param_count(const gpt_trainer *tr)
{
    return tr->n_params;
}

int64_t gpt_trainer_bytes(const gpt_trainer *tr)
{
    return tr->bytes;
}
