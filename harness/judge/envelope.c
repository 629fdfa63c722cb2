/*
 * The envelope tolerance (envelope.h): folding fp32 runs into the per-value
 * envelope, and comparing an implementation against it.
 */
#include "envelope.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

envelope_constants envelope_constants_for(int32_t precision)
{
    const int bf16 = precision == DTB_PREC_BF16_MIXED;
    return (envelope_constants){
        .mult = bf16 ? ENVELOPE_BF16_MULT : ENVELOPE_FP32_MULT,
        .pool = bf16 ? ENVELOPE_BF16_POOL : ENVELOPE_FP32_POOL,
        .floor_ulps = ENVELOPE_FLOOR_ULPS,
        .tensor_floor_ulps = ENVELOPE_TENSOR_FLOOR_ULPS,
        .step_floor_ulps = bf16 ? ENVELOPE_BF16_STEP_FLOOR_ULPS : ENVELOPE_FP32_STEP_FLOOR_ULPS};
}

int envelope_alloc(envelope *e, int64_t steps, int n_checks, int64_t n_params)
{
    memset(e, 0, sizeof *e);
    e->steps = steps;
    e->n_checks = n_checks;
    e->n_params = n_params;
    const size_t s = steps > 0 ? (size_t)steps : 1;
    const size_t p = (n_checks > 0 ? (size_t)n_checks : 1) * (n_params > 0 ? (size_t)n_params : 1);
    e->loss = calloc(s, sizeof *e->loss);
    e->grad_norm = calloc(s, sizeof *e->grad_norm);
    e->params = calloc(p, sizeof *e->params);
    return e->loss && e->grad_norm && e->params ? 0 : -1;
}

void envelope_free(envelope *e)
{
    if (e == NULL)
        return;
    free(e->loss);
    free(e->grad_norm);
    free(e->params);
    free(e->state[0]);
    free(e->state[1]);
    memset(e, 0, sizeof *e);
}

/* |a - o|, anything non-finite counting as infinitely far. */
static double distance(double a, double o)
{
    const double d = fabs(a - o);
    return isfinite(d) ? d : INFINITY;
}

/* env = max(env, |a - o|), value by value. */
static void fold(double *env, const double *o, const double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const double d = distance(a[i], o[i]);
        if (d > env[i])
            env[i] = d;
    }
}

void envelope_add_run(envelope *e, const oracle_trace *o, const double *loss,
                      const double *grad_norm, const float *params)
{
    fold(e->loss, o->loss, loss, e->steps);
    fold(e->grad_norm, o->grad_norm, grad_norm, e->steps);
    const int64_t total = (int64_t)e->n_checks * e->n_params;
    for (int64_t i = 0; i < total; i++) {
        const double d = distance(params[i], o->params[i]);
        if (d > e->params[i])
            e->params[i] = d;
    }
    e->members++;
}

int envelope_add_state(envelope *e, const oracle_trace *o, const float *const *state)
{
    const int64_t total = (int64_t)e->n_checks * e->n_params;
    for (int k = 0; k < o->n_state; k++) {
        if (!e->state[k] && !(e->state[k] = calloc(total > 0 ? (size_t)total : 1, sizeof(double))))
            return -1;
        for (int64_t i = 0; i < total; i++) {
            const double d = distance(state[k][i], o->state[k][i]);
            if (d > e->state[k][i])
                e->state[k][i] = d;
        }
    }
    e->n_state = o->n_state;
    e->state_members++;
    return 0;
}

double envelope_layer_max(const double *env, const mlp_layout *lay, int t)
{
    const int w = t - t % 2; /* W_l is tensor 2l, b_l tensor 2l + 1 */
    const int64_t end = w + 1 < lay->n_tensors ? lay->offset[w + 2] : lay->offset[w + 1];
    double most = 0;
    for (int64_t i = lay->offset[w]; i < end; i++)
        if (!(env[i] <= most))
            most = env[i]; /* carries an infinity */
    return most;
}

double envelope_bound(const envelope_constants *k, double env, double layer_max, double o,
                      double scale)
{
    const double pooled = k->pool * layer_max;
    return k->mult * (env > pooled ? env : pooled) + k->floor_ulps * (double)FLT_EPSILON * fabs(o) +
           k->tensor_floor_ulps * (double)FLT_EPSILON * scale;
}

double envelope_step_bound(const envelope_constants *k, double running, double o)
{
    return k->mult * running + k->step_floor_ulps * (double)FLT_EPSILON * fabs(o);
}

void envelope_param_formula(const envelope_constants *k, char *buf, size_t len)
{
    snprintf(buf, len,
             "%g * max(envelope, %g * layer's largest envelope) + %g * FLT_EPSILON * |oracle| + "
             "%g * FLT_EPSILON * max|oracle| of the tensor",
             k->mult, k->pool, k->floor_ulps, k->tensor_floor_ulps);
}

void envelope_step_formula(const envelope_constants *k, char *buf, size_t len)
{
    snprintf(buf, len, "%g * envelope (running maximum over steps) + %g * FLT_EPSILON * |oracle|",
             k->mult, k->step_floor_ulps);
}

static void result_init(envelope_result *r)
{
    memset(r, 0, sizeof *r);
    r->pass = 1;
    r->first_bad.index = -1;
    r->worst.index = -1;
}

/* err / tol; infinite when tol is 0 and err is not. */
static double ratio_of(double err, double tol)
{
    if (tol > 0)
        return err / tol;
    return err > 0 ? INFINITY : 0.0;
}

/* Folds one compared value into r. A non-finite tolerance (a diverged
 * ensemble run) never passes. */
static void account(envelope_result *r, envelope_point p)
{
    p.error = distance(p.value, p.oracle);
    p.ratio = ratio_of(p.error, p.tolerance);
    if (p.error > r->max_abs_error)
        r->max_abs_error = p.error;
    if (r->worst.index < 0 || p.ratio > r->worst.ratio)
        r->worst = p;
    if (!(p.error <= p.tolerance) || !isfinite(p.tolerance)) {
        if (r->pass)
            r->first_bad = p;
        r->pass = 0;
        r->failing++;
    }
}

void envelope_compare_tensor(const envelope_constants *k, const double *o, const double *env,
                             double layer_max, const float *x, int64_t n, envelope_result *r)
{
    result_init(r);
    double scale = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(o[i]) > scale)
            scale = fabs(o[i]);
    for (int64_t i = 0; i < n; i++)
        account(r, (envelope_point){.index = i,
                                    .value = x[i],
                                    .oracle = o[i],
                                    .envelope = env[i],
                                    .pooled = k->pool * layer_max,
                                    .tolerance = envelope_bound(k, env[i], layer_max, o[i],
                                                                scale)});
}

void envelope_compare_steps(const envelope_constants *k, const double *o, const double *env,
                            const double *x, int64_t steps, envelope_result *r)
{
    result_init(r);
    double running = 0;
    for (int64_t s = 0; s < steps; s++) {
        if (!(env[s] <= running))
            running = env[s]; /* also carries an infinity forward */
        account(r, (envelope_point){.index = s,
                                    .value = x[s],
                                    .oracle = o[s],
                                    .envelope = running,
                                    .tolerance = envelope_step_bound(k, running, o[s])});
    }
}
