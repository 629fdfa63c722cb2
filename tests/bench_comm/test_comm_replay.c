/* comm_bench_replay end to end: one training step's collectives replayed
 * through impl/comm by a real world of `dtbench worker-comm --replay`, every
 * result checked by the worker; a step with reduce calls and a world that
 * cannot start are refused with one line.
 * usage: test_comm_replay DTBENCH */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../harness/check.h"
#include "comm_bench.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DTBENCH\n", argv[0]);
        return 2;
    }
    world_env env;
    memset(&env, 0, sizeof env);
    char err[1024];
    if (world_env_init(&env, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    snprintf(env.exe, sizeof env.exe, "%s", argv[1]);
    env.mpirun.mpirun = "mpirun";
    env.mpirun.as_root = geteuid() == 0;
    env.timeout_s = 120;

    /* a step: 3 allreduces of ~40000 B (10000 elements each), 2
     * reduce-scatters of 65536 B, 2 allgathers of 4100 B (rounded to whole
     * blocks), a broadcast of 1001 B (250 elements), a barrier */
    dtb_counters step = {sizeof step, {3, 2, 2, 1, 0, 1, 0}, {120000, 131072, 8200, 1001, 0, 0, 0}};
    double reps[5] = {0};
    for (int np = 1; np <= 3; np++) {
        int rc = comm_bench_replay(&env, np, &step, 1, 5, reps, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "np %d: %s\n", np, err);
        CHECK(rc == 0);
        for (int i = 0; i < 5; i++)
            CHECK(isfinite(reps[i]) && reps[i] > 0);
    }
    dtb_counters empty = {sizeof empty, {0}, {0}};
    CHECK(comm_bench_replay(&env, 2, &empty, 0, 5, reps, err, sizeof err) == 0);

    dtb_counters with_reduce = step;
    with_reduce.calls[DTB_COLL_REDUCE] = 1;
    with_reduce.bytes[DTB_COLL_REDUCE] = 64;
    CHECK(comm_bench_replay(&env, 2, &with_reduce, 1, 5, reps, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "no reduce");

    env.mpirun.mpirun = "/bin/false";
    CHECK(comm_bench_replay(&env, 2, &step, 1, 5, reps, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "replay world:");
    CHECK(strchr(err, '\n') == NULL);
    return check_report("bench_comm_replay");
}
