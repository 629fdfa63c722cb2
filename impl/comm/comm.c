/*
 * Communicator life cycle, accessors, counters and error messages.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_internal.h"

int comm_fail(dtb_comm *comm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(comm->error, sizeof comm->error, fmt, ap);
    va_end(ap);
    return -1;
}

void comm_format_mpi_error(char *buf, size_t len, int rc, const char *what)
{
    char mpi_msg[MPI_MAX_ERROR_STRING];
    int mpi_len = 0;
    if (MPI_Error_string(rc, mpi_msg, &mpi_len) != MPI_SUCCESS)
        snprintf(mpi_msg, sizeof mpi_msg, "MPI error code %d", rc);
    if (buf != NULL && len > 0)
        snprintf(buf, len, "%s: %s", what, mpi_msg);
}

int comm_check_mpi(dtb_comm *comm, int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return 0;
    comm_format_mpi_error(comm->error, sizeof comm->error, rc, what);
    return -1;
}

static void set_err(char *err, size_t err_len, const char *msg)
{
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "%s", msg);
}

/* Frees what comm holds; each handle is freed only if it was created. */
static void comm_release(dtb_comm *comm)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
        if (comm->bf16_sum != MPI_OP_NULL)
            MPI_Op_free(&comm->bf16_sum);
        if (comm->bf16_type != MPI_DATATYPE_NULL)
            MPI_Type_free(&comm->bf16_type);
        if (comm->mpi != MPI_COMM_NULL)
            MPI_Comm_free(&comm->mpi);
    }
    free(comm);
}

int comm_create(int64_t mpi_comm_fortran, dtb_comm **out, char *err, size_t err_len)
{
    if (out == NULL) {
        set_err(err, err_len, "comm_create: out is NULL");
        return -1;
    }
    *out = NULL;
    if (err != NULL && err_len > 0)
        err[0] = '\0';

    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized) {
        set_err(err, err_len, "comm_create: MPI is not initialised (or already finalised)");
        return -1;
    }
    /* A Fortran handle is an MPI_Fint (a C int in Open MPI and MPICH). */
    if (mpi_comm_fortran < INT_MIN || mpi_comm_fortran > INT_MAX) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "comm_create: Fortran communicator handle %lld out of range",
                     (long long)mpi_comm_fortran);
        return -1;
    }
    MPI_Comm parent = MPI_Comm_f2c((MPI_Fint)mpi_comm_fortran);
#if defined(OPEN_MPI) && OPEN_MPI
    /* Open MPI's f2c returns a NULL pointer (not MPI_COMM_NULL) for a handle
     * that names no communicator, without calling an error handler. */
    if (parent == NULL) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len,
                     "comm_create: Fortran handle %lld is not a valid communicator handle",
                     (long long)mpi_comm_fortran);
        return -1;
    }
#endif
    if (parent == MPI_COMM_NULL) {
        set_err(err, err_len, "comm_create: the Fortran handle names MPI_COMM_NULL");
        return -1;
    }

    dtb_comm *comm = calloc(1, sizeof *comm);
    if (comm == NULL) {
        set_err(err, err_len, "comm_create: out of memory");
        return -1;
    }
    comm->mpi = MPI_COMM_NULL;
    comm->bf16_type = MPI_DATATYPE_NULL;
    comm->bf16_sum = MPI_OP_NULL;

    /* The dup inherits the parent's error handler (usually fatal) until we
     * set ours, so a failing dup may still abort: nothing we can do there. */
    int rc = MPI_Comm_dup(parent, &comm->mpi);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_set_errhandler(comm->mpi, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_rank(comm->mpi, &comm->rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(comm->mpi, &comm->size);
    if (rc != MPI_SUCCESS) {
        comm_format_mpi_error(err, err_len, rc, "comm_create: duplicating the communicator");
        comm_release(comm);
        return -1;
    }

    /* bf16: two opaque bytes, reduced by our own commutative op. */
    rc = MPI_Type_contiguous(2, MPI_BYTE, &comm->bf16_type);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(&comm->bf16_type);
    if (rc == MPI_SUCCESS)
        rc = MPI_Op_create(comm_bf16_sum_op, 1, &comm->bf16_sum);
    if (rc != MPI_SUCCESS) {
        comm_format_mpi_error(err, err_len, rc, "comm_create: creating the bf16 type and sum op");
        comm_release(comm);
        return -1;
    }

    *out = comm;
    return 0;
}

/* Not collective in our use: MPI_Comm_free of an intra-communicator only marks
 * it for deallocation once its pending operations complete. Requests still
 * active must be completed before this call. */
void comm_destroy(dtb_comm *comm)
{
    if (comm != NULL)
        comm_release(comm);
}

int comm_rank(const dtb_comm *comm) { return comm->rank; }

int comm_size(const dtb_comm *comm) { return comm->size; }

const char *comm_error(const dtb_comm *comm) { return comm->error; }

void comm_counters(const dtb_comm *comm, dtb_counters *out) { *out = comm->counters; }

size_t comm_dtype_size(dtb_dtype dtype)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: return 4;
    case DTB_DTYPE_BF16: return 2;
    case DTB_DTYPE_FP64: return 8;
    }
    return 0; /* not a dtype */
}

double comm_bus_bytes(dtb_collective kind, double size_bytes, int n)
{
    if (n < 1)
        return 0.0;
    switch (kind) {
    case DTB_COLL_ALLREDUCE: return size_bytes * 2.0 * (n - 1) / n;
    case DTB_COLL_REDUCE_SCATTER:
    case DTB_COLL_ALLGATHER: return size_bytes * (double)(n - 1) / n;
    default: return size_bytes;
    }
}
