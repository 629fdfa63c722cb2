/*
 * comm: our communicator's collectives (impl/comm: allreduce,
 * reduce-scatter, allgather, broadcast) against the raw MPI calls on the
 * same buffers, across message sizes, the way nccl-tests reports them
 * (docs/benchmarks.md, "comm").
 *
 * One world per world size N runs `dtbench worker-comm` (comm_worker.h):
 * for each collective x size S x side (dtbench, then mpi), warm-ups then
 * timed repetitions, each barrier-aligned and timed on every rank, the
 * repetition's time the maximum over ranks; every element of every
 * repetition's output compared with its closed form (comm_pattern.h).
 *
 * A case per collective x S x N x side, key "comm <collective> <S> np=N
 * <side>": checks "completed" and "results correct"; metrics per repetition
 * (warm-ups flagged) seconds, algbw_gbps = S/t, busbw_gbps = algbw * factor
 * (2(N-1)/N allreduce, (N-1)/N reduce-scatter and allgather, 1 broadcast),
 * and on the dtbench side busbw_over_mpi = busbw / median busbw of the mpi
 * side (same S and N, so equal to the algbw ratio).
 *
 * Sizes: powers of 4 from 1 KiB to 64 MiB, or --sizes (a comma-separated
 * list of sizes such as 4K,1M,64MiB); sizes below one fp32
 * element per rank and block (4N bytes) are left out of that world. The
 * issue's target: dtbench allreduce at 64 MiB within 90% of MPI_Allreduce's
 * busbw; printed with the table, never a pass/fail check (timings on shared
 * cores would make it flaky).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "comm_bench.h"
#include "comm_ops.h"
#include "comm_pattern.h"

#define ESIZE 4 /* fp32 */
#define MAX_SIZES 32
#define TARGET_BYTES (64LL << 20)
#define TARGET_RATIO 0.90

static int comm_bench_main(bench_context *ctx);
static int comm_bench_plan(const bench_context *ctx, char *err, size_t err_len);

static const int WORLDS[] = {2, 4};
/* Powers of 4 from 1 KiB to 64 MiB (TARGET_BYTES). */
static const int64_t SIZES[] = {1LL << 10, 1LL << 12, 1LL << 14, 1LL << 16, 1LL << 18,
                                1LL << 20, 1LL << 22, 1LL << 24, TARGET_BYTES};

const dtb_suite dtb_suite_comm = {
    .name = "comm",
    .kind = DTB_SUITE_BENCH,
    .bench_main = comm_bench_main,
    .bench_plan = comm_bench_plan,
    .description = "impl/comm's allreduce, reduce-scatter, allgather and broadcast vs raw MPI "
                   "across message sizes: time, algbw, busbw, every result element checked",
    .world_sizes = WORLDS,
    .n_world_sizes = 2,
    .seed = 2024,
    .bench_sizes_are_bytes = 1,
    .bench_message_sizes = SIZES,
    .n_bench_message_sizes = sizeof SIZES / sizeof SIZES[0],
};

static const dtb_collective OPS[COMM_OPS_COUNT] = {DTB_COLL_ALLREDUCE, DTB_COLL_REDUCE_SCATTER,
                                                   DTB_COLL_ALLGATHER, DTB_COLL_BROADCAST};

/* The raw call the mpi side makes, for the config and the table. */
static const char *const MPI_CALLS[COMM_OPS_COUNT] = {
    "MPI_Allreduce(MPI_IN_PLACE)", "MPI_Reduce_scatter_block", "MPI_Allgather",
    "MPI_Bcast(root 0)"};

/* ---- sizes -------------------------------------------------------------- */

/* --sizes (validated by `dtbench run`), else the suite's (1 KiB, 4 KiB, ..., 64 MiB). */
static void message_sizes(const bench_context *ctx, int64_t *sizes, int *n)
{
    const bench_options *o = &ctx->opt;
    *n = 0;
    if (o->n_message_sizes > 0) {
        for (int i = 0; i < o->n_message_sizes && i < MAX_SIZES; i++)
            sizes[(*n)++] = o->message_sizes[i];
        return;
    }
    for (int i = 0; i < ctx->suite->n_bench_message_sizes && i < MAX_SIZES; i++)
        sizes[(*n)++] = ctx->suite->bench_message_sizes[i];
}

/* The sizes a world of np ranks runs: at least one element per rank and
 * block, at most INT_MAX elements per call. */
static int world_sizes_for(int np, const int64_t *all, int n_all, int64_t *out)
{
    int n = 0;
    for (int i = 0; i < n_all; i++)
        if (all[i] >= (int64_t)ESIZE * np && all[i] / ESIZE <= 0x7fffffff)
            out[n++] = all[i];
    return n;
}

/* ---- one case -------------------------------------------------------------- */

static const char *side_label(comm_side side)
{
    return comm_side_name(side);
}

static void begin_case(bench_context *ctx, bench_case *bc, dtb_collective op, int64_t bytes,
                       int64_t elements, int np, comm_side side)
{
    char key[200], label[200], size[32], json[512];
    bench_format_bytes((double)bytes, size, sizeof size);
    snprintf(key, sizeof key, "comm %s %lld np=%d %s", comm_op_name(op), (long long)bytes, np,
             side_label(side));
    snprintf(label, sizeof label, "%s %s %s np=%d", side_label(side), comm_op_name(op), size,
             np);
    snprintf(json, sizeof json,
             "{\"collective\":\"%s\",\"bytes\":%lld,\"elements\":%lld,\"np\":%d,"
             "\"side\":\"%s\",\"call\":\"%s\",\"dtype\":\"fp32\",\"warmup\":%d,\"reps\":%d,"
             "\"seed\":%llu}",
             comm_op_name(op), (long long)bytes, (long long)elements, np, side_label(side),
             side == COMM_SIDE_MPI ? MPI_CALLS[op] : "impl/comm", ctx->opt.warmup,
             ctx->opt.reps, (unsigned long long)ctx->opt.seed);
    bench_case_begin(ctx, bc, key, label, json);
    snprintf(bc->impl, sizeof bc->impl, "%s", side == COMM_SIDE_MPI ? "mpi" : "dtbench-comm");
    snprintf(bc->precision, sizeof bc->precision, "fp32");
    bc->world_size = np;
}

/* "results correct": every element of every repetition on every rank. */
static void check_results(bench_case *bc, const comm_result_case *c)
{
    if (c->wrong == 0) {
        bench_case_check(bc, "results correct", RESULTS_PASS, NULL, -1, NULL);
        return;
    }
    tap_diag d;
    diag_init(&d);
    diag_text(&d, "message", "%lld of %lld result elements differ from the closed form",
              (long long)c->wrong, (long long)c->checked);
    diag_int(&d, "wrong", c->wrong);
    diag_int(&d, "checked", c->checked);
    diag_int(&d, "first_rank", c->bad_rank);
    diag_int(&d, "first_rep", c->bad_rep);
    diag_int(&d, "first_element", c->bad_index);
    diag_real(&d, "expected", c->expected);
    diag_real(&d, "got", c->got);
    bench_case_check(bc, "results correct", RESULTS_FAIL, NULL, -1, &d);
    diag_free(&d);
}

/* metric[i] = f(seconds[i]) for every repetition, warm-ups flagged. */
typedef enum what { SECONDS, ALGBW, BUSBW, OVER_MPI } what;

static void add_metric(bench_case *bc, const comm_result_case *c, int np, what w,
                       double mpi_median_algbw, results_sample *s)
{
    int n = c->warmup + c->reps;
    for (int i = 0; i < n; i++) {
        double alg, bus;
        comm_op_bandwidth((dtb_collective)c->op, c->bytes, np, c->seconds[i], &alg, &bus);
        double v = w == SECONDS ? c->seconds[i]
                   : w == ALGBW ? alg
                   : w == BUSBW ? bus
                                : (mpi_median_algbw > 0 ? alg / mpi_median_algbw : 0.0);
        s[i] = (results_sample){i, RESULTS_NONE, RESULTS_NONE, i < c->warmup, v};
    }
    static const char *const NAMES[] = {"seconds", "algbw_gbps", "busbw_gbps", "busbw_over_mpi"};
    static const char *const UNITS[] = {"s", "GB/s", "GB/s", "ratio"};
    bench_case_metric(bc, NAMES[w], UNITS[w], RESULTS_TIMING, w != SECONDS, s, n);
}

/* The median time of the timed repetitions. */
static double median_seconds(const comm_result_case *c)
{
    return bench_summarise(c->seconds + c->warmup, c->reps).median;
}

/* Reports one side's case from the world's result. mpi_algbw: the median
 * algbw of the mpi side (the dtbench side's ratio is over it). */
static void report_case(bench_context *ctx, const comm_result_case *c, int np,
                        double mpi_algbw)
{
    bench_case bc;
    begin_case(ctx, &bc, (dtb_collective)c->op, c->bytes, c->elements, np, c->side);
    bc.completed = 1;
    bench_case_check(&bc, "completed", RESULTS_PASS, NULL, -1, NULL);
    check_results(&bc, c);
    results_sample *s = calloc((size_t)(c->warmup + c->reps) + 1, sizeof *s);
    if (!s) {
        bc.oom = 1;
    } else {
        add_metric(&bc, c, np, SECONDS, 0, s);
        add_metric(&bc, c, np, ALGBW, 0, s);
        add_metric(&bc, c, np, BUSBW, 0, s);
        if (c->side == COMM_SIDE_DTBENCH)
            add_metric(&bc, c, np, OVER_MPI, mpi_algbw, s);
    }
    free(s);
    bench_case_end(&bc);
}

/* Every case of a world that did not complete: "completed" fails (the
 * reason, log and reproduce line on the first case only), "results correct"
 * is skipped. */
static void report_failed_world(bench_context *ctx, const comm_sweep *sw, int np,
                                const world_outcome *w)
{
    int first = 1;
    for (int o = 0; o < sw->n_ops; o++)
        for (int s = 0; s < sw->n_sizes; s++)
            for (int side = COMM_SIDE_DTBENCH; side <= COMM_SIDE_MPI; side++) {
                int64_t e = comm_op_elements(sw->ops[o], sw->sizes[s], np, ESIZE);
                bench_case bc;
                begin_case(ctx, &bc, sw->ops[o], comm_op_bytes(sw->ops[o], e, np, ESIZE), e,
                           np, (comm_side)side);
                tap_diag d;
                diag_init(&d);
                diag_text(&d, "message", "%s", w->reason);
                if (first && w->reproduce)
                    diag_text(&d, "reproduce", "%s", w->reproduce);
                if (first && w->log_tail && w->log_tail[0])
                    diag_block(&d, "log_tail", w->log_tail);
                bench_case_check(&bc, "completed", RESULTS_FAIL, NULL, -1, &d);
                diag_free(&d);
                bench_case_check(&bc, "results correct", RESULTS_SKIP,
                                 "the comm world did not complete", -1, NULL);
                bench_case_end(&bc);
                first = 0;
            }
}

/* ---- the table ------------------------------------------------------------- */

typedef struct side_figures {
    double us, algbw, busbw;
} side_figures;

static side_figures figures_of(const comm_result_case *c, int np)
{
    side_figures f;
    double t = median_seconds(c);
    f.us = t * 1e6;
    comm_op_bandwidth((dtb_collective)c->op, c->bytes, np, t, &f.algbw, &f.busbw);
    return f;
}

static void print_table(const comm_result *res, int np, int reps)
{
    fprintf(stderr,
            "\n# comm np=%d: fp32, median of %d repetitions (max over ranks), GB/s = 1e9 B/s\n"
            "#%11s %-15s %32s %32s %7s %7s\n"
            "#%11s %-15s %10s %10s %10s %10s %10s %10s %7s %7s\n",
            np, reps, "", "", "dtbench (impl/comm)", "mpi (raw MPI call)", "", "", "size",
            "collective", "time(us)", "algbw", "busbw", "time(us)", "algbw", "busbw", "ratio",
            "wrong");
    for (int k = 0; k + 1 < res->n_cases; k += 2) {
        const comm_result_case *d = &res->cases[k], *m = &res->cases[k + 1];
        side_figures fd = figures_of(d, np), fm = figures_of(m, np);
        fprintf(stderr, " %11lld %-15s %10.2f %10.3f %10.3f %10.2f %10.3f %10.3f %7.3f %7lld\n",
                (long long)d->bytes, comm_op_name((dtb_collective)d->op), fd.us, fd.algbw,
                fd.busbw, fm.us, fm.algbw, fm.busbw,
                fm.algbw > 0 ? fd.algbw / fm.algbw : 0.0, (long long)(d->wrong + m->wrong));
    }
    /* the target: allreduce at 64 MiB (else the largest size run) */
    const comm_result_case *best = NULL;
    for (int k = 0; k + 1 < res->n_cases; k += 2) {
        const comm_result_case *d = &res->cases[k];
        if (d->op == DTB_COLL_ALLREDUCE && (!best || d->bytes > best->bytes) &&
            (!best || best->bytes != TARGET_BYTES))
            best = d;
    }
    if (best) {
        side_figures fd = figures_of(best, np), fm = figures_of(best + 1, np);
        double ratio = fm.busbw > 0 ? fd.busbw / fm.busbw : 0.0;
        char size[32];
        bench_format_bytes((double)best->bytes, size, sizeof size);
        fprintf(stderr,
                "# target: allreduce %s np=%d: dtbench busbw %.3f GB/s = %.1f%% of "
                "MPI_Allreduce's %.3f GB/s (goal >= %.0f%% at 64 MiB: %s)\n",
                size, np, fd.busbw, 100.0 * ratio, fm.busbw, 100.0 * TARGET_RATIO,
                best->bytes != TARGET_BYTES ? "64 MiB not run"
                : ratio >= TARGET_RATIO     ? "met"
                                            : "NOT met");
    }
}

/* ---- the driver -------------------------------------------------------------- */

static void run_world(bench_context *ctx, int np, const int64_t *sizes, int n_sizes)
{
    comm_sweep sw = {OPS, COMM_OPS_COUNT, sizes, n_sizes, ctx->opt.warmup, ctx->opt.reps,
                     ctx->opt.seed};
    comm_result res;
    world_outcome w;
    char err[1024];
    if (comm_bench_sweep(&ctx->env, np, &sw, &res, &w, err, sizeof err) != 0) {
        fprintf(stderr, "dtbench: comm np=%d: the world failed: %s\n", np, err);
        report_failed_world(ctx, &sw, np, &w);
        world_outcome_free(&w);
        return;
    }
    for (int k = 0; k + 1 < res.n_cases; k += 2) {
        double mpi_algbw = figures_of(&res.cases[k + 1], np).algbw;
        report_case(ctx, &res.cases[k], np, mpi_algbw);
        report_case(ctx, &res.cases[k + 1], np, mpi_algbw);
    }
    print_table(&res, np, sw.reps);
    comm_result_free(&res);
    world_outcome_free(&w);
}

/* Every size must be measurable in some world: a size no world runs was a
 * mistake (3 bytes, or a typo'd unit), and a run of none measures nothing. */
static int comm_bench_plan(const bench_context *ctx, char *err, size_t err_len)
{
    int64_t all[MAX_SIZES], one[1];
    int n_all, min_np = INT_MAX;
    message_sizes(ctx, all, &n_all);
    for (int i = 0; i < ctx->opt.n_world_sizes; i++)
        min_np = ctx->opt.world_sizes[i] < min_np ? ctx->opt.world_sizes[i] : min_np;
    if (n_all == 0 || ctx->opt.n_world_sizes == 0) {
        snprintf(err, err_len, "comm: no message size or world size: nothing to measure");
        return -1;
    }
    for (int i = 0; i < n_all; i++) {
        if (world_sizes_for(min_np, &all[i], 1, one) == 1)
            continue;
        if (all[i] < (int64_t)ESIZE * min_np)
            snprintf(err, err_len, "--sizes: %lld bytes is less than one fp32 element per "
                     "rank (%d bytes at np=%d): no world can measure it", (long long)all[i],
                     ESIZE * min_np, min_np);
        else
            snprintf(err, err_len, "--sizes: %lld bytes is more than %d fp32 elements, the "
                     "most one MPI call takes", (long long)all[i], INT_MAX);
        return -1;
    }
    return 0;
}

static int comm_bench_main(bench_context *ctx)
{
    int64_t all[MAX_SIZES], sizes[MAX_SIZES];
    int n_all;
    message_sizes(ctx, all, &n_all);
    ctx->n_planned = 0;
    for (int i = 0; i < ctx->opt.n_world_sizes; i++)
        ctx->n_planned += COMM_OPS_COUNT * 2 *
                          world_sizes_for(ctx->opt.world_sizes[i], all, n_all, sizes);
    for (int i = 0; i < ctx->opt.n_world_sizes; i++) {
        int np = ctx->opt.world_sizes[i];
        int n = world_sizes_for(np, all, n_all, sizes);
        if (n < n_all)
            fprintf(stderr, "dtbench: comm np=%d: %d size(s) below %d bytes (one fp32 element "
                            "per rank) left out\n",
                    np, n_all - n, ESIZE * np);
        if (n > 0)
            run_world(ctx, np, sizes, n);
    }
    return 0;
}
