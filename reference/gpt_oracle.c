/*
 * The GPT family's fp64 oracle (gpt_oracle.h): gpt_train.c's step in double,
 * the whole batch in one pass. The settings are checked with the trainer's
 * rules and messages (its check is private to gpt_train.c), so a setting
 * either runs on both or is refused by both.
 */
#include "gpt_oracle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "dtbench/plugin.h"
#include "gpt_init_data.h"
#include "optim.h"

struct gpt_oracle {
    gpt_config cfg;
    uint64_t seed;
    int64_t batch;                /* B sequences per step, one pass */
    gpt_train_optim opt;
    int64_t n_params, n_tensors;
    gpt_tensor_info *table;       /* [n_tensors], canonical order */
    double *params, *grads;       /* [n_params] each; params: the masters under bf16-mixed */
    double *compute;              /* [n_params] bf16(params) widened (bf16-mixed), else params */
    double *opt_a, *opt_b;        /* AdamW m, v; SGD buf, NULL */
    gpt_acts_f64 *acts;           /* for B sequences */
    int32_t *tok, *tgt;           /* [B x T] */
    char error[256];
};

/* Formats a message into err; returns -1. */
static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* gpt_train's settings; the oracle's activations hold the whole batch. */
static int check_settings(const gpt_config *cfg, int64_t batch, int32_t micro,
                          const gpt_train_optim *opt, char *err, size_t err_len)
{
    char why[240];
    if (gpt_train_settings_check(cfg, batch, micro, opt, batch, why, sizeof why) != 0) {
        return fail(err, err_len, "gpt oracle: %s", why);
    }
    return 0;
}

/* bf16-mixed: compute[i] = bf16(params[i]), one rounding from double, widened
 * exactly. Nothing under fp32, where compute = params. */
static void refresh_compute(gpt_oracle *o)
{
    if (o->compute == o->params) {
        return;
    }
    for (int64_t i = 0; i < o->n_params; i++) {
        o->compute[i] = (double)bf16_to_float(double_to_bf16(o->params[i]));
    }
}

/* Allocations (zeroed) and the initial values widened from float32; 0 or -1. */
static int setup(gpt_oracle *o, char *err, size_t err_len)
{
    const size_t n = (size_t)o->n_params, rows = (size_t)(o->batch * o->cfg.context);
    o->table = calloc((size_t)o->n_tensors, sizeof *o->table);
    o->tok = calloc(rows, sizeof *o->tok);
    o->tgt = calloc(rows, sizeof *o->tgt);
    o->params = calloc(n, sizeof *o->params);
    o->grads = calloc(n, sizeof *o->grads);
    o->opt_a = calloc(n, sizeof *o->opt_a);
    int ok = o->table != NULL && o->tok != NULL && o->tgt != NULL && o->params != NULL &&
             o->grads != NULL && o->opt_a != NULL;
    if (ok && o->opt.optimizer == DTB_OPT_ADAMW) {
        ok = (o->opt_b = calloc(n, sizeof *o->opt_b)) != NULL;
    }
    if (ok) {
        o->compute = o->opt.precision == DTB_PREC_BF16_MIXED ? calloc(n, sizeof *o->compute)
                                                              : o->params;
        ok = o->compute != NULL;
    }
    if (!ok) {
        return fail(err, err_len, "gpt oracle: out of memory for %lld parameters, batch %lld",
                    (long long)o->n_params, (long long)o->batch);
    }
    if (gpt_acts_f64_create(&o->cfg, o->batch, &o->acts, err, err_len) != 0) {
        return -1;
    }
    gpt_tensor_table(&o->cfg, o->table);
    int64_t most = 0;
    for (int64_t t = 0; t < o->n_tensors; t++) {
        most = o->table[t].numel > most ? o->table[t].numel : most;
    }
    float *values = malloc((size_t)most * sizeof *values);
    if (values == NULL) {
        return fail(err, err_len, "gpt oracle: out of memory for the initial values");
    }
    for (int64_t t = 0; t < o->n_tensors; t++) {
        const gpt_tensor_info *ti = &o->table[t];
        if (gpt_init_values(o->seed, o->cfg.n_layer, (int32_t)t, ti->numel, 0, ti->numel,
                            values) != 0) {
            free(values);
            return fail(err, err_len, "gpt oracle: initial values of tensor %s failed",
                        ti->name);
        }
        for (int64_t i = 0; i < ti->numel; i++) {
            o->params[ti->offset + i] = (double)values[i];
        }
    }
    free(values);
    refresh_compute(o);
    return 0;
}

int gpt_oracle_create(const gpt_config *cfg, uint64_t seed, int64_t batch, int32_t micro_batches,
                      const gpt_train_optim *opt, gpt_oracle **out, char *err, size_t err_len)
{
    *out = NULL;
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (check_settings(cfg, batch, micro_batches, opt, err, err_len) != 0) {
        return -1;
    }
    gpt_oracle *o = calloc(1, sizeof *o);
    if (o == NULL) {
        return fail(err, err_len, "gpt oracle: out of memory");
    }
    o->cfg = *cfg;
    o->seed = seed;
    o->batch = batch;
    o->opt = *opt;
    o->n_params = gpt_param_count(cfg);
    o->n_tensors = gpt_tensor_count(cfg);
    if (setup(o, err, err_len) != 0) {
        gpt_oracle_destroy(o);
        return -1;
    }
    *out = o;
    return 0;
}

void gpt_oracle_destroy(gpt_oracle *o)
{
    if (o == NULL) {
        return;
    }
    gpt_acts_f64_destroy(o->acts);
    if (o->compute != o->params) {
        free(o->compute);
    }
    free(o->params);
    free(o->grads);
    free(o->opt_a);
    free(o->opt_b);
    free(o->table);
    free(o->tok);
    free(o->tgt);
    free(o);
}

/* Step 4: tensor by tensor, weight decay on the 2-D tensors only. */
static void optimizer_step(gpt_oracle *o, int64_t step)
{
    const gpt_train_optim *p = &o->opt;
    for (int64_t t = 0; t < o->n_tensors; t++) {
        const gpt_tensor_info *ti = &o->table[t];
        const int64_t off = ti->offset;
        const double wd = ti->ndim == 2 ? p->weight_decay : 0.0;
        if (p->optimizer == DTB_OPT_ADAMW) {
            adamw_step_f64(o->params + off, o->grads + off, o->opt_a + off, o->opt_b + off,
                           ti->numel, p->lr, p->beta1, p->beta2, p->eps, wd, step);
        } else {
            sgd_momentum_step_f64(o->params + off, o->grads + off, o->opt_a + off, ti->numel,
                                  p->lr, p->momentum, wd, step);
        }
    }
}

int gpt_oracle_step(gpt_oracle *o, int64_t step, gpt_step_result *out)
{
    o->error[0] = '\0';
    if (step < 1 || step > (int64_t)UINT32_MAX) {
        return fail(o->error, sizeof o->error, "gpt oracle: step %lld outside 1..2^32-1",
                    (long long)step);
    }
    const int64_t n = o->n_params, B = o->batch, T = o->cfg.context;
    const double positions = (double)B * (double)T; /* exact: B T < 2^31 */
    refresh_compute(o); /* the masters change in the optimizer step or between steps */
    /* Step 1: the gradient of the mean loss over the whole batch at once. */
    if (gpt_sample_batch(o->seed, o->cfg.vocab, T, step, 0, B, o->tok, o->tgt) != 0) {
        return fail(o->error, sizeof o->error,
                    "gpt oracle: no data for sequences 0..%lld of step %lld", (long long)(B - 1),
                    (long long)step);
    }
    memset(o->grads, 0, (size_t)n * sizeof *o->grads);
    double loss_sum = 0.0;
    if (gpt_f64_forward_backward(o->acts, o->compute, o->tok, o->tgt, B, 1.0 / positions,
                                 o->grads, &loss_sum) != 0) {
        return fail(o->error, sizeof o->error, "gpt oracle: forward/backward of step %lld: %s",
                    (long long)step, o->acts->error);
    }
    gpt_step_result r = {loss_sum / positions, 0.0, 1.0};
    /* Steps 2 and 3: the norm of the averaged gradient, then clipping. */
    double sumsq = 0.0;
    for (int64_t i = 0; i < n; i++) {
        sumsq += o->grads[i] * o->grads[i];
    }
    r.grad_norm = sqrt(sumsq);
    r.clip_coef = clip_coefficient(r.grad_norm, o->opt.clip_norm);
    if (r.clip_coef < 1.0) {
        for (int64_t i = 0; i < n; i++) {
            o->grads[i] *= r.clip_coef;
        }
    }
    optimizer_step(o, step);
    if (out != NULL) {
        *out = r;
    }
    return 0;
}

const char *gpt_oracle_error(const gpt_oracle *o)
{
    return o->error;
}

double *gpt_oracle_params(gpt_oracle *o)
{
    return o->params;
}

const double *gpt_oracle_compute_params(const gpt_oracle *o)
{
    return o->compute;
}

const double *gpt_oracle_grads(const gpt_oracle *o)
{
    return o->grads;
}

int64_t gpt_oracle_param_count(const gpt_oracle *o)
{
    return o->n_params;
}
