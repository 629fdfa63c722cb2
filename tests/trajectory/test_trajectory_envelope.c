/*
 * judge/envelope.h against the comparisons the conformance checks make
 * (tolerance.h), on synthetic trajectories from fixed seeds: an
 * implementation inside the envelope everywhere passes tol_compare_vector
 * (each parameter tensor) and tol_compare_steps (loss, grad norm), one
 * element or step beyond it fails exactly there, and the tolerance the
 * comparison reports is the envelope's value. Non-finite baselines give an
 * infinite bound.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/check.h"
#include "envelope.h"
#include "tolerance.h"

enum { STEPS = 4 };

static uint64_t rng_state;

/* Uniform in (-1, 1), xorshift64*. */
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    const uint64_t v = rng_state * 2685821657736338717ull;
    return ((double)(v >> 11) + 0.5) * 0x1p-53 * 2.0 - 1.0;
}

/* A trajectory of mlp-odd's layout: oracle values of magnitude ~ 0.1, the
 * baseline off by rounding-sized noise (relative ~1e-7 times `noise`). */
static int fake_trajectory(trajectory *t, case_config *c, double noise)
{
    memset(t, 0, sizeof *t);
    memset(c, 0, sizeof *c);
    c->model = mlp_config_find("mlp-odd");
    c->steps = STEPS;
    mlp_layout_init(c->model, &t->layout);
    t->steps = STEPS;
    t->n_params = t->layout.n_params;
    const size_t n = (size_t)t->n_params;
    t->baseline_loss = calloc(STEPS, sizeof(double));
    t->baseline_grad_norm = calloc(STEPS, sizeof(double));
    t->oracle.loss = calloc(STEPS, sizeof(double));
    t->oracle.grad_norm = calloc(STEPS, sizeof(double));
    t->baseline_params = malloc(STEPS * n * sizeof(float));
    t->oracle.params = malloc(STEPS * n * sizeof(double));
    if (!t->baseline_loss || !t->baseline_grad_norm || !t->oracle.loss || !t->oracle.grad_norm ||
        !t->baseline_params || !t->oracle.params)
        return -1;
    for (int s = 0; s < STEPS; s++) {
        t->oracle.loss[s] = 1.1 + 0.01 * uniform();
        t->baseline_loss[s] = t->oracle.loss[s] * (1.0 + noise * 1e-8 * uniform());
        t->oracle.grad_norm[s] = 0.2 + 0.1 * uniform();
        t->baseline_grad_norm[s] = t->oracle.grad_norm[s] * (1.0 + noise * 1e-7 * uniform());
        for (size_t i = 0; i < n; i++) {
            const double o = 0.1 * uniform();
            t->oracle.params[s * n + i] = o;
            t->baseline_params[s * n + i] = (float)(o * (1.0 + noise * 1e-7 * uniform()));
        }
    }
    return 0;
}

/* Parameters of step s: inside the envelope passes with the envelope's
 * tolerance; twice the envelope at one element fails exactly there. */
static void check_params_step(const trajectory *t, const envelope *e, int s)
{
    const size_t n = (size_t)t->n_params;
    const double *o_all = t->oracle.params + s * n, *bound = e->params + s * n;
    const float *b_all = t->baseline_params + s * n;
    for (int k = 0; k < t->layout.n_tensors; k++) {
        const int64_t off = t->layout.offset[k], m = t->layout.numel[k];
        double *b = malloc((size_t)m * sizeof *b), *x = malloc((size_t)m * sizeof *x);
        CHECK(b && x);
        if (!b || !x) {
            free(b), free(x);
            return;
        }
        int uniform_bound = 1;
        for (int64_t i = 0; i < m; i++) {
            b[i] = b_all[off + i];
            x[i] = o_all[off + i] + (i % 2 ? 0.5 : -0.5) * bound[off + i];
            uniform_bound = uniform_bound && bound[off + i] == bound[off];
        }
        CHECK(uniform_bound && bound[off] > 0 && isfinite(bound[off]));
        tol_result r;
        tol_compare_vector(o_all + off, b, x, m, &r);
        CHECK(r.pass);
        CHECK(r.tolerance == bound[off]);
        const int64_t j = m / 2;
        x[j] = o_all[off + j] + 2.0 * bound[off + j];
        tol_compare_vector(o_all + off, b, x, m, &r);
        CHECK(!r.pass && r.first_bad == j && r.tolerance == bound[off + j]);
        /* The baseline itself lies within its own envelope. */
        tol_compare_vector(o_all + off, b, b, m, &r);
        CHECK(r.pass);
        free(b);
        free(x);
    }
}

/* Loss or grad norm: inside passes; twice the bound at step k fails there
 * with the envelope's tolerance of step k. */
static void check_steps(const double *o, const double *b, const double *bound)
{
    double x[STEPS];
    for (int s = 0; s < STEPS; s++) {
        CHECK(bound[s] > 0 && isfinite(bound[s]));
        x[s] = o[s] + (s % 2 ? 0.9 : -0.9) * bound[s];
    }
    tol_result r;
    tol_compare_steps(o, b, x, STEPS, &r);
    CHECK(r.pass);
    for (int k = 0; k < STEPS; k++) {
        const double keep = x[k];
        x[k] = o[k] + 2.0 * bound[k];
        tol_compare_steps(o, b, x, STEPS, &r);
        CHECK(!r.pass && r.first_bad == k && r.tolerance == bound[k]);
        x[k] = keep;
    }
}

static void free_fake(trajectory *t)
{
    free(t->baseline_loss);
    free(t->baseline_grad_norm);
    free(t->baseline_params);
    oracle_trace_free(&t->oracle);
}

static void test_agrees_with_checks(uint64_t seed, double noise)
{
    rng_state = seed;
    trajectory t;
    case_config c;
    envelope e;
    char err[256] = "";
    CHECK(fake_trajectory(&t, &c, noise) == 0);
    CHECK(envelope_compute(&c, &t, &e, err, sizeof err) == 0);
    CHECK(e.steps == STEPS && e.n_params == t.n_params);
    CHECK(e.model && strlen(e.model) > 0 && strlen(e.formula) > 0 && e.source);
    for (int s = 0; s < STEPS && e.params; s++)
        check_params_step(&t, &e, s);
    if (e.loss) {
        check_steps(t.oracle.loss, t.baseline_loss, e.loss);
        check_steps(t.oracle.grad_norm, t.baseline_grad_norm, e.grad_norm);
    }
    envelope_free(&e);
    CHECK(e.params == NULL && e.loss == NULL);
    free_fake(&t);
}

/* A baseline that is exact everywhere: the floor alone. A NaN in the
 * baseline: an infinite bound for its tensor (and the checks fail). */
static void test_edges(void)
{
    rng_state = 99;
    trajectory t;
    case_config c;
    envelope e;
    char err[256] = "";
    CHECK(fake_trajectory(&t, &c, 0.0) == 0);
    const size_t n = (size_t)t.n_params;
    for (size_t i = 0; i < n; i++)
        t.baseline_params[i] = (float)t.oracle.params[i];
    /* W0 of step 1 exact: the baseline equals the oracle there. */
    for (int64_t i = 0; i < t.layout.numel[0]; i++)
        t.oracle.params[i] = (double)t.baseline_params[i];
    t.baseline_params[n + t.layout.offset[1]] = NAN; /* step 2, b0 */
    CHECK(envelope_compute(&c, &t, &e, err, sizeof err) == 0);
    double max_o = 0.0;
    for (int64_t i = 0; i < t.layout.numel[0]; i++)
        max_o = fmax(max_o, fabs(t.oracle.params[i]));
    CHECK(e.params[0] == tol_bound(0.0, max_o));
    CHECK(isinf(e.params[n + t.layout.offset[1]]));
    CHECK(isfinite(e.params[n + t.layout.offset[2]]));
    envelope_free(&e);
    free_fake(&t);
}

int main(void)
{
    test_agrees_with_checks(1, 1.0);
    test_agrees_with_checks(20261123, 50.0);
    test_edges();
    return check_report("trajectory_unit_envelope");
}
