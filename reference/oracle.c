/*
 * The fp64 oracle (oracle.h): the baseline's training in double precision.
 * Per step s: the whole global batch of B samples, gradient of the mean loss
 * (dlogit scale exactly 1/B), pre-clip global norm, clip, optimizer step t = s.
 * Inputs and initial parameters are the fp32 values of model-spec.md widened
 * to double, so the oracle and the fp32 runs start from identical states.
 *
 * bf16-mixed (model-spec.md, "The bf16-mixed recipe"): params are the fp64
 * masters (optimizer state fp64 too); the forward/backward read the compute
 * parameters compute[i] = bf16(params[i]), rounded once from double to
 * nearest-even bf16 (double_to_bf16, never through float) and held widened to
 * double (exact), refreshed after init and after every optimizer step.
 * Gradients are fp64. The trace records the masters, as get_params reports
 * them.
 */
#include "oracle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "mlp_f64.h"
#include "model.h"
#include "optim.h"

typedef struct oracle_run {
    mlp_config cfg;
    mlp_layout layout;
    mlp_f64_scratch scratch;
    double *params, *grads, *state1, *state2; /* state: SGD buf, or AdamW m and v */
    double *compute;  /* bf16-mixed: bf16(params) as doubles; NULL under fp32 (reads params) */
    float *x_f32;
    double *x;
    int32_t *y;
} oracle_run;

/* The model was read from the spec and checked by mlp_config_from_spec. */
static int validate(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                    char *err, size_t err_len)
{
    if (spec->global_batch < 1 || spec->steps < 0 || spec->steps > (int64_t)UINT32_MAX) {
        snprintf(err, err_len, "oracle: bad global_batch %lld or steps %lld",
                 (long long)spec->global_batch, (long long)spec->steps);
        return -1;
    }
    if (spec->precision != DTB_PREC_FP32 && spec->precision != DTB_PREC_BF16_MIXED) {
        snprintf(err, err_len, "oracle: unknown precision %d (fp32 or bf16-mixed)",
                 (int)spec->precision);
        return -1;
    }
    if (spec->optimizer != DTB_OPT_SGD_MOMENTUM && spec->optimizer != DTB_OPT_ADAMW) {
        snprintf(err, err_len, "oracle: unknown optimizer %d", (int)spec->optimizer);
        return -1;
    }
    if (n_checks < 0 || (n_checks > 0 && check_steps == NULL)) {
        snprintf(err, err_len, "oracle: bad check step list");
        return -1;
    }
    for (int k = 0; k < n_checks; k++) {
        if (check_steps[k] < 1 || check_steps[k] > spec->steps ||
            (k > 0 && check_steps[k] <= check_steps[k - 1])) {
            snprintf(err, err_len,
                     "oracle: check step %lld (index %d) is not ascending within 1..%lld",
                     (long long)check_steps[k], k, (long long)spec->steps);
            return -1;
        }
    }
    return 0;
}

static void run_free(oracle_run *run)
{
    mlp_f64_scratch_free(&run->scratch);
    free(run->params);
    free(run->grads);
    free(run->state1);
    free(run->state2);
    free(run->compute);
    free(run->x_f32);
    free(run->x);
    free(run->y);
}

static int run_alloc(oracle_run *run, const dtb_run_spec *spec, int with_state, oracle_trace *out)
{
    const size_t n = (size_t)run->layout.n_params;
    const size_t B = (size_t)spec->global_batch;
    const size_t inputs = B * (size_t)run->cfg.dims[0];
    int ok = mlp_f64_scratch_create(&run->cfg, spec->global_batch, &run->scratch) == 0;
    ok = ok && (run->params = malloc(n * sizeof(double))) != NULL;
    ok = ok && (run->grads = malloc(n * sizeof(double))) != NULL;
    ok = ok && (run->state1 = calloc(n, sizeof(double))) != NULL;
    if (spec->optimizer == DTB_OPT_ADAMW) {
        ok = ok && (run->state2 = calloc(n, sizeof(double))) != NULL;
    }
    if (spec->precision == DTB_PREC_BF16_MIXED) {
        ok = ok && (run->compute = malloc(n * sizeof(double))) != NULL;
    }
    ok = ok && (run->x_f32 = malloc(inputs * sizeof(float))) != NULL;
    ok = ok && (run->x = malloc(inputs * sizeof(double))) != NULL;
    ok = ok && (run->y = malloc(B * sizeof(int32_t))) != NULL;
    const size_t steps = spec->steps > 0 ? (size_t)spec->steps : 1;
    const size_t checks = out->n_checks > 0 ? (size_t)out->n_checks : 1;
    ok = ok && (out->loss = calloc(steps, sizeof(double))) != NULL;
    ok = ok && (out->grad_norm = calloc(steps, sizeof(double))) != NULL;
    ok = ok && (out->check_steps = calloc(checks, sizeof(int64_t))) != NULL;
    ok = ok && (out->params = calloc(checks * n, sizeof(double))) != NULL;
    out->n_state = !with_state ? 0 : spec->optimizer == DTB_OPT_ADAMW ? 2 : 1;
    for (int k = 0; k < out->n_state; k++)
        ok = ok && (out->state[k] = calloc(checks * n, sizeof(double))) != NULL;
    return ok ? 0 : -1;
}

static int init_params(oracle_run *run, uint64_t seed)
{
    float *values = malloc((size_t)run->layout.n_params * sizeof(float));
    if (values == NULL) {
        return -1;
    }
    for (int t = 0; t < run->layout.n_tensors; t++) {
        if (mlp_init_values(seed, &run->cfg, t, 0, run->layout.numel[t],
                            values + run->layout.offset[t]) != 0) {
            free(values);
            return -1;
        }
    }
    for (int64_t i = 0; i < run->layout.n_params; i++) {
        run->params[i] = values[i];
    }
    free(values);
    return 0;
}

/* bf16-mixed: compute[i] = bf16(params[i]), one rounding from double. */
static void refresh_compute(oracle_run *run)
{
    if (run->compute == NULL) {
        return;
    }
    for (int64_t i = 0; i < run->layout.n_params; i++) {
        run->compute[i] = bf16_to_float(double_to_bf16(run->params[i]));
    }
}

static double global_norm(const double *g, int64_t n)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        sum += g[i] * g[i];
    }
    return sqrt(sum);
}

/* One optimizer step t of the run; records loss and pre-clip norm. */
static int train_step(oracle_run *run, const dtb_run_spec *spec, int64_t t, double *loss,
                      double *grad_norm)
{
    const int64_t B = spec->global_batch, n = run->layout.n_params;
    if (mlp_sample_batch(spec->seed, &run->cfg, t, 0, B, run->x_f32, run->y) != 0) {
        return -1;
    }
    for (int64_t i = 0; i < B * run->cfg.dims[0]; i++) {
        run->x[i] = run->x_f32[i];
    }
    memset(run->grads, 0, (size_t)n * sizeof(double));
    const double *weights = run->compute != NULL ? run->compute : run->params;
    const double loss_sum = mlp_f64_forward_backward(&run->scratch, weights, run->x, run->y, B,
                                                     1.0 / (double)B, run->grads);
    *loss = loss_sum / (double)B;
    *grad_norm = global_norm(run->grads, n);
    const double coef = clip_coefficient(*grad_norm, spec->clip_norm);
    if (coef < 1.0) {
        for (int64_t i = 0; i < n; i++) {
            run->grads[i] *= coef;
        }
    }
    if (spec->optimizer == DTB_OPT_SGD_MOMENTUM) {
        sgd_momentum_step_f64(run->params, run->grads, run->state1, n, spec->lr, spec->momentum,
                              spec->weight_decay, t);
    } else {
        adamw_step_f64(run->params, run->grads, run->state1, run->state2, n, spec->lr,
                       spec->beta1, spec->beta2, spec->eps, spec->weight_decay, t);
    }
    refresh_compute(run);
    return 0;
}

static int train(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                 int with_state, oracle_trace *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    oracle_run run;
    memset(&run, 0, sizeof run);
    char why[512];
    if (mlp_config_from_spec(spec, &run.cfg, why, sizeof why) != 0) {
        snprintf(err, err_len, "oracle: %s", why);
        return -1;
    }
    if (validate(spec, check_steps, n_checks, err, err_len) != 0) {
        return -1;
    }
    mlp_layout_init(&run.cfg, &run.layout);
    out->steps = spec->steps;
    out->n_checks = n_checks;
    out->n_params = run.layout.n_params;
    if (run_alloc(&run, spec, with_state, out) != 0) {
        snprintf(err, err_len, "oracle: out of memory for %lld parameters, batch %lld",
                 (long long)run.layout.n_params, (long long)spec->global_batch);
        run_free(&run);
        oracle_trace_free(out);
        return -1;
    }
    if (n_checks > 0) {
        memcpy(out->check_steps, check_steps, (size_t)n_checks * sizeof(int64_t));
    }
    if (init_params(&run, spec->seed) != 0) {
        snprintf(err, err_len, "oracle: could not compute the initial parameters");
        run_free(&run);
        oracle_trace_free(out);
        return -1;
    }
    refresh_compute(&run);
    int next_check = 0;
    for (int64_t t = 1; t <= spec->steps; t++) {
        if (train_step(&run, spec, t, &out->loss[t - 1], &out->grad_norm[t - 1]) != 0) {
            snprintf(err, err_len, "oracle: could not generate the batch of step %lld",
                     (long long)t);
            run_free(&run);
            oracle_trace_free(out);
            return -1;
        }
        if (next_check < n_checks && check_steps[next_check] == t) {
            const size_t at = (size_t)next_check * (size_t)out->n_params;
            const size_t bytes = (size_t)out->n_params * sizeof(double);
            memcpy(out->params + at, run.params, bytes);
            const double *state[2] = {run.state1, run.state2};
            for (int k = 0; k < out->n_state; k++)
                memcpy(out->state[k] + at, state[k], bytes);
            next_check++;
        }
    }
    run_free(&run);
    return 0;
}

int oracle_train_f64(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                     oracle_trace *out, char *err, size_t err_len)
{
    return train(spec, check_steps, n_checks, 0, out, err, err_len);
}

int oracle_train_f64_with_state(const dtb_run_spec *spec, const int64_t *check_steps,
                                int n_checks, oracle_trace *out, char *err, size_t err_len)
{
    return train(spec, check_steps, n_checks, 1, out, err, err_len);
}

void oracle_trace_free(oracle_trace *trace)
{
    if (trace == NULL) {
        return;
    }
    free(trace->loss);
    free(trace->grad_norm);
    free(trace->check_steps);
    free(trace->params);
    free(trace->state[0]);
    free(trace->state[1]);
    memset(trace, 0, sizeof *trace);
}
