/*
 * envelope.h on synthetic data. Each compared "parameter" is a sum of J
 * random fp32 terms (fresh from fixed seeds, never all zero): the oracle
 * sums them in double, the ensemble members in float in other orders
 * (forward, reverse, pairwise, four lanes, strided, halves, two random
 * permutations), and an "implementation" in yet another random order.
 * Shown here:
 *   - a legitimate reordering passes, trial after trial, with and without
 *     cancellation (the single-baseline model's verdicts printed alongside);
 *   - scaling one element by (1 + 2^-k) fails for k well above fp32's
 *     spread there and passes below an ulp;
 *   - the floors (an ensemble that is exact), the layer pool (an element
 *     the ensemble reproduces exactly while its layer does not), the
 *     per-step running maximum, non-finite values, envelope_add_run and
 *     envelope_layer_max, and the bf16-mixed constants.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "envelope.h"
#include "tolerance.h"

enum { J = 48, N = 400, ORDERS = 8 };

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t x = (rng_state += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Uniform in (0, 1). */
static double unit(void)
{
    return ((double)(next_u64() >> 11) + 0.5) * 0x1p-53;
}

/* Terms of one element: magnitudes spread over 2^-6..2^2 times the trial's
 * scale (one per trial, as one layer's values share a scale), all positive
 * or (cancel) of random signs. */
static void fill_terms(float *t, double scale, int cancel)
{
    for (int j = 0; j < J; j++) {
        const double mag = scale * ldexp(1.0, (int)(unit() * 8) - 6) * (0.5 + unit());
        t[j] = (float)(cancel && unit() < 0.5 ? -mag : mag);
    }
}

static double sum_f64(const float *t)
{
    double s = 0;
    for (int j = 0; j < J; j++)
        s += t[j];
    return s;
}

/* The fp32 sum of t in order `order` (0 forward, 1 reverse, 2 pairwise
 * tree, 3 four lanes, 4 stride 3, 5 halves). */
static float sum_shuffled(const float *t);
static float sum_f32(const float *t, int order)
{
    float s = 0, lane[4] = {0}, buf[J];
    switch (order) {
    case 0:
        for (int j = 0; j < J; j++)
            s += t[j];
        return s;
    case 1:
        for (int j = J - 1; j >= 0; j--)
            s += t[j];
        return s;
    case 2:
        for (int j = 0; j < J; j++)
            buf[j] = t[j];
        for (int w = 1; w < J; w *= 2)
            for (int j = 0; j + w < J; j += 2 * w)
                buf[j] += buf[j + w];
        return buf[0];
    case 3:
        for (int j = 0; j < J; j++)
            lane[j % 4] += t[j];
        return (lane[0] + lane[1]) + (lane[2] + lane[3]);
    case 4:
        for (int r = 0; r < 3; r++)
            for (int j = r; j < J; j += 3)
                s += t[j];
        return s;
    default: {
        float a = 0, b = 0;
        for (int j = 0; j < J / 2; j++)
            a += t[j];
        for (int j = J / 2; j < J; j++)
            b += t[j];
        return a + b;
    }
    }
}

/* The sum in a random order (two members, and the implementation). */
static float sum_shuffled(const float *t)
{
    int idx[J];
    for (int j = 0; j < J; j++)
        idx[j] = j;
    for (int j = J - 1; j > 0; j--) {
        const int k = (int)(next_u64() % (uint64_t)(j + 1));
        const int tmp = idx[j];
        idx[j] = idx[k];
        idx[k] = tmp;
    }
    float s = 0;
    for (int j = 0; j < J; j++)
        s += t[idx[j]];
    return s;
}

typedef struct trial {
    double o[N], env[N], layer_max;
    float base[N], x[N];
} trial;

/* A fresh trial: oracle, envelope of the ORDERS members, the baseline
 * (member 0) and the implementation. */
static void make_trial(trial *t, int cancel)
{
    float terms[J];
    const double scale = ldexp(1.0, (int)(unit() * 12) - 8);
    t->layer_max = 0;
    for (int i = 0; i < N; i++) {
        fill_terms(terms, scale, cancel);
        t->o[i] = sum_f64(terms);
        t->env[i] = 0;
        for (int k = 0; k < ORDERS; k++) {
            const float e = k < 6 ? sum_f32(terms, k) : sum_shuffled(terms);
            const double d = fabs((double)e - t->o[i]);
            t->env[i] = fmax(t->env[i], d);
        }
        t->layer_max = fmax(t->layer_max, t->env[i]);
        t->base[i] = sum_f32(terms, 0);
        t->x[i] = sum_shuffled(terms);
    }
}

/* The single-baseline model's verdict on the same trial. */
static int single_passes(const trial *t)
{
    double b[N], x[N];
    for (int i = 0; i < N; i++) {
        b[i] = t->base[i];
        x[i] = t->x[i];
    }
    tol_result r;
    tol_compare_vector(t->o, b, x, N, &r);
    return r.pass;
}

static void test_reordering_passes(void)
{
    const envelope_constants k = envelope_constants_for(DTB_PREC_FP32);
    static trial t;
    int single_failures = 0;
    double worst = 0;
    rng_state = 20261123;
    for (int n = 0; n < 200; n++) {
        make_trial(&t, n % 2);
        envelope_result r;
        envelope_compare_tensor(&k, t.o, t.env, t.layer_max, t.x, N, &r);
        CHECK(r.pass && r.failing == 0 && r.first_bad.index == -1);
        CHECK(r.worst.index >= 0 && r.worst.ratio < 1);
        worst = fmax(worst, r.worst.ratio);
        single_failures += !single_passes(&t);
    }
    printf("reordering: worst ratio %.3g over 200 trials; the single-baseline model failed %d\n",
           worst, single_failures);
    CHECK(worst > 0);
}

static void test_perturbation_fails(void)
{
    const envelope_constants k = envelope_constants_for(DTB_PREC_FP32);
    static trial t;
    rng_state = 777;
    for (int n = 0; n < 50; n++) {
        make_trial(&t, 0);
        const int i = (int)(next_u64() % N);
        const float keep = t.x[i];
        envelope_result r;
        /* 2^-12 relative: far above the spread of a positive sum's orders */
        t.x[i] = (float)((double)keep * (1.0 + 0x1p-12));
        envelope_compare_tensor(&k, t.o, t.env, t.layer_max, t.x, N, &r);
        CHECK(!r.pass && r.failing == 1 && r.first_bad.index == i && r.worst.index == i);
        CHECK(r.first_bad.ratio > 1 && r.first_bad.error > r.first_bad.tolerance);
        CHECK(r.first_bad.oracle == t.o[i] && r.first_bad.envelope == t.env[i]);
        /* 2^-30 relative rounds to the same float: nothing to see */
        t.x[i] = (float)((double)keep * (1.0 + 0x1p-30));
        envelope_compare_tensor(&k, t.o, t.env, t.layer_max, t.x, N, &r);
        CHECK(r.pass);
        t.x[i] = keep;
    }
}

static void test_floors_and_pool(void)
{
    const envelope_constants k = envelope_constants_for(DTB_PREC_FP32);
    /* An exact ensemble: only the floors, 4 ulps of |o| + 1/4 ulp of max|o|. */
    const double o[3] = {4.0, -1.0, 0.5}, env0[3] = {0, 0, 0};
    float x[3] = {4.0f, -1.0f, 0.5f};
    envelope_result r;
    const double floor1 = (4.0 * 1.0 + 0.25 * 4.0) * FLT_EPSILON;
    CHECK(fabs(envelope_bound(&k, 0, 0, -1.0, 4.0) - floor1) < 1e-20);
    x[1] = (float)(-1.0 - 0.5 * floor1);
    envelope_compare_tensor(&k, o, env0, 0, x, 3, &r);
    CHECK(r.pass && r.worst.index == 1);
    x[1] = (float)(-1.0 - 1.5 * floor1);
    envelope_compare_tensor(&k, o, env0, 0, x, 3, &r);
    CHECK(!r.pass && r.first_bad.index == 1);
    /* The same element with its layer's envelope at 1e-5: the pool lifts it. */
    const double pooled = k.pool * 1e-5;
    envelope_compare_tensor(&k, o, env0, 1e-5, x, 3, &r);
    CHECK(r.pass && fabs(r.worst.pooled - pooled) < 1e-20);
    x[1] = (float)(-1.0 - 2 * (k.mult * pooled + floor1));
    envelope_compare_tensor(&k, o, env0, 1e-5, x, 3, &r);
    CHECK(!r.pass && r.first_bad.index == 1);
    /* Non-finite: a NaN value, and an infinite envelope, never pass. */
    x[1] = NAN;
    envelope_compare_tensor(&k, o, env0, 0, x, 3, &r);
    CHECK(!r.pass && isinf(r.max_abs_error));
    x[1] = -1.0f;
    const double env_inf[3] = {0, INFINITY, 0};
    envelope_compare_tensor(&k, o, env_inf, INFINITY, x, 3, &r);
    CHECK(!r.pass);
}

static void test_bf16_constants(void)
{
    const envelope_constants f = envelope_constants_for(DTB_PREC_FP32);
    const envelope_constants b = envelope_constants_for(DTB_PREC_BF16_MIXED);
    CHECK(f.mult == ENVELOPE_FP32_MULT && f.pool == ENVELOPE_FP32_POOL);
    CHECK(b.mult == ENVELOPE_BF16_MULT && b.pool == ENVELOPE_BF16_POOL);
    CHECK(b.step_floor_ulps == ENVELOPE_BF16_STEP_FLOOR_ULPS);
    /* under bf16-mixed every element of a layer gets the layer's envelope */
    CHECK(envelope_bound(&b, 0, 1e-6, 0, 0) == b.mult * b.pool * 1e-6);
    CHECK(envelope_bound(&f, 1e-9, 1e-6, 0, 0) == f.mult * f.pool * 1e-6);
    CHECK(envelope_bound(&f, 1e-6, 1e-6, 0, 0) == f.mult * 1e-6);
}

static void test_steps(void)
{
    const envelope_constants k = envelope_constants_for(DTB_PREC_FP32);
    /* envelope 1e-6 at step 2, 0 afterwards: steps 3.. keep it (running max) */
    const double o[5] = {2.0, 1.8, 1.6, 1.4, 1.2}, env[5] = {0, 1e-6, 0, 0, 0};
    double x[5] = {2.0, 1.8, 1.6 + 10e-6, 1.4, 1.2};
    envelope_result r;
    envelope_compare_steps(&k, o, env, x, 5, &r);
    CHECK(r.pass && r.worst.index == 2 && r.worst.envelope == 1e-6);
    /* step 1 has no envelope: the floor alone, 16 ulps of 2.0 */
    x[0] = 2.0 + 20 * FLT_EPSILON * 2.0;
    envelope_compare_steps(&k, o, env, x, 5, &r);
    CHECK(!r.pass && r.first_bad.index == 0 && r.first_bad.envelope == 0);
    CHECK(fabs(r.first_bad.tolerance - 16 * FLT_EPSILON * 2.0) < 1e-20);
    x[0] = 2.0;
    x[4] = 1.2 + 20e-6; /* over 16e-6 + floor at step 5 */
    envelope_compare_steps(&k, o, env, x, 5, &r);
    CHECK(!r.pass && r.first_bad.index == 4 && r.failing == 1);
}

static void test_add_run_and_layer_max(void)
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    CHECK(cfg != NULL);
    if (!cfg)
        return;
    mlp_layout lay;
    mlp_layout_init(cfg, &lay);
    const int64_t n = lay.n_params;
    oracle_trace o = {0};
    envelope e;
    double loss[2] = {1.0, 0.9}, norm[2] = {0.5, 0.4};
    o.steps = 2;
    o.n_checks = 1;
    o.n_params = n;
    o.loss = loss;
    o.grad_norm = norm;
    o.params = calloc((size_t)n, sizeof *o.params);
    float *run = calloc((size_t)n, sizeof *run);
    CHECK(o.params && run && envelope_alloc(&e, 2, 1, n) == 0);
    if (!o.params || !run || !e.params) {
        free(o.params);
        free(run);
        envelope_free(&e);
        return;
    }
    rng_state = 99;
    for (int64_t i = 0; i < n; i++) {
        o.params[i] = unit() - 0.5;
        run[i] = (float)o.params[i];
    }
    const double l1[2] = {1.0 + 1e-7, 0.9}, n1[2] = {0.5, 0.4 - 2e-7};
    envelope_add_run(&e, &o, l1, n1, run);
    run[lay.offset[3] + 7] += 1e-3f; /* b1[7] far off in a second run */
    const double l2[2] = {1.0 - 3e-7, 0.9}, n2[2] = {NAN, 0.4};
    envelope_add_run(&e, &o, l2, n2, run);
    CHECK(e.members == 2);
    CHECK(fabs(e.loss[0] - 3e-7) < 1e-12 && e.loss[1] == 0);
    CHECK(isinf(e.grad_norm[0]) && fabs(e.grad_norm[1] - 2e-7) < 1e-12);
    const double big = e.params[lay.offset[3] + 7];
    CHECK(big > 0.9e-3 && big < 1.1e-3);
    CHECK(envelope_layer_max(e.params, &lay, 2) == big); /* W1's layer holds b1 */
    CHECK(envelope_layer_max(e.params, &lay, 3) == big);
    CHECK(envelope_layer_max(e.params, &lay, 0) < 1e-7); /* layer 0: rounding only */
    envelope_free(&e);
    free(o.params);
    free(run);
}

int main(void)
{
    test_reordering_passes();
    test_perturbation_fails();
    test_floors_and_pool();
    test_bf16_constants();
    test_steps();
    test_add_run_and_layer_max();
    return check_report("test_harness_envelope");
}
