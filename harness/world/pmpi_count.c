/*
 * MPI profiling-interface wrappers that count a plugin's traffic
 * (pmpi_count.h). Each wrapper has the exact prototype of Open MPI's mpi.h,
 * calls its PMPI_ twin and, when counting is on and the call succeeded (a
 * non-blocking one: was issued), adds one call and its size S in bytes to
 * the dtb_counters kind below. S is nccl-tests' size, the convention of
 * dtb_counters in plugin.h, so the harness's measurement and a plugin's
 * report are comparable term by term:
 *
 *   allreduce, bcast, reduce       count * size(type)        (also MPI_IN_PLACE)
 *   reduce_scatter_block           N * recvcount * size(type)     (the whole input)
 *   reduce_scatter                 sum(recvcounts) * size(type)   (the whole input)
 *   allgather                      N * recvcount * size(recvtype) (the whole output;
 *                                  recv side, so MPI_IN_PLACE needs no send side)
 *   allgatherv                     sum(recvcounts) * size(recvtype)
 *   barrier                        0 bytes, calls only
 *   p2p: send, ssend, rsend, bsend and their i- forms, sendrecv, sendrecv_replace
 *                                  count * size(type) sent; nothing to MPI_PROC_NULL
 *   p2p: alltoall(v)               the bytes sent to the other ranks:
 *                                  (N-1) * sendcount * size(sendtype), sum over
 *                                  i != rank of sendcounts[i]; MPI_IN_PLACE: the
 *                                  recv side. With bus factor 1 this equals
 *                                  nccl-tests' alltoall bus bytes S (N-1)/N.
 *   p2p: gather(v)                 a non-root rank its block; the root nothing
 *   p2p: scatter(v)                the root the blocks of the other ranks
 *
 * N is MPI_Comm_size. Counts are summed in 64 bits; a negative count adds
 * nothing. On an intercommunicator a collective whose size involves N
 * (reduce-scatter, allgather, alltoall, scatter) counts its call but no
 * bytes and makes the counters inexact (pmpi_count_read returns -1). Not counted (see
 * docs/verification.md): persistent requests (MPI_Send_init, MPI_Start),
 * one-sided communication, neighbourhood collectives, MPI_Alltoallw,
 * scan/exscan, and calls made through the Fortran bindings.
 *
 * Global mutable state: the interposition itself requires it. A wrapper
 * has MPI's signature, with no context to carry counters in, and a plugin
 * calls it from code that knows nothing of dtbench, so the on/off switch
 * and the counters are file-scope atomics, shared by every thread.
 *
 * Where the wrappers live: in dtb_world, a static library, next to the
 * counting API. worker.o refers to pmpi_count_on and friends, so the linker
 * takes this whole object into dtbench, and its MPI_* definitions then take
 * precedence over libmpi's (weak aliases of PMPI_*): the executable's own
 * calls bind here at link time. A plugin's calls bind here only because the
 * dtbench target exports MPI_* into its dynamic symbol table
 * (-Wl,--export-dynamic-symbol=MPI_*): the executable comes first in the
 * global lookup scope that dlopen'd objects (RTLD_LOCAL or not) resolve
 * their undefined symbols in, ahead of libmpi.
 */
#include "pmpi_count.h"

#include <mpi.h>
#include <stdatomic.h>
#include <stdint.h>

#ifndef DTB_PMPI_COUNT
#define DTB_PMPI_COUNT 1
#endif

static atomic_int counting;            /* 1 while on */
static atomic_int inexact;             /* 1 once a size could not be determined */
static _Atomic uint64_t calls_of[DTB_COLL_KIND_COUNT];
static _Atomic uint64_t bytes_of[DTB_COLL_KIND_COUNT];

int pmpi_count_available(void)
{
    return DTB_PMPI_COUNT;
}

void pmpi_count_reset(void)
{
    atomic_store(&counting, 0);
    atomic_store(&inexact, 0);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        atomic_store(&calls_of[k], 0);
        atomic_store(&bytes_of[k], 0);
    }
}

void pmpi_count_on(void)
{
    atomic_store_explicit(&counting, 1, memory_order_release);
}

void pmpi_count_off(void)
{
    atomic_store_explicit(&counting, 0, memory_order_release);
}

int pmpi_count_read(dtb_counters *out)
{
    *out = (dtb_counters){.struct_size = sizeof *out};
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        out->calls[k] = atomic_load(&calls_of[k]);
        out->bytes[k] = atomic_load(&bytes_of[k]);
    }
    return DTB_PMPI_COUNT && !atomic_load(&inexact) ? 0 : -1;
}

#if DTB_PMPI_COUNT

/* ---- counting helpers (used only while counting is on) ------------------- */

static inline int on(void)
{
    return atomic_load_explicit(&counting, memory_order_relaxed);
}

static void add(dtb_collective kind, uint64_t bytes)
{
    atomic_fetch_add_explicit(&calls_of[kind], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes_of[kind], bytes, memory_order_relaxed);
}

static void mark_inexact(void)
{
    atomic_store_explicit(&inexact, 1, memory_order_relaxed);
}

/* count elements of type t, in bytes; 0 for count <= 0. */
static uint64_t typed(int64_t count, MPI_Datatype t)
{
    if (count <= 0)
        return 0;
    MPI_Count size = 0;
    if (PMPI_Type_size_x(t, &size) != MPI_SUCCESS || size < 0) {
        mark_inexact();
        return 0;
    }
    return (uint64_t)count * (uint64_t)size;
}

/* N of an intra-communicator. An intercommunicator's collectives take
 * arrays as long as the remote group and sizes this file does not model:
 * they count 0 bytes and mark the counters inexact (0 here), so no array is
 * ever read past its end. */
static int size_of(MPI_Comm c)
{
    int n = 0, inter = 0;
    if (PMPI_Comm_test_inter(c, &inter) != MPI_SUCCESS || inter ||
        PMPI_Comm_size(c, &n) != MPI_SUCCESS) {
        mark_inexact();
        return 0;
    }
    return n;
}

static int rank_of(MPI_Comm c)
{
    int r = -1;
    if (PMPI_Comm_rank(c, &r) != MPI_SUCCESS)
        mark_inexact();
    return r;
}

/* sum of counts[i] over the N ranks of c, except rank `skip` (-1: none). */
static int64_t sum_counts(const int counts[], MPI_Comm c, int skip)
{
    int n = size_of(c);
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        if (i != skip && counts[i] > 0)
            s += counts[i];
    return s;
}

/* ---- the sizes, one function per convention ------------------------------- */

static uint64_t s_whole_blocks(int block, MPI_Datatype t, MPI_Comm c)
{
    return typed((int64_t)size_of(c) * block, t);
}

static uint64_t s_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
                           int recvcount, MPI_Datatype recvtype, MPI_Comm c)
{
    int others = size_of(c) - 1;
    if (sendbuf == MPI_IN_PLACE)
        return typed((int64_t)others * recvcount, recvtype);
    return typed((int64_t)others * sendcount, sendtype);
}

static uint64_t s_alltoallv(const void *sendbuf, const int sendcounts[], MPI_Datatype sendtype,
                            const int recvcounts[], MPI_Datatype recvtype, MPI_Comm c)
{
    int me = rank_of(c);
    if (sendbuf == MPI_IN_PLACE)
        return typed(sum_counts(recvcounts, c, me), recvtype);
    return typed(sum_counts(sendcounts, c, me), sendtype);
}

/* Gather: every rank but the root sends its block to the root. */
static uint64_t s_gather(int sendcount, MPI_Datatype sendtype, int root, MPI_Comm c)
{
    /* root < 0: MPI_ROOT or MPI_PROC_NULL of an intercommunicator's root group */
    return root < 0 || rank_of(c) == root ? 0 : typed(sendcount, sendtype);
}

/* Scatter: the root sends each other rank its block. */
static uint64_t s_scatter(int sendcount, MPI_Datatype sendtype, int root, MPI_Comm c)
{
    return rank_of(c) == root ? typed((int64_t)(size_of(c) - 1) * sendcount, sendtype) : 0;
}

static uint64_t s_scatterv(const int sendcounts[], MPI_Datatype sendtype, int root, MPI_Comm c)
{
    return rank_of(c) == root ? typed(sum_counts(sendcounts, c, root), sendtype) : 0;
}

/* A wrapper's body: S computed before the call (array arguments are valid
 * then), counted after it succeeded. `call` is the PMPI_ invocation. */
#define COUNTED(kind, size_expr, call)                                                    \
    do {                                                                                  \
        if (!on())                                                                        \
            return call;                                                                  \
        uint64_t s_ = (size_expr);                                                        \
        int rc_ = call;                                                                   \
        if (rc_ == MPI_SUCCESS)                                                           \
            add(kind, s_);                                                                \
        return rc_;                                                                       \
    } while (0)

/* A send: nothing leaves for MPI_PROC_NULL, so nothing is counted. */
#define SENT(dest, size_expr, call)                                                       \
    do {                                                                                  \
        if ((dest) == MPI_PROC_NULL)                                                      \
            return call;                                                                  \
        COUNTED(DTB_COLL_P2P, size_expr, call);                                           \
    } while (0)

/* ---- allreduce, reduce-scatter, allgather, broadcast, reduce, barrier ------ */

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                  MPI_Op op, MPI_Comm comm)
{
    COUNTED(DTB_COLL_ALLREDUCE, typed(count, datatype),
            PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm));
}

int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                   MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_ALLREDUCE, typed(count, datatype),
            PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request));
}

int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
                             MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
    COUNTED(DTB_COLL_REDUCE_SCATTER, s_whole_blocks(recvcount, datatype, comm),
            PMPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm));
}

int MPI_Ireduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
                              MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                              MPI_Request *request)
{
    COUNTED(DTB_COLL_REDUCE_SCATTER, s_whole_blocks(recvcount, datatype, comm),
            PMPI_Ireduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm,
                                       request));
}

int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
                       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
    COUNTED(DTB_COLL_REDUCE_SCATTER, typed(sum_counts(recvcounts, comm, -1), datatype),
            PMPI_Reduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm));
}

int MPI_Ireduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
                        MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_REDUCE_SCATTER, typed(sum_counts(recvcounts, comm, -1), datatype),
            PMPI_Ireduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm, request));
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    COUNTED(DTB_COLL_ALLGATHER, s_whole_blocks(recvcount, recvtype, comm),
            PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm));
}

int MPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                   int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_ALLGATHER, s_whole_blocks(recvcount, recvtype, comm),
            PMPI_Iallgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm,
                            request));
}

int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                   const int recvcounts[], const int displs[], MPI_Datatype recvtype,
                   MPI_Comm comm)
{
    COUNTED(DTB_COLL_ALLGATHER, typed(sum_counts(recvcounts, comm, -1), recvtype),
            PMPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs,
                            recvtype, comm));
}

int MPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                    const int recvcounts[], const int displs[], MPI_Datatype recvtype,
                    MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_ALLGATHER, typed(sum_counts(recvcounts, comm, -1), recvtype),
            PMPI_Iallgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs,
                             recvtype, comm, request));
}

int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm)
{
    COUNTED(DTB_COLL_BROADCAST, typed(count, datatype),
            PMPI_Bcast(buffer, count, datatype, root, comm));
}

int MPI_Ibcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm,
               MPI_Request *request)
{
    COUNTED(DTB_COLL_BROADCAST, typed(count, datatype),
            PMPI_Ibcast(buffer, count, datatype, root, comm, request));
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
               int root, MPI_Comm comm)
{
    COUNTED(DTB_COLL_REDUCE, typed(count, datatype),
            PMPI_Reduce(sendbuf, recvbuf, count, datatype, op, root, comm));
}

int MPI_Ireduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                MPI_Op op, int root, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_REDUCE, typed(count, datatype),
            PMPI_Ireduce(sendbuf, recvbuf, count, datatype, op, root, comm, request));
}

int MPI_Barrier(MPI_Comm comm)
{
    COUNTED(DTB_COLL_BARRIER, 0, PMPI_Barrier(comm));
}

int MPI_Ibarrier(MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_BARRIER, 0, PMPI_Ibarrier(comm, request));
}

/* ---- point-to-point: the bytes this rank sends ------------------------------ */

int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
             MPI_Comm comm)
{
    SENT(dest, typed(count, datatype), PMPI_Send(buf, count, datatype, dest, tag, comm));
}

int MPI_Isend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
              MPI_Comm comm, MPI_Request *request)
{
    SENT(dest, typed(count, datatype),
         PMPI_Isend(buf, count, datatype, dest, tag, comm, request));
}

int MPI_Ssend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
              MPI_Comm comm)
{
    SENT(dest, typed(count, datatype), PMPI_Ssend(buf, count, datatype, dest, tag, comm));
}

int MPI_Issend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
               MPI_Comm comm, MPI_Request *request)
{
    SENT(dest, typed(count, datatype),
         PMPI_Issend(buf, count, datatype, dest, tag, comm, request));
}

int MPI_Rsend(const void *ibuf, int count, MPI_Datatype datatype, int dest, int tag,
              MPI_Comm comm)
{
    SENT(dest, typed(count, datatype), PMPI_Rsend(ibuf, count, datatype, dest, tag, comm));
}

int MPI_Irsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
               MPI_Comm comm, MPI_Request *request)
{
    SENT(dest, typed(count, datatype),
         PMPI_Irsend(buf, count, datatype, dest, tag, comm, request));
}

int MPI_Bsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
              MPI_Comm comm)
{
    SENT(dest, typed(count, datatype), PMPI_Bsend(buf, count, datatype, dest, tag, comm));
}

int MPI_Ibsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
               MPI_Comm comm, MPI_Request *request)
{
    SENT(dest, typed(count, datatype),
         PMPI_Ibsend(buf, count, datatype, dest, tag, comm, request));
}

int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest,
                 int sendtag, void *recvbuf, int recvcount, MPI_Datatype recvtype, int source,
                 int recvtag, MPI_Comm comm, MPI_Status *status)
{
    SENT(dest, typed(sendcount, sendtype),
         PMPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount,
                       recvtype, source, recvtag, comm, status));
}

int MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype datatype, int dest, int sendtag,
                         int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    SENT(dest, typed(count, datatype),
         PMPI_Sendrecv_replace(buf, count, datatype, dest, sendtag, source, recvtag, comm,
                               status));
}

/* ---- collectives that move blocks between ranks, counted as p2p ------------- */

int MPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_alltoall(sendbuf, sendcount, sendtype, recvcount, recvtype, comm),
            PMPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm));
}

int MPI_Ialltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_alltoall(sendbuf, sendcount, sendtype, recvcount, recvtype, comm),
            PMPI_Ialltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm,
                           request));
}

int MPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                  MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                  const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_alltoallv(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm),
            PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls,
                           recvtype, comm));
}

int MPI_Ialltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
                   MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_alltoallv(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm),
            PMPI_Ialltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts,
                            rdispls, recvtype, comm, request));
}

int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
               int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_gather(sendcount, sendtype, root, comm),
            PMPI_Gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root,
                        comm));
}

int MPI_Igather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
                MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_gather(sendcount, sendtype, root, comm),
            PMPI_Igather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root,
                         comm, request));
}

int MPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
                MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_gather(sendcount, sendtype, root, comm),
            PMPI_Gatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype,
                         root, comm));
}

int MPI_Igatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
                 MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_gather(sendcount, sendtype, root, comm),
            PMPI_Igatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype,
                          root, comm, request));
}

int MPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_scatter(sendcount, sendtype, root, comm),
            PMPI_Scatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root,
                         comm));
}

int MPI_Iscatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
                 MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_scatter(sendcount, sendtype, root, comm),
            PMPI_Iscatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root,
                          comm, request));
}

int MPI_Scatterv(const void *sendbuf, const int sendcounts[], const int displs[],
                 MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                 int root, MPI_Comm comm)
{
    COUNTED(DTB_COLL_P2P, s_scatterv(sendcounts, sendtype, root, comm),
            PMPI_Scatterv(sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype,
                          root, comm));
}

int MPI_Iscatterv(const void *sendbuf, const int sendcounts[], const int displs[],
                  MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                  int root, MPI_Comm comm, MPI_Request *request)
{
    COUNTED(DTB_COLL_P2P, s_scatterv(sendcounts, sendtype, root, comm),
            PMPI_Iscatterv(sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount,
                           recvtype, root, comm, request));
}

#endif /* DTB_PMPI_COUNT */
