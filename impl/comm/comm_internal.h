/*
 * Private to impl/comm: the communicator's state and the helpers its source
 * files share. Nothing here is part of the contract in comm.h.
 */
#ifndef DTB_IMPL_COMM_INTERNAL_H
#define DTB_IMPL_COMM_INTERNAL_H

#include "comm.h"

struct dtb_comm {
    MPI_Comm mpi;              /* our own duplicate, MPI_ERRORS_RETURN */
    int rank, size;
    MPI_Datatype bf16_type;    /* 2 contiguous bytes, committed */
    MPI_Op bf16_sum;           /* commutative bf16 add (comm_bf16.c) */
    dtb_counters counters;     /* calls and S bytes per dtb_collective */
    char error[256];           /* last error message, "" if none */
};

/* printf-style message into comm->error; returns -1 for `return comm_fail(...)`. */
int comm_fail(dtb_comm *comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* If rc != MPI_SUCCESS: "<what>: <MPI_Error_string>" into comm->error, -1. Else 0. */
int comm_check_mpi(dtb_comm *comm, int rc, const char *what);
/* Same message into a caller buffer (before a communicator exists). */
void comm_format_mpi_error(char *buf, size_t len, int rc, const char *what);

/* The MPI_User_function behind bf16_sum: inout[i] = in[i] + inout[i] in bf16. */
void comm_bf16_sum_op(void *in, void *inout, int *len, MPI_Datatype *type);

#endif
