/* nccl-tests arithmetic of the comm benchmark: element counts, S, algbw and
 * busbw against hand-computed values; collective names; the harness's check
 * that a result is the one asked for, with every element compared. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../harness/check.h"
#include "comm_bench.h"
#include "comm_ops.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fabs(b);
}

static void test_sizes(void)
{
    /* 1 MiB over 4 ranks: count 262144; block 65536 (N*block*4 = S) */
    CHECK(comm_op_elements(DTB_COLL_ALLREDUCE, 1 << 20, 4, 4) == 262144);
    CHECK(comm_op_elements(DTB_COLL_BROADCAST, 1 << 20, 4, 4) == 262144);
    CHECK(comm_op_elements(DTB_COLL_REDUCE_SCATTER, 1 << 20, 4, 4) == 65536);
    CHECK(comm_op_elements(DTB_COLL_ALLGATHER, 1 << 20, 4, 4) == 65536);
    CHECK(comm_op_bytes(DTB_COLL_ALLGATHER, 65536, 4, 4) == 1 << 20);
    CHECK(comm_op_bytes(DTB_COLL_ALLREDUCE, 262144, 4, 4) == 1 << 20);
    /* rounded down to whole blocks: 1024 B on 3 ranks -> block 85, S = 1020 */
    CHECK(comm_op_elements(DTB_COLL_REDUCE_SCATTER, 1024, 3, 4) == 85);
    CHECK(comm_op_bytes(DTB_COLL_REDUCE_SCATTER, 85, 3, 4) == 1020);
    CHECK(comm_op_elements(DTB_COLL_ALLGATHER, 7, 2, 4) == 0);
    CHECK(comm_op_elements(DTB_COLL_ALLREDUCE, 0, 2, 4) == 0);
}

static void test_bandwidth(void)
{
    double alg, bus;
    /* 64 MiB allreduce on 4 ranks in 0.1 s: algbw 0.67108864 GB/s, busbw x 1.5 */
    comm_op_bandwidth(DTB_COLL_ALLREDUCE, 64 << 20, 4, 0.1, &alg, &bus);
    CHECK(near(alg, 0.67108864) && near(bus, 0.67108864 * 1.5));
    /* reduce-scatter and allgather (N-1)/N; broadcast 1 */
    comm_op_bandwidth(DTB_COLL_REDUCE_SCATTER, 1000000000, 4, 2.0, &alg, &bus);
    CHECK(near(alg, 0.5) && near(bus, 0.375));
    comm_op_bandwidth(DTB_COLL_ALLGATHER, 1000000000, 2, 0.5, &alg, &bus);
    CHECK(near(alg, 2.0) && near(bus, 1.0));
    comm_op_bandwidth(DTB_COLL_BROADCAST, 3000000000LL, 8, 1.5, &alg, &bus);
    CHECK(near(alg, 2.0) && near(bus, 2.0));
    /* allreduce on 2 ranks: factor 1; on 1 rank: nothing moves */
    comm_op_bandwidth(DTB_COLL_ALLREDUCE, 1000000, 2, 1e-3, &alg, &bus);
    CHECK(near(alg, 1.0) && near(bus, 1.0));
    comm_op_bandwidth(DTB_COLL_ALLREDUCE, 1000000, 1, 1e-3, &alg, &bus);
    CHECK(near(alg, 1.0) && bus == 0.0);
    comm_op_bandwidth(DTB_COLL_ALLREDUCE, 1000000, 4, 0.0, &alg, &bus);
    CHECK(alg == 0.0 && bus == 0.0);
}

static void test_names(void)
{
    dtb_collective ops[4], op;
    int n = 0;
    char err[256];
    CHECK(comm_op_parse("reduce_scatter", &op) == 0 && op == DTB_COLL_REDUCE_SCATTER);
    CHECK(comm_op_parse("reduce", &op) != 0);
    CHECK(strcmp(comm_op_name(DTB_COLL_ALLGATHER), "allgather") == 0);
    CHECK(comm_op_parse_list("ops", "broadcast,allreduce", ops, 4, &n, err, sizeof err) == 0);
    CHECK(n == 2 && ops[0] == DTB_COLL_BROADCAST && ops[1] == DTB_COLL_ALLREDUCE);
    CHECK(comm_op_parse_list("ops", "allreduce,allreduce", ops, 4, &n, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "twice");
    CHECK(comm_op_parse_list("ops", "allreduce,,broadcast", ops, 4, &n, err, sizeof err) != 0);
    CHECK(comm_op_parse_list("ops", "barrier", ops, 4, &n, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "unknown collective 'barrier'");
}

/* comm_bench_check_sweep: the cases in order, their sizes, and every
 * element of every repetition compared. */
static void test_check_sweep(void)
{
    const dtb_collective ops[2] = {DTB_COLL_ALLREDUCE, DTB_COLL_ALLGATHER};
    const int64_t sizes[1] = {4096};
    comm_sweep sw = {ops, 2, sizes, 1, 1, 5, 1};
    comm_result r;
    CHECK(comm_result_alloc(&r, 4, 4, 1, 5) == 0);
    for (int k = 0; k < 4; k++) {
        comm_result_case *c = &r.cases[k];
        c->op = ops[k / 2];
        c->side = k % 2 ? COMM_SIDE_MPI : COMM_SIDE_DTBENCH;
        c->elements = comm_op_elements(ops[k / 2], 4096, 4, 4);
        c->bytes = 4096;
        c->calls = 1;
        /* per repetition: allreduce 4 ranks x 1024; allgather 4 ranks x 4 x 256 */
        c->checked = 6 * 4 * 1024;
    }
    char err[512];
    CHECK(comm_bench_check_sweep(&r, 4, &sw, err, sizeof err) == 0);
    r.cases[3].checked -= 1; /* one element of one repetition not compared */
    CHECK(comm_bench_check_sweep(&r, 4, &sw, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "want every one of 24576");
    r.cases[3].checked += 1;
    r.cases[2].side = COMM_SIDE_MPI;
    CHECK(comm_bench_check_sweep(&r, 4, &sw, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "case 2");
    r.cases[2].side = COMM_SIDE_DTBENCH;
    CHECK(comm_bench_check_sweep(&r, 2, &sw, err, sizeof err) != 0);
    comm_result_free(&r);
}

int main(void)
{
    test_sizes();
    test_bandwidth();
    test_names();
    test_check_sweep();
    return check_report("bench_unit_comm_ops");
}
