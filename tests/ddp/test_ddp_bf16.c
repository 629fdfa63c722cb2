/*
 * Reference DDP under the bf16-mixed recipe on a real MPI world (run with
 * 1..4 ranks; docs/zero.md, "The bf16-mixed recipe"):
 *   - masters and compute parameters are bitwise identical on every rank,
 *     and the compute parameters are exactly bf16(master) after the run;
 *   - the run stays close to the single-device bf16 baseline's algorithm
 *     (a world of one, whole batch in one micro-batch) and, against the
 *     bf16 fp64 oracle, within the harness's tolerance model built from that
 *     baseline's own error; the bf16 recipe is clearly not the fp32 one;
 *   - gradients are reduced in fp32: the same collectives and bytes as fp32
 *     DDP (4 bytes per parameter per step, plus the fp64 loss);
 *   - facts say bf16-mixed, bf16 compute parameters, fp32 reduction;
 *   - memory per rank: PARAMS 2 Psi, GRADS 4 Psi, OPTIM K Psi (SGD 8,
 *     AdamW 12), OTHER one widened layer (4 max_l n_l), COMM 0, all back to
 *     0 after destroy.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "bf16.h"
#include "ddp.h"
#include "ddp_buckets.h"
#include "test_world.h"
#include "ddp_state.h"
#include "model.h"
#include "model_host.h"
#include "oracle.h"
#include "test_spec_model.h"

enum { STEPS = 6 };

static dtb_run_spec make_spec(const char *model, int optimizer, double clip, int precision,
                              int rank, int world)
{
    const mlp_config *cfg = mlp_config_find(model);
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, cfg);
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 1e-2 : 5e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9;
    s.beta2 = 0.999;
    s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = clip;
    s.precision = precision;
    s.global_batch = 30;
    s.micro_batches = 3;
    s.steps = STEPS;
    s.seed = 31337;
    s.rank = rank;
    s.world_size = world;
    s.mpi_comm_fortran = (int64_t)MPI_Comm_c2f(MPI_COMM_WORLD);
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.bucket_bytes = 4096;
    s.prefetch_depth = -1;
    s.stage = DTB_STAGE_DDP;
    return s;
}

typedef struct outcome {
    int ok;
    float *params;          /* masters (get_params) */
    uint16_t *compute;      /* the replica's compute parameters (bf16 runs) */
    int64_t compute_wrong;  /* elements where compute != bf16(master) */
    double loss[STEPS], norm[STEPS];
    dtb_counters counters;
    dtb_facts facts;
    int64_t mem[DTB_MEM_CATEGORY_COUNT], peak[DTB_MEM_CATEGORY_COUNT];
} outcome;

static void outcome_free(outcome *o)
{
    free(o->params);
    free(o->compute);
}

static outcome train(const dtb_run_spec *spec)
{
    outcome o = {0};
    const int64_t n = spec->model->n_params;
    model_host h;
    dtb_host_api host;
    model_host_init(&h, spec, &host);
    dtb_state *st = NULL;
    o.params = malloc((size_t)n * sizeof(float));
    o.compute = calloc((size_t)n, sizeof(uint16_t));
    if (o.params == NULL || o.compute == NULL ||
        ddp_create(spec, &host, "ref-ddp", DDP_BUG_NONE, &st) != 0) {
        fprintf(stderr, "create failed: %s\n", h.error);
        return o;
    }
    memcpy(o.mem, h.current, sizeof o.mem);
    int ok = ddp_get_facts(st, &o.facts) == 0;
    for (int64_t s = 1; s <= spec->steps && ok; s++) {
        dtb_step_report r;
        ok = ddp_train_step(st, s, &r) == 0;
        o.loss[s - 1] = r.loss;
        o.norm[s - 1] = r.grad_norm;
    }
    ok = ok && ddp_get_params(st, o.params, n) == 0 && ddp_get_counters(st, &o.counters) == 0;
    if (ok && st->r.params_bf16 != NULL) {
        memcpy(o.compute, st->r.params_bf16, (size_t)n * sizeof(uint16_t));
        for (int64_t i = 0; i < n; i++)
            o.compute_wrong += o.compute[i] != float_to_bf16(o.params[i]);
    }
    memcpy(o.peak, h.peak, sizeof o.peak);
    if (!ok)
        fprintf(stderr, "training failed: %s\n", h.error);
    ddp_destroy(st);
    o.ok = ok && h.current_total == 0;
    for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++)
        if (h.current[c] != 0)
            o.ok = 0, fprintf(stderr, "memory category %d not returned to 0 (%lld)\n", c,
                              (long long)h.current[c]);
    return o;
}

/* max |x - o| and max |o| over the parameters. */
static double max_abs_diff(const float *x, const double *o, int64_t n, double *scale)
{
    double worst = 0.0, big = 0.0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)x[i] - o[i]));
        big = fmax(big, fabs(o[i]));
    }
    *scale = big;
    return worst;
}

/* max |a - b| / max |b| between two fp32 runs. */
static double deviation(const float *a, const float *b, int64_t n)
{
    return test_deviation(a, b, n);
}

/* Worst per-step relative deviation of loss and norm from a reference. */
static double trace_deviation(const outcome *o, const double *loss, const double *norm)
{
    double worst = 0.0;
    for (int s = 0; s < STEPS; s++) {
        worst = fmax(worst, fabs(o->loss[s] - loss[s]) / fabs(loss[s]));
        worst = fmax(worst, fabs(o->norm[s] - norm[s]) / norm[s]);
    }
    return worst;
}

static int same_on_all_ranks(const void *buf, size_t bytes)
{
    return test_same_on_all_ranks(buf, bytes);
}

/* n_l = out*in + out, from the spec's MLP dims. */
static int64_t largest_layer(const dtb_model_desc *m)
{
    int64_t most = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const int64_t n = m->dims[l + 1] * m->dims[l] + m->dims[l + 1];
        most = n > most ? n : most;
    }
    return most;
}

#define EXPECT(cond, ...)                                                                      \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            printf("FAIL rank %d %s: ", rank, what);                                           \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

static int check_configuration(const char *model, int optimizer, double clip, int rank,
                               int world)
{
    char what[128];
    snprintf(what, sizeof what, "bf16 %s %s clip %g np=%d", model,
             optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd", clip, world);
    const dtb_run_spec spec =
        make_spec(model, optimizer, clip, DTB_PREC_BF16_MIXED, rank, world);
    const dtb_run_spec fp32 = make_spec(model, optimizer, clip, DTB_PREC_FP32, rank, world);
    dtb_run_spec single = make_spec(model, optimizer, clip, DTB_PREC_BF16_MIXED, 0, 1);
    single.micro_batches = 1;
    const int64_t n = spec.model->n_params;
    int failures = 0;

    oracle_trace tr;
    char err[256];
    const int64_t last = STEPS;
    if (oracle_train_f64(&spec, &last, 1, &tr, err, sizeof err) != 0) {
        fprintf(stderr, "oracle: %s\n", err);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    outcome base = train(&single), good = train(&spec), plain = train(&fp32);
    if (!base.ok || !good.ok || !plain.ok) {
        EXPECT(0, "a run failed (baseline %d, bf16 %d, fp32 %d)", base.ok, good.ok, plain.ok);
        goto done;
    }
    /* Replication, and the recipe's invariant. */
    EXPECT(same_on_all_ranks(good.params, (size_t)n * sizeof(float)) &&
               same_on_all_ranks(good.compute, (size_t)n * sizeof(uint16_t)),
           "masters or compute parameters differ from rank 0's");
    EXPECT(good.compute_wrong == 0, "%lld compute parameters are not bf16(master)",
           (long long)good.compute_wrong);

    /* Against the bf16 oracle, with the harness's tolerance model (8x the
     * baseline's own error plus 64 fp32 ulps of the scale), and directly
     * against the baseline. */
    double scale;
    const double err_base = max_abs_diff(base.params, tr.params, n, &scale);
    const double err_good = max_abs_diff(good.params, tr.params, n, &scale);
    const double tol = 8.0 * err_base + 64.0 * FLT_EPSILON * scale;
    EXPECT(err_good <= tol, "params off the bf16 oracle by %.3g (baseline %.3g, tol %.3g)",
           err_good, err_base, tol);
    const double dev = deviation(good.params, base.params, n);
    const double dev_trace = trace_deviation(&good, base.loss, base.norm);
    EXPECT(dev < 1e-3 && dev_trace < 1e-4,
           "far from the bf16 baseline: params %.3g (max abs / max |p|), loss/norm %.3g", dev,
           dev_trace);
    /* Compute parameters that round differently from the baseline's (its
     * masters differ by summation-order rounding): reported, not checked. */
    int64_t flips = 0;
    for (int64_t i = 0; i < n; i++)
        flips += good.compute[i] != base.compute[i];
    const double recipe = deviation(plain.params, good.params, n);
    EXPECT(recipe > 30 * dev,
           "bf16 and fp32 runs are too alike (%.3g vs %.3g to the baseline)", recipe, dev);

    /* fp32 reduction: the fp32 recipe's collectives and bytes exactly. */
    dtb_counters coll;
    EXPECT(test_ddp_expected_counters(&spec, world, STEPS, &coll) == 0, "bucket count refused");
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        const uint64_t wc = coll.calls[k], wb = coll.bytes[k];
        EXPECT(good.counters.calls[k] == wc && good.counters.bytes[k] == wb &&
                   plain.counters.calls[k] == wc && plain.counters.bytes[k] == wb,
               "collective %d: %llu calls %llu bytes, want %llu %llu", k,
               (unsigned long long)good.counters.calls[k],
               (unsigned long long)good.counters.bytes[k], (unsigned long long)wc,
               (unsigned long long)wb);
    }
    EXPECT(good.facts.stage == DTB_STAGE_DDP && good.facts.precision == DTB_PREC_BF16_MIXED &&
               good.facts.param_dtype == DTB_DTYPE_BF16 &&
               good.facts.reduce_dtype == DTB_DTYPE_FP32 &&
               plain.facts.precision == DTB_PREC_FP32 && plain.facts.param_dtype == DTB_DTYPE_FP32,
           "facts: precision %d, param dtype %d, reduce dtype %d", good.facts.precision,
           good.facts.param_dtype, good.facts.reduce_dtype);

    /* Memory (docs/zero.md, DDP row), after create and at peak. */
    const int64_t k_state = optimizer == DTB_OPT_ADAMW ? 12 : 8;
    const int64_t want[DTB_MEM_CATEGORY_COUNT] = {
        [DTB_MEM_PARAMS] = 2 * n, [DTB_MEM_GRADS] = 4 * n, [DTB_MEM_OPTIM] = k_state * n,
        [DTB_MEM_ACTIVATIONS] = -1, [DTB_MEM_COMM] = 0, [DTB_MEM_OTHER] = 4 * largest_layer(spec.model)};
    for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++) {
        if (want[c] < 0)
            EXPECT(good.mem[c] > 0, "no activations tracked");
        else
            EXPECT(good.mem[c] == want[c] && good.peak[c] == want[c],
                   "memory category %d: %lld after create, peak %lld, want %lld", c,
                   (long long)good.mem[c], (long long)good.peak[c], (long long)want[c]);
    }
    if (rank == 0)
        printf("ok %s: param error %.3g (baseline %.3g, tol %.3g, ratio %.3f); vs baseline "
               "%.3g, loss/norm %.3g, %lld of %lld compute params flipped; bf16 vs fp32 %.3g\n",
               what, err_good, err_base, tol, err_good / tol, dev, dev_trace, (long long)flips,
               (long long)n, recipe);
done:
    outcome_free(&base);
    outcome_free(&good);
    outcome_free(&plain);
    oracle_trace_free(&tr);
    return failures;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, world, failures = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    failures += check_configuration("mlp-odd", DTB_OPT_SGD_MOMENTUM, 0.05, rank, world);
    failures += check_configuration("mlp-odd", DTB_OPT_ADAMW, 0.05, rank, world);
    failures += check_configuration("mlp-small", DTB_OPT_SGD_MOMENTUM, 0.0, rank, world);
    failures += check_configuration("mlp-small", DTB_OPT_ADAMW, 0.0, rank, world);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: %d failure(s) over %d rank(s)\n", total ? "FAIL" : "ok", total, world);
    MPI_Finalize();
    return total ? 1 : 0;
}
