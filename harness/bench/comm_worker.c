#include "comm_worker.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_parse.h"
#include "clock.h"
#include "comm.h"
#include "comm_ops.h"
#include "comm_pattern.h"
#include "comm_result.h"
#include "worker.h"

#define MAX_SIZES 64
#define ESIZE sizeof(float)

typedef struct comm_worker {
    int rank, np;
    const char *out_dir;
    dtb_comm *comm;            /* the dtbench side */
    MPI_Comm raw;              /* the mpi side: a duplicate of MPI_COMM_WORLD */
    uint64_t seed, sequence;   /* sequence: repetitions (calls) so far, for the patterns */
    comm_pattern pattern;      /* of the repetition (call) being run */
    int warmup, reps;
    /* sweep */
    dtb_collective ops[COMM_OPS_COUNT];
    int n_ops;
    int64_t sizes[MAX_SIZES];
    int n_sizes;
    /* replay */
    int replay;
    int64_t calls[DTB_COLL_KIND_COUNT], bytes[DTB_COLL_KIND_COUNT];
    comm_result result;        /* rank 0 */
} comm_worker;

/* Ends the world with error-<rank>.txt saying the formatted message. */
static void fail(comm_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void fail(comm_worker *w, const char *fmt, ...)
{
    char message[1300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    worker_abort_world("worker-comm", w->out_dir, w->rank, message);
}

/* Every MPI call goes through this: a failure ends the world with its name. */
static void mpi_check(comm_worker *w, int rc, const char *call)
{
    if (rc == MPI_SUCCESS)
        return;
    char text[MPI_MAX_ERROR_STRING + 1] = "";
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error code %d", rc);
    fail(w, "%s failed: %s", call, text);
}

static void *alloc_or_fail(comm_worker *w, size_t n, size_t size, const char *what)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        fail(w, "out of memory for %s (%zu x %zu bytes)", what, n, size);
    return p;
}

/* ---- options ------------------------------------------------------------- */

static void parse_counts(comm_worker *w, const char *opt, const char *text, int64_t *out)
{
    char err[512];
    int n = 0;
    if (cli_parse_i64_list(opt, text, 0, INT64_MAX / 4, out, DTB_COLL_KIND_COUNT, &n, err,
                           sizeof err) != 0)
        fail(w, "worker-comm: %s", err);
    if (n != DTB_COLL_KIND_COUNT)
        fail(w, "worker-comm: --%s wants %d values, one per collective kind; got %d", opt,
             DTB_COLL_KIND_COUNT, n);
}

static void parse_args(comm_worker *w, int argc, char **argv)
{
    const char *ops = "allreduce,reduce_scatter,allgather,broadcast", *sizes = NULL;
    const char *warmup = NULL, *reps = NULL, *dtype = "fp32", *seed = NULL;
    const char *calls = NULL, *bytes = NULL;
    cli_option opts[] = {
        {"ops", &ops, NULL},       {"sizes", &sizes, NULL}, {"warmup", &warmup, NULL},
        {"reps", &reps, NULL},     {"dtype", &dtype, NULL}, {"seed", &seed, NULL},
        {"out", &w->out_dir, NULL}, {"replay", NULL, &w->replay},
        {"calls", &calls, NULL},   {"bytes", &bytes, NULL},
    };
    char err[512];
    if (cli_parse_options("worker-comm", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err) != 0)
        fail(w, "%s", err);
    if (!w->out_dir)
        fail(w, "worker-comm: --out is required");
    if (mkdir(w->out_dir, 0755) != 0 && errno != EEXIST)
        fail(w, "worker-comm: cannot create --out %s: %s", w->out_dir, strerror(errno));
    if (strcmp(dtype, "fp32") != 0)
        fail(w, "worker-comm: --dtype: only fp32 is benchmarked, got '%s'", dtype);
    int64_t v = 2;
    if (warmup && cli_parse_i64("warmup", warmup, 0, COMM_RESULT_MAX_REPS / 2, &v, err,
                                sizeof err) != 0)
        fail(w, "worker-comm: %s", err);
    w->warmup = (int)v;
    v = 5;
    if (reps && cli_parse_i64("reps", reps, 1, COMM_RESULT_MAX_REPS / 2, &v, err, sizeof err))
        fail(w, "worker-comm: %s", err);
    w->reps = (int)v;
    w->seed = 1;
    if (seed && cli_parse_u64("seed", seed, &w->seed, err, sizeof err) != 0)
        fail(w, "worker-comm: %s", err);
    if (w->replay) {
        if (!calls || !bytes)
            fail(w, "worker-comm: --replay needs --calls and --bytes");
        parse_counts(w, "calls", calls, w->calls);
        parse_counts(w, "bytes", bytes, w->bytes);
        return;
    }
    if (!sizes)
        fail(w, "worker-comm: --sizes is required (bytes, comma-separated)");
    if (comm_op_parse_list("ops", ops, w->ops, COMM_OPS_COUNT, &w->n_ops, err, sizeof err))
        fail(w, "worker-comm: %s", err);
    if (cli_parse_i64_list("sizes", sizes, 1, INT64_MAX / 4, w->sizes, MAX_SIZES, &w->n_sizes,
                           err, sizeof err) != 0)
        fail(w, "worker-comm: %s", err);
    for (int o = 0; o < w->n_ops; o++)
        for (int s = 0; s < w->n_sizes; s++) {
            int64_t e = comm_op_elements(w->ops[o], w->sizes[s], w->np, ESIZE);
            if (e < 1 || e > INT_MAX)
                fail(w, "worker-comm: --sizes: %lld bytes gives %lld fp32 elements per call of "
                        "%s on %d ranks; want 1 to %d",
                     (long long)w->sizes[s], (long long)e, comm_op_name(w->ops[o]), w->np,
                     INT_MAX);
        }
}

/* ---- one call ------------------------------------------------------------ */

/* Issues one collective of `elements` (count or block) on `in`/`out`, the
 * buffer forms of comm.h: allreduce and broadcast in place on in,
 * reduce_scatter in -> out (N blocks -> 1), allgather in -> out (1 -> N). */
static void issue(comm_worker *w, dtb_collective op, comm_side side, float *in, float *out,
                  int64_t elements)
{
    int rc = 0;
    const char *call = "?";
    if (side == COMM_SIDE_DTBENCH) {
        switch (op) {
        case DTB_COLL_ALLREDUCE:
            rc = comm_allreduce(w->comm, in, elements, DTB_DTYPE_FP32, COMM_SUM);
            break;
        case DTB_COLL_REDUCE_SCATTER:
            rc = comm_reduce_scatter(w->comm, in, out, elements, DTB_DTYPE_FP32, COMM_SUM);
            break;
        case DTB_COLL_ALLGATHER:
            rc = comm_allgather(w->comm, in, out, elements, DTB_DTYPE_FP32);
            break;
        case DTB_COLL_BROADCAST:
            rc = comm_broadcast(w->comm, in, elements, DTB_DTYPE_FP32, 0);
            break;
        default:
            fail(w, "worker-comm: collective kind %d is not benchmarked", (int)op);
        }
        if (rc != 0)
            fail(w, "%s of %lld elements: %s", comm_op_name(op), (long long)elements,
                 comm_error(w->comm));
        return;
    }
    int n = (int)elements; /* parse_args and the replay keep elements <= INT_MAX */
    switch (op) {
    case DTB_COLL_ALLREDUCE:
        call = "MPI_Allreduce";
        rc = MPI_Allreduce(MPI_IN_PLACE, in, n, MPI_FLOAT, MPI_SUM, w->raw);
        break;
    case DTB_COLL_REDUCE_SCATTER:
        call = "MPI_Reduce_scatter_block";
        rc = MPI_Reduce_scatter_block(in, out, n, MPI_FLOAT, MPI_SUM, w->raw);
        break;
    case DTB_COLL_ALLGATHER:
        call = "MPI_Allgather";
        rc = MPI_Allgather(in, n, MPI_FLOAT, out, n, MPI_FLOAT, w->raw);
        break;
    case DTB_COLL_BROADCAST:
        call = "MPI_Bcast";
        rc = MPI_Bcast(in, n, MPI_FLOAT, 0, w->raw);
        break;
    default:
        fail(w, "worker-comm: collective kind %d is not benchmarked", (int)op);
    }
    mpi_check(w, rc, call);
}

/* The buffer an op's result lands in. */
static const float *result_of(dtb_collective op, const float *in, const float *out)
{
    return op == DTB_COLL_ALLREDUCE || op == DTB_COLL_BROADCAST ? in : out;
}

/* ---- verification bookkeeping ------------------------------------------- */

typedef struct tally {
    int64_t checked, wrong;
    int bad_rep;
    comm_mismatch first;
} tally;

static void tally_add(tally *t, int rep, int64_t checked, int64_t wrong, const comm_mismatch *m)
{
    if (wrong > 0 && t->wrong == 0) {
        t->bad_rep = rep;
        t->first = *m;
    }
    t->checked += checked;
    t->wrong += wrong;
}

/* Gathers a case's times (max over ranks) and tally (sums, first wrong of
 * the lowest rank) into rank 0's result case c. Called by every rank. */
static void collect(comm_worker *w, const double *seconds, int n, const tally *t,
                    comm_result_case *c)
{
    double *max_seconds = w->rank == 0 ? c->seconds : NULL;
    mpi_check(w, MPI_Reduce(seconds, max_seconds, n, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD),
              "MPI_Reduce(max of the repetition times)");
    int64_t counts[2] = {t->checked, t->wrong}, sums[2] = {0, 0};
    mpi_check(w, MPI_Reduce(counts, sums, 2, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD),
              "MPI_Reduce(sum of the element counts)");
    /* {has one, rep, index, expected, got}: all exact in a double */
    double mine[5] = {t->wrong > 0, t->bad_rep, (double)t->first.index, t->first.expected,
                      t->first.got};
    double *all = NULL;
    if (w->rank == 0)
        all = alloc_or_fail(w, (size_t)w->np * 5, sizeof *all, "the first wrong elements");
    mpi_check(w, MPI_Gather(mine, 5, MPI_DOUBLE, all, 5, MPI_DOUBLE, 0, MPI_COMM_WORLD),
              "MPI_Gather(first wrong elements)");
    if (w->rank != 0)
        return;
    c->checked = sums[0];
    c->wrong = sums[1];
    for (int r = 0; r < w->np; r++)
        if (all[5 * r] != 0) {
            c->bad_rank = r;
            c->bad_rep = (int)all[5 * r + 1];
            c->bad_index = (int64_t)all[5 * r + 2];
            c->expected = all[5 * r + 3];
            c->got = all[5 * r + 4];
            break;
        }
    free(all);
}

/* ---- sweep ---------------------------------------------------------------- */

/* One timed call of one side: a fresh input pattern, a barrier, the call,
 * every output element checked. */
static void measure_once(comm_worker *w, dtb_collective op, comm_side side, int64_t elements,
                         float *in, float *out, int rep, double *seconds, tally *t)
{
    comm_pattern_init(&w->pattern, w->seed, w->sequence++);
    comm_pattern_fill_input(&w->pattern, op, in, elements, w->rank, w->np);
    mpi_check(w, MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double t0 = monotonic_seconds();
    issue(w, op, side, in, out, elements);
    *seconds = monotonic_seconds() - t0;
    comm_mismatch m;
    int64_t wrong = comm_pattern_verify(&w->pattern, op, result_of(op, in, out), elements,
                                        w->rank, w->np, &m);
    tally_add(t, rep, comm_pattern_output_len(op, elements, w->np), wrong, &m);
}

/* Both sides of one collective and size, repetition by repetition, the side
 * that goes first alternating: a drift of the machine's load (other jobs on
 * shared cores) then weighs on both sides alike instead of on whichever side
 * ran later. c[side] is rank 0's result case of each side. */
static void run_pair(comm_worker *w, dtb_collective op, int64_t elements, float *in, float *out,
                     double *seconds[2], comm_result_case *c[2])
{
    int n = w->warmup + w->reps;
    tally t[2] = {{0, 0, -1, {-1, 0, 0}}, {0, 0, -1, {-1, 0, 0}}};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2; j++) {
            comm_side side = i % 2 == 0 ? (comm_side)j : (comm_side)(1 - j);
            measure_once(w, op, side, elements, in, out, i, &seconds[side][i], &t[side]);
        }
    for (int side = 0; side < 2; side++) {
        collect(w, seconds[side], n, &t[side], c[side]);
        if (w->rank == 0) {
            c[side]->op = (int)op;
            c[side]->side = (comm_side)side;
            c[side]->elements = elements;
            c[side]->bytes = comm_op_bytes(op, elements, w->np, ESIZE);
            c[side]->calls = 1;
        }
    }
}

static void run_sweep(comm_worker *w)
{
    int64_t cap_in = 1, cap_out = 1;
    for (int o = 0; o < w->n_ops; o++)
        for (int s = 0; s < w->n_sizes; s++) {
            int64_t e = comm_op_elements(w->ops[o], w->sizes[s], w->np, ESIZE);
            int64_t ni = comm_pattern_input_len(w->ops[o], e, w->np);
            int64_t no = comm_pattern_output_len(w->ops[o], e, w->np);
            cap_in = ni > cap_in ? ni : cap_in;
            cap_out = no > cap_out ? no : cap_out;
        }
    float *in = alloc_or_fail(w, (size_t)cap_in, ESIZE, "the input buffer");
    float *out = alloc_or_fail(w, (size_t)cap_out, ESIZE, "the output buffer");
    int n = w->warmup + w->reps;
    double *seconds[2] = {
        alloc_or_fail(w, (size_t)n, sizeof(double), "the repetition times"),
        alloc_or_fail(w, (size_t)n, sizeof(double), "the repetition times")};
    int n_cases = w->n_ops * w->n_sizes * 2;
    if (w->rank == 0 && comm_result_alloc(&w->result, w->np, n_cases, w->warmup, w->reps) != 0)
        fail(w, "out of memory for %d cases of %d repetitions", n_cases, n);
    /* Cases in the result: per collective and size, dtbench then mpi. */
    int k = 0;
    for (int o = 0; o < w->n_ops; o++)
        for (int s = 0; s < w->n_sizes; s++, k += 2) {
            int64_t e = comm_op_elements(w->ops[o], w->sizes[s], w->np, ESIZE);
            comm_result_case *c[2] = {w->rank == 0 ? &w->result.cases[k] : NULL,
                                      w->rank == 0 ? &w->result.cases[k + 1] : NULL};
            run_pair(w, w->ops[o], e, in, out, seconds, c);
        }
    free(seconds[0]);
    free(seconds[1]);
    free(out);
    free(in);
}

/* ---- replay --------------------------------------------------------------- */

/* One kind's calls of one step: `calls` calls of `elements` (count or
 * block), call j on in + j*in_len and out + j*out_len. */
typedef struct replay_kind {
    dtb_collective op;
    int64_t calls, elements, in_len, out_len;
    float *in, *out;
    uint64_t *sequences;       /* [calls]: this repetition's pattern of each call */
} replay_kind;

/* elements per call: bytes / calls / (esize * (N for blocked kinds)),
 * rounded to the nearest whole element. */
static int64_t replay_elements(dtb_collective op, int64_t bytes, int64_t calls, int np)
{
    int64_t per = comm_op_bytes(op, 1, np, ESIZE);
    return (int64_t)llround((double)bytes / ((double)calls * (double)per));
}

static void run_replay(comm_worker *w)
{
    if (w->calls[DTB_COLL_REDUCE] > 0)
        fail(w, "worker-comm: --replay: %lld reduce calls per step, but impl/comm has no "
                "reduce to replay them with",
             (long long)w->calls[DTB_COLL_REDUCE]);
    replay_kind kinds[COMM_OPS_COUNT];
    int64_t total_bytes = 0, total_calls = w->calls[DTB_COLL_BARRIER];
    for (int k = 0; k < COMM_OPS_COUNT; k++) {
        replay_kind *rk = &kinds[k];
        memset(rk, 0, sizeof *rk);
        rk->op = (dtb_collective)k;
        rk->calls = w->calls[k];
        if (rk->calls > 0)
            rk->elements = replay_elements(rk->op, w->bytes[k], rk->calls, w->np);
        else if (w->bytes[k] > 0)
            fail(w, "worker-comm: --replay: %lld %s bytes in 0 calls", (long long)w->bytes[k],
                 comm_op_name(rk->op));
        if (rk->elements > INT_MAX)
            fail(w, "worker-comm: --replay: %s calls of %lld elements exceed INT_MAX",
                 comm_op_name(rk->op), (long long)rk->elements);
        rk->in_len = comm_pattern_input_len(rk->op, rk->elements, w->np);
        rk->out_len = comm_pattern_output_len(rk->op, rk->elements, w->np);
        if (rk->calls > 0 && (rk->in_len + rk->out_len) > INT64_MAX / 8 / rk->calls)
            fail(w, "worker-comm: --replay: %lld %s calls are too large to allocate",
                 (long long)rk->calls, comm_op_name(rk->op));
        rk->in = alloc_or_fail(w, (size_t)(rk->calls * rk->in_len), ESIZE, "replay inputs");
        rk->out = alloc_or_fail(w, (size_t)(rk->calls * rk->out_len), ESIZE, "replay outputs");
        rk->sequences = alloc_or_fail(w, (size_t)rk->calls, sizeof *rk->sequences,
                                      "replay pattern numbers");
        total_bytes += rk->calls * comm_op_bytes(rk->op, rk->elements, w->np, ESIZE);
        total_calls += rk->calls;
    }
    int n = w->warmup + w->reps;
    double *seconds = alloc_or_fail(w, (size_t)n, sizeof *seconds, "the repetition times");
    if (w->rank == 0 && comm_result_alloc(&w->result, w->np, 1, w->warmup, w->reps) != 0)
        fail(w, "out of memory for the replay result");
    tally t = {0, 0, -1, {-1, 0, 0}};
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < COMM_OPS_COUNT; k++)
            for (int64_t j = 0; j < kinds[k].calls; j++) {
                kinds[k].sequences[j] = w->sequence++;
                comm_pattern_init(&w->pattern, w->seed, kinds[k].sequences[j]);
                comm_pattern_fill_input(&w->pattern, kinds[k].op,
                                        kinds[k].in + j * kinds[k].in_len, kinds[k].elements,
                                        w->rank, w->np);
            }
        mpi_check(w, MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        double t0 = monotonic_seconds();
        for (int k = 0; k < COMM_OPS_COUNT; k++)
            for (int64_t j = 0; j < kinds[k].calls; j++)
                issue(w, kinds[k].op, COMM_SIDE_DTBENCH, kinds[k].in + j * kinds[k].in_len,
                      kinds[k].out + j * kinds[k].out_len, kinds[k].elements);
        for (int64_t j = 0; j < w->calls[DTB_COLL_BARRIER]; j++)
            if (comm_barrier(w->comm) != 0)
                fail(w, "comm_barrier: %s", comm_error(w->comm));
        seconds[i] = monotonic_seconds() - t0;
        for (int k = 0; k < COMM_OPS_COUNT; k++)
            for (int64_t j = 0; j < kinds[k].calls; j++) {
                const replay_kind *rk = &kinds[k];
                const float *res = result_of(rk->op, rk->in + j * rk->in_len,
                                             rk->out + j * rk->out_len);
                comm_mismatch m;
                comm_pattern_init(&w->pattern, w->seed, rk->sequences[j]);
                int64_t wrong = comm_pattern_verify(&w->pattern, rk->op, res, rk->elements,
                                                    w->rank, w->np, &m);
                tally_add(&t, i, rk->out_len, wrong, &m);
            }
    }
    collect(w, seconds, n, &t, w->rank == 0 ? &w->result.cases[0] : NULL);
    if (w->rank == 0) {
        comm_result_case *c = &w->result.cases[0];
        c->op = COMM_RESULT_REPLAY;
        c->side = COMM_SIDE_DTBENCH;
        c->bytes = total_bytes;
        c->elements = 0;
        c->calls = total_calls;
    }
    free(seconds);
    for (int k = 0; k < COMM_OPS_COUNT; k++) {
        free(kinds[k].in);
        free(kinds[k].out);
        free(kinds[k].sequences);
    }
}

/* ---- main ----------------------------------------------------------------- */

static void usage_worker_comm(FILE *f)
{
    fprintf(f, "usage: dtbench worker-comm --out DIR --sizes LIST [--ops LIST] [--warmup N]\n"
               "                           [--reps N] [--dtype fp32] [--seed N]\n"
               "       dtbench worker-comm --out DIR --replay --calls C0,..,C5 --bytes "
               "B0,..,B5 ...\n"
               "\n"
               "(internal) One rank of a comm benchmark world, started under mpirun by\n"
               "`dtbench run --suite comm` and the throughput suite. Writes\n"
               "DIR/" COMM_RESULT_FILE " on rank 0, or DIR/error-<rank>.txt and exits %d.\n",
            WORKER_EXIT_PLUGIN_ERROR);
}

int comm_worker_main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) { /* before MPI, which would want a world */
            usage_worker_comm(stdout);
            return 0;
        }
    comm_worker w;
    memset(&w, 0, sizeof w);
    w.raw = MPI_COMM_NULL;
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "dtbench worker-comm: MPI_Init_thread failed\n");
        return WORKER_EXIT_PLUGIN_ERROR;
    }
    mpi_check(&w, MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
              "MPI_Comm_set_errhandler");
    mpi_check(&w, MPI_Comm_rank(MPI_COMM_WORLD, &w.rank), "MPI_Comm_rank");
    mpi_check(&w, MPI_Comm_size(MPI_COMM_WORLD, &w.np), "MPI_Comm_size");
    parse_args(&w, argc, argv);
    char err[1024];
    if (comm_create((int64_t)MPI_Comm_c2f(MPI_COMM_WORLD), &w.comm, err, sizeof err) != 0)
        fail(&w, "comm_create: %s", err);
    mpi_check(&w, MPI_Comm_dup(MPI_COMM_WORLD, &w.raw), "MPI_Comm_dup");
    if (w.replay)
        run_replay(&w);
    else
        run_sweep(&w);
    if (w.rank == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", w.out_dir, COMM_RESULT_FILE);
        if (comm_result_write(path, &w.result, err, sizeof err) != 0)
            fail(&w, "%s", err);
        comm_result_free(&w.result);
    }
    mpi_check(&w, MPI_Comm_free(&w.raw), "MPI_Comm_free");
    comm_destroy(w.comm);
    if (MPI_Finalize() != MPI_SUCCESS) {
        fprintf(stderr, "dtbench worker-comm rank %d: MPI_Finalize failed\n", w.rank);
        return WORKER_EXIT_PLUGIN_ERROR;
    }
    return 0;
}
