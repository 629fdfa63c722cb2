/*
 * SGD with momentum, AdamW and the clipping coefficient (reference/optim.c)
 * on hand-picked numbers. Every expected value is written out below from the
 * formulas of optim.h, worked by hand in the comments:
 *
 *   SGD:   d = g + wd*p;  buf = d (t = 1) or mu*buf + d;  p = p - lr*buf
 *   AdamW: p = p*(1 - lr*wd);  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *          p = p - (lr/(1 - b1^t)) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)
 *   clip:  min(1, c / (norm + 1e-6)), 1 when c <= 0
 *
 * Two kinds of cases: dyadic numbers where every operation is exact in fp32
 * and fp64 (the results must be equal, not close), and realistic
 * hyper-parameters (close within stated tolerances, plus a bit-for-bit check
 * of the fp32 version against the element expression of model-spec.md,
 * evaluated here in the same float order).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim.h"
#include "ref_util.h"

static double rel(double a, double b)
{
    return fabs(a - b) / fmax(fabs(b), 1e-300);
}

/* ---- SGD ------------------------------------------------------------------- */

/* lr 0.5, mu 0.5, wd 0.25 on three elements, two steps (all exact):
 * e0 p=2,  g1=1,    g2=-0.5:
 *    t1: d = 1 + 0.25*2 = 1.5;          buf = 1.5;                 p = 2 - 0.75 = 1.25
 *    t2: d = -0.5 + 0.25*1.25 = -0.1875; buf = 0.5*1.5 - 0.1875 = 0.5625; p = 1.25 - 0.28125 = 0.96875
 * e1 p=-4, g1=0.5,  g2=2:
 *    t1: d = 0.5 - 1 = -0.5;            buf = -0.5;                p = -4 + 0.25 = -3.75
 *    t2: d = 2 - 0.9375 = 1.0625;       buf = -0.25 + 1.0625 = 0.8125; p = -3.75 - 0.40625 = -4.15625
 * e2 p=0,  g1=-2,   g2=0:
 *    t1: d = -2;                        buf = -2;                  p = 0 + 1 = 1
 *    t2: d = 0 + 0.25*1 = 0.25;         buf = -1 + 0.25 = -0.75;   p = 1 + 0.375 = 1.375 */
static void check_sgd_exact(ref_checker *c)
{
    const double p0[3] = {2.0, -4.0, 0.0}, g1[3] = {1.0, 0.5, -2.0}, g2[3] = {-0.5, 2.0, 0.0};
    const double p_t1[3] = {1.25, -3.75, 1.0}, buf_t1[3] = {1.5, -0.5, -2.0};
    const double p_t2[3] = {0.96875, -4.15625, 1.375}, buf_t2[3] = {0.5625, 0.8125, -0.75};
    float pf[3], gf[3], bf[3] = {99.0f, -99.0f, 7.0f}; /* t = 1 ignores the old buffer */
    double pd[3], gd[3], bd[3] = {99.0, -99.0, 7.0};
    for (int i = 0; i < 3; i++) {
        pf[i] = (float)p0[i], pd[i] = p0[i], gf[i] = (float)g1[i], gd[i] = g1[i];
    }
    sgd_momentum_step_f32(pf, gf, bf, 3, 0.5, 0.5, 0.25, 1);
    sgd_momentum_step_f64(pd, gd, bd, 3, 0.5, 0.5, 0.25, 1);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        ok = ok && pf[i] == p_t1[i] && bf[i] == buf_t1[i] && pd[i] == p_t1[i] && bd[i] == buf_t1[i];
    }
    ref_check(c, ok, "sgd exact t=1: p = (%g, %g, %g), buf = d (old buffer ignored), f32 and f64",
              pf[0], pf[1], pf[2]);
    for (int i = 0; i < 3; i++) {
        gf[i] = (float)g2[i], gd[i] = g2[i];
    }
    sgd_momentum_step_f32(pf, gf, bf, 3, 0.5, 0.5, 0.25, 2);
    sgd_momentum_step_f64(pd, gd, bd, 3, 0.5, 0.5, 0.25, 2);
    ok = 1;
    for (int i = 0; i < 3; i++) {
        ok = ok && pf[i] == p_t2[i] && bf[i] == buf_t2[i] && pd[i] == p_t2[i] && bd[i] == buf_t2[i];
    }
    ref_check(c, ok, "sgd exact t=2: p = (%g, %g, %g), buf = (%g, %g, %g), f32 and f64", pf[0], pf[1],
              pf[2], bf[0], bf[1], bf[2]);
}

/* lr 0.1, mu 0.9, wd 0.01, p = 1, g1 = 0.5, g2 = 0.25:
 *    t1: d = 0.5 + 0.01 = 0.51;  buf = 0.51;  p = 1 - 0.051 = 0.949
 *    t2: d = 0.25 + 0.01*0.949 = 0.25949;  buf = 0.9*0.51 + 0.25949 = 0.71849;
 *        p = 0.949 - 0.071849 = 0.877151 */
static void check_sgd_realistic(ref_checker *c)
{
    float pf = 1.0f, bf = 0.0f, gf = 0.5f;
    double pd = 1.0, bd = 0.0, gd = 0.5;
    sgd_momentum_step_f32(&pf, &gf, &bf, 1, 0.1, 0.9, 0.01, 1);
    sgd_momentum_step_f64(&pd, &gd, &bd, 1, 0.1, 0.9, 0.01, 1);
    ref_check(c, rel(pd, 0.949) < 1e-15 && rel(bd, 0.51) < 1e-15 && rel(pf, 0.949) < 1e-6 &&
                     rel(bf, 0.51) < 1e-6,
              "sgd t=1: p = 0.949 (f64 %.17g, f32 %.9g), buf = 0.51", pd, (double)pf);
    /* Bit-for-bit: the spec's float order, d = g + wd*p; buf = mu*buf + d; p = p - lr*buf. */
    const float lr = (float)0.1, mu = (float)0.9, wd = (float)0.01;
    float p_ref = 1.0f, b_ref;
    {
        const float d = 0.5f + wd * p_ref;
        b_ref = d;
        p_ref = p_ref - lr * d;
    }
    gf = 0.25f, gd = 0.25;
    {
        const float d = 0.25f + wd * p_ref;
        const float b = mu * b_ref + d;
        b_ref = b;
        p_ref = p_ref - lr * b;
    }
    sgd_momentum_step_f32(&pf, &gf, &bf, 1, 0.1, 0.9, 0.01, 2);
    sgd_momentum_step_f64(&pd, &gd, &bd, 1, 0.1, 0.9, 0.01, 2);
    ref_check(c, rel(pd, 0.877151) < 1e-15 && rel(bd, 0.71849) < 1e-15 && rel(pf, 0.877151) < 1e-6 &&
                     rel(bf, 0.71849) < 1e-6,
              "sgd t=2: p = 0.877151 (f64 %.17g, f32 %.9g), buf = 0.71849", pd, (double)pf);
    ref_check(c, pf == p_ref && bf == b_ref,
              "sgd f32 equals the spec's float expression bit for bit (p %a, buf %a)", (double)pf,
              (double)bf);
    /* momentum 0, wd 0 is plain SGD: p -= lr*g. */
    float p = 3.0f, b = 0.0f, g = 2.0f;
    sgd_momentum_step_f32(&p, &g, &b, 1, 0.25, 0.0, 0.0, 1);
    sgd_momentum_step_f32(&p, &g, &b, 1, 0.25, 0.0, 0.0, 2);
    ref_check(c, p == 2.0f && b == 2.0f, "sgd with mu 0, wd 0: 3 - 0.25*2 - 0.25*2 = 2 (%g)", p);
}

/* ---- AdamW ----------------------------------------------------------------- */

/* AdamW reference in double, the formula of optim.h written out (for the
 * comments' numbers; the checks below also state the values). */
static double adamw_by_hand(double p, double m, double v, double lr, double b1, double b2, double eps,
                            double wd, int t)
{
    const double denom = sqrt(v) / sqrt(1.0 - pow(b2, t)) + eps;
    return p * (1.0 - lr * wd) - lr / (1.0 - pow(b1, t)) * (m / denom);
}

/* lr 0.5, wd 0.5, b1 0.5, b2 0.75, eps 1. Coefficients:
 *   t1: decay 0.75, step size 0.5/(1-0.5) = 1,   sqrt(1-0.75) = 0.5
 *   t2: decay 0.75, step size 0.5/0.75 = 2/3,    sqrt(1-0.5625) = sqrt(0.4375)
 * e0 p=2, g1=1, g2=-2:
 *   t1: m = 0.5, v = 0.25, denom = 0.5/0.5 + 1 = 2, p = 1.5 - 1*(0.5/2) = 1.25      (exact)
 *   t2: m = 0.25 - 1 = -0.75, v = 0.1875 + 1 = 1.1875,
 *       denom = sqrt(1.1875)/sqrt(0.4375) + 1 = 2.6475089420958280,
 *       p = 0.9375 - (2/3)*(-0.75/2.64750894) = 1.1263567747779497
 * e1 p=-1, g1=-3, g2=1:
 *   t1: m = -1.5, v = 2.25, denom = 1.5/0.5 + 1 = 4, p = -0.75 + 0.375 = -0.375     (exact)
 *   t2: m = -0.75 + 0.5 = -0.25, v = 1.6875 + 0.25 = 1.9375,
 *       denom = sqrt(1.9375)/sqrt(0.4375) + 1 = 3.1044171232366047,
 *       p = -0.28125 - (2/3)*(-0.25/3.10441712) = -0.2275630565093317 */
static void check_adamw_dyadic(ref_checker *c)
{
    float pf[2] = {2.0f, -1.0f}, gf[2] = {1.0f, -3.0f}, mf[2] = {0}, vf[2] = {0};
    double pd[2] = {2.0, -1.0}, gd[2] = {1.0, -3.0}, md[2] = {0}, vd[2] = {0};
    adamw_step_f32(pf, gf, mf, vf, 2, 0.5, 0.5, 0.75, 1.0, 0.5, 1);
    adamw_step_f64(pd, gd, md, vd, 2, 0.5, 0.5, 0.75, 1.0, 0.5, 1);
    ref_check(c,
              pf[0] == 1.25f && pf[1] == -0.375f && mf[0] == 0.5f && mf[1] == -1.5f && vf[0] == 0.25f &&
                  vf[1] == 2.25f && pd[0] == 1.25 && pd[1] == -0.375 && md[0] == 0.5 && md[1] == -1.5 &&
                  vd[0] == 0.25 && vd[1] == 2.25,
              "adamw exact t=1 (bias correction 1/(1-b1) = 2, sqrt(1-b2) = 0.5): p = (%g, %g), m = (%g, %g), "
              "v = (%g, %g), f32 and f64",
              pf[0], pf[1], mf[0], mf[1], vf[0], vf[1]);
    gf[0] = -2.0f, gf[1] = 1.0f, gd[0] = -2.0, gd[1] = 1.0;
    adamw_step_f32(pf, gf, mf, vf, 2, 0.5, 0.5, 0.75, 1.0, 0.5, 2);
    adamw_step_f64(pd, gd, md, vd, 2, 0.5, 0.5, 0.75, 1.0, 0.5, 2);
    const double want0 = 0.9375 - (2.0 / 3.0) * (-0.75 / (sqrt(1.1875) / sqrt(0.4375) + 1.0));
    const double want1 = -0.28125 - (2.0 / 3.0) * (-0.25 / (sqrt(1.9375) / sqrt(0.4375) + 1.0));
    ref_check(c, fabs(want0 - 1.1263567747779497) < 1e-15 && fabs(want1 + 0.2275630565093317) < 1e-15 &&
                     fabs(want0 - adamw_by_hand(1.25, -0.75, 1.1875, 0.5, 0.5, 0.75, 1.0, 0.5, 2)) < 1e-15,
              "hand values: t=2 p = 1.1263567747779497, -0.2275630565093317");
    ref_check(c,
              rel(pd[0], want0) < 1e-15 && rel(pd[1], want1) < 1e-15 && md[0] == -0.75 && md[1] == -0.25 &&
                  vd[0] == 1.1875 && vd[1] == 1.9375,
              "adamw f64 t=2: p = (%.17g, %.17g), m = (-0.75, -0.25), v = (1.1875, 1.9375)", pd[0], pd[1]);
    ref_check(c,
              rel(pf[0], want0) < 1e-6 && rel(pf[1], want1) < 1e-6 && mf[0] == -0.75f && mf[1] == -0.25f &&
                  vf[0] == 1.1875f && vf[1] == 1.9375f,
              "adamw f32 t=2: p = (%.9g, %.9g) within 1e-6 relative", (double)pf[0], (double)pf[1]);
}

/* lr 1e-3, b1 0.9, b2 0.999, eps 1e-8, wd 0.01 (torch defaults but wd):
 * e0 p=1, g1=3, g2=-1:
 *   t1: p*decay = 0.99999; m = 0.3; v = 0.009; step size = 1e-3/0.1 = 0.01;
 *       denom = sqrt(0.009)/sqrt(0.001) + 1e-8 = 3.00000001;
 *       p = 0.99999 - 0.01*0.3/3.00000001 = 0.99899000000333.  The first
 *       step moves p by ~lr*sign(g) whatever |g| (bias correction at work).
 *   t2: m = 0.27 - 0.1 = 0.17; v = 0.008991 + 0.001 = 0.009991;
 *       step size = 1e-3/0.19; denom = sqrt(0.009991)/sqrt(0.001999) + 1e-8 = 2.2356205054;
 *       p = 0.99899000000333*0.99999 - (1e-3/0.19)*0.17/2.2356205054 = 0.99857979153317
 * e1 p=-0.5, g1=-0.02, g2=0.05:
 *   t1: m = -0.002; v = 4e-7; denom = 6.3245553e-4/0.031622777 + 1e-8 = 0.02000001;
 *       p = -0.499995 + 0.01*0.002/0.02000001 = -0.49899500050000
 *   t2: m = -0.0018 + 0.005 = 0.0032; v = 3.996e-7 + 2.5e-6 = 2.8996e-6;
 *       denom = 0.0380857719; p = -0.49943222569767 */
static void check_adamw_realistic(ref_checker *c)
{
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    float pf[2] = {1.0f, -0.5f}, gf[2] = {3.0f, -0.02f}, mf[2] = {0}, vf[2] = {0};
    double pd[2] = {1.0, -0.5}, gd[2] = {3.0, -0.02}, md[2] = {0}, vd[2] = {0};
    adamw_step_f32(pf, gf, mf, vf, 2, lr, b1, b2, eps, wd, 1);
    adamw_step_f64(pd, gd, md, vd, 2, lr, b1, b2, eps, wd, 1);
    const double t1[2] = {0.99899000000333333, -0.49899500049999988};
    ref_check(c, rel(pd[0], t1[0]) < 1e-14 && rel(pd[1], t1[1]) < 1e-14,
              "adamw f64 t=1: p = (%.17g, %.17g), want (0.99899000000333, -0.49899500050000)", pd[0],
              pd[1]);
    ref_check(c, fabs((pd[0] - 0.99999) + 1e-3) < 1e-11 && fabs((pd[1] + 0.499995) - 1e-3) < 1e-9,
              "adamw t=1 moves each p by ~lr against the sign of g (bias-corrected first step)");
    /* The element expression of the spec, in float, in its order. */
    float p_ref[2] = {1.0f, -0.5f}, m_ref[2] = {0}, v_ref[2] = {0};
    const float g_seq[2][2] = {{3.0f, -0.02f}, {-1.0f, 0.05f}};
    for (int t = 1; t <= 2; t++) {
        const float decay = (float)(1.0 - lr * wd);
        const float step_size = (float)(lr / (1.0 - pow(b1, t)));
        const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
        const float b1f = (float)b1, omb1 = (float)(1.0 - b1), b2f = (float)b2, omb2 = (float)(1.0 - b2);
        const float epsf = (float)eps;
        for (int i = 0; i < 2; i++) {
            const float g = g_seq[t - 1][i];
            const float p = p_ref[i] * decay;
            const float m = b1f * m_ref[i] + omb1 * g;
            const float v = b2f * v_ref[i] + omb2 * (g * g);
            const float denom = sqrtf(v) / bc2_sqrt + epsf;
            m_ref[i] = m, v_ref[i] = v;
            p_ref[i] = p - step_size * (m / denom);
        }
    }
    gf[0] = -1.0f, gf[1] = 0.05f, gd[0] = -1.0, gd[1] = 0.05;
    adamw_step_f32(pf, gf, mf, vf, 2, lr, b1, b2, eps, wd, 2);
    adamw_step_f64(pd, gd, md, vd, 2, lr, b1, b2, eps, wd, 2);
    const double t2[2] = {0.99857979153316910, -0.49943222569766780};
    ref_check(c,
              rel(pd[0], t2[0]) < 1e-14 && rel(pd[1], t2[1]) < 1e-14 && rel(md[0], 0.17) < 1e-14 &&
                  rel(md[1], 0.0032) < 1e-14 && rel(vd[0], 0.009991) < 1e-14 && rel(vd[1], 2.8996e-6) < 1e-12,
              "adamw f64 t=2: p = (%.17g, %.17g), m = (0.17, 0.0032), v = (0.009991, 2.8996e-6)", pd[0],
              pd[1]);
    ref_check(c, rel(pf[0], t2[0]) < 1e-6 && rel(pf[1], t2[1]) < 1e-6,
              "adamw f32 t=2: p = (%.9g, %.9g) within 1e-6 relative", (double)pf[0], (double)pf[1]);
    ref_check(c, memcmp(pf, p_ref, sizeof pf) == 0 && memcmp(mf, m_ref, sizeof mf) == 0 &&
                     memcmp(vf, v_ref, sizeof vf) == 0,
              "adamw f32 equals the spec's float expression bit for bit after 2 steps");
    /* No weight decay, zero gradient: nothing moves (m = v = 0, 0/eps = 0). */
    float p0 = 0.75f, g0 = 0.0f, m0 = 0.0f, v0 = 0.0f;
    adamw_step_f32(&p0, &g0, &m0, &v0, 1, lr, b1, b2, eps, 0.0, 1);
    ref_check(c, p0 == 0.75f && m0 == 0.0f && v0 == 0.0f, "adamw with g = 0 and wd = 0 leaves p unchanged");
    /* Decoupled decay: with g = 0 and state 0, p *= 1 - lr*wd exactly as a float product. */
    p0 = 0.75f;
    adamw_step_f32(&p0, &g0, &m0, &v0, 1, 0.5, b1, b2, eps, 0.5, 1);
    ref_check(c, p0 == 0.75f * 0.75f, "adamw decay is decoupled: g = 0 gives p*(1 - lr*wd) = 0.5625 (%g)",
              (double)p0);
}

/* ---- clipping ----------------------------------------------------------------- */

static void check_clip(ref_checker *c)
{
    ref_check(c, clip_coefficient(10.0, 1.0) == 1.0 / (10.0 + 1e-6), "clip(norm 10, c 1) = 1/(10 + 1e-6) = %.17g",
              clip_coefficient(10.0, 1.0));
    ref_check(c, clip_coefficient(0.5, 1.0) == 1.0, "clip(norm 0.5, c 1) = 1 (no clipping)");
    ref_check(c, clip_coefficient(1.0, 1.0) == 1.0 / (1.0 + 1e-6) && clip_coefficient(1.0, 1.0) < 1.0,
              "clip(norm 1, c 1) = 1/(1 + 1e-6) < 1: at the threshold torch still scales");
    ref_check(c, clip_coefficient(1.0 - 2e-6, 1.0) == 1.0, "clip(norm 1 - 2e-6, c 1) = 1 (c/(n + 1e-6) > 1)");
    ref_check(c, clip_coefficient(0.0, 1.0) == 1.0, "clip(norm 0, c 1) = 1");
    ref_check(c, clip_coefficient(123.0, 0.0) == 1.0 && clip_coefficient(123.0, -1.0) == 1.0,
              "clip with c = 0 or c < 0 is disabled (1)");
    ref_check(c, clip_coefficient(3.0, 0.25) == 0.25 / 3.000001, "clip(norm 3, c 0.25) = 0.25/3.000001");
}

int main(void)
{
    ref_checker c = {.test = "ref_optim"};
    check_sgd_exact(&c);
    check_sgd_realistic(&c);
    check_adamw_dyadic(&c);
    check_adamw_realistic(&c);
    check_clip(&c);
    return ref_finish(&c);
}
