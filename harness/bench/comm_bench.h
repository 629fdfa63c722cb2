/*
 * The harness side of the comm benchmark: launches a world of `dtbench
 * worker-comm` (comm_worker.h) through world_launch, reads its
 * comm-result.txt back (comm_result.h) and checks that it is the result of
 * what was asked: the cases in order, their sizes, and every element of
 * every repetition compared (the element count adds up).
 */
#ifndef DTB_HARNESS_COMM_BENCH_H
#define DTB_HARNESS_COMM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "comm_result.h"
#include "dtbench/plugin.h"
#include "strvec.h"
#include "world.h"

/* A sweep: every collective of ops x every size of sizes (S in bytes) x
 * both sides, dtbench then mpi, in that order (the result's cases). */
typedef struct comm_sweep {
    const dtb_collective *ops;
    int n_ops;
    const int64_t *sizes;
    int n_sizes;
    int warmup, reps;
    uint64_t seed;
} comm_sweep;

/* The worker's arguments for a sweep (world_launch adds --out DIR). */
void comm_bench_sweep_args(const comm_sweep *sweep, strvec *args);

/* Runs the sweep over np ranks. 0 with *res filled (free it with
 * comm_result_free); -1 with a one-line err when the world did not complete
 * (out holds the reason, the log tail and the reproduce line) or left a bad
 * result. Always release out with world_outcome_free. */
int comm_bench_sweep(const world_env *env, int np, const comm_sweep *sweep, comm_result *res,
                     world_outcome *out, char *err, size_t err_len);

/* Is res the result of `sweep` on np ranks? 0, or -1 with a message. */
int comm_bench_check_sweep(const comm_result *res, int np, const comm_sweep *sweep, char *err,
                           size_t err_len);

/* Replays one training step's collectives (per_step: the calls and S bytes
 * of each dtb_collective kind in one step, i.e. a run's dtb_counters divided
 * by its steps) through impl/comm over np ranks, warmup + reps times;
 * rep_seconds[reps] gets the timed repetitions (each the maximum over
 * ranks of one step's collectives, issued back to back after a barrier).
 * 0, or -1 with a one-line err: the world failed, a result element was
 * wrong, or per_step holds reduce calls (impl/comm has no reduce). */
int comm_bench_replay(const world_env *env, int np, const dtb_counters *per_step, int warmup,
                      int reps, double *rep_seconds, char *err, size_t err_len);

#endif
