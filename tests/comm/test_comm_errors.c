/*
 * Error paths: every refused call returns non-zero with a message naming the
 * problem, issues nothing and counts nothing (the final counter check in
 * main proves the latter), and the communicator keeps working afterwards.
 */
#include <limits.h>
#include <string.h>

#include "comm_test_util.h"

static void expect_refused(tctx *t, int rc, const char *keyword, const char *what)
{
    T_CHECK(t, rc != 0, "%s: accepted", what);
    T_CHECK(t, strstr(comm_error(t->comm), keyword) != NULL,
            "%s: message \"%s\" does not mention \"%s\"", what, comm_error(t->comm), keyword);
}

static void test_create_errors(tctx *t)
{
    char err[256] = "";
    dtb_comm *c = NULL;
    T_CHECK(t, comm_create(MPI_Comm_c2f(MPI_COMM_WORLD), NULL, err, sizeof err) != 0 &&
                   err[0] != '\0',
            "comm_create with out = NULL accepted");
    err[0] = '\0';
    T_CHECK(t, comm_create((int64_t)1 << 40, &c, err, sizeof err) != 0 && c == NULL &&
                   strstr(err, "out of range") != NULL,
            "comm_create with an out-of-range handle: rc 0 or message \"%s\"", err);
#if defined(OPEN_MPI) && OPEN_MPI
    err[0] = '\0';
    T_CHECK(t, comm_create(12345, &c, err, sizeof err) != 0 && c == NULL &&
                   strstr(err, "not a valid") != NULL,
            "comm_create with a handle naming no communicator: message \"%s\"", err);
#endif
    T_CHECK(t, comm_create((int64_t)1 << 40, &c, NULL, 0) != 0, "NULL err buffer not tolerated");
    comm_destroy(NULL); /* a no-op */
}

void test_error_paths(tctx *t)
{
    const int N = t->size;
    float small[16] = {0};
    float big[64] = {0};
    uint16_t half[4] = {0};
    const int64_t too_many = (int64_t)INT_MAX + 1;

    test_create_errors(t);
    t_point(t, "comm_create refuses a NULL out and invalid handles with a message");

    expect_refused(t, comm_allreduce(t->comm, small, -1, DTB_DTYPE_FP32, COMM_SUM), "negative",
                   "allreduce count -1");
    expect_refused(t, comm_allreduce(t->comm, small, too_many, DTB_DTYPE_FP32, COMM_SUM),
                   "INT_MAX", "allreduce count INT_MAX+1");
    expect_refused(t, comm_allreduce(t->comm, NULL, 5, DTB_DTYPE_FP32, COMM_SUM), "NULL",
                   "allreduce NULL buffer");
    expect_refused(t, comm_allreduce(t->comm, half, 4, DTB_DTYPE_BF16, COMM_MAX), "COMM_MAX",
                   "allreduce bf16 max");
    expect_refused(t, comm_allreduce(t->comm, small, 4, (dtb_dtype)7, COMM_SUM), "dtype",
                   "allreduce unknown dtype");
    expect_refused(t, comm_allreduce(t->comm, small, 4, DTB_DTYPE_FP32, (comm_op)9), "op",
                   "allreduce unknown op");
    comm_request req = {0};
    expect_refused(t, comm_iallreduce(t->comm, small, -3, DTB_DTYPE_FP64, COMM_SUM, &req),
                   "negative", "iallreduce count -3");
    T_CHECK(t, !req.active, "refused iallreduce left the request active");
    t_point(t, "allreduce refuses bad counts, NULL buffers, bf16 max, unknown dtype/op");

    expect_refused(t, comm_reduce_scatter(t->comm, big, small, -2, DTB_DTYPE_FP32, COMM_SUM),
                   "negative", "reduce_scatter block -2");
    expect_refused(t, comm_reduce_scatter(t->comm, big, small, too_many, DTB_DTYPE_FP32,
                                          COMM_SUM),
                   "INT_MAX", "reduce_scatter block INT_MAX+1");
    expect_refused(t, comm_reduce_scatter(t->comm, big, big + 1, 2, DTB_DTYPE_FP32, COMM_SUM),
                   "overlap", "reduce_scatter overlapping send/recv");
    expect_refused(t, comm_ireduce_scatter(t->comm, half, half, 1, DTB_DTYPE_BF16, COMM_MAX,
                                           &req),
                   "COMM_MAX", "ireduce_scatter bf16 max");
    T_CHECK(t, !req.active, "refused ireduce_scatter left the request active");
    t_point(t, "reduce_scatter refuses bad blocks, overlap, bf16 max");

    expect_refused(t, comm_allgather(t->comm, small, big, -1, DTB_DTYPE_FP32), "negative",
                   "allgather block -1");
    /* One element past this rank's slot is never the in-place address. */
    expect_refused(t, comm_allgather(t->comm, big + 1, big, 4, DTB_DTYPE_FP32), "overlap",
                   "allgather send overlapping recv, not in place");
    expect_refused(t, comm_iallgather(t->comm, small, big, too_many, DTB_DTYPE_FP32, &req),
                   "INT_MAX", "iallgather block INT_MAX+1");
    expect_refused(t, comm_allgather(t->comm, small, NULL, 2, DTB_DTYPE_FP32), "NULL",
                   "allgather NULL recv");
    t_point(t, "allgather refuses bad blocks, NULL recv, overlap that is not in place");

    expect_refused(t, comm_broadcast(t->comm, small, 4, DTB_DTYPE_FP32, -1), "root",
                   "broadcast root -1");
    expect_refused(t, comm_broadcast(t->comm, small, 4, DTB_DTYPE_FP32, N), "root",
                   "broadcast root N");
    expect_refused(t, comm_broadcast(t->comm, small, -7, DTB_DTYPE_FP32, 0), "negative",
                   "broadcast count -7");
    expect_refused(t, comm_ibroadcast(t->comm, small, 4, DTB_DTYPE_FP32, N + 3, &req), "root",
                   "ibroadcast root N+3");
    T_CHECK(t, !req.active, "refused ibroadcast left the request active");
    t_point(t, "broadcast refuses a root outside [0, N) and negative counts");

    /* Still usable after all those refusals. */
    for (int i = 0; i < 16; i++)
        small[i] = (float)(i + 1);
    int rc = comm_allreduce(t->comm, small, 16, DTB_DTYPE_FP32, COMM_SUM);
    T_CHECK(t, rc == 0, "allreduce after errors: %s", comm_error(t->comm));
    if (rc == 0)
        t_expect(t, DTB_COLL_ALLREDUCE, 64);
    for (int i = 0; i < 16; i++)
        T_CHECK(t, small[i] == (float)((i + 1) * N), "allreduce after errors: element %d", i);
    t_point(t, "communicator works after refused calls");
}
