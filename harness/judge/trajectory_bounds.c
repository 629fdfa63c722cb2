/* The tolerance bound of every step of a trajectory (trajectory_bounds.h). */
#include "trajectory_bounds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble.h"
#include "envelope.h"

int64_t trajectory_bounds_bytes(const case_config *c)
{
    const mlp_config *m = c->model;
    const double n = (double)mlp_param_count(m), steps = (double)c->steps;
    double widths = 0.0;
    for (int l = 0; l <= m->n_linear; l++)
        widths += (double)m->dims[l];
    /* The bounds and the envelope (8 bytes per parameter and step each, and
     * two scalars per step); one member at a time: its trace (4 bytes per
     * parameter and step), its N <= 8 simulated ranks' gradients and its
     * own parameters, gradient, moments and compute copy ((8 + 6) * 4 bytes
     * per parameter), activations and their gradients for the whole batch
     * (at most 16 bytes per unit of every layer, per sample). */
    const double bytes = 2.0 * steps * (n + 2.0) * 8.0 + steps * n * 4.0 + 14.0 * 4.0 * n +
                         (double)c->global_batch * widths * 16.0;
    return bytes < 9e18 ? (int64_t)bytes : INT64_MAX;
}

void trajectory_bounds_free(trajectory_bounds *b)
{
    free(b->loss);
    free(b->grad_norm);
    free(b->params);
    memset(b, 0, sizeof *b);
}

/* Per step, the bound envelope_compare_steps applies at that step. */
static void per_step(const envelope_constants *k, const double *o, const double *env,
                     int64_t steps, double *bound)
{
    double running = 0.0;
    for (int64_t s = 0; s < steps; s++) {
        if (!(env[s] <= running))
            running = env[s]; /* carries an infinity forward */
        bound[s] = envelope_step_bound(k, running, o[s]);
    }
}

/* One step's parameters: the bound envelope_compare_tensor applies to each
 * element of each tensor. */
static void per_element(const envelope_constants *k, const mlp_layout *lay, const double *o,
                        const double *env, double *bound)
{
    for (int t = 0; t < lay->n_tensors; t++) {
        const int64_t off = lay->offset[t], n = lay->numel[t];
        const double layer_max = envelope_layer_max(env, lay, t);
        double scale = 0.0;
        for (int64_t i = off; i < off + n; i++)
            if (fabs(o[i]) > scale)
                scale = fabs(o[i]);
        for (int64_t i = off; i < off + n; i++)
            bound[i] = envelope_bound(k, env[i], layer_max, o[i], scale);
    }
}

/* The envelope of the baseline and every ensemble member, every step
 * checked. */
static int measure(const case_config *c, const trajectory *t, int64_t *every, envelope *env,
                   char *err, size_t err_len)
{
    if (envelope_alloc(env, t->steps, (int)t->steps, t->n_params) != 0) {
        snprintf(err, err_len, "out of memory for the envelope of %lld steps of %lld parameters",
                 (long long)t->steps, (long long)t->n_params);
        return -1;
    }
    for (int64_t s = 0; s < t->steps; s++)
        every[s] = s + 1;
    dtb_run_spec spec;
    mlp_model_desc model;
    case_config_to_spec(c, 0, 1, &model, &spec);
    spec.stage = DTB_STAGE_SINGLE;
    char why[512];
    if (ensemble_fold(&spec, every, (int)t->steps, &t->oracle, env, why, sizeof why) != 0) {
        snprintf(err, err_len, "the fp32 ensemble: %s", why);
        return -1;
    }
    envelope_add_run(env, &t->oracle, t->baseline_loss, t->baseline_grad_norm,
                     t->baseline_params);
    return 0;
}

int trajectory_bounds_compute(const case_config *c, const trajectory *t, trajectory_bounds *out,
                              char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (t->steps > INT32_MAX) {
        snprintf(err, err_len, "a trajectory of %lld steps is too long", (long long)t->steps);
        return -1;
    }
    const envelope_constants k = envelope_constants_for(c->precision);
    char param_formula[256], step_formula[256];
    envelope_param_formula(&k, param_formula, sizeof param_formula);
    envelope_step_formula(&k, step_formula, sizeof step_formula);
    out->model = "ensemble-envelope";
    snprintf(out->formula, sizeof out->formula,
             "parameters: %s; loss and grad norm: %s; envelope = max |run - oracle| over the fp32 "
             "baseline and %d ensemble runs",
             param_formula, step_formula, ENSEMBLE_MEMBERS);
    out->source = "docs/tolerance.md, harness/judge/envelope.h";
    out->steps = t->steps;
    out->n_params = t->n_params;
    const size_t steps = (size_t)t->steps, n = (size_t)t->n_params;
    out->loss = malloc(steps * sizeof(double));
    out->grad_norm = malloc(steps * sizeof(double));
    out->params = malloc(steps * n * sizeof(double));
    int64_t *every = malloc(steps * sizeof *every);
    envelope env;
    memset(&env, 0, sizeof env);
    int rc = 0;
    if (!out->loss || !out->grad_norm || !out->params || !every) {
        snprintf(err, err_len, "out of memory for the bounds of %lld steps of %lld parameters",
                 (long long)t->steps, (long long)t->n_params);
        rc = -1;
    }
    if (rc == 0)
        rc = measure(c, t, every, &env, err, err_len);
    if (rc == 0) {
        out->runs = env.members;
        per_step(&k, t->oracle.loss, env.loss, t->steps, out->loss);
        per_step(&k, t->oracle.grad_norm, env.grad_norm, t->steps, out->grad_norm);
        for (size_t s = 0; s < steps; s++)
            per_element(&k, &t->layout, t->oracle.params + s * n, env.params + s * n,
                        out->params + s * n);
    }
    envelope_free(&env);
    free(every);
    if (rc != 0)
        trajectory_bounds_free(out);
    return rc;
}
