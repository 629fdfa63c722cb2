/* `dtbench bench-step`: the baseline step's FLOP rate against the BLAS's sgemm. */
#ifndef DTB_HARNESS_STEP_BENCH_H
#define DTB_HARNESS_STEP_BENCH_H

int step_bench_main(int argc, char **argv);

#endif
