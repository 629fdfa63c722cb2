/*
 * The communicator the reference implementations use: MPI collectives over
 * host memory (NCCL over device memory comes with the CUDA backend), each
 * call counted per kind of collective, with its size S as nccl-tests states
 * it (see dtb_counters in dtbench/plugin.h). In-place forms only where MPI
 * has them; every MPI error becomes a message and a non-zero return.
 *
 * A communicator of one rank still performs each operation (a local copy at
 * most) and counts it: whether a world of one issues collectives is the
 * implementation's decision, and the counters show it honestly.
 *
 * Counts are int64 here but MPI takes int: a count or block above INT_MAX is
 * refused with a message (no chunking), as are negative counts, a NULL buffer
 * with a non-zero count, a root outside [0, N), COMM_MAX on bf16, and buffers
 * that overlap other than in the documented in-place forms. A refused or
 * failed call is not counted. bf16 values are raw bits in uint16_t.
 */
#ifndef DTB_IMPL_COMM_H
#define DTB_IMPL_COMM_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "dtbench/plugin.h"

typedef struct dtb_comm dtb_comm;

typedef enum comm_op { COMM_SUM = 0, COMM_MAX = 1 } comm_op;

/* A non-blocking operation in flight. Zero-initialise before first use. */
typedef struct comm_request {
    MPI_Request mpi;
    int active;
} comm_request;

/* Duplicates the MPI communicator given as a Fortran handle (the run spec's
 * mpi_comm_fortran), so the plugin's traffic never mixes with the harness's. */
int comm_create(int64_t mpi_comm_fortran, dtb_comm **out, char *err, size_t err_len);
void comm_destroy(dtb_comm *comm);

int comm_rank(const dtb_comm *comm);
int comm_size(const dtb_comm *comm);
/* Last error message ("" if none). */
const char *comm_error(const dtb_comm *comm);
/* Copies of the counters since create. */
void comm_counters(const dtb_comm *comm, dtb_counters *out);
/* Bytes of one element of a dtype (fp32 4, bf16 2, fp64 8). */
size_t comm_dtype_size(dtb_dtype dtype);

/* In place: buf[0..count) = op over ranks. bf16 sums round once per
 * pairwise addition (to nearest even); COMM_MAX is not defined for bf16. */
int comm_allreduce(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, comm_op op);
int comm_iallreduce(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, comm_op op,
                    comm_request *req);

/* send holds N blocks of `block` elements; rank r receives the op over ranks
 * of block r into recv. S = N*block elements. In place when send == recv:
 * the N blocks are read from recv and the result lands at its start. */
int comm_reduce_scatter(dtb_comm *comm, const void *send, void *recv, int64_t block,
                        dtb_dtype dtype, comm_op op);
int comm_ireduce_scatter(dtb_comm *comm, const void *send, void *recv, int64_t block,
                         dtb_dtype dtype, comm_op op, comm_request *req);

/* Each rank contributes `block` elements from send; recv gets N blocks in rank
 * order. send may be recv + rank*block (in place). S = N*block elements. */
int comm_allgather(dtb_comm *comm, const void *send, void *recv, int64_t block,
                   dtb_dtype dtype);
int comm_iallgather(dtb_comm *comm, const void *send, void *recv, int64_t block,
                    dtb_dtype dtype, comm_request *req);

/* buf[0..count) from root to every rank. */
int comm_broadcast(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, int root);
int comm_ibroadcast(dtb_comm *comm, void *buf, int64_t count, dtb_dtype dtype, int root,
                    comm_request *req);

int comm_barrier(dtb_comm *comm);

/* Completes req (no-op if inactive). */
int comm_wait(dtb_comm *comm, comm_request *req);
/* *done = 1 if req completed (then it is inactive); drives MPI progress. */
int comm_test(dtb_comm *comm, comm_request *req, int *done);

/* bf16 helpers, raw bits in uint16_t (the arithmetic of the bf16 sum op). */
float comm_bf16_to_float(uint16_t h);
/* Round to nearest, ties to even; NaN stays NaN (quiet), overflow gives inf. */
uint16_t comm_float_to_bf16(float f);
/* a + b: widen to fp32, add, round once to bf16. fp32's 24 bits are more than
 * 2*8+1, so this double rounding equals a correctly rounded bf16 add. */
uint16_t comm_bf16_add(uint16_t a, uint16_t b);

/* Bus bytes of a collective of size S bytes on n ranks (nccl-tests factors:
 * allreduce 2(n-1)/n, reduce-scatter and allgather (n-1)/n, others 1). */
double comm_bus_bytes(dtb_collective kind, double size_bytes, int n);

#endif
