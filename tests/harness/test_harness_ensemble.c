/*
 * ensemble.h: every member trains the run spec's math (mlp-odd, SGD and
 * AdamW, fp32 and bf16-mixed, 4 steps, fixed seeds): finite, close to the
 * fp64 oracle, not bitwise one another (else the envelope would measure
 * nothing), and each within the envelope of the baseline's arithmetic and
 * the other members (leave one out, envelope.h's constants), parameters
 * and optimizer state, and the state faults a checkpoint may carry fail
 * against the whole envelope. Also the
 * backend variants' matrix products against double on random inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "case_config.h"
#include "check.h"
#include "ensemble.h"
#include "envelope.h"

enum { STEPS = 4 };

static void spec_of(case_config *cc, int adamw, int32_t precision, uint64_t seed,
                    mlp_model_desc *md, dtb_run_spec *spec)
{
    memset(cc, 0, sizeof *cc);
    cc->model = mlp_config_find("mlp-odd");
    cc->opt = adamw ? (dtb_optimizer_config){"adamw", DTB_OPT_ADAMW, 1e-2, 0, 0.9, 0.999, 1e-8,
                                             0.01}
                    : (dtb_optimizer_config){"sgd", DTB_OPT_SGD_MOMENTUM, 0.05, 0.9, 0, 0, 0,
                                             1e-4};
    cc->clip_norm = adamw ? 0.05 : 0;
    cc->global_batch = 30;
    cc->micro_batches = 3; /* the split of the ensemble's mM members */
    cc->steps = STEPS;
    cc->seed = seed;
    cc->stage = DTB_STAGE_SINGLE;
    cc->precision = precision;
    cc->n_checks = 2;
    cc->check_steps[0] = 1;
    cc->check_steps[1] = STEPS;
    case_config_to_spec(cc, 0, 1, md, spec);
}

/* The baseline's arithmetic, as a member (not one of the ensemble's). */
static const ensemble_member BASELINE = {"baseline", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF},
                                         1, 1, ENS_REDUCE_SEQUENTIAL, ENS_ACC_DIRECT,
                                         ENS_NORM_F64, 0};

/* A state array judged against the whole ensemble's envelope at check c:
 * whether every tensor passes. */
static int state_passes(const oracle_trace *o, const envelope *e, int a, int c,
                        const mlp_layout *lay, int32_t precision, const float *x)
{
    const envelope_constants k = envelope_constants_for(precision);
    const size_t n = (size_t)o->n_params;
    int pass = 1;
    for (int tt = 0; tt < lay->n_tensors; tt++) {
        const int64_t off = (int64_t)(c * n) + lay->offset[tt];
        envelope_result res;
        envelope_compare_tensor(&k, o->state[a] + off, e->state[a] + off,
                                envelope_layer_max(e->state[a] + c * n, lay, tt),
                                x + lay->offset[tt], lay->numel[tt], &res);
        pass &= res.pass;
    }
    return pass;
}

/* The faults the checkpoint suite's "checkpoint optimizer state" must
 * catch, against the envelope of every run: a shard of the state left zero
 * (a ZeRO rank's part not saved), the state of another step (a stale
 * copy), the moments swapped (AdamW), and one element's state off by 1%. */
static void test_state_faults(const oracle_trace *o, const ensemble_trace *t, int runs,
                              const mlp_layout *lay, int32_t precision)
{
    envelope e;
    const int64_t n = o->n_params;
    CHECK(envelope_alloc(&e, STEPS, 2, n) == 0);
    for (int r = 0; r < runs; r++)
        CHECK(envelope_add_state(&e, o, (const float *const *)t[r].state) == 0);
    float *x = malloc((size_t)n * sizeof *x);
    CHECK(x != NULL);
    for (int a = 0; x && a < o->n_state; a++) {
        const float *last = t[0].state[a] + n; /* check 1: after step STEPS */
        CHECK(state_passes(o, &e, a, 1, lay, precision, last));
        memcpy(x, last, (size_t)n * sizeof *x);
        memset(x + n / 3, 0, (size_t)(n / 3) * sizeof *x);
        CHECK(!state_passes(o, &e, a, 1, lay, precision, x));
        CHECK(!state_passes(o, &e, a, 1, lay, precision, t[0].state[a])); /* step 1's */
        if (o->n_state == 2)
            CHECK(!state_passes(o, &e, a, 1, lay, precision, t[0].state[1 - a] + n));
        memcpy(x, last, (size_t)n * sizeof *x);
        x[lay->offset[2] + 7] *= 1.01f; /* W1[7] */
        CHECK(!state_passes(o, &e, a, 1, lay, precision, x));
    }
    free(x);
    envelope_free(&e);
}

static void test_trajectory(int adamw, int32_t precision, uint64_t seed)
{
    case_config cc;
    mlp_model_desc md;
    dtb_run_spec spec;
    spec_of(&cc, adamw, precision, seed, &md, &spec);
    oracle_trace o;
    char err[512];
    CHECK(oracle_train_f64_with_state(&spec, cc.check_steps, 2, &o, err, sizeof err) == 0);
    enum { R = ENSEMBLE_MEMBERS + 1 };
    ensemble_trace t[R];
    for (int r = 0; r < R; r++) {
        const ensemble_member *m = r == 0 ? &BASELINE : ensemble_member_at(r - 1);
        CHECK(m != NULL &&
              ensemble_train_with_state(m, &spec, cc.check_steps, 2, &t[r], err, sizeof err) ==
                  0);
    }
    const int64_t n = o.n_params;
    mlp_layout lay;
    mlp_layout_init(cc.model, &lay);
    /* close to the oracle, finite, and not all bitwise the same */
    int distinct = 0;
    for (int r = 0; r < R; r++) {
        for (int64_t s = 0; s < STEPS; s++) {
            CHECK(isfinite(t[r].loss[s]) && fabs(t[r].loss[s] - o.loss[s]) < 1e-4 * o.loss[s]);
            CHECK(fabs(t[r].grad_norm[s] - o.grad_norm[s]) < 1e-3 * o.grad_norm[s]);
        }
        double worst = 0;
        for (int64_t i = 0; i < 2 * n; i++)
            worst = fmax(worst, fabs((double)t[r].params[i] - o.params[i]));
        CHECK(worst < (precision == DTB_PREC_BF16_MIXED ? 1e-3 : 1e-4));
        if (r > 0)
            distinct += memcmp(t[r].params, t[0].params, 2 * (size_t)n * sizeof(float)) != 0;
    }
    CHECK(distinct == ENSEMBLE_MEMBERS);
    /* leave one out: each member within the envelope of all the others */
    const envelope_constants k = envelope_constants_for(precision);
    for (int j = 1; j < R; j++) {
        envelope e;
        CHECK(envelope_alloc(&e, STEPS, 2, n) == 0);
        for (int r = 0; r < R; r++)
            if (r != j)
                envelope_add_run(&e, &o, t[r].loss, t[r].grad_norm, t[r].params);
        CHECK(e.members == R - 1);
        envelope_result res;
        envelope_compare_steps(&k, o.loss, e.loss, t[j].loss, STEPS, &res);
        CHECK(res.pass);
        envelope_compare_steps(&k, o.grad_norm, e.grad_norm, t[j].grad_norm, STEPS, &res);
        CHECK(res.pass);
        for (int c = 0; c < 2; c++)
            for (int tt = 0; tt < lay.n_tensors; tt++) {
                const int64_t off = (int64_t)c * n + lay.offset[tt];
                envelope_compare_tensor(&k, o.params + off, e.params + off,
                                        envelope_layer_max(e.params + (size_t)c * n, &lay, tt),
                                        t[j].params + off, lay.numel[tt], &res);
                if (!res.pass)
                    fprintf(stderr, "member %s, %s, check %d: ratio %.3g at %lld\n",
                            ensemble_member_at(j - 1)->name, lay.name[tt], c, res.worst.ratio,
                            (long long)res.worst.index);
                CHECK(res.pass);
            }
        /* The optimizer state after each check step, the checkpoint
         * suite's comparison (docs/checkpoint.md), leave one out too. */
        for (int r = 0; r < R; r++)
            if (r != j)
                CHECK(envelope_add_state(&e, &o, (const float *const *)t[r].state) == 0);
        CHECK(e.state_members == R - 1 && e.n_state == (adamw ? 2 : 1));
        for (int a = 0; a < e.n_state; a++)
            for (int c = 0; c < 2; c++)
                for (int tt = 0; tt < lay.n_tensors; tt++) {
                    const int64_t off = (int64_t)c * n + lay.offset[tt];
                    envelope_compare_tensor(&k, o.state[a] + off, e.state[a] + off,
                                            envelope_layer_max(e.state[a] + (size_t)c * n, &lay,
                                                               tt),
                                            t[j].state[a] + off, lay.numel[tt], &res);
                    CHECK(res.pass);
                }
        envelope_free(&e);
    }
    test_state_faults(&o, t, R, &lay, precision);
    for (int r = 0; r < R; r++)
        ensemble_trace_free(&t[r]);
    oracle_trace_free(&o);
}

/* Each matmul variant's forward and backward against double on random data. */
static void test_backend_variants(void)
{
    enum { B = 7, IN = 13, OUT = 5 };
    float X[B * IN], W[OUT * IN], b[OUT], Z[B * OUT], dZ[B * OUT], dX[B * IN], dW[OUT * IN],
        db[OUT];
    uint64_t st = 5;
    for (int i = 0; i < B * IN; i++)
        X[i] = (float)((double)((st = st * 6364136223846793005ull + 1) >> 11) * 0x1p-53 - 0.5);
    for (int i = 0; i < OUT * IN; i++)
        W[i] = (float)((double)((st = st * 6364136223846793005ull + 1) >> 11) * 0x1p-53 - 0.5);
    for (int i = 0; i < OUT; i++)
        b[i] = (float)i * 0.25f - 0.5f;
    for (int i = 0; i < B * OUT; i++)
        dZ[i] = (float)((double)((st = st * 6364136223846793005ull + 1) >> 11) * 0x1p-53 - 0.5);
    for (int m = ENS_MATMUL_BLAS; m <= ENS_MATMUL_FMA; m++) {
        dtb_backend *be = NULL;
        const ens_arith a = {(ens_matmul)m, ENS_EW_TORCH, ENS_OPT_TORCH};
        CHECK(ensemble_backend_create(&a, &be) == 0 && be != NULL);
        if (!be)
            continue;
        memset(dW, 0, sizeof dW);
        memset(db, 0, sizeof db);
        CHECK(be->ops->linear_forward(be, X, W, b, Z, B, IN, OUT) == 0);
        CHECK(be->ops->linear_backward(be, dZ, X, W, dX, dW, db, B, IN, OUT) == 0);
        for (int j = 0; j < B; j++)
            for (int o = 0; o < OUT; o++) {
                double z = b[o];
                for (int i = 0; i < IN; i++)
                    z += (double)X[j * IN + i] * W[o * IN + i];
                CHECK(fabs(Z[j * OUT + o] - z) < 1e-5);
            }
        for (int o = 0; o < OUT; o++) {
            double sb = 0;
            for (int j = 0; j < B; j++)
                sb += dZ[j * OUT + o];
            CHECK(fabs(db[o] - sb) < 1e-5);
            for (int i = 0; i < IN; i++) {
                double w = 0;
                for (int j = 0; j < B; j++)
                    w += (double)dZ[j * OUT + o] * X[j * IN + i];
                CHECK(fabs(dW[o * IN + i] - w) < 1e-5);
            }
        }
        for (int j = 0; j < B; j++)
            for (int i = 0; i < IN; i++) {
                double x = 0;
                for (int o = 0; o < OUT; o++)
                    x += (double)dZ[j * OUT + o] * W[o * IN + i];
                CHECK(fabs(dX[j * IN + i] - x) < 1e-5);
            }
        backend_destroy(be);
    }
}

int main(void)
{
    test_backend_variants();
    for (int adamw = 0; adamw <= 1; adamw++) {
        test_trajectory(adamw, DTB_PREC_FP32, 20261123);
        test_trajectory(adamw, DTB_PREC_BF16_MIXED, 4242);
    }
    return check_report("test_harness_ensemble");
}
