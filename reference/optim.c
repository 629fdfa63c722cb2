/*
 * SGD with momentum and AdamW with torch.optim's semantics, in fp32 and fp64,
 * and the global-norm clipping coefficient. The per-element expressions and
 * their evaluation order are normative (docs/model-spec.md, "Optimizers"):
 * fp32 variants compute every scalar coefficient in double, round it once to
 * float, and then do only float arithmetic per element, so any
 * implementation that follows the same order reproduces them bit for bit.
 */
#include "parallel.h"
#include "optim.h"

#include <math.h>

/* SGD: d = g + wd*p;  buf = d (t == 1) or mu*buf + d;  p = p - lr*buf. */
void sgd_momentum_step_f32(float *p, const float *g, float *buf, int64_t n, double lr,
                           double momentum, double weight_decay, int64_t t)
{
    const float lr_f = (float)lr, mu_f = (float)momentum, wd_f = (float)weight_decay;
    if (t == 1) {
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) {
            const float d = g[i] + wd_f * p[i];
            buf[i] = d;
            p[i] = p[i] - lr_f * d;
        }
    } else {
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) {
            const float d = g[i] + wd_f * p[i];
            const float b = mu_f * buf[i] + d;
            buf[i] = b;
            p[i] = p[i] - lr_f * b;
        }
    }
}

void sgd_momentum_step_f64(double *p, const double *g, double *buf, int64_t n, double lr,
                           double momentum, double weight_decay, int64_t t)
{
    for (int64_t i = 0; i < n; i++) {
        const double d = g[i] + weight_decay * p[i];
        const double b = (t == 1) ? d : momentum * buf[i] + d;
        buf[i] = b;
        p[i] = p[i] - lr * b;
    }
}

/* AdamW coefficients of step t, in double:
 *   decay = 1 - lr*wd,  step_size = lr / (1 - b1^t),  bc2_sqrt = sqrt(1 - b2^t). */
typedef struct adamw_coefs {
    double decay, step_size, bc2_sqrt;
} adamw_coefs;

static adamw_coefs adamw_coefficients(double lr, double beta1, double beta2,
                                      double weight_decay, int64_t t)
{
    adamw_coefs c;
    c.decay = 1.0 - lr * weight_decay;
    c.step_size = lr / (1.0 - pow(beta1, (double)t));
    c.bc2_sqrt = sqrt(1.0 - pow(beta2, (double)t));
    return c;
}

/* p = p*decay;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*(g*g);
 * denom = sqrt(v)/bc2_sqrt + eps;  p = p - step_size*(m/denom). */
void adamw_step_f32(float *p, const float *g, float *m, float *v, int64_t n, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int64_t t)
{
    const adamw_coefs c = adamw_coefficients(lr, beta1, beta2, weight_decay, t);
    const float decay = (float)c.decay, step_size = (float)c.step_size,
                bc2_sqrt = (float)c.bc2_sqrt;
    const float b1 = (float)beta1, one_minus_b1 = (float)(1.0 - beta1);
    const float b2 = (float)beta2, one_minus_b2 = (float)(1.0 - beta2);
    const float eps_f = (float)eps;
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i];
        const float pi = p[i] * decay;
        const float mi = b1 * m[i] + one_minus_b1 * gi;
        const float vi = b2 * v[i] + one_minus_b2 * (gi * gi);
        const float denom = sqrtf(vi) / bc2_sqrt + eps_f;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / denom);
    }
}

void adamw_step_f64(double *p, const double *g, double *m, double *v, int64_t n, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int64_t t)
{
    const adamw_coefs c = adamw_coefficients(lr, beta1, beta2, weight_decay, t);
    const double one_minus_b1 = 1.0 - beta1, one_minus_b2 = 1.0 - beta2;
    for (int64_t i = 0; i < n; i++) {
        const double gi = g[i];
        const double pi = p[i] * c.decay;
        const double mi = beta1 * m[i] + one_minus_b1 * gi;
        const double vi = beta2 * v[i] + one_minus_b2 * (gi * gi);
        const double denom = sqrt(vi) / c.bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - c.step_size * (mi / denom);
    }
}

double clip_coefficient(double norm, double clip_norm)
{
    if (clip_norm <= 0.0) {
        return 1.0;
    }
    const double coef = clip_norm / (norm + 1e-6);
    return coef < 1.0 ? coef : 1.0;
}
