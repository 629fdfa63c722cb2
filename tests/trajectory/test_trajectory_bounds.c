/*
 * judge/trajectory_bounds.h against the comparison the conformance checks
 * make (envelope.h), on real trajectories (mlp-odd, SGD and AdamW, fp32 and
 * bf16-mixed, 3 steps, fixed seeds): the bounds of every step are the
 * tolerance envelope_compare_tensor and envelope_compare_steps apply to an
 * envelope measured the way the checks measure it (the ensemble and the
 * baseline); an implementation inside them everywhere passes, one element
 * or step at twice its bound fails exactly there with that tolerance; the
 * baseline lies inside; and a non-finite baseline value makes its layer's
 * bounds infinite.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/check.h"
#include "ensemble.h"
#include "envelope.h"
#include "trajectory.h"
#include "trajectory_bounds.h"

enum { STEPS = 3 };

static void config_of(case_config *c, int adamw, int32_t precision, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->model = mlp_config_find("mlp-odd");
    c->opt = adamw ? (dtb_optimizer_config){"adamw", DTB_OPT_ADAMW, 1e-2, 0, 0.9, 0.999, 1e-8,
                                            0.01}
                   : (dtb_optimizer_config){"sgd", DTB_OPT_SGD_MOMENTUM, 0.05, 0.9, 0, 0, 0,
                                            1e-4};
    c->clip_norm = adamw ? 0.05 : 0;
    c->global_batch = 30;
    c->micro_batches = 3;
    c->steps = STEPS;
    c->seed = seed;
    c->stage = DTB_STAGE_SINGLE;
    c->precision = precision;
    c->prefetch_depth = -1;
}

/* The envelope the checks would measure with every step checked. */
static int checks_envelope(const case_config *c, const trajectory *t, envelope *e)
{
    int64_t every[STEPS];
    for (int s = 0; s < STEPS; s++)
        every[s] = s + 1;
    dtb_run_spec spec;
    mlp_model_desc md;
    case_config_to_spec(c, 0, 1, &md, &spec);
    char err[512];
    if (envelope_alloc(e, STEPS, STEPS, t->n_params) != 0 ||
        ensemble_fold(&spec, every, STEPS, &t->oracle, e, err, sizeof err) != 0)
        return -1;
    envelope_add_run(e, &t->oracle, t->baseline_loss, t->baseline_grad_norm, t->baseline_params);
    return 0;
}

/* Parameters after step s, tensor by tensor. */
static void check_params_step(const envelope_constants *k, const trajectory *t,
                              const envelope *e, const trajectory_bounds *b, int s)
{
    const size_t n = (size_t)t->n_params;
    const double *o = t->oracle.params + s * n, *bound = b->params + s * n,
                 *env = e->params + s * n;
    for (int tt = 0; tt < t->layout.n_tensors; tt++) {
        const int64_t off = t->layout.offset[tt], m = t->layout.numel[tt];
        const double layer_max = envelope_layer_max(env, &t->layout, tt);
        float *x = malloc((size_t)m * sizeof *x);
        CHECK(x != NULL);
        if (!x)
            return;
        envelope_result r;
        /* the baseline lies inside */
        envelope_compare_tensor(k, o + off, env + off, layer_max,
                                t->baseline_params + s * n + off, m, &r);
        CHECK(r.pass);
        for (int64_t i = 0; i < m; i++) {
            CHECK(bound[off + i] > 0 && isfinite(bound[off + i]));
            x[i] = (float)(o[off + i] + (i % 2 ? 0.5 : -0.5) * bound[off + i]);
        }
        envelope_compare_tensor(k, o + off, env + off, layer_max, x, m, &r);
        CHECK(r.pass);
        const int64_t j = m / 2;
        x[j] = (float)(o[off + j] + 2.0 * bound[off + j]);
        envelope_compare_tensor(k, o + off, env + off, layer_max, x, m, &r);
        CHECK(!r.pass && r.failing == 1 && r.first_bad.index == j);
        CHECK(r.first_bad.tolerance == bound[off + j]);
        free(x);
    }
}

/* Loss or grad norm: inside passes; twice the bound at step q fails there
 * with the bound of step q. */
static void check_steps(const envelope_constants *k, const double *o, const double *env,
                        const double *bound)
{
    double x[STEPS];
    for (int s = 0; s < STEPS; s++) {
        CHECK(bound[s] > 0 && isfinite(bound[s]));
        x[s] = o[s] + (s % 2 ? 0.9 : -0.9) * bound[s];
    }
    envelope_result r;
    envelope_compare_steps(k, o, env, x, STEPS, &r);
    CHECK(r.pass);
    for (int q = 0; q < STEPS; q++) {
        const double keep = x[q];
        x[q] = o[q] + 2.0 * bound[q];
        envelope_compare_steps(k, o, env, x, STEPS, &r);
        CHECK(!r.pass && r.first_bad.index == q && r.first_bad.tolerance == bound[q]);
        x[q] = keep;
    }
}

static void test_agrees_with_checks(int adamw, int32_t precision, uint64_t seed)
{
    case_config c;
    config_of(&c, adamw, precision, seed);
    trajectory t;
    trajectory_bounds b;
    envelope e;
    char err[512] = "";
    CHECK(trajectory_compute(&c, &t, err, sizeof err) == 0);
    CHECK(trajectory_bounds_compute(&c, &t, &b, err, sizeof err) == 0);
    CHECK(checks_envelope(&c, &t, &e) == 0);
    CHECK(b.steps == STEPS && b.n_params == t.n_params && b.runs == ENSEMBLE_MEMBERS + 1);
    CHECK(b.model && strlen(b.formula) > 0 && b.source);
    const envelope_constants k = envelope_constants_for(precision);
    for (int s = 0; s < STEPS && b.params && e.params; s++)
        check_params_step(&k, &t, &e, &b, s);
    if (b.loss && e.loss) {
        check_steps(&k, t.oracle.loss, e.loss, b.loss);
        check_steps(&k, t.oracle.grad_norm, e.grad_norm, b.grad_norm);
    }
    trajectory_bounds_free(&b);
    CHECK(b.params == NULL && b.loss == NULL);
    envelope_free(&e);
    trajectory_free(&t);
}

/* A NaN in the baseline's b0 after step 2: every bound of layer 0 (W0 and
 * b0) after step 2 is infinite, layer 1's and step 1's stay finite. */
static void test_non_finite(void)
{
    case_config c;
    config_of(&c, 0, DTB_PREC_FP32, 99);
    trajectory t;
    trajectory_bounds b;
    char err[512] = "";
    CHECK(trajectory_compute(&c, &t, err, sizeof err) == 0);
    const size_t n = (size_t)t.n_params;
    t.baseline_params[n + (size_t)t.layout.offset[1]] = NAN;
    CHECK(trajectory_bounds_compute(&c, &t, &b, err, sizeof err) == 0);
    if (b.params) {
        CHECK(isinf(b.params[n + (size_t)t.layout.offset[0]]));
        CHECK(isinf(b.params[n + (size_t)t.layout.offset[1]]));
        CHECK(isfinite(b.params[n + (size_t)t.layout.offset[2]]));
        CHECK(isfinite(b.params[(size_t)t.layout.offset[1]]));
    }
    trajectory_bounds_free(&b);
    trajectory_free(&t);
}

int main(void)
{
    test_agrees_with_checks(0, DTB_PREC_FP32, 1);
    test_agrees_with_checks(1, DTB_PREC_FP32, 20261123);
    test_agrees_with_checks(1, DTB_PREC_BF16_MIXED, 7);
    test_non_finite();
    return check_report("trajectory_unit_bounds");
}
