/*
 * `dtbench bench-step`: how fast is the reference training step on this
 * machine, against what its BLAS can do at all.
 *
 *   peak:  cblas_sgemm on square n x n x n matrices (2 n^3 FLOP each), and on
 *          the model's own forward GEMM shapes (batch x out x in), best of
 *          several repetitions after a warm-up;
 *   step:  the fp32 baseline's full step (forward, backward, norm, clip,
 *          optimizer) through reference/replica.c, timed with CLOCK_MONOTONIC
 *          after warm-up steps; median, min and max over the repetitions;
 *          achieved FLOP/s = mlp_step_flops(model, batch) / median.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cli_parse.h"
#include "clock.h"
#include "model_host.h"
#include "replica.h"
#include "step_bench.h"

/* Best GFLOP/s of C[M x N] = A[M x K] B[K x N]^T over `reps` timed calls. */
static int sgemm_rate(int64_t M, int64_t N, int64_t K, int reps, double *best_gflops)
{
    float *A = malloc((size_t)(M * K) * sizeof(float));
    float *B = malloc((size_t)(N * K) * sizeof(float));
    float *C = malloc((size_t)(M * N) * sizeof(float));
    if (A == NULL || B == NULL || C == NULL) {
        free(A), free(B), free(C);
        return -1;
    }
    bench_fill_uniform(A, (size_t)(M * K), 1);
    bench_fill_uniform(B, (size_t)(N * K), 2);
    double best = 0.0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        const double t0 = monotonic_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, A,
                    (int)K, B, (int)K, 0.0f, C, (int)N);
        const double dt = monotonic_seconds() - t0;
        const double g = 2.0 * (double)M * (double)N * (double)K / dt * 1e-9;
        if (r >= 0 && g > best)
            best = g;
    }
    free(A), free(B), free(C);
    *best_gflops = best;
    return 0;
}

/* The spec points into *model, which must outlive it. */
static dtb_run_spec bench_spec(const mlp_config *cfg, mlp_model_desc *model, int64_t batch,
                               int optimizer)
{
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    mlp_spec_set_model(&s, cfg, model);
    s.stage = DTB_STAGE_SINGLE;
    s.optimizer = optimizer;
    s.lr = 1e-3, s.momentum = 0.9, s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-8;
    s.weight_decay = 0.01, s.clip_norm = 1.0;
    s.precision = DTB_PREC_FP32;
    s.global_batch = batch, s.micro_batches = 1, s.steps = 1, s.seed = 1;
    s.world_size = 1, s.local_size = 1;
    s.device_kind = DTB_DEVICE_CPU, s.device_index = -1, s.prefetch_depth = -1;
    return s;
}

static int time_steps(const dtb_run_spec *spec, int warmup, int reps, double *times)
{
    model_host host;
    dtb_host_api api;
    model_host_init(&host, spec, &api);
    replica r = {0};
    const int64_t B = spec->global_batch;
    int rc = replica_init(&r, "bench-step", spec, &api, B);
    for (int i = 0; rc == 0 && i < warmup + reps; i++) {
        double loss = 0.0, norm = 0.0;
        const double t0 = monotonic_seconds();
        rc = replica_zero_grads(&r) || replica_forward_backward(&r, NULL, i + 1, 0, B,
                                                                (float)(1.0 / (double)B), &loss) ||
             replica_grad_norm(&r, &norm) || replica_clip(&r, norm, spec->clip_norm, NULL) ||
             replica_optimizer_step(&r, i + 1);
        if (i >= warmup)
            times[i - warmup] = monotonic_seconds() - t0;
    }
    replica_release(&r);
    if (rc != 0)
        fprintf(stderr, "dtbench: bench-step: %s\n", host.error);
    return rc;
}

static void print_help(void)
{
    printf("usage: dtbench bench-step [--model NAME] [--batch N] [--optimizer sgd|adamw]\n"
           "                          [--steps N] [--warmup N] [--gemm-n N]\n\n"
           "Times the fp32 baseline training step on the CPU backend and compares its\n"
           "FLOP rate with the BLAS's own sgemm rate, measured in the same process.\n"
           "Threads: OPENBLAS_NUM_THREADS (default: all cores).\n\n"
           "  --model NAME      model configuration (default mlp-1m; see dtbench list)\n"
           "  --batch N         samples per step (default 256)\n"
           "  --optimizer NAME  sgd or adamw (default adamw)\n"
           "  --steps N         timed steps (default 10), after --warmup N (default 2)\n"
           "  --gemm-n N        size of the square sgemm peak test (default 2048)\n");
}

int step_bench_main(int argc, char **argv)
{
    const char *model = "mlp-1m", *batch_s = "256", *opt_s = "adamw", *steps_s = "10",
               *warm_s = "2", *gemm_s = "2048";
    int help = 0;
    const cli_option opts[] = {
        {"model", &model, NULL},  {"batch", &batch_s, NULL}, {"optimizer", &opt_s, NULL},
        {"steps", &steps_s, NULL}, {"warmup", &warm_s, NULL}, {"gemm-n", &gemm_s, NULL},
        {"help", NULL, &help},
    };
    char err[256];
    int64_t batch, steps, warmup, gemm_n;
    if (cli_parse_options("bench-step", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err) != 0 ||
        (!help && (cli_parse_i64("--batch", batch_s, 1, 1 << 20, &batch, err, sizeof err) != 0 ||
                   cli_parse_i64("--steps", steps_s, 1, 100000, &steps, err, sizeof err) != 0 ||
                   cli_parse_i64("--warmup", warm_s, 0, 1000, &warmup, err, sizeof err) != 0 ||
                   cli_parse_i64("--gemm-n", gemm_s, 16, 16384, &gemm_n, err, sizeof err) != 0))) {
        fprintf(stderr, "dtbench: %s\n", err);
        return 2;
    }
    if (help) {
        print_help();
        return 0;
    }
    const mlp_config *cfg = mlp_config_find(model);
    if (cfg == NULL) {
        fprintf(stderr, "dtbench: bench-step: unknown model '%s' (see dtbench list)\n", model);
        return 2;
    }
    int optimizer;
    if (strcmp(opt_s, "adamw") == 0)
        optimizer = DTB_OPT_ADAMW;
    else if (strcmp(opt_s, "sgd") == 0)
        optimizer = DTB_OPT_SGD_MOMENTUM;
    else {
        fprintf(stderr, "dtbench: bench-step: unknown optimizer '%s' (sgd or adamw)\n", opt_s);
        return 2;
    }

    printf("blas: %s, core %s, %d thread(s)\n", openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads());
    double square = 0.0;
    if (sgemm_rate(gemm_n, gemm_n, gemm_n, 5, &square) != 0) {
        fprintf(stderr, "dtbench: bench-step: out of memory for the sgemm test\n");
        return 1;
    }
    printf("sgemm %lldx%lldx%lld: %.1f GFLOP/s (best of 5)\n", (long long)gemm_n,
           (long long)gemm_n, (long long)gemm_n, square);
    /* The model's forward GEMMs, weighted by their FLOPs. */
    double flops = 0.0, seconds = 0.0;
    for (int l = 0; l < cfg->n_linear; l++) {
        double g = 0.0;
        const double f = 2.0 * (double)batch * (double)cfg->dims[l] * (double)cfg->dims[l + 1];
        if (sgemm_rate(batch, cfg->dims[l + 1], cfg->dims[l], 5, &g) != 0 || g <= 0.0) {
            fprintf(stderr, "dtbench: bench-step: out of memory for the sgemm test\n");
            return 1;
        }
        flops += f;
        seconds += f / (g * 1e9);
    }
    const double shaped = flops / seconds * 1e-9;
    printf("sgemm on %s's layer shapes at batch %lld: %.1f GFLOP/s\n", cfg->name,
           (long long)batch, shaped);

    mlp_model_desc desc;
    const dtb_run_spec spec = bench_spec(cfg, &desc, batch, optimizer);
    double *times = malloc((size_t)steps * sizeof(double));
    if (times == NULL) {
        fprintf(stderr, "dtbench: bench-step: out of memory\n");
        return 1;
    }
    if (time_steps(&spec, (int)warmup, (int)steps, times) != 0) {
        free(times);
        return 1;
    }
    const bench_summary sum = bench_summarise(times, (int)steps);
    const double median = sum.median;
    const double gflops = mlp_step_flops(cfg, batch) / median * 1e-9;
    printf("step %s (%lld params) batch %lld %s: median %.4f s (min %.4f, max %.4f, %lld steps)\n",
           cfg->name, (long long)mlp_param_count(cfg), (long long)batch, opt_s, median, sum.min,
           sum.max, (long long)steps);
    printf("step rate: %.1f GFLOP/s = %.0f%% of square sgemm, %.0f%% of layer-shape sgemm; "
           "%.0f samples/s\n",
           gflops, 100.0 * gflops / square, 100.0 * gflops / shaped, (double)batch / median);
    free(times);
    return 0;
}
