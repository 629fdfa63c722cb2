/*
 * `dtbench run`'s options as given (cmd_run.c parses them), shared with the
 * benchmark suites' front end (cmd_run_bench.c), which validates its own,
 * and the world environment both build from them (run_args.c).
 */
#ifndef DTB_HARNESS_RUN_ARGS_H
#define DTB_HARNESS_RUN_ARGS_H

#include <stddef.h>

#include "world.h"

typedef struct run_args {
    const char *suite, *impl, *np, *model, *steps, *seed, *timeout, *tap, *hostfile, *mpirun;
    const char *db;
    const char *sizes, *precision, *warmup, *reps, *mem_budget; /* benchmark suites */
    int keep, help;
    int strict, no_strict; /* conformance suites: the reference's exact checks on or off */
} run_args;

/* mpirun (--mpirun, $DTB_MPIRUN, PATH), --hostfile, --timeout and --keep
 * into env; mpirun_buf holds the resolved path. 0, or -1 with a message. */
int run_args_setup_env(const run_args *a, world_env *env, char *mpirun_buf,
                       size_t mpirun_len, char *err, size_t err_len);

#endif
