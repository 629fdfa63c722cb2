/*
 * The collectives the comm suite benchmarks, as nccl-tests sizes them.
 *
 * A benchmark size is S, the collective's total size in bytes as nccl-tests
 * and dtb_counters state it: allreduce and broadcast the buffer,
 * reduce-scatter the whole input (N blocks), allgather the whole output
 * (N blocks). Each rank then passes
 *   allreduce, broadcast         count = S / esize elements,
 *   reduce_scatter, allgather    block = S / (N * esize) elements,
 * rounded down to whole elements; the S actually run is recomputed from the
 * element count (comm_op_bytes), so that is the size reported.
 *
 * Bandwidth (nccl-tests, GB/s = 1e9 bytes per second):
 *   algbw = S / t
 *   busbw = algbw * factor, factor = 2(N-1)/N allreduce, (N-1)/N
 *           reduce-scatter and allgather, 1 broadcast (comm_bus_bytes).
 */
#ifndef DTB_HARNESS_COMM_OPS_H
#define DTB_HARNESS_COMM_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

/* The benchmarked kinds: DTB_COLL_ALLREDUCE .. DTB_COLL_BROADCAST. */
#define COMM_OPS_COUNT 4

/* "allreduce", "reduce_scatter", "allgather", "broadcast" (the names the
 * results database uses for dtb_collective); "?" for another kind. */
const char *comm_op_name(dtb_collective op);

/* The kind a benchmarked name stands for: 0, or -1 when unknown. */
int comm_op_parse(const char *name, dtb_collective *out);

/* Comma-separated names, in order, no duplicates; 0 or -1 with a message
 * naming opt. */
int comm_op_parse_list(const char *opt, const char *text, dtb_collective *ops, int cap,
                       int *n_out, char *err, size_t err_len);

/* The count (allreduce, broadcast) or block (reduce_scatter, allgather) in
 * elements of esize bytes that a size of `bytes` gives on np ranks, rounded
 * down. */
int64_t comm_op_elements(dtb_collective op, int64_t bytes, int np, size_t esize);

/* S in bytes of a call of `elements` (count or block) on np ranks. */
int64_t comm_op_bytes(dtb_collective op, int64_t elements, int np, size_t esize);

/* algbw and busbw in GB/s of a collective of S bytes on np ranks that took
 * `seconds` (> 0; a non-positive time gives zeros). */
void comm_op_bandwidth(dtb_collective op, int64_t size_bytes, int np, double seconds,
                       double *algbw_gbps, double *busbw_gbps);

#endif
