/*
 * `dtbench worker-comm`: one rank of a comm benchmark world, started by
 * mpirun (comm_bench.h builds the command). Two modes:
 *
 * sweep (default): for each collective of --ops and each size of --sizes (S
 *   in bytes, comm_ops.h), --warmup then --reps repetitions of both sides,
 *   dtbench (impl/comm) and mpi (the raw MPI call on a duplicate of
 *   MPI_COMM_WORLD: MPI_Allreduce in place, MPI_Reduce_scatter_block,
 *   MPI_Allgather, MPI_Bcast from root 0, the same buffer forms impl/comm
 *   uses), interleaved: one call of each side per repetition, the side that
 *   goes first alternating (even repetitions dtbench first).
 * replay (--replay): each repetition issues one training step's collectives
 *   through impl/comm, --calls C0,..,C5 and --bytes B0,..,B5 per
 *   dtb_collective kind: C_k calls of B_k/C_k bytes (rounded to whole fp32
 *   elements; reduce_scatter and allgather to whole blocks), each call on its
 *   own region of memory, back to back.
 *
 * A repetition: fill the inputs (comm_pattern.h, a fresh key per repetition
 * and per call), MPI_Barrier, time the call(s) with CLOCK_MONOTONIC, then
 * compare every output element with its closed form. After a case's loop
 * the times go to rank 0 as the maximum over ranks, the element counts as
 * sums, and the first wrong element of the lowest rank that has one.
 *
 * Rank 0 writes DIR/comm-result.txt (comm_result.h). Any failure (bad
 * option, allocation, an MPI or impl/comm error) writes error-<rank>.txt
 * with one line and aborts the world with WORKER_EXIT_PLUGIN_ERROR.
 *
 *   dtbench worker-comm --out DIR [--ops LIST] [--sizes LIST] [--warmup N]
 *                       [--reps N] [--dtype fp32] [--seed N]
 *   dtbench worker-comm --out DIR --replay --calls LIST --bytes LIST ...
 */
#ifndef DTB_HARNESS_COMM_WORKER_H
#define DTB_HARNESS_COMM_WORKER_H

int comm_worker_main(int argc, char **argv);

#endif
