/* tolerance.h on synthetic vectors: the bound, pass/fail at the edge, first
 * bad element and step, running baseline error, non-finite values. */
#include <float.h>
#include <math.h>

#include "check.h"
#include "tolerance.h"

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static void test_bound(void)
{
    CHECK(close_to(tol_bound(1e-6, 2.0), TOL_MULT * 1e-6 + TOL_FLOOR_ULPS * FLT_EPSILON * 2.0));
    CHECK(tol_bound(0, 0) == 0);
}

static void test_vector(void)
{
    double o[4] = {1.0, -2.0, 0.5, 0.0};
    double b[4] = {1.0 + 1e-6, -2.0, 0.5, 0.0};        /* baseline error 1e-6 */
    double tol = tol_bound(1e-6, 2.0);
    double x[4] = {1.0, -2.0 + 0.99 * tol, 0.5, 0.0};  /* just inside */
    tol_result r;
    tol_compare_vector(o, b, x, 4, &r);
    CHECK(r.pass && r.first_bad == -1);
    CHECK(close_to(r.tolerance, tol) && close_to(r.baseline_error, 1e-6));
    CHECK(r.ratio > 0.98 && r.ratio < 1.0 && r.worst == 1);
    CHECK(close_to(r.max_rel_error, 0.99 * tol / 2.0));

    x[2] = 0.5 + 1.5 * tol;                             /* out of tolerance */
    x[3] = 2.0 * tol;                                   /* also out, later */
    tol_compare_vector(o, b, x, 4, &r);
    CHECK(!r.pass && r.first_bad == 2);
    CHECK(close_to(r.max_abs_error, 2.0 * tol));
    CHECK(r.worst == 3 && close_to(r.ratio, 2.0));
    CHECK(isinf(r.max_rel_error)); /* error where the oracle is 0 */

    double xn[4] = {1.0, NAN, 0.5, 0.0};
    tol_compare_vector(o, b, xn, 4, &r);
    CHECK(!r.pass && r.first_bad == 1 && isinf(r.max_abs_error));

    double bn[4] = {1.0, INFINITY, 0.5, 0.0}; /* a diverged baseline never passes anything */
    tol_compare_vector(o, bn, o, 4, &r);
    CHECK(!r.pass);

    /* exact baseline: the floor alone */
    double e[2] = {4.0, 1.0};
    double xe[2] = {4.0 + 32 * FLT_EPSILON * 4.0, 1.0};
    tol_compare_vector(e, e, xe, 2, &r);
    CHECK(r.pass && close_to(r.tolerance, TOL_FLOOR_ULPS * FLT_EPSILON * 4.0));
    xe[1] = 1.0 + 65 * FLT_EPSILON * 4.0;
    tol_compare_vector(e, e, xe, 2, &r);
    CHECK(!r.pass && r.first_bad == 1);
}

static void test_steps(void)
{
    /* baseline error 1e-4 at step 2, exact afterwards: steps 3.. keep that bound */
    double o[5] = {2.0, 1.8, 1.6, 1.4, 1.2};
    double b[5] = {2.0, 1.8 + 1e-4, 1.6, 1.4, 1.2};
    double x[5] = {2.0, 1.8, 1.6 + 5e-4, 1.4, 1.2};
    tol_result r;
    tol_compare_steps(o, b, x, 5, &r);
    CHECK(r.pass);
    CHECK(r.worst == 2 && close_to(r.baseline_error, 1e-4));
    /* step 1 has no baseline error: only the floor (64 ulps of 2.0) */
    x[0] = 2.0 + 1e-4;
    tol_compare_steps(o, b, x, 5, &r);
    CHECK(!r.pass && r.first_bad == 0 && r.baseline_error == 0);
    CHECK(close_to(r.tolerance, TOL_FLOOR_ULPS * FLT_EPSILON * 2.0));
    x[0] = 2.0;
    x[4] = 1.2 + 1e-3; /* over 8e-4 + floor at step 5 */
    tol_compare_steps(o, b, x, 5, &r);
    CHECK(!r.pass && r.first_bad == 4 && close_to(r.max_abs_error, 1e-3));
}

int main(void)
{
    test_bound();
    test_vector();
    test_steps();
    return check_report("test_harness_tolerance");
}
