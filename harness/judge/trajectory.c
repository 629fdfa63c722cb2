#include "trajectory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_host.h"
#include "optim.h"
#include "replica.h"

int64_t trajectory_bytes(const case_config *c)
{
    const mlp_config *m = c->model;
    const double n = (double)mlp_param_count(m);
    double widths = 0.0, widest = 0.0;
    for (int l = 0; l <= m->n_linear; l++) {
        widths += (double)m->dims[l];
        widest = (double)m->dims[l] > widest ? (double)m->dims[l] : widest;
    }
    /* Kept: init (4 per parameter); per step 6 scalars and the oracle's
     * check step (8 bytes each), 4 + 8 bytes per parameter. */
    const double kept = 4.0 * n + (double)c->steps * (7.0 * 8.0 + 12.0 * n);
    /* While training, one reference at a time, the larger: the oracle's
     * fp64 parameters, gradients, two moments and compute copy (40 bytes
     * per parameter) and, per sample, activations and their gradients in
     * fp64 and fp32 (at most 32 bytes per unit of every layer and of the
     * two widest buffers). */
    const double training = 40.0 * n + (double)c->global_batch * (widths + 2.0 * widest) * 32.0;
    const double bytes = kept + training;
    return bytes < 9e18 ? (int64_t)bytes : INT64_MAX;
}

void trajectory_free(trajectory *t)
{
    free(t->init);
    free(t->baseline_loss);
    free(t->baseline_grad_norm);
    free(t->baseline_clip_coef);
    free(t->oracle_clip_coef);
    free(t->baseline_params);
    oracle_trace_free(&t->oracle);
    memset(t, 0, sizeof *t);
}

static int allocate(trajectory *t)
{
    const size_t steps = (size_t)t->steps, n = (size_t)t->n_params;
    t->init = malloc(n * sizeof *t->init);
    t->baseline_loss = calloc(steps, sizeof(double));
    t->baseline_grad_norm = calloc(steps, sizeof(double));
    t->baseline_clip_coef = calloc(steps, sizeof(double));
    t->oracle_clip_coef = calloc(steps, sizeof(double));
    t->baseline_params = malloc(steps * n * sizeof(float));
    return t->init && t->baseline_loss && t->baseline_grad_norm && t->baseline_clip_coef &&
                   t->oracle_clip_coef && t->baseline_params
               ? 0
               : -1;
}

/* The initial parameters, tensor by tensor, as the host API hands them out. */
static int load_init(trajectory *t, const dtb_host_api *api, char *err, size_t err_len)
{
    for (int k = 0; k < t->layout.n_tensors; k++) {
        if (api->init_params(api->ctx, k, 0, t->layout.numel[k],
                             t->init + t->layout.offset[k]) != 0) {
            snprintf(err, err_len, "the host API refused the initial values of %s",
                     t->layout.name[k]);
            return -1;
        }
    }
    return 0;
}

/* One step of reference/baseline_plugin.c's baseline_train_step, recorded. */
static int baseline_step(replica *r, trajectory *t, int64_t s)
{
    const int64_t B = r->spec.global_batch;
    double loss_sum = 0.0, norm = 0.0, coef = 1.0;
    if (replica_zero_grads(r) != 0 ||
        replica_forward_backward(r, NULL, s, 0, B, (float)(1.0 / (double)B), &loss_sum) != 0 ||
        replica_grad_norm(r, &norm) != 0 || replica_clip(r, norm, r->spec.clip_norm, &coef) != 0 ||
        replica_optimizer_step(r, s) != 0)
        return -1;
    t->baseline_loss[s - 1] = loss_sum / (double)B;
    t->baseline_grad_norm[s - 1] = norm;
    t->baseline_clip_coef[s - 1] = coef;
    return replica_get_params(r, t->baseline_params + (size_t)(s - 1) * (size_t)t->n_params,
                              t->n_params);
}

static int run_baseline(const dtb_run_spec *spec, trajectory *t, char *err, size_t err_len)
{
    model_host host;
    dtb_host_api api;
    if (model_host_init(&host, spec, &api) != 0) {
        snprintf(err, err_len, "baseline: %s", host.error);
        return -1;
    }
    if (load_init(t, &api, err, err_len) != 0)
        return -1;
    replica r;
    memset(&r, 0, sizeof r);
    int rc = replica_init(&r, "baseline", spec, &api, spec->global_batch);
    for (int64_t s = 1; rc == 0 && s <= t->steps; s++)
        rc = baseline_step(&r, t, s);
    replica_release(&r);
    if (rc != 0)
        snprintf(err, err_len, "%s", host.error);
    return rc;
}

static int run_oracle(const dtb_run_spec *spec, const case_config *c, trajectory *t, char *err,
                      size_t err_len)
{
    int64_t *every = malloc((size_t)t->steps * sizeof *every);
    if (every == NULL) {
        snprintf(err, err_len, "out of memory for the oracle's step list");
        return -1;
    }
    for (int64_t s = 1; s <= t->steps; s++)
        every[s - 1] = s;
    const int rc = oracle_train_f64(spec, every, (int)t->steps, &t->oracle, err, err_len);
    free(every);
    if (rc != 0)
        return -1;
    for (int64_t s = 0; s < t->steps; s++)
        t->oracle_clip_coef[s] = clip_coefficient(t->oracle.grad_norm[s], c->clip_norm);
    return 0;
}

int trajectory_compute(const case_config *c, trajectory *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (c->steps < 1 || c->steps > INT32_MAX) {
        snprintf(err, err_len, "trajectory: %lld steps (1..%d)", (long long)c->steps, INT32_MAX);
        return -1;
    }
    dtb_run_spec spec;
    mlp_model_desc model;
    case_config_to_spec(c, 0, 1, &model, &spec);
    spec.stage = DTB_STAGE_SINGLE;
    out->steps = c->steps;
    mlp_layout_init(c->model, &out->layout);
    out->n_params = out->layout.n_params;
    if (allocate(out) != 0) {
        snprintf(err, err_len, "out of memory for a trajectory of %lld steps of %lld parameters",
                 (long long)out->steps, (long long)out->n_params);
        trajectory_free(out);
        return -1;
    }
    if (run_baseline(&spec, out, err, err_len) != 0 ||
        run_oracle(&spec, c, out, err, err_len) != 0) {
        trajectory_free(out);
        return -1;
    }
    return 0;
}
