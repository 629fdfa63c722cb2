#include "tolerance.h"

#include <float.h>
#include <math.h>

double tol_bound(double err_base, double max_abs_oracle)
{
    return TOL_MULT * err_base + TOL_FLOOR_ULPS * (double)FLT_EPSILON * max_abs_oracle;
}

/* |a - o|, with anything non-finite counting as infinitely far. */
static double abs_error(double a, double o)
{
    double d = fabs(a - o);
    return isfinite(d) ? d : INFINITY;
}

static double ratio_of(double err, double tol)
{
    if (tol > 0)
        return err / tol;
    return err > 0 ? INFINITY : 0.0;
}

static void result_init(tol_result *r)
{
    r->pass = 1;
    r->first_bad = -1;
    r->max_abs_error = 0;
    r->max_rel_error = 0;
    r->tolerance = 0;
    r->baseline_error = 0;
    r->ratio = 0;
    r->worst = -1;
}

/* Folds element i's error into r given its tolerance and baseline error. */
static void account(tol_result *r, int64_t i, double err, double o, double tol, double base)
{
    if (err > r->max_abs_error)
        r->max_abs_error = err;
    if (o != 0) {
        double rel = err / fabs(o);
        if (rel > r->max_rel_error)
            r->max_rel_error = rel;
    } else if (err > 0) {
        r->max_rel_error = INFINITY;
    }
    double q = ratio_of(err, tol);
    if (r->worst < 0 || q > r->ratio) {
        r->ratio = q;
        r->worst = i;
        if (r->pass) {
            r->tolerance = tol;
            r->baseline_error = base;
        }
    }
    /* A non-finite tolerance means the baseline itself diverged: no pass. */
    if ((!(err <= tol) || !isfinite(tol)) && r->pass) {
        r->pass = 0;
        r->first_bad = i;
        r->tolerance = tol;
        r->baseline_error = base;
    }
}

void tol_compare_vector(const double *o, const double *b, const double *x, int64_t n,
                        tol_result *r)
{
    result_init(r);
    double err_base = 0, max_o = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = abs_error(b[i], o[i]);
        if (e > err_base)
            err_base = e;
        if (fabs(o[i]) > max_o)
            max_o = fabs(o[i]);
    }
    double tol = tol_bound(err_base, max_o);
    for (int64_t i = 0; i < n; i++)
        account(r, i, abs_error(x[i], o[i]), o[i], tol, err_base);
    if (n == 0) {
        r->tolerance = tol;
        r->baseline_error = err_base;
    }
}

void tol_compare_steps(const double *o, const double *b, const double *x, int64_t steps,
                       tol_result *r)
{
    result_init(r);
    double err_base = 0;
    for (int64_t s = 0; s < steps; s++) {
        double e = abs_error(b[s], o[s]);
        if (e > err_base)
            err_base = e;
        double tol = tol_bound(err_base, fabs(o[s]));
        account(r, s, abs_error(x[s], o[s]), o[s], tol, err_base);
    }
}
