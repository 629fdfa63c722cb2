/*
 * The peak matrix-product rate of a world: N ranks each run cblas_sgemm on
 * n x n x n fp32 matrices at the same time (the BLAS threads per rank the
 * launcher sets), each repetition entered through a barrier and timed as the
 * slowest rank's call. The aggregate rate of a repetition is
 *     N * 2 n^3 / max_r t_r  FLOP/s,
 * the most a training step's matrix products could reach on that world
 * (the denominator of a throughput case's peak_fraction).
 *
 * Rank side: the hidden command `dtbench worker-peak --n N --warmup W
 * --reps R --out DIR`; rank 0 writes DIR/peak.txt:
 *     dtbench-peak 1
 *     world <N> n <n>
 *     rep <i> <warmup 0|1> <seconds>      (W + R lines, warm-ups first)
 *     end
 */
#ifndef DTB_HARNESS_BENCH_PEAK_H
#define DTB_HARNESS_BENCH_PEAK_H

#include <stddef.h>
#include <stdint.h>

#include "world.h"

#define BENCH_PEAK_MAX_REPS 1100 /* BENCH_MAX_WARMUP + BENCH_MAX_REPS */

typedef struct bench_peak_result {
    int world_size;
    int64_t n;
    int n_reps;                 /* warm-ups included */
    int warmup[BENCH_PEAK_MAX_REPS];
    double seconds[BENCH_PEAK_MAX_REPS];
} bench_peak_result;

/* The rank side (MPI_Init .. MPI_Finalize); returns the exit status. */
int bench_peak_worker_main(int argc, char **argv);

/* Reads and validates a peak.txt; 0, or -1 with a message naming the file. */
int bench_peak_read(const char *path, bench_peak_result *out, char *err, size_t err_len);

/* Launches the world and reads its result. 0, or -1 with a one-line reason. */
int bench_peak_measure(const world_env *env, int np, int64_t n, int warmup, int reps,
                       bench_peak_result *out, char *err, size_t err_len);

/* Aggregate GFLOP/s of repetition i. */
double bench_peak_gflops(const bench_peak_result *r, int i);

#endif
