/*
 * The conformance tolerance (docs/tolerance.md): an implementation's value
 * is compared with the fp64 oracle's, value by value, against the natural
 * spread of correct fp32 arithmetic at that very value.
 *
 * The envelope. K fp32 runs of the same math (the baseline and the
 * ensemble.h members: other batch splits, reduction orders, matmul and
 * element-wise groupings) each land at e_k; for every compared value (every
 * parameter element after a checked step, the loss and the gradient norm of
 * every step)
 *
 *     env = max_k |e_k - o|.
 *
 * Parameters. For element i of a tensor of layer l (W_l or b_l),
 *
 *     tol_i = MULT * max(env_i, POOL * max_{j in layer l} env_j)
 *             + FLOOR_ULPS * eps32 * |o_i| + TENSOR_FLOOR_ULPS * eps32 * max_{j in tensor} |o_j|
 *
 * MULT covers that K runs sample the spread rather than bound it. POOL
 * gives every element at least a share of its layer's largest spread: the
 * element-wise envelope cannot see rare discrete events (a unit crossing
 * GELU's saturation, under bf16-mixed a compute parameter rounding to the
 * other bf16 neighbour) that move an element a lot in one run and not at
 * all in K others. The floors cover values the whole ensemble happens to
 * reproduce almost exactly (a few ulps of the value; a fraction of an ulp
 * of the tensor's largest value for elements near zero).
 *
 * Per-step scalars (loss, gradient norm). env_s is the running maximum of
 * the envelope over steps 1..s (rounding differences compound through the
 * trajectory, so a step where every run is luckily close must not tighten
 * the bound), and tol_s = MULT * env_s + STEP_FLOOR_ULPS * eps32 * |o_s|.
 *
 * Each precision recipe has its constants, calibrated on its own ensemble
 * (tests/harness/tol_calibrate.c; docs/tolerance.md): bf16-mixed's compute
 * parameters flip between bf16 neighbours from run to run, discrete events
 * the element-wise envelope cannot sample, so there the whole layer's
 * envelope is every element's (POOL 1).
 */
#ifndef DTB_HARNESS_ENVELOPE_H
#define DTB_HARNESS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "oracle.h"

typedef struct envelope_constants {
    double mult;               /* times the envelope */
    double pool;               /* share of the layer's largest envelope every element gets */
    double floor_ulps;         /* fp32 ulps (FLT_EPSILON) of |oracle| at the element */
    double tensor_floor_ulps;  /* of max |oracle| over the tensor */
    double step_floor_ulps;    /* per-step scalars: of |oracle| at the step */
} envelope_constants;

/* The fp32 recipe. */
#define ENVELOPE_FP32_MULT 16.0
#define ENVELOPE_FP32_POOL (1.0 / 64)
#define ENVELOPE_FP32_STEP_FLOOR_ULPS 16.0
/* The bf16-mixed recipe. */
#define ENVELOPE_BF16_MULT 16.0
#define ENVELOPE_BF16_POOL 1.0
#define ENVELOPE_BF16_STEP_FLOOR_ULPS 64.0
/* Both. */
#define ENVELOPE_FLOOR_ULPS 4.0
#define ENVELOPE_TENSOR_FLOOR_ULPS 0.25

/* The constants of a precision recipe (dtb_precision; anything but
 * bf16-mixed gets fp32's). */
envelope_constants envelope_constants_for(int32_t precision);

/* The envelope of a trajectory: the largest distance to the oracle of any
 * fp32 run folded in. */
typedef struct envelope {
    int members;               /* runs folded in */
    int64_t steps;
    double *loss;              /* [steps] max_k |loss_k - o| at each step */
    double *grad_norm;         /* [steps] */
    int n_checks;
    int64_t n_params;
    double *params;            /* [n_checks x n_params] */
    /* The optimizer state after each check step (oracle_trace.state), of the
     * runs that report it (the ensemble's members; the baseline plugin does
     * not): n_state arrays of [n_checks x n_params], NULL until the first. */
    int state_members;
    int n_state;
    double *state[2];
} envelope;

/* All zero, no member yet; 0, or -1 when out of memory (then freeable). */
int envelope_alloc(envelope *e, int64_t steps, int n_checks, int64_t n_params);
void envelope_free(envelope *e);
/* Folds one fp32 run in (its loss and norm per step, its parameters after
 * each check step, all in the oracle's shapes). A non-finite value makes
 * the envelope there infinite, and so no comparison there can pass. */
void envelope_add_run(envelope *e, const oracle_trace *o, const double *loss,
                      const double *grad_norm, const float *params);

/* Folds one run's optimizer state after each check step in (state[k] in
 * the shape of o->state[k], for k < o->n_state). 0, or -1 out of memory. */
int envelope_add_state(envelope *e, const oracle_trace *o, const float *const *state);

/* max_j env[j] over the layer of tensor t (W_l and b_l), env in canonical
 * layout (one check step's slice). */
double envelope_layer_max(const double *env, const mlp_layout *lay, int t);

/* One compared value. */
typedef struct envelope_point {
    int64_t index;             /* element of the tensor, or step - 1; -1: none */
    double value, oracle;
    double envelope;           /* env at the value (the running one for steps) */
    double pooled;             /* POOL x the layer's largest envelope (0 for steps) */
    double error, tolerance, ratio;
} envelope_point;

typedef struct envelope_result {
    int pass;
    int64_t failing;           /* values over their tolerance */
    envelope_point first_bad;  /* the first of them (index -1 when none) */
    envelope_point worst;      /* the highest error/tolerance ratio */
    double max_abs_error;
} envelope_result;

/* A parameter tensor: x[i] against o[i] with envelope env[i]; layer_max is
 * envelope_layer_max of its layer. NaN or infinite values of x count as
 * infinitely wrong. */
void envelope_compare_tensor(const envelope_constants *k, const double *o, const double *env,
                             double layer_max, const float *x, int64_t n, envelope_result *r);
/* A per-step sequence (index s-1 holds step s), env the per-step envelope
 * (its running maximum is taken here). */
void envelope_compare_steps(const envelope_constants *k, const double *o, const double *env,
                            const double *x, int64_t steps, envelope_result *r);

/* The tolerance of one parameter element, as envelope_compare_tensor
 * computes it (scale: max |oracle| over the tensor). */
double envelope_bound(const envelope_constants *k, double env, double layer_max, double o,
                      double scale);
/* The tolerance of a per-step scalar whose running envelope is `running`,
 * as envelope_compare_steps computes it. */
double envelope_step_bound(const envelope_constants *k, double running, double o);

/* One line stating the bound with k's constants: of a parameter element,
 * of a per-step scalar. */
void envelope_param_formula(const envelope_constants *k, char *buf, size_t len);
void envelope_step_formula(const envelope_constants *k, char *buf, size_t len);

#endif
