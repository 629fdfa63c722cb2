/*
 * The MPI traffic of a plugin as the worker measures it itself, through the
 * MPI profiling interface: pmpi_count.c defines MPI_Allreduce, MPI_Send and
 * their kin in the dtbench executable; each calls its PMPI_ entry and, while
 * counting is on, adds the call and its size S to this process's counters.
 * The executable exports these symbols (harness/cli/CMakeLists.txt), so a
 * plugin dlopen'd with RTLD_LOCAL that links libmpi itself binds to them as
 * well: its calls on any communicator are counted. docs/verification.md has
 * the size of each call and what is not counted.
 *
 * Counting is off until pmpi_count_on and between pmpi_count_off and the
 * next pmpi_count_on (the worker turns it on around create and train_step
 * only). Off, a wrapper costs one relaxed atomic load and a branch. The
 * counters are atomic: any thread may call MPI while counting is on.
 */
#ifndef DTB_HARNESS_PMPI_COUNT_H
#define DTB_HARNESS_PMPI_COUNT_H

#include "dtbench/plugin.h"

/* 1 when this build defines the wrappers (CMake option DTB_PMPI_COUNT, on
 * by default), 0 when MPI calls go straight to the library and nothing is
 * counted. */
int pmpi_count_available(void);

/* Zeroes the counters and the error flag and turns counting off. */
void pmpi_count_reset(void);
void pmpi_count_on(void);
void pmpi_count_off(void);

/* Copies the counters into *out (calls and bytes only; struct_size is set
 * to sizeof *out). Returns 0 when they are exact, -1 when they are not: the
 * wrappers are absent, or a call's size could not be determined (the MPI
 * library refused a datatype size query), so some bytes are missing. */
int pmpi_count_read(dtb_counters *out);

#endif
