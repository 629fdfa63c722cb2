#include "comm_bench.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "comm_ops.h"
#include "comm_pattern.h"

#define ESIZE sizeof(float)

static void push_i64_list(strvec *args, const char *opt, const int64_t *v, int n)
{
    char buf[1024];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < sizeof buf; i++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%lld", i ? "," : "", (long long)v[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    strvec_push(args, opt);
    strvec_push(args, buf);
}

static void push_common(strvec *args, int warmup, int reps, uint64_t seed)
{
    strvec_push(args, "--warmup");
    strvec_pushf(args, "%d", warmup);
    strvec_push(args, "--reps");
    strvec_pushf(args, "%d", reps);
    strvec_push(args, "--dtype");
    strvec_push(args, "fp32");
    strvec_push(args, "--seed");
    strvec_pushf(args, "%llu", (unsigned long long)seed);
}

void comm_bench_sweep_args(const comm_sweep *sweep, strvec *args)
{
    strvec_push(args, "worker-comm");
    char ops[128] = "";
    for (int i = 0; i < sweep->n_ops; i++) {
        size_t used = strlen(ops);
        snprintf(ops + used, sizeof ops - used, "%s%s", i ? "," : "",
                 comm_op_name(sweep->ops[i]));
    }
    strvec_push(args, "--ops");
    strvec_push(args, ops);
    push_i64_list(args, "--sizes", sweep->sizes, sweep->n_sizes);
    push_common(args, sweep->warmup, sweep->reps, sweep->seed);
}

/* Elements every rank compares per repetition, summed over the np ranks. */
static int64_t checked_per_rep(dtb_collective op, int64_t elements, int np)
{
    return (int64_t)np * comm_pattern_output_len(op, elements, np);
}

int comm_bench_check_sweep(const comm_result *res, int np, const comm_sweep *sweep, char *err,
                           size_t err_len)
{
    int want = sweep->n_ops * sweep->n_sizes * 2;
    if (res->np != np || res->n_cases != want) {
        snprintf(err, err_len, "comm result has %d cases on %d ranks, want %d on %d",
                 res->n_cases, res->np, want, np);
        return -1;
    }
    int k = 0;
    for (int o = 0; o < sweep->n_ops; o++)
        for (int s = 0; s < sweep->n_sizes; s++)
            for (int side = COMM_SIDE_DTBENCH; side <= COMM_SIDE_MPI; side++, k++) {
                const comm_result_case *c = &res->cases[k];
                dtb_collective op = sweep->ops[o];
                int64_t e = comm_op_elements(op, sweep->sizes[s], np, ESIZE);
                int64_t checked = checked_per_rep(op, e, np) * (sweep->warmup + sweep->reps);
                if (c->op != (int)op || c->side != (comm_side)side || c->elements != e ||
                    c->bytes != comm_op_bytes(op, e, np, ESIZE) || c->calls != 1 ||
                    c->warmup != sweep->warmup || c->reps != sweep->reps) {
                    snprintf(err, err_len,
                             "comm result case %d is %s %s of %lld bytes, %d+%d reps; want %s "
                             "%s of %lld bytes, %d+%d reps",
                             k, c->op >= 0 ? comm_op_name((dtb_collective)c->op) : "replay",
                             comm_side_name(c->side), (long long)c->bytes, c->warmup, c->reps,
                             comm_op_name(op), comm_side_name((comm_side)side),
                             (long long)comm_op_bytes(op, e, np, ESIZE), sweep->warmup,
                             sweep->reps);
                    return -1;
                }
                if (c->checked != checked) {
                    snprintf(err, err_len,
                             "comm result case %d (%s %s %lld bytes) compared %lld elements, "
                             "want every one of %lld",
                             k, comm_op_name(op), comm_side_name(c->side), (long long)c->bytes,
                             (long long)c->checked, (long long)checked);
                    return -1;
                }
            }
    return 0;
}

/* Reads DIR/comm-result.txt of a world that completed. */
static int read_result(const world_outcome *out, comm_result *res, char *err, size_t err_len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", out->dir, COMM_RESULT_FILE);
    return comm_result_read(path, res, err, err_len);
}

int comm_bench_sweep(const world_env *env, int np, const comm_sweep *sweep, comm_result *res,
                     world_outcome *out, char *err, size_t err_len)
{
    memset(res, 0, sizeof *res);
    strvec args;
    strvec_init(&args);
    comm_bench_sweep_args(sweep, &args);
    if (!strvec_ok(&args)) {
        strvec_free(&args);
        memset(out, 0, sizeof *out);
        snprintf(err, err_len, "out of memory building the comm world's command");
        return -1;
    }
    int rc = world_launch(env, np, &args, out);
    strvec_free(&args);
    if (rc != 0) {
        snprintf(err, err_len, "%s", out->reason);
    } else if ((rc = read_result(out, res, err, err_len)) != 0 ||
               (rc = comm_bench_check_sweep(res, np, sweep, err, err_len)) != 0) {
        comm_result_free(res);
        /* mpirun exited 0 but the result is bad: that is why the world failed */
        snprintf(out->reason, sizeof out->reason, "%s", err);
        if (!out->log_tail) {
            char log_path[PATH_MAX + 16];
            snprintf(log_path, sizeof log_path, "%s/mpirun.log", out->dir);
            out->log_tail = launch_log_tail(log_path, 30, 8192);
        }
    }
    out->completed = rc == 0;
    world_dir_done(env, out);
    return rc == 0 ? 0 : -1;
}

/* "replay: 3 of 4096 elements wrong (first: rank 1 rep 0 element 17:
 * expected 2.5, got 0)" */
static void describe_wrong(const comm_result_case *c, char *err, size_t err_len)
{
    snprintf(err, err_len,
             "replay: %lld of %lld result elements wrong (first: rank %d rep %d element %lld: "
             "expected %.9g, got %.9g)",
             (long long)c->wrong, (long long)c->checked, c->bad_rank, c->bad_rep,
             (long long)c->bad_index, c->expected, c->got);
}

int comm_bench_replay(const world_env *env, int np, const dtb_counters *per_step, int warmup,
                      int reps, double *rep_seconds, char *err, size_t err_len)
{
    if (per_step->calls[DTB_COLL_REDUCE] > 0) {
        snprintf(err, err_len, "replay: %llu reduce calls per step, but impl/comm has no reduce",
                 (unsigned long long)per_step->calls[DTB_COLL_REDUCE]);
        return -1;
    }
    int64_t calls[DTB_COLL_KIND_COUNT], bytes[DTB_COLL_KIND_COUNT];
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        if (per_step->calls[k] > INT64_MAX / 4 || per_step->bytes[k] > INT64_MAX / 4) {
            snprintf(err, err_len, "replay: %llu calls of %llu bytes per step are out of range",
                     (unsigned long long)per_step->calls[k],
                     (unsigned long long)per_step->bytes[k]);
            return -1;
        }
        calls[k] = (int64_t)per_step->calls[k];
        bytes[k] = (int64_t)per_step->bytes[k];
    }
    strvec args;
    strvec_init(&args);
    strvec_push(&args, "worker-comm");
    strvec_push(&args, "--replay");
    push_i64_list(&args, "--calls", calls, DTB_COLL_KIND_COUNT);
    push_i64_list(&args, "--bytes", bytes, DTB_COLL_KIND_COUNT);
    push_common(&args, warmup, reps, 1);
    world_outcome out;
    memset(&out, 0, sizeof out);
    if (!strvec_ok(&args)) {
        strvec_free(&args);
        snprintf(err, err_len, "out of memory building the replay world's command");
        return -1;
    }
    int rc = world_launch(env, np, &args, &out);
    strvec_free(&args);
    comm_result res;
    memset(&res, 0, sizeof res);
    if (rc != 0) {
        snprintf(err, err_len, "replay world: %s", out.reason);
    } else if ((rc = read_result(&out, &res, err, err_len)) == 0) {
        const comm_result_case *c = &res.cases[0];
        if (res.n_cases != 1 || res.np != np || c->op != COMM_RESULT_REPLAY ||
            c->warmup != warmup || c->reps != reps) {
            snprintf(err, err_len, "replay: the result is not one replay of %d+%d repetitions "
                                   "on %d ranks",
                     warmup, reps, np);
            rc = -1;
        } else if (c->wrong > 0) {
            describe_wrong(c, err, err_len);
            rc = -1;
        } else {
            for (int i = 0; i < reps; i++)
                rep_seconds[i] = c->seconds[warmup + i];
        }
        comm_result_free(&res);
    }
    world_dir_done(env, &out);
    world_outcome_free(&out);
    return rc == 0 ? 0 : -1;
}
