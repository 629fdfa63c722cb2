/*
 * "reported figures match measured": what a plugin says it communicated
 * (get_counters) and allocated (mem_track) against what the worker measured
 * itself (world/pmpi_count.h, world/proc_mem.h). docs/verification.md is the
 * normative text; the constants below are its tolerance and slack.
 *
 * Communication, per rank: the bytes of the reported counters and of the
 * measured ones, each weighted by nccl-tests' bus factor of its kind
 * (theory_bus_factor; point-to-point 1) and summed over all kinds, so an
 * allreduce built from sends and reported as an allreduce compares equal:
 *
 *     C(k) = sum_kind bytes[kind] * factor(kind, N)   (N = 1: every factor 1,
 *                                                      a world of one moves nothing)
 *     pass  <=>  |C(reported) - C(measured)|
 *                  <= MEASURED_COMM_REL * max(C(reported), C(measured))
 *                     + MEASURED_COMM_ABS_PER_STEP * steps
 *
 * Calls are not compared (a ring is many calls reported as one). The check
 * fails in both directions: under-reporting hides traffic, over-reporting
 * flatters nothing but is as wrong.
 *
 * Memory: per rank, the process's resident growth from before create to
 * after destroy (rss_hwm - rss_base) against the tracked total peak T
 * (mem_total_peak, every category) plus a slack,
 *
 *     over(r)  <=>  rss_hwm - rss_base > T + MEASURED_RSS_SLACK_ABS
 *                                          + MEASURED_RSS_SLACK_REL * T
 *
 * and the half fails when every rank is over. The slack covers what no
 * plugin tracks: OpenBLAS's and the allocator's buffers, page granularity,
 * and (the relative part) the MPI library's temporaries of collectives that
 * every rank holds alike, such as both partners' of an allreduce at 2
 * ranks. Other temporaries fall on some ranks only (the roots of a
 * reduce-scatter's tree: rank 0 held twice a whole input, 145 MiB on
 * mlp-20m at 4 ranks), while data-parallel state lies on every rank, so
 * the rank that grew least beyond its peak is the one judged: a plugin
 * that hides state on every rank fails, one that hides it on some ranks
 * only is not caught. The calibration is in docs/verification.md. Tracked
 * memory never made resident (an untouched allocation) is no lie about the
 * process and never fails.
 *
 * A half whose measurement is missing (a rank with measured_valid 0; a rank
 * with rss -1; a sanitizer build, whose shadow memory and quarantine make
 * RSS meaningless) is not compared and says why in the diagnostics; when
 * neither half can be compared the point is skipped.
 */
#ifndef DTB_HARNESS_CHECK_MEASURED_H
#define DTB_HARNESS_CHECK_MEASURED_H

#include <stdint.h>

#include "check_types.h"

#define CHECK_MEASURED_NAME "reported figures match measured"

#define MEASURED_COMM_REL 0.01
#define MEASURED_COMM_ABS_PER_STEP 16.0
#define MEASURED_RSS_SLACK_ABS (16ll << 20)
#define MEASURED_RSS_SLACK_REL 0.40

/* Fills c, a point just appended to the case's list (NULL: the list was
 * full, nothing is done). */
void check_measured(const check_inputs *in, check_result *c);

/* C(k) above: counters' bytes weighted by the bus factors of world_size. */
double measured_compared_bytes(const dtb_counters *k, int world_size);
/* The resident growth allowed beyond a tracked peak of `tracked` bytes. */
int64_t measured_rss_slack(int64_t tracked);
/* 1 when this build's RSS can be compared; else 0 with *why set. */
int measured_rss_comparable(const char **why);

#endif
