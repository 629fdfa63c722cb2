/*
 * The tolerance envelope of a trajectory: for every step and every compared
 * quantity, the bound B such that an implementation passes the conformance
 * comparison of that quantity at that step when |x - oracle| <= B.
 *
 * envelope_compute is the one entry point: whichever tolerance model the
 * checks apply lives behind it (and names itself in `model` and `formula`),
 * so `dtbench trajectory` writes whatever the checks enforce. Today's model
 * is tolerance.h's, "baseline-multiple":
 *
 *   loss, grad norm at step s:  tol_bound(max_{s' <= s} |b_s' - o_s'|, |o_s|)
 *                               (the running maximum, as tol_compare_steps)
 *   parameter element i of tensor T after step s:
 *                               tol_bound(max_{j in T} |b_j - o_j|, max_{j in T} |o_j|)
 *                               (one bound per tensor, as tol_compare_vector)
 *
 * with b the fp32 baseline, o the fp64 oracle, and a non-finite difference
 * counting as infinite. The conformance run compares parameters after step 1
 * and after the last step only; the envelope gives the bound every step
 * would get.
 */
#ifndef DTB_HARNESS_ENVELOPE_H
#define DTB_HARNESS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "case_config.h"
#include "trajectory.h"

typedef struct envelope {
    const char *model;     /* short name of the tolerance model, static */
    char formula[320];     /* one line stating it, with its constants */
    const char *source;    /* where it is defined, static */
    int64_t steps, n_params;
    double *loss;          /* [steps], step s at index s-1 */
    double *grad_norm;     /* [steps] */
    double *params;        /* [steps x n_params], after step s at row s-1 */
} envelope;

/* Bytes envelope_compute holds for a trajectory of `steps` x `n_params`. */
int64_t envelope_bytes(int64_t steps, int64_t n_params);

/* The envelope of trajectory t of configuration c. 0, or -1 with a one-line
 * message (*out is then empty). */
int envelope_compute(const case_config *c, const trajectory *t, envelope *out, char *err,
                     size_t err_len);
void envelope_free(envelope *e);

#endif
