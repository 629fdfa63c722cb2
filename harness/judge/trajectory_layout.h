/*
 * The names of a trajectory folder (docs/trajectories.md), in one place for
 * the writer of its files (trajectory_files.c) and of recipe.json, which
 * describes them (trajectory_recipe.c). Bump TRAJ_FORMAT_VERSION on any
 * change a reader would notice.
 *
 *   recipe.json                         every hyper-parameter; this layout
 *   init.npy                            float32 [n_params]
 *   scalars.npy                         float64 [steps, TRAJ_N_COLS]
 *   stepSSSS/microM/x.npy               float32 [count_M, d_0]
 *   stepSSSS/microM/y.npy               int32   [count_M]
 *   stepSSSS/baseline_params.npy        float32 [n_params]
 *   stepSSSS/oracle_params.npy          float64 [n_params]
 *   stepSSSS/envelope_params.npy        float64 [n_params]
 *
 * SSSS is the step (1-based), zero-padded to traj_step_digits(steps) digits;
 * M counts micro-batches from 0.
 */
#ifndef DTB_HARNESS_TRAJECTORY_LAYOUT_H
#define DTB_HARNESS_TRAJECTORY_LAYOUT_H

#include <stdint.h>

#define TRAJ_FORMAT "dtbench-trajectory"
#define TRAJ_FORMAT_VERSION 1

#define TRAJ_RECIPE_FILE "recipe.json"
#define TRAJ_INIT_FILE "init.npy"
#define TRAJ_SCALARS_FILE "scalars.npy"
#define TRAJ_STEP_PREFIX "step"
#define TRAJ_MICRO_PREFIX "micro"
#define TRAJ_X_FILE "x.npy"
#define TRAJ_Y_FILE "y.npy"
#define TRAJ_BASELINE_PARAMS_FILE "baseline_params.npy"
#define TRAJ_ORACLE_PARAMS_FILE "oracle_params.npy"
#define TRAJ_ENVELOPE_PARAMS_FILE "envelope_params.npy"

/* The columns of scalars.npy, row s-1 for step s: X(id, name). */
#define TRAJ_SCALAR_COLUMNS(X)                                                              \
    X(STEP, "step")                                                                         \
    X(BASELINE_LOSS, "baseline_loss")                                                       \
    X(BASELINE_GRAD_NORM, "baseline_grad_norm")                                             \
    X(BASELINE_CLIP_COEF, "baseline_clip_coef")                                             \
    X(ORACLE_LOSS, "oracle_loss")                                                           \
    X(ORACLE_GRAD_NORM, "oracle_grad_norm")                                                 \
    X(ORACLE_CLIP_COEF, "oracle_clip_coef")                                                 \
    X(ENVELOPE_LOSS, "envelope_loss")                                                       \
    X(ENVELOPE_GRAD_NORM, "envelope_grad_norm")

#define TRAJ_COLUMN_ID(id, name) TRAJ_COL_##id,
enum { TRAJ_SCALAR_COLUMNS(TRAJ_COLUMN_ID) TRAJ_N_COLS };
#undef TRAJ_COLUMN_ID

/* Digits of the step directories' numbers: at least 4, enough for `steps`. */
static inline int traj_step_digits(int64_t steps)
{
    int digits = 1;
    for (int64_t v = steps; v >= 10; v /= 10)
        digits++;
    return digits > 4 ? digits : 4;
}

#endif
