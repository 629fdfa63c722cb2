/*
 * The ensemble: fp32 training runs of the run spec's exact math that differ
 * from the baseline and from each other only in ways a correct
 * implementation may differ (docs/tolerance.md): how the global batch is
 * split into micro-batches and simulated ranks, in what order the ranks'
 * partial gradients are summed, how the matrix products and element-wise
 * functions group their floating-point operations (ensemble_backend.h),
 * whether the gradient norm is taken in double or per tensor in float as
 * torch.nn.utils.clip_grad_norm_ does. Under bf16-mixed each member runs
 * that recipe (fp32 masters, compute parameters bf16(master)), so it flips
 * its own bf16 roundings as any implementation does.
 *
 * The spread of these runs around the fp64 oracle, element by element, is
 * the natural spread the tolerance (envelope.h) scales with. The members
 * run in this process on the CPU: no rank world, no MPI.
 *
 * One member, step t: for each simulated rank r and micro-batch m, the
 * samples split_range(count_m, N, r) of micro-batch split_range(B, M, m)
 * (or, strided as PyTorch's DistributedSampler deals them, the samples of
 * the micro-batch whose index is r modulo N) go through forward and
 * backward (dlogits scaled by fl32(1/B)), added into
 * rank r's gradient either directly (as the CPU backend's sgemm with beta 1
 * does) or as a separate chunk gradient added afterwards; the N rank
 * gradients are then summed in the member's order (sequential, reverse,
 * ring: chunk c of N starts at rank c+1, or a binary tree), then norm,
 * clipping and the optimizer step t.
 */
#ifndef DTB_HARNESS_ENSEMBLE_H
#define DTB_HARNESS_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"
#include "ensemble_backend.h"
#include "envelope.h"
#include "oracle.h"

typedef enum ens_reduce {
    ENS_REDUCE_SEQUENTIAL = 0, /* ((g0 + g1) + g2) + ... */
    ENS_REDUCE_REVERSE = 1,    /* ((g_{N-1} + g_{N-2}) + ...) + g0 */
    ENS_REDUCE_RING = 2,       /* element chunk c of N: g_{c+1} + g_{c+2} + ... + g_c (mod N) */
    ENS_REDUCE_TREE = 3        /* pairs at distance 1, 2, 4, ...: (g0 + g1) + (g2 + g3) */
} ens_reduce;

typedef enum ens_accumulate {
    ENS_ACC_DIRECT = 0,        /* the backward adds into the rank's running gradient */
    ENS_ACC_CHUNK = 1          /* each chunk's gradient from zero, then added */
} ens_accumulate;

typedef enum ens_norm {
    ENS_NORM_F64 = 0,          /* model-spec.md: squares summed in double */
    ENS_NORM_F32 = 1           /* per tensor in float (8 lanes), then the norm of the norms
                                  in float, the clip coefficient in float (torch) */
} ens_norm;

typedef struct ensemble_member {
    const char *name;          /* e.g. "blas n5 m2 ring" */
    ens_arith arith;
    int ranks;                 /* simulated data-parallel ranks N */
    int micro_batches;         /* M (at most the global batch); 0: the run spec's, the
                                  split every implementation of the case is told to use */
    ens_reduce reduce;
    ens_accumulate accumulate;
    ens_norm norm;
    int strided;               /* rank r takes the micro-batch's samples r, r+N, ... */
} ensemble_member;

/* The members, in a fixed order; the count is ENSEMBLE_MEMBERS. */
#define ENSEMBLE_MEMBERS 16
const ensemble_member *ensemble_member_at(int k);

/* One member's trajectory: what a rank file holds, for the compared steps. */
typedef struct ensemble_trace {
    int64_t steps;
    double *loss;              /* [steps], mean loss of step s at s-1 */
    double *grad_norm;         /* [steps], pre-clip norm */
    int n_checks;
    int64_t n_params;
    float *params;             /* [n_checks x n_params] masters after each check step */
    /* ensemble_train_with_state only (0 and NULL otherwise): the optimizer
     * state arrays, SGD 1, AdamW 2, [n_checks x n_params] each: momentum or
     * m, then v. */
    int n_state;
    float *state[2];
} ensemble_trace;

/* Trains spec (rank and world fields ignored; CPU) the member's way and
 * records the trace at check_steps (ascending, within 1..steps). 0, or -1
 * with a message in err. */
int ensemble_train(const ensemble_member *m, const dtb_run_spec *spec, const int64_t *check_steps,
                   int n_checks, ensemble_trace *out, char *err, size_t err_len);
/* The same, also recording the optimizer state at the check steps. */
int ensemble_train_with_state(const ensemble_member *m, const dtb_run_spec *spec,
                              const int64_t *check_steps, int n_checks, ensemble_trace *out,
                              char *err, size_t err_len);
void ensemble_trace_free(ensemble_trace *t);

/* Trains every member on spec (its micro_batches: the cases' split, which
 * the "mM" members sample) and folds each into env (its optimizer state too,
 * envelope_add_state, when the oracle recorded its own), whose values are
 * distances to oracle o (env allocated for o's steps, check steps and
 * parameters; check_steps are o's). 0, or -1 with a message in err (env
 * then holds the members folded so far). */
int ensemble_fold(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                  const oracle_trace *o, envelope *env, char *err, size_t err_len);

#endif
