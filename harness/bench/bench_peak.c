#include "bench_peak.h"

#include <cblas.h>
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli_parse.h"
#include "worker.h"

static int peak_fail(int rank, const char *out_dir, const char *msg)
{
    worker_abort_world("worker-peak", out_dir, rank, msg);
}

static int write_result(const char *dir, int world, int64_t n, int warmup, int reps,
                        const double *seconds)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/peak.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "dtbench-peak 1\nworld %d n %lld\n", world, (long long)n);
    for (int i = 0; i < warmup + reps; i++)
        fprintf(f, "rep %d %d %.9e\n", i, i < warmup, seconds[i]);
    fprintf(f, "end\n");
    int failed = ferror(f);
    if (fclose(f) != 0 || failed)
        return -1;
    return rename(tmp, path);
}

int bench_peak_worker_main(int argc, char **argv)
{
    const char *n_s = NULL, *warm_s = NULL, *reps_s = NULL, *out = NULL;
    const cli_option opts[] = {
        {"n", &n_s, NULL}, {"warmup", &warm_s, NULL}, {"reps", &reps_s, NULL}, {"out", &out, NULL}};
    char err[512] = "";
    int64_t n = 0, warmup = 0, reps = 0;
    if (cli_parse_options("worker-peak", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err) ||
        !n_s || !warm_s || !reps_s || !out ||
        cli_parse_i64("--n", n_s, 16, 16384, &n, err, sizeof err) ||
        cli_parse_i64("--warmup", warm_s, 0, BENCH_MAX_WARMUP, &warmup, err, sizeof err) ||
        cli_parse_i64("--reps", reps_s, 1, BENCH_MAX_REPS, &reps, err, sizeof err)) {
        fprintf(stderr, "dtbench worker-peak: %s\n",
                err[0] ? err : "usage: --n N --warmup W --reps R --out DIR");
        return 2;
    }
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "dtbench worker-peak: MPI_Init failed\n");
        return 3;
    }
    int rank = 0, world = 1;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &world) != MPI_SUCCESS)
        return peak_fail(0, out, "MPI_Comm_rank/size failed");
    const size_t nn = (size_t)(n * n);
    const int total = (int)(warmup + reps);
    float *A = malloc(nn * sizeof *A), *B = malloc(nn * sizeof *B), *C = malloc(nn * sizeof *C);
    double *mine = malloc((size_t)total * sizeof *mine);
    double *slowest = malloc((size_t)total * sizeof *slowest);
    if (!A || !B || !C || !mine || !slowest)
        return peak_fail(rank, out, "out of memory for the sgemm matrices");
    bench_fill_uniform(A, nn, 1 + (uint64_t)rank);
    bench_fill_uniform(B, nn, 1001 + (uint64_t)rank);
    for (int i = 0; i < total; i++) {
        if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS)
            return peak_fail(rank, out, "MPI_Barrier failed");
        double t0 = monotonic_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)n, 1.0f, A,
                    (int)n, B, (int)n, 0.0f, C, (int)n);
        mine[i] = monotonic_seconds() - t0;
    }
    if (MPI_Reduce(mine, slowest, total, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return peak_fail(rank, out, "MPI_Reduce of the times failed");
    if (rank == 0 && write_result(out, world, n, (int)warmup, (int)reps, slowest) != 0) {
        snprintf(err, sizeof err, "cannot write %s/peak.txt: %s", out, strerror(errno));
        return peak_fail(rank, out, err);
    }
    free(A), free(B), free(C), free(mine), free(slowest);
    if (MPI_Finalize() != MPI_SUCCESS)
        return 3;
    return 0;
}

int bench_peak_read(const char *path, bench_peak_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    int version = 0, ok = 0;
    long long n = 0;
    if (!fgets(line, sizeof line, f) || sscanf(line, "dtbench-peak %d", &version) != 1 ||
        version != 1 || !fgets(line, sizeof line, f) ||
        sscanf(line, "world %d n %lld", &out->world_size, &n) != 2 || out->world_size < 1 ||
        n < 1) {
        snprintf(err, err_len, "%s: not a dtbench-peak 1 file", path);
        fclose(f);
        return -1;
    }
    out->n = n;
    while (fgets(line, sizeof line, f)) {
        if (strcmp(line, "end\n") == 0) {
            ok = 1;
            break;
        }
        int i, w;
        double t;
        if (sscanf(line, "rep %d %d %lf", &i, &w, &t) != 3 || i != out->n_reps ||
            (w != 0 && w != 1) || !(t > 0) || out->n_reps == BENCH_PEAK_MAX_REPS)
            break;
        out->warmup[i] = w;
        out->seconds[i] = t;
        out->n_reps++;
    }
    fclose(f);
    if (!ok || out->n_reps == 0) {
        snprintf(err, err_len, "%s: truncated or malformed after %d repetitions", path,
                 out->n_reps);
        return -1;
    }
    return 0;
}

int bench_peak_measure(const world_env *env, int np, int64_t n, int warmup, int reps,
                       bench_peak_result *out, char *err, size_t err_len)
{
    strvec args;
    strvec_init(&args);
    strvec_push(&args, "worker-peak");
    strvec_push(&args, "--n");
    strvec_pushf(&args, "%lld", (long long)n);
    strvec_push(&args, "--warmup");
    strvec_pushf(&args, "%d", warmup);
    strvec_push(&args, "--reps");
    strvec_pushf(&args, "%d", reps);
    if (!strvec_ok(&args)) {
        strvec_free(&args);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    world_outcome w;
    int rc = world_launch(env, np, &args, &w);
    strvec_free(&args);
    if (rc == 0) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/peak.txt", w.dir);
        rc = bench_peak_read(path, out, err, err_len);
        if (rc == 0 && (out->world_size != np || out->n != n || out->n_reps != warmup + reps)) {
            snprintf(err, err_len, "%s holds world %d n %lld with %d repetitions, expected "
                     "world %d n %lld with %d", path, out->world_size, (long long)out->n,
                     out->n_reps, np, (long long)n, warmup + reps);
            rc = -1;
        }
    } else {
        snprintf(err, err_len, "the sgemm peak world of %d rank%s failed: %s", np,
                 np == 1 ? "" : "s", w.reason);
    }
    world_dir_done(env, &w);
    world_outcome_free(&w);
    return rc;
}

double bench_peak_gflops(const bench_peak_result *r, int i)
{
    const double flops = 2.0 * (double)r->n * (double)r->n * (double)r->n;
    return (double)r->world_size * flops / r->seconds[i] * 1e-9;
}
