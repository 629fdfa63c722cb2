/*
 * The tolerance bound of every step of a golden trajectory: for every step
 * and every compared quantity, the bound B such that an implementation
 * passes the conformance comparison of that quantity at that step when
 * |x - oracle| <= B. It is the conformance checks' own model (envelope.h,
 * docs/tolerance.md), measured on the same fp32 runs (the baseline and the
 * ensemble.h members, here trained with every step checked):
 *
 *   parameter element i of tensor T of layer l after step s:
 *       envelope_bound(env_s,i, max_{j in l} env_s,j, o_s,i, max_{j in T} |o_s,j|)
 *   loss, grad norm at step s:
 *       envelope_step_bound(max_{s' <= s} env_s', o_s)
 *
 * with env the largest distance of any of those runs to the fp64 oracle o.
 * The conformance run compares parameters after step 1 and after the last
 * step only; the bounds give what every step would get.
 */
#ifndef DTB_HARNESS_TRAJECTORY_BOUNDS_H
#define DTB_HARNESS_TRAJECTORY_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "case_config.h"
#include "trajectory.h"

typedef struct trajectory_bounds {
    const char *model;     /* short name of the tolerance model, static */
    char formula[768];     /* the bounds with their constants */
    const char *source;    /* where it is defined, static */
    int runs;              /* fp32 runs the envelope was measured on */
    int64_t steps, n_params;
    double *loss;          /* [steps], step s at index s-1 */
    double *grad_norm;     /* [steps] */
    double *params;        /* [steps x n_params], after step s at row s-1 */
} trajectory_bounds;

/* Bytes trajectory_bounds_compute holds at once for c (the bounds, the
 * envelope and one ensemble member's training), an upper estimate. */
int64_t trajectory_bounds_bytes(const case_config *c);

/* The bounds of trajectory t of configuration c. 0, or -1 with a one-line
 * message (*out is then empty). */
int trajectory_bounds_compute(const case_config *c, const trajectory *t, trajectory_bounds *out,
                              char *err, size_t err_len);
void trajectory_bounds_free(trajectory_bounds *b);

#endif
