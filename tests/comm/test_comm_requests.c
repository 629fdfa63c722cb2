/*
 * Non-blocking requests: several collectives of different kinds in flight at
 * once, completed in a different order than issued; and the request state
 * machine (inactive wait/test are no-ops, an active request is never
 * overwritten).
 */
#include <stdlib.h>
#include <string.h>

#include "comm_test_util.h"

void test_concurrent_requests(tctx *t)
{
    const int N = t->size, me = t->rank;
    const int64_t n_ar = 1000, blk_rs = 33, blk_ag = 17, n_bc = 500;
    const uint64_t seed = 0xc0ffee;
    float *ar = t_alloc(sizeof(float) * n_ar);
    double *rs_in = t_alloc(sizeof(double) * (size_t)(blk_rs * N));
    double *rs_out = t_alloc(sizeof(double) * blk_rs);
    uint16_t *ag_in = t_alloc(sizeof(uint16_t) * blk_ag);
    uint16_t *ag_out = t_alloc(sizeof(uint16_t) * (size_t)(blk_ag * N));
    float *bc = t_alloc(sizeof(float) * n_bc);
    t_fill(ar, DTB_DTYPE_FP32, T_INT, seed, me, 0, n_ar);
    t_fill(rs_in, DTB_DTYPE_FP64, T_INT, seed + 1, me, 0, blk_rs * N);
    t_fill(ag_in, DTB_DTYPE_BF16, T_REAL, seed + 2, me, 0, blk_ag);
    if (me == N - 1)
        t_fill(bc, DTB_DTYPE_FP32, T_REAL, seed + 3, me, 0, n_bc);
    else
        t_poison(bc, sizeof(float) * n_bc);

    comm_request req[4] = {{0}};
    int rc[8] = {0};
    rc[0] = comm_iallreduce(t->comm, ar, n_ar, DTB_DTYPE_FP32, COMM_SUM, &req[0]);
    rc[1] = comm_ireduce_scatter(t->comm, rs_in, rs_out, blk_rs, DTB_DTYPE_FP64, COMM_SUM,
                                 &req[1]);
    rc[2] = comm_iallgather(t->comm, ag_in, ag_out, blk_ag, DTB_DTYPE_BF16, &req[2]);
    rc[3] = comm_ibroadcast(t->comm, bc, n_bc, DTB_DTYPE_FP32, N - 1, &req[3]);
    for (int i = 0; i < 4; i++)
        T_CHECK(t, rc[i] == 0 && req[i].active, "issue %d failed: %s", i, comm_error(t->comm));
    rc[4] = t_complete(t, &req[3], 1);
    rc[5] = t_complete(t, &req[2], 0);
    rc[6] = t_complete(t, &req[1], 0);
    rc[7] = t_complete(t, &req[0], 1);
    for (int i = 4; i < 8; i++)
        T_CHECK(t, rc[i] == 0, "completion %d failed: %s", i, comm_error(t->comm));
    for (int i = 0; i < 4; i++)
        T_CHECK(t, !req[i].active, "request %d still active", i);
    t_expect(t, DTB_COLL_ALLREDUCE, 4 * (uint64_t)n_ar);
    t_expect(t, DTB_COLL_REDUCE_SCATTER, 8 * (uint64_t)(blk_rs * N));
    t_expect(t, DTB_COLL_ALLGATHER, 2 * (uint64_t)(blk_ag * N));
    t_expect(t, DTB_COLL_BROADCAST, 4 * (uint64_t)n_bc);

    for (int64_t i = 0; i < n_ar; i++) {
        double want = 0;
        for (int r = 0; r < N; r++)
            want += t_value(DTB_DTYPE_FP32, T_INT, seed, r, i);
        T_CHECK(t, ar[i] == want, "allreduce element %lld: %g != %g", (long long)i, ar[i], want);
    }
    for (int64_t j = 0; j < blk_rs; j++) {
        double want = 0;
        for (int r = 0; r < N; r++)
            want += t_value(DTB_DTYPE_FP64, T_INT, seed + 1, r, me * blk_rs + j);
        T_CHECK(t, rs_out[j] == want, "reduce_scatter element %lld", (long long)j);
    }
    for (int r = 0; r < N; r++)
        for (int64_t j = 0; j < blk_ag; j++)
            T_CHECK(t, t_get(ag_out, DTB_DTYPE_BF16, r * blk_ag + j) ==
                           t_value(DTB_DTYPE_BF16, T_REAL, seed + 2, r, j),
                    "allgather rank %d element %lld", r, (long long)j);
    for (int64_t i = 0; i < n_bc; i++)
        T_CHECK(t, bc[i] == (float)t_value(DTB_DTYPE_FP32, T_REAL, seed + 3, N - 1, i),
                "broadcast element %lld", (long long)i);
    t_point(t, "four kinds of non-blocking collectives in flight at once, completed out of order");

    free(ar);
    free(rs_in);
    free(rs_out);
    free(ag_in);
    free(ag_out);
    free(bc);
}

void test_request_states(tctx *t)
{
    comm_request idle = {0};
    int done = 0;
    T_CHECK(t, comm_wait(t->comm, &idle) == 0, "wait on an inactive request failed");
    T_CHECK(t, comm_test(t->comm, &idle, &done) == 0 && done == 1,
            "test on an inactive request: not done");
    T_CHECK(t, comm_wait(t->comm, NULL) != 0, "wait on NULL accepted");
    T_CHECK(t, comm_test(t->comm, &idle, NULL) != 0, "test with NULL done accepted");

    /* A second issue on an active request is refused and leaves the first
     * one intact; it completes normally afterwards. */
    float x[3] = {1.0f, 2.0f, (float)t->rank};
    float y[3] = {0};
    comm_request req = {0};
    int rc = comm_iallreduce(t->comm, x, 3, DTB_DTYPE_FP32, COMM_SUM, &req);
    T_CHECK(t, rc == 0, "iallreduce: %s", comm_error(t->comm));
    if (rc == 0)
        t_expect(t, DTB_COLL_ALLREDUCE, 12);
    MPI_Request saved = req.mpi;
    T_CHECK(t, comm_iallreduce(t->comm, y, 3, DTB_DTYPE_FP32, COMM_SUM, &req) != 0,
            "issue on an active request accepted");
    T_CHECK(t, strstr(comm_error(t->comm), "active") != NULL, "message does not say why: %s",
            comm_error(t->comm));
    T_CHECK(t, req.active && req.mpi == saved, "refused issue clobbered the active request");
    T_CHECK(t, comm_iallreduce(t->comm, x, 3, DTB_DTYPE_FP32, COMM_SUM, NULL) != 0,
            "NULL request accepted");
    T_CHECK(t, comm_wait(t->comm, &req) == 0, "wait: %s", comm_error(t->comm));
    T_CHECK(t, !req.active, "request active after wait");
    T_CHECK(t, comm_wait(t->comm, &req) == 0, "second wait is not a no-op");
    double n = t->size;
    T_CHECK(t, x[0] == n && x[1] == 2 * n && x[2] == n * (n - 1) / 2, "iallreduce result wrong");
    t_point(t, "request states: inactive wait/test, active request never overwritten");
}
