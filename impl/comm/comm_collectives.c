/*
 * The collectives: argument checks, the MPI call, and the counter update
 * (only once the call was issued successfully; non-blocking calls count when
 * issued). S, the size nccl-tests gives a collective, is counted in bytes:
 * allreduce and broadcast the buffer, reduce-scatter and allgather N*block.
 */
#include <limits.h>
#include <stdint.h>

#include "comm_internal.h"

/* MPI datatype and op for (dtype, op); need_op = 0 for data movement only. */
static int resolve(dtb_comm *comm, const char *fn, dtb_dtype dtype, comm_op op, int need_op,
                   MPI_Datatype *type, MPI_Op *mpi_op)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: *type = MPI_FLOAT; break;
    case DTB_DTYPE_FP64: *type = MPI_DOUBLE; break;
    case DTB_DTYPE_BF16: *type = comm->bf16_type; break;
    default: return comm_fail(comm, "%s: unknown dtype %d", fn, (int)dtype);
    }
    if (!need_op)
        return 0;
    switch (op) {
    case COMM_SUM: *mpi_op = dtype == DTB_DTYPE_BF16 ? comm->bf16_sum : MPI_SUM; return 0;
    case COMM_MAX:
        if (dtype == DTB_DTYPE_BF16)
            return comm_fail(comm, "%s: COMM_MAX is not supported for bf16 (only COMM_SUM)", fn);
        *mpi_op = MPI_MAX;
        return 0;
    }
    return comm_fail(comm, "%s: unknown op %d", fn, (int)op);
}

/* count in [0, INT_MAX], and a buffer when count > 0. */
static int check_count(dtb_comm *comm, const char *fn, const char *what, int64_t count,
                       const void *buf)
{
    if (count < 0)
        return comm_fail(comm, "%s: %s %lld is negative", fn, what, (long long)count);
    if (count > INT_MAX)
        return comm_fail(comm,
                         "%s: %s %lld exceeds INT_MAX (%d), the largest count MPI takes; "
                         "split the call",
                         fn, what, (long long)count, INT_MAX);
    if (count > 0 && buf == NULL)
        return comm_fail(comm, "%s: NULL buffer with %s %lld", fn, what, (long long)count);
    return 0;
}

/* N*block elements of esize bytes must be addressable. */
static int check_total(dtb_comm *comm, const char *fn, int64_t block, size_t esize)
{
    if ((uint64_t)block * (uint64_t)comm->size > (uint64_t)PTRDIFF_MAX / esize)
        return comm_fail(comm, "%s: N*block = %d*%lld elements overflow the address space", fn,
                         comm->size, (long long)block);
    return 0;
}

static int check_root(dtb_comm *comm, const char *fn, int root)
{
    if (root < 0 || root >= comm->size)
        return comm_fail(comm, "%s: root %d is outside [0, %d)", fn, root, comm->size);
    return 0;
}

/* A request must exist and not be in flight (its handle would be lost). */
static int check_request(dtb_comm *comm, const char *fn, const comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "%s: request is NULL", fn);
    if (req->active)
        return comm_fail(comm, "%s: request is still active; complete it with comm_wait first",
                         fn);
    return 0;
}

/* Do [a, a+na) and [b, b+nb) share a byte? */
static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

static void count_call(dtb_comm *comm, dtb_collective kind, uint64_t bytes)
{
    comm->counters.calls[kind] += 1;
    comm->counters.bytes[kind] += bytes;
}

static void start_request(comm_request *req)
{
    req->active = 1;
}

/* ---- allreduce ---------------------------------------------------------- */

static int allreduce(dtb_comm *comm, const char *fn, void *buf, int64_t count, dtb_dtype dtype,
                     comm_op op, comm_request *req)
{
    MPI_Datatype type = MPI_DATATYPE_NULL;
    MPI_Op mpi_op = MPI_OP_NULL;
    if (resolve(comm, fn, dtype, op, 1, &type, &mpi_op) ||
        check_count(comm, fn, "count", count, buf) || (req && check_request(comm, fn, req)))
        return -1;
    int rc = req ? MPI_Iallreduce(MPI_IN_PLACE, buf, (int)count, type, mpi_op, comm->mpi,
                                  &req->mpi)
                 : MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, type, mpi_op, comm->mpi);
    if (comm_check_mpi(comm, rc, fn))
        return -1;
    if (req)
        start_request(req);
    count_call(comm, DTB_COLL_ALLREDUCE, (uint64_t)count * comm_dtype_size(dtype));
    return 0;
}

int comm_allreduce(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, comm_op op)
{
    return allreduce(comm, "comm_allreduce", buf, count, dtype, op, NULL);
}

int comm_iallreduce(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, comm_op op,
                    comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "comm_iallreduce: request is NULL");
    return allreduce(comm, "comm_iallreduce", buf, count, dtype, op, req);
}

/* ---- reduce-scatter ----------------------------------------------------- */

static int reduce_scatter(dtb_comm *comm, const char *fn, const void *send, void *recv,
                          int64_t block, dtb_dtype dtype, comm_op op, comm_request *req)
{
    MPI_Datatype type = MPI_DATATYPE_NULL;
    MPI_Op mpi_op = MPI_OP_NULL;
    if (resolve(comm, fn, dtype, op, 1, &type, &mpi_op) ||
        check_count(comm, fn, "block", block, send) ||
        check_count(comm, fn, "block", block, recv) ||
        check_total(comm, fn, block, comm_dtype_size(dtype)) ||
        (req && check_request(comm, fn, req)))
        return -1;
    size_t esize = comm_dtype_size(dtype);
    size_t total = (size_t)block * (size_t)comm->size * esize;
    /* In place (send == recv): recv holds all N blocks and gets this rank's
     * reduced block at its start. */
    const void *src = send;
    if (send == recv)
        src = MPI_IN_PLACE;
    else if (overlaps(send, total, recv, (size_t)block * esize))
        return comm_fail(comm, "%s: send and recv overlap but are not the same (the in-place "
                               "form)", fn);
    int rc = req ? MPI_Ireduce_scatter_block(src, recv, (int)block, type, mpi_op, comm->mpi,
                                             &req->mpi)
                 : MPI_Reduce_scatter_block(src, recv, (int)block, type, mpi_op, comm->mpi);
    if (comm_check_mpi(comm, rc, fn))
        return -1;
    if (req)
        start_request(req);
    count_call(comm, DTB_COLL_REDUCE_SCATTER, (uint64_t)total);
    return 0;
}

int comm_reduce_scatter(dtb_comm *comm, const void *send, void *recv, int64_t block,
                        dtb_dtype dtype, comm_op op)
{
    return reduce_scatter(comm, "comm_reduce_scatter", send, recv, block, dtype, op, NULL);
}

int comm_ireduce_scatter(dtb_comm *comm, const void *send, void *recv, int64_t block,
                         dtb_dtype dtype, comm_op op, comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "comm_ireduce_scatter: request is NULL");
    return reduce_scatter(comm, "comm_ireduce_scatter", send, recv, block, dtype, op, req);
}

/* ---- allgather ---------------------------------------------------------- */

static int allgather(dtb_comm *comm, const char *fn, const void *send, void *recv,
                     int64_t block, dtb_dtype dtype, comm_request *req)
{
    MPI_Datatype type = MPI_DATATYPE_NULL;
    if (resolve(comm, fn, dtype, COMM_SUM, 0, &type, NULL) ||
        check_count(comm, fn, "block", block, send) ||
        check_count(comm, fn, "block", block, recv) ||
        check_total(comm, fn, block, comm_dtype_size(dtype)) ||
        (req && check_request(comm, fn, req)))
        return -1;
    size_t esize = comm_dtype_size(dtype);
    size_t total = (size_t)block * (size_t)comm->size * esize;
    /* In place: this rank's block already sits at its slot of recv. */
    const void *src = send;
    if (recv != NULL && send == (const char *)recv + (size_t)comm->rank * (size_t)block * esize)
        src = MPI_IN_PLACE;
    else if (overlaps(send, (size_t)block * esize, recv, total))
        return comm_fail(comm,
                         "%s: send overlaps recv but is not recv + rank*block (the in-place "
                         "form)",
                         fn);
    int rc = req ? MPI_Iallgather(src, (int)block, type, recv, (int)block, type, comm->mpi,
                                  &req->mpi)
                 : MPI_Allgather(src, (int)block, type, recv, (int)block, type, comm->mpi);
    if (comm_check_mpi(comm, rc, fn))
        return -1;
    if (req)
        start_request(req);
    count_call(comm, DTB_COLL_ALLGATHER, (uint64_t)total);
    return 0;
}

int comm_allgather(dtb_comm *comm, const void *send, void *recv, int64_t block,
                   dtb_dtype dtype)
{
    return allgather(comm, "comm_allgather", send, recv, block, dtype, NULL);
}

int comm_iallgather(dtb_comm *comm, const void *send, void *recv, int64_t block,
                    dtb_dtype dtype, comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "comm_iallgather: request is NULL");
    return allgather(comm, "comm_iallgather", send, recv, block, dtype, req);
}

/* ---- broadcast ---------------------------------------------------------- */

static int broadcast(dtb_comm *comm, const char *fn, void *buf, int64_t count, dtb_dtype dtype,
                     int root, comm_request *req)
{
    MPI_Datatype type = MPI_DATATYPE_NULL;
    if (resolve(comm, fn, dtype, COMM_SUM, 0, &type, NULL) ||
        check_count(comm, fn, "count", count, buf) || check_root(comm, fn, root) ||
        (req && check_request(comm, fn, req)))
        return -1;
    int rc = req ? MPI_Ibcast(buf, (int)count, type, root, comm->mpi, &req->mpi)
                 : MPI_Bcast(buf, (int)count, type, root, comm->mpi);
    if (comm_check_mpi(comm, rc, fn))
        return -1;
    if (req)
        start_request(req);
    count_call(comm, DTB_COLL_BROADCAST, (uint64_t)count * comm_dtype_size(dtype));
    return 0;
}

int comm_broadcast(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, int root)
{
    return broadcast(comm, "comm_broadcast", buf, count, dtype, root, NULL);
}

int comm_ibroadcast(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, int root,
                    comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "comm_ibroadcast: request is NULL");
    return broadcast(comm, "comm_ibroadcast", buf, count, dtype, root, req);
}

/* ---- barrier and completion -------------------------------------------- */

int comm_barrier(dtb_comm *comm)
{
    if (comm_check_mpi(comm, MPI_Barrier(comm->mpi), "comm_barrier"))
        return -1;
    count_call(comm, DTB_COLL_BARRIER, 0);
    return 0;
}

/* Open MPI frees a non-persistent request even when its completion reports
 * an error, so the handle is dropped either way. */
int comm_wait(dtb_comm *comm, comm_request *req)
{
    if (req == NULL)
        return comm_fail(comm, "comm_wait: request is NULL");
    if (!req->active)
        return 0;
    int rc = MPI_Wait(&req->mpi, MPI_STATUS_IGNORE);
    req->active = 0;
    req->mpi = MPI_REQUEST_NULL;
    return comm_check_mpi(comm, rc, "comm_wait");
}

int comm_test(dtb_comm *comm, comm_request *req, int *done)
{
    if (req == NULL || done == NULL)
        return comm_fail(comm, "comm_test: request or done is NULL");
    *done = 1;
    if (!req->active)
        return 0;
    int flag = 0;
    int rc = MPI_Test(&req->mpi, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        req->active = 0;
        req->mpi = MPI_REQUEST_NULL;
        return comm_check_mpi(comm, rc, "comm_test");
    }
    *done = flag;
    if (flag)
        req->active = 0; /* MPI set req->mpi to MPI_REQUEST_NULL */
    return 0;
}
