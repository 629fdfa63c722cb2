/*
 * The fp64 oracle: the run spec's training in double precision, from the same
 * fp32 initial values and the same data, over the whole global batch at once.
 * The conformance tolerance measures both the baseline and the implementation
 * under test against it. spec->precision selects the recipe: fp32 (every
 * value fp64), or bf16-mixed (fp64 masters, moments and gradients; the
 * forward/backward read bf16(master) rounded directly from fp64), so that
 * the oracle runs the same recipe as the baseline and the implementation.
 */
#ifndef DTB_REFERENCE_ORACLE_H
#define DTB_REFERENCE_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

typedef struct oracle_trace {
    int64_t steps;
    double *loss;          /* [steps], mean loss of step s at index s-1 */
    double *grad_norm;     /* [steps], pre-clip global norm */
    int n_checks;
    int64_t *check_steps;  /* [n_checks], ascending, each in 1..steps */
    double *params;        /* [n_checks x n_params] canonical layout after each check step
                              (the fp64 masters under bf16-mixed) */
    int64_t n_params;
    /* oracle_train_f64_with_state only (n_state 0 otherwise): the optimizer
     * state after each check step, [n_checks x n_params] in canonical
     * layout: state[0] SGD's momentum buffer or AdamW's m, state[1] AdamW's
     * v (NULL for SGD); n_state of them. */
    int n_state;
    double *state[2];
} oracle_trace;

/* Trains spec (its rank/world fields are ignored) for spec->steps steps and
 * records the trace. Returns 0, or -1 with a message in err. */
int oracle_train_f64(const dtb_run_spec *spec, const int64_t *check_steps, int n_checks,
                     oracle_trace *out, char *err, size_t err_len);
/* The same, also recording the optimizer state at the check steps. */
int oracle_train_f64_with_state(const dtb_run_spec *spec, const int64_t *check_steps,
                                int n_checks, oracle_trace *out, char *err, size_t err_len);
void oracle_trace_free(oracle_trace *trace);

#endif
