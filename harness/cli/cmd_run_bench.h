/*
 * `dtbench run` of a benchmark suite: its own options validated, its
 * implementations loaded and vetted, the run recorded, the suite's driver
 * called (bench.h).
 */
#ifndef DTB_HARNESS_CMD_RUN_BENCH_H
#define DTB_HARNESS_CMD_RUN_BENCH_H

#include "run_args.h"
#include "suite.h"

/* `dtbench run` of a benchmark suite: the exit status. argc,
 * argv: the arguments after "run", for the recorded command line. */
int cmd_run_bench(const dtb_suite *suite, const run_args *a, int argc, char **argv);

#endif
