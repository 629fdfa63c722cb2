/*
 * The fp64 oracle (reference/oracle.c) on mlp-odd, batch 30, 5 steps, with
 * SGD-momentum and AdamW (and AdamW with active clipping): it trains (loss
 * finite and changing, norms positive, every row of every tensor moves), it
 * is deterministic, it refuses bad requests, and an independent fp32 run
 * (CPU backend + mlp_flat_hooks + the optimizer, whole batch per step)
 * follows it within a small relative tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mlp_train.h"
#include "model.h"
#include "optim.h"
#include "oracle.h"
#include "ref_util.h"
#include "test_spec_model.h"

enum { STEPS = 5, N_CHECKS = 3 };
static const int64_t CHECK_STEPS[N_CHECKS] = {1, 3, 5};

static dtb_run_spec make_spec(int optimizer, double clip)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, cfg);
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 1e-2 : 5e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = clip;
    s.precision = DTB_PREC_FP32;
    s.global_batch = 30;
    s.micro_batches = 1;
    s.steps = STEPS;
    s.seed = 20261123;
    s.world_size = 1;
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    return s;
}

/* The fp32 single-device algorithm written against the reference library:
 * zero grads, one pass over the whole batch with dlogit scale 1/B, norm from
 * sum_squares, clip, optimizer. */
typedef struct f32_run {
    double loss[STEPS], norm[STEPS];
    float *params; /* [N_CHECKS x n] */
} f32_run;

static int train_f32(const dtb_run_spec *spec, f32_run *out)
{
    mlp_config cfg;
    mlp_config_from_spec(spec, &cfg, NULL, 0);
    mlp_layout L;
    mlp_layout_init(&cfg, &L);
    const int64_t n = L.n_params, B = spec->global_batch;
    dtb_backend *be = NULL;
    mlp_workspace *ws = NULL;
    float *p = NULL, *g = NULL, *s1 = NULL, *s2 = NULL, *x = NULL;
    int32_t *y = NULL;
    int rc = -1;
    out->params = malloc((size_t)(N_CHECKS * n) * sizeof(float));
    if (out->params == NULL || backend_cpu_create(&be) != 0) {
        goto done;
    }
    const dtb_backend_ops *ops = be->ops;
    const size_t bytes = (size_t)n * sizeof(float);
    if (ops->alloc(be, bytes, (void **)&p) || ops->alloc(be, bytes, (void **)&g) ||
        ops->alloc(be, bytes, (void **)&s1) || ops->alloc(be, bytes, (void **)&s2) ||
        mlp_workspace_create(be, &cfg, B, &ws) != 0) {
        fprintf(stderr, "fp32 run: %s\n", be->error);
        goto done;
    }
    x = malloc((size_t)(B * cfg.dims[0]) * sizeof(float));
    y = malloc((size_t)B * sizeof(int32_t));
    if (x == NULL || y == NULL || ops->zero(be, s1, bytes) || ops->zero(be, s2, bytes)) {
        goto done;
    }
    for (int t = 0; t < L.n_tensors; t++) {
        if (mlp_init_values(spec->seed, &cfg, t, 0, L.numel[t], p + L.offset[t]) != 0) {
            goto done;
        }
    }
    mlp_flat_ctx flat = {.layout = L, .params = p, .grads = g};
    mlp_hooks hooks;
    mlp_flat_hooks(&flat, &hooks);
    int next_check = 0;
    for (int64_t t = 1; t <= spec->steps; t++) {
        double loss_sum = 0.0, sumsq = 0.0;
        if (mlp_sample_batch(spec->seed, &cfg, t, 0, B, x, y) != 0 || ops->zero(be, g, bytes) ||
            mlp_forward_backward(be, ws, &hooks, x, y, B, (float)(1.0 / (double)B), &loss_sum) ||
            ops->sum_squares(be, g, n, &sumsq)) {
            fprintf(stderr, "fp32 run step %lld: %s\n", (long long)t, be->error);
            goto done;
        }
        out->loss[t - 1] = loss_sum / (double)B;
        out->norm[t - 1] = sqrt(sumsq);
        const double coef = clip_coefficient(out->norm[t - 1], spec->clip_norm);
        if (coef < 1.0 && ops->scale(be, g, n, (float)coef)) {
            goto done;
        }
        const int orc = spec->optimizer == DTB_OPT_ADAMW
                            ? ops->adamw_step(be, p, g, s1, s2, n, spec->lr, spec->beta1, spec->beta2,
                                              spec->eps, spec->weight_decay, t)
                            : ops->sgd_momentum_step(be, p, g, s1, n, spec->lr, spec->momentum,
                                                     spec->weight_decay, t);
        if (orc != 0) {
            goto done;
        }
        if (next_check < N_CHECKS && CHECK_STEPS[next_check] == t) {
            memcpy(out->params + next_check * n, p, bytes);
            next_check++;
        }
    }
    rc = 0;
done:
    if (be != NULL) {
        mlp_workspace_destroy(be, ws);
        be->ops->release(be, p), be->ops->release(be, g);
        be->ops->release(be, s1), be->ops->release(be, s2);
    }
    backend_destroy(be);
    free(x), free(y);
    return rc;
}

static const char *opt_name(const dtb_run_spec *s)
{
    return s->optimizer == DTB_OPT_ADAMW ? (s->clip_norm > 0 ? "adamw+clip" : "adamw") : "sgd";
}

static void check_oracle_trains(ref_checker *c, const dtb_run_spec *spec, const oracle_trace *tr)
{
    const char *what = opt_name(spec);
    int finite = 1, changing = 1, norms = 1;
    for (int s = 0; s < STEPS; s++) {
        finite = finite && isfinite(tr->loss[s]) && tr->loss[s] > 0.0;
        norms = norms && isfinite(tr->grad_norm[s]) && tr->grad_norm[s] > 0.0;
        changing = changing && (s == 0 || tr->loss[s] != tr->loss[s - 1]);
    }
    ref_check(c, finite && changing && norms,
              "%s oracle: loss %.6f %.6f %.6f %.6f %.6f finite and changing; norms %.4f .. %.4f > 0", what,
              tr->loss[0], tr->loss[1], tr->loss[2], tr->loss[3], tr->loss[4], tr->grad_norm[0],
              tr->grad_norm[STEPS - 1]);
    ref_check(c, tr->loss[STEPS - 1] < tr->loss[0], "%s oracle: loss goes down over 5 steps (%.6f -> %.6f)",
              what, tr->loss[0], tr->loss[STEPS - 1]);
    /* Every row of every tensor differs from init at every check step, and
     * the check steps differ from each other. */
    mlp_config cfg;
    mlp_config_from_spec(spec, &cfg, NULL, 0);
    mlp_layout L;
    mlp_layout_init(&cfg, &L);
    float *init = malloc((size_t)L.n_params * sizeof(float));
    if (!ref_check(c, init != NULL, "allocate init")) {
        return;
    }
    for (int t = 0; t < L.n_tensors; t++) {
        mlp_init_values(spec->seed, &cfg, t, 0, L.numel[t], init + L.offset[t]);
    }
    int64_t frozen_rows = 0, rows = 0;
    for (int k = 0; k < tr->n_checks; k++) {
        const double *p = tr->params + (size_t)k * (size_t)tr->n_params;
        for (int t = 0; t < L.n_tensors; t++) {
            for (int64_t r = 0; r < L.rows[t]; r++) {
                int moved = 0;
                for (int64_t col = 0; col < L.cols[t]; col++) {
                    const int64_t i = L.offset[t] + r * L.cols[t] + col;
                    moved = moved || p[i] != (double)init[i];
                }
                frozen_rows += !moved;
                rows++;
            }
        }
    }
    int checks_differ = 1;
    for (int k = 1; k < tr->n_checks; k++) {
        checks_differ = checks_differ && memcmp(tr->params + (size_t)k * (size_t)tr->n_params,
                                                tr->params + (size_t)(k - 1) * (size_t)tr->n_params,
                                                (size_t)tr->n_params * sizeof(double)) != 0;
    }
    ref_check(c, frozen_rows == 0 && checks_differ && tr->n_checks == N_CHECKS &&
                     tr->check_steps[2] == 5 && tr->n_params == 5209,
              "%s oracle: all %lld rows (3 checks x every tensor) moved from init; checks 1, 3, 5 differ", what,
              (long long)rows);
    free(init);
}

/* max |a - b| / max |b| over a tensor range, fp32 against fp64. */
static double tensor_rel(const float *a, const double *b, int64_t first, int64_t n)
{
    double err = 0.0, scale = 0.0;
    for (int64_t i = first; i < first + n; i++) {
        err = fmax(err, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return err / scale;
}

static void check_fp32_follows(ref_checker *c, const dtb_run_spec *spec, const oracle_trace *tr, const f32_run *run)
{
    const char *what = opt_name(spec);
    double loss_err = 0.0, norm_err = 0.0, param_err = 0.0;
    int worst_t = 0;
    int64_t worst_step = 0;
    mlp_config cfg;
    mlp_config_from_spec(spec, &cfg, NULL, 0);
    mlp_layout L;
    mlp_layout_init(&cfg, &L);
    for (int s = 0; s < STEPS; s++) {
        loss_err = fmax(loss_err, fabs(run->loss[s] - tr->loss[s]) / tr->loss[s]);
        norm_err = fmax(norm_err, fabs(run->norm[s] - tr->grad_norm[s]) / tr->grad_norm[s]);
    }
    for (int k = 0; k < N_CHECKS; k++) {
        const float *p32 = run->params + (size_t)k * (size_t)tr->n_params;
        const double *p64 = tr->params + (size_t)k * (size_t)tr->n_params;
        for (int t = 0; t < L.n_tensors; t++) {
            const double e = tensor_rel(p32, p64, L.offset[t], L.numel[t]);
            if (e > param_err) {
                param_err = e, worst_t = t, worst_step = CHECK_STEPS[k];
            }
        }
    }
    printf("  observed fp32 vs fp64 oracle (%s, mlp-odd, B=30, 5 steps): loss %.2e, grad norm %.2e, "
           "params %.2e (worst %s at step %lld; max abs err / max |p| per tensor)\n",
           what, loss_err, norm_err, param_err, L.name[worst_t], (long long)worst_step);
    ref_check(c, loss_err < 1e-5 && norm_err < 1e-4 && param_err < 1e-4,
              "%s: fp32 CPU run follows the oracle: loss rel %.2g < 1e-5, norm rel %.2g < 1e-4, params %.2g < 1e-4",
              what, loss_err, norm_err, param_err);
}

static void check_refusals(ref_checker *c)
{
    dtb_run_spec spec = make_spec(DTB_OPT_SGD_MOMENTUM, 0.0);
    oracle_trace tr;
    char err[256];
    const int64_t bad_order[2] = {3, 2}, zero[1] = {0}, past[1] = {6};
    struct {
        const char *what;
        const int64_t *checks;
        int n;
    } bad_checks[] = {{"descending check steps", bad_order, 2},
                      {"check step 0", zero, 1},
                      {"check step past the end", past, 1},
                      {"n_checks > 0 with no list", NULL, 1}};
    for (size_t k = 0; k < sizeof bad_checks / sizeof bad_checks[0]; k++) {
        err[0] = '\0';
        const int rc = oracle_train_f64(&spec, bad_checks[k].checks, bad_checks[k].n, &tr, err, sizeof err);
        ref_check(c, rc != 0 && tr.loss == NULL && strlen(err) > 0, "oracle refuses %s: \"%s\"",
                  bad_checks[k].what, err);
    }
    dtb_run_spec bad = spec;
    dtb_model_desc wrong = *spec.model;
    wrong.n_params = 5208;
    bad.model = &wrong;
    ref_check(c, oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err) != 0, "oracle refuses a wrong n_params: \"%s\"",
              err);
    bad = spec, bad.optimizer = 7;
    ref_check(c, oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err) != 0, "oracle refuses optimizer 7: \"%s\"",
              err);
    bad = spec, bad.global_batch = 0;
    ref_check(c, oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err) != 0, "oracle refuses global batch 0: \"%s\"",
              err);
    wrong = *spec.model, wrong.n_layers = 0;
    bad = spec, bad.model = &wrong;
    ref_check(c, oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err) != 0, "oracle refuses 0 layers: \"%s\"", err);
    bad = spec, bad.steps = 0;
    const int rc = oracle_train_f64(&bad, NULL, 0, &tr, err, sizeof err);
    ref_check(c, rc == 0 && tr.steps == 0, "oracle accepts 0 steps with no checks");
    oracle_trace_free(&tr);
    oracle_trace_free(NULL);
}

int main(void)
{
    ref_checker c = {.test = "ref_oracle"};
    const dtb_run_spec specs[3] = {make_spec(DTB_OPT_SGD_MOMENTUM, 0.0), make_spec(DTB_OPT_ADAMW, 0.0),
                                   make_spec(DTB_OPT_ADAMW, 0.15)};
    for (int k = 0; k < 3; k++) {
        oracle_trace tr, again;
        char err[256];
        if (!ref_check(&c, oracle_train_f64(&specs[k], CHECK_STEPS, N_CHECKS, &tr, err, sizeof err) == 0,
                       "%s oracle trains mlp-odd, batch 30, 5 steps %s", opt_name(&specs[k]), err)) {
            continue;
        }
        check_oracle_trains(&c, &specs[k], &tr);
        if (specs[k].clip_norm > 0) {
            int all_clipped = 1;
            for (int s = 0; s < STEPS; s++) {
                all_clipped = all_clipped && tr.grad_norm[s] > specs[k].clip_norm;
            }
            ref_check(&c, all_clipped, "adamw+clip: every pre-clip norm exceeds the threshold %.2f (clipping is active)",
                      specs[k].clip_norm);
        }
        if (ref_check(&c, oracle_train_f64(&specs[k], CHECK_STEPS, N_CHECKS, &again, err, sizeof err) == 0,
                      "%s oracle second run", opt_name(&specs[k]))) {
            const size_t n = (size_t)tr.n_params * N_CHECKS;
            ref_check(&c, memcmp(tr.loss, again.loss, STEPS * sizeof(double)) == 0 &&
                              memcmp(tr.grad_norm, again.grad_norm, STEPS * sizeof(double)) == 0 &&
                              memcmp(tr.params, again.params, n * sizeof(double)) == 0,
                      "%s oracle is deterministic: two runs bitwise identical", opt_name(&specs[k]));
            oracle_trace_free(&again);
        }
        f32_run run1 = {0}, run2 = {0};
        if (ref_check(&c, train_f32(&specs[k], &run1) == 0 && train_f32(&specs[k], &run2) == 0,
                      "%s fp32 CPU runs (twice)", opt_name(&specs[k]))) {
            check_fp32_follows(&c, &specs[k], &tr, &run1);
            ref_check(&c, memcmp(run1.loss, run2.loss, sizeof run1.loss) == 0 &&
                              memcmp(run1.params, run2.params, (size_t)(N_CHECKS * tr.n_params) * sizeof(float)) == 0,
                      "%s fp32 CPU run is deterministic: two runs bitwise identical", opt_name(&specs[k]));
        }
        free(run1.params), free(run2.params);
        oracle_trace_free(&tr);
    }
    check_refusals(&c);
    return ref_finish(&c);
}
