/*
 * The reference DDP on a real MPI world (run with 1..4 ranks): trained from
 * the deterministic init and data, it must match the fp64 oracle, keep the
 * parameters bitwise identical on every rank, issue exactly the collectives
 * its algorithm promises, and each zoo bug must move it away from the oracle.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "ddp.h"
#include "ddp_buckets.h"
#include "model.h"
#include "model_host.h"
#include "oracle.h"
#include "test_spec_model.h"

static dtb_run_spec make_spec(const char *model, int optimizer, double clip, int rank, int world)
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
    s.precision = DTB_PREC_FP32;
    s.global_batch = 30;
    s.micro_batches = 3;
    s.steps = 4;
    s.seed = 20261123;
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
    float *params;
    double loss[16];
    double norm[16];
    int64_t steps;
    dtb_counters counters;
    int64_t mem_after_create[DTB_MEM_CATEGORY_COUNT];
} outcome;

static outcome train(const dtb_run_spec *spec, ddp_bug bug)
{
    outcome o = {0};
    model_host h;
    dtb_host_api host;
    model_host_init(&h, spec, &host);
    dtb_state *st = NULL;
    o.params = malloc((size_t)spec->model->n_params * sizeof(float));
    if (o.params == NULL || ddp_create(spec, &host, "ref-ddp", bug, &st) != 0) {
        fprintf(stderr, "create failed: %s\n", h.error);
        return o;
    }
    memcpy(o.mem_after_create, h.current, sizeof h.current);
    for (int64_t s = 1; s <= spec->steps; s++) {
        dtb_step_report r;
        if (ddp_train_step(st, s, &r) != 0) {
            ddp_destroy(st);
            return o;
        }
        o.loss[s - 1] = r.loss;
        o.norm[s - 1] = r.grad_norm;
    }
    o.steps = spec->steps;
    o.ok = ddp_get_params(st, o.params, spec->model->n_params) == 0 &&
           ddp_get_counters(st, &o.counters) == 0;
    ddp_destroy(st);
    for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++)
        if (h.current[c] != 0)
            o.ok = 0, fprintf(stderr, "memory category %d not returned to 0 (%lld)\n", c,
                              (long long)h.current[c]);
    return o;
}

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

/* Worst per-step relative deviation of the loss or the norm from the oracle. */
static double trace_deviation(const outcome *o, const oracle_trace *tr)
{
    double worst = 0.0;
    for (int64_t s = 0; s < o->steps; s++) {
        worst = fmax(worst, fabs(o->loss[s] - tr->loss[s]) / fabs(tr->loss[s]));
        worst = fmax(worst, fabs(o->norm[s] - tr->grad_norm[s]) / tr->grad_norm[s]);
    }
    return worst;
}

static int check_collectives(const dtb_run_spec *spec, const outcome *good, int world,
                             const char *what)
{
    /* None in a world of one; otherwise per step one allreduce per bucket
     * (4*Psi bytes in all) and one of the fp64 loss sum. */
    net_model m;
    char err[256];
    uint64_t nb = 0;
    if (net_model_init(spec, &m, err, sizeof err) == 0)
        nb = (uint64_t)ddp_count_buckets(&m, spec->bucket_bytes);
    net_model_free(&m);
    const uint64_t steps = (uint64_t)spec->steps;
    int failures = 0;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        const int active = world > 1 && k == DTB_COLL_ALLREDUCE;
        const uint64_t wc = active ? steps * (nb + 1) : 0;
        const uint64_t wb = active ? steps * (uint64_t)(4 * spec->model->n_params + 8) : 0;
        if (good->counters.calls[k] != wc || good->counters.bytes[k] != wb) {
            printf("FAIL %s: collective kind %d: %llu calls %llu bytes, want %llu %llu\n", what,
                   k, (unsigned long long)good->counters.calls[k],
                   (unsigned long long)good->counters.bytes[k], (unsigned long long)wc,
                   (unsigned long long)wb);
            failures++;
        }
    }
    return failures;
}

static int check_replicated(const float *params, int64_t n, const char *what)
{
    float *root = malloc((size_t)n * sizeof(float));
    if (root == NULL)
        MPI_Abort(MPI_COMM_WORLD, 2);
    memcpy(root, params, (size_t)n * sizeof(float));
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    int differs = memcmp(root, params, (size_t)n * sizeof(float)) != 0;
    free(root);
    if (differs)
        printf("FAIL %s: parameters differ from rank 0's\n", what);
    return differs;
}

/* One configuration: ref-ddp against the oracle, with the tolerance taken
 * from this rank's own single-device run (world of one, whole batch in one
 * micro-batch: the baseline's algorithm), and every zoo bug against it. */
static int check_configuration(const char *model, int optimizer, double clip, int rank, int world)
{
    char what[128];
    snprintf(what, sizeof what, "rank %d %s %s clip %g np=%d", rank, model,
             optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd", clip, world);
    dtb_run_spec spec = make_spec(model, optimizer, clip, rank, world);
    dtb_run_spec single = make_spec(model, optimizer, clip, 0, 1);
    single.micro_batches = 1;
    const int64_t n = spec.model->n_params;
    int failures = 0;

    oracle_trace tr;
    char err[256];
    int64_t last = spec.steps;
    if (oracle_train_f64(&spec, &last, 1, &tr, err, sizeof err) != 0) {
        fprintf(stderr, "oracle: %s\n", err);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    outcome base = train(&single, DDP_BUG_NONE);
    outcome good = train(&spec, DDP_BUG_NONE);
    if (!base.ok || !good.ok) {
        printf("FAIL %s: ref-ddp did not run\n", what);
        oracle_trace_free(&tr);
        free(base.params);
        free(good.params);
        return 1;
    }
    double scale;
    const double err_base = max_abs_diff(base.params, tr.params, n, &scale);
    const double err_good = max_abs_diff(good.params, tr.params, n, &scale);
    /* The harness's tolerance model, with its constants: 8x the baseline's
     * own rounding error plus 64 fp32 ulps of the parameters' scale. */
    const double tol = 8.0 * err_base + 64.0 * FLT_EPSILON * scale;
    if (!(err_good <= tol)) {
        printf("FAIL %s: params off the oracle by %.3g (baseline %.3g, tol %.3g)\n", what,
               err_good, err_base, tol);
        failures++;
    }
    const double dev_base = trace_deviation(&base, &tr);
    const double dev_good = trace_deviation(&good, &tr);
    if (!(dev_good <= 8.0 * dev_base + 64.0 * FLT_EPSILON)) {
        printf("FAIL %s: loss/norm deviate by %.3g (baseline %.3g)\n", what, dev_good, dev_base);
        failures++;
    }
    for (int s = 0; clip > 0 && s < spec.steps; s++) {
        if (!(tr.grad_norm[s] > clip)) {
            printf("FAIL %s step %d: clipping inactive (norm %.4g)\n", what, s + 1,
                   tr.grad_norm[s]);
            failures++;
        }
    }
    failures += check_replicated(good.params, n, what);
    failures += check_collectives(&spec, &good, world, what);
    /* Memory: full replicas of params, grads and optimizer state. */
    const int64_t k_state = optimizer == DTB_OPT_ADAMW ? 8 : 4;
    if (good.mem_after_create[DTB_MEM_PARAMS] != 4 * n ||
        good.mem_after_create[DTB_MEM_GRADS] != 4 * n ||
        good.mem_after_create[DTB_MEM_OPTIM] != k_state * n ||
        good.mem_after_create[DTB_MEM_ACTIVATIONS] <= 0) {
        printf("FAIL %s: memory accounting\n", what);
        failures++;
    }

    /* Each zoo bug must show, in the parameters or in the loss/norm trace,
     * wherever it changes the mathematics, and nowhere else. Summing instead
     * of averaging is invisible in the parameters under clipping (the clip
     * rescales the gradient) and under Adam (scale invariant) but never in
     * the reported pre-clip norm. */
    const struct { ddp_bug bug; const char *name; int applies; } zoo[] = {
        {DDP_BUG_SUM_NOT_AVERAGE, "sum", world > 1},
        {DDP_BUG_LAST_MICRO_ONLY, "lastmicro", 1},
        /* without clipping the parameters are right but the reported norm is
         * the local one: still a wrong answer */
        {DDP_BUG_LOCAL_CLIP, "localclip", world > 1},
    };
    for (size_t z = 0; z < sizeof zoo / sizeof zoo[0]; z++) {
        outcome bad = train(&spec, zoo[z].bug);
        const double e = bad.ok ? max_abs_diff(bad.params, tr.params, n, &scale) : 0.0;
        const double d = bad.ok ? trace_deviation(&bad, &tr) : 0.0;
        const int caught = bad.ok && (e > 100 * tol || d > 1e-3);
        if (zoo[z].applies != caught) {
            printf("FAIL %s: zoo %s %s (param error %.3g, tol %.3g, trace deviation %.3g)\n",
                   what, zoo[z].name, zoo[z].applies ? "not caught" : "differs where it should not",
                   e, tol, d);
            failures++;
        }
        free(bad.params);
    }
    if (rank == 0)
        printf("ok %s: param error %.3g (baseline %.3g, tol %.3g), %llu allreduces\n", what,
               err_good, err_base, tol,
               (unsigned long long)good.counters.calls[DTB_COLL_ALLREDUCE]);
    free(base.params);
    free(good.params);
    oracle_trace_free(&tr);
    return failures;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, world, failures = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    const char *models[] = {"mlp-odd", "mlp-small"};
    for (int mi = 0; mi < 2; mi++) {
        failures += check_configuration(models[mi], DTB_OPT_SGD_MOMENTUM, 0.05, rank, world);
        failures += check_configuration(models[mi], DTB_OPT_SGD_MOMENTUM, 0.0, rank, world);
        failures += check_configuration(models[mi], DTB_OPT_ADAMW, 0.05, rank, world);
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: %d failure(s) over %d rank(s)\n", total ? "FAIL" : "ok", total, world);
    MPI_Finalize();
    return total ? 1 : 0;
}
