/*
 * The inputs of the comm benchmark and the closed form of every output.
 *
 * a(j), for an element index j and a pattern (a seed and a sequence
 * number the worker increments for every repetition and call), is
 * s * m * 2^-e with m in 1..8, e in 0..3 and s = +-1: never zero, a multiple
 * of 1/8, |a| <= 8. Its 6 random bits come from
 *   code(j) = T0[j mod 4096] ^ T1[(j >> 12) mod 4096] ^ T2[(j >> 24) mod 4096]
 * with T0, T1, T2 random bytes drawn from the pattern's key (three tables
 * that stay in L1: filling and checking 64 MiB costs about as much as
 * copying it). Rank r contributes a(j) * w(r) with w(r) = r + 1, so a sum over
 * the N ranks is a(j) * W(N) with W(N) = N(N+1)/2.
 *
 * Exactness: every partial sum over any subset of ranks, in any order, is a
 * multiple of 1/8 of magnitude at most 8 * W(64) = 16640, i.e. an integer
 * number of eighths below 2^24 that fp32 holds exactly. So the sum MPI
 * computes, whatever its algorithm, equals the closed form bit for bit, and
 * the check is an exact comparison of every element.
 *
 * What each rank holds, for a benchmarked call on N ranks (rank r):
 *   allreduce       in:  buf[j] = a(j) w(r)        out: buf[j] = a(j) W(N)
 *   reduce_scatter  in:  send[j] = a(j) w(r), j < N*block
 *                   out: recv[k] = a(r*block + k) W(N)
 *   allgather       in:  send[k] = a(r*block + k) w(r)
 *                   out: recv[q*block + k] = a(q*block + k) w(q)
 *   broadcast       in:  root 0: buf[j] = a(j); others buf[j] = -a(j)
 *                   out: buf[j] = a(j)
 * A repetition that did nothing leaves the previous one's values, which
 * differ because the pattern changes every repetition.
 */
#ifndef DTB_HARNESS_COMM_PATTERN_H
#define DTB_HARNESS_COMM_PATTERN_H

#include <stdint.h>

#include "dtbench/plugin.h"

#define COMM_PATTERN_TABLE 4096

typedef struct comm_pattern {
    uint8_t t[3][COMM_PATTERN_TABLE];
    float value[64];           /* by the code's low 6 bits: s * m * 2^-e */
} comm_pattern;

/* The pattern of one repetition (or one call of a replay): its tables drawn
 * from a hash of (seed, sequence). */
void comm_pattern_init(comm_pattern *p, uint64_t seed, uint64_t sequence);

/* a(j), see above. */
float comm_pattern_value(const comm_pattern *p, int64_t j);

/* dst[k] = a(first + k) * weight for k < n (weight a small integer). */
void comm_pattern_fill(const comm_pattern *p, float *dst, int64_t n, int64_t first,
                       float weight);

/* Fills rank `rank`'s input of one call (see the table above): `in` holds
 * the call's input (count elements for allreduce and broadcast, N*block for
 * reduce_scatter, block for allgather). elements = count or block. */
void comm_pattern_fill_input(const comm_pattern *p, dtb_collective op, float *in,
                             int64_t elements, int rank, int np);

/* The expected value of element i of rank `rank`'s output. */
float comm_pattern_expected(const comm_pattern *p, dtb_collective op, int rank, int np,
                            int64_t elements, int64_t i);

/* The first wrong element of an output, if any. */
typedef struct comm_mismatch {
    int64_t index;
    float expected, got;
} comm_mismatch;

/* Compares every element of rank `rank`'s output `out` (count elements for
 * allreduce and broadcast, block for reduce_scatter, N*block for allgather)
 * with the closed form; returns the number of wrong elements (bitwise
 * comparison: a NaN, a -0 or any rounding is wrong) and the first of them in
 * *first when there is one. */
int64_t comm_pattern_verify(const comm_pattern *p, dtb_collective op, const float *out,
                            int64_t elements, int rank, int np, comm_mismatch *first);

/* Elements of the input and of the output buffer of one call. */
int64_t comm_pattern_input_len(dtb_collective op, int64_t elements, int np);
int64_t comm_pattern_output_len(dtb_collective op, int64_t elements, int np);

#endif
