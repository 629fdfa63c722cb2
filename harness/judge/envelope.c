/* The tolerance envelope (envelope.h): today's model is tolerance.h's. */
#include "envelope.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tolerance.h"

int64_t envelope_bytes(int64_t steps, int64_t n_params)
{
    const double bytes = (double)steps * (2.0 + (double)n_params) * 8.0;
    return bytes < 9e18 ? (int64_t)bytes : INT64_MAX;
}

void envelope_free(envelope *e)
{
    free(e->loss);
    free(e->grad_norm);
    free(e->params);
    memset(e, 0, sizeof *e);
}

/* |a - o|, anything non-finite counting as infinitely far (as tolerance.c). */
static double abs_error(double a, double o)
{
    const double d = fabs(a - o);
    return isfinite(d) ? d : INFINITY;
}

/* Per step, the bound tol_compare_steps applies at that step. */
static void per_step(const double *o, const double *b, int64_t steps, double *bound)
{
    double err_base = 0.0;
    for (int64_t s = 0; s < steps; s++) {
        const double e = abs_error(b[s], o[s]);
        if (e > err_base)
            err_base = e;
        bound[s] = tol_bound(err_base, fabs(o[s]));
    }
}

/* One step's parameters, tensor by tensor: the bound tol_compare_vector
 * applies to the tensor, for each of its elements. */
static void per_tensor(const mlp_layout *lay, const double *o, const float *b, double *bound)
{
    for (int t = 0; t < lay->n_tensors; t++) {
        const int64_t off = lay->offset[t], n = lay->numel[t];
        double err_base = 0.0, max_o = 0.0;
        for (int64_t i = off; i < off + n; i++) {
            const double e = abs_error((double)b[i], o[i]);
            if (e > err_base)
                err_base = e;
            if (fabs(o[i]) > max_o)
                max_o = fabs(o[i]);
        }
        const double tol = tol_bound(err_base, max_o);
        for (int64_t i = off; i < off + n; i++)
            bound[i] = tol;
    }
}

int envelope_compute(const case_config *c, const trajectory *t, envelope *out, char *err,
                     size_t err_len)
{
    (void)c; /* today's model needs only the two references */
    memset(out, 0, sizeof *out);
    out->model = "baseline-multiple";
    snprintf(out->formula, sizeof out->formula,
             "bound = %g * err_base + %g * 2^-23 * max|oracle|, err_base = max|baseline - "
             "oracle|; parameters: max over the tensor, the same bound for each of its "
             "elements; loss and grad norm: running maximum over steps 1..s, |oracle| of "
             "step s",
             TOL_MULT, TOL_FLOOR_ULPS);
    out->source = "harness/judge/tolerance.h";
    out->steps = t->steps;
    out->n_params = t->n_params;
    const size_t steps = (size_t)t->steps, n = (size_t)t->n_params;
    out->loss = malloc(steps * sizeof(double));
    out->grad_norm = malloc(steps * sizeof(double));
    out->params = malloc(steps * n * sizeof(double));
    if (!out->loss || !out->grad_norm || !out->params) {
        envelope_free(out);
        snprintf(err, err_len, "out of memory for the envelope of %lld steps of %lld parameters",
                 (long long)t->steps, (long long)t->n_params);
        return -1;
    }
    per_step(t->oracle.loss, t->baseline_loss, t->steps, out->loss);
    per_step(t->oracle.grad_norm, t->baseline_grad_norm, t->steps, out->grad_norm);
    for (size_t s = 0; s < steps; s++)
        per_tensor(&t->layout, t->oracle.params + s * n, t->baseline_params + s * n,
                   out->params + s * n);
    return 0;
}
