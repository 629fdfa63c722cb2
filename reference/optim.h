/*
 * Optimizers and clipping, as torch.optim does them (docs/model-spec.md,
 * "Optimizers"). fp32 versions update in float arithmetic with the scalar
 * coefficients computed in double and rounded once to float; fp64 versions
 * are the oracle's.
 *
 * SGD with momentum mu, weight decay wd, step t >= 1:
 *     d = g + wd*p;   buf = (t == 1) ? d : mu*buf + d;   p -= lr*buf
 * AdamW, step t >= 1:
 *     p *= 1 - lr*wd
 *     m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g^2
 *     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Clipping by global norm n of the averaged gradient, threshold c > 0:
 *     g *= min(1, c / (n + 1e-6))       (torch.nn.utils.clip_grad_norm_)
 */
#ifndef DTB_REFERENCE_OPTIM_H
#define DTB_REFERENCE_OPTIM_H

#include <stdint.h>

void sgd_momentum_step_f32(float *p, const float *g, float *buf, int64_t n, double lr,
                           double momentum, double weight_decay, int64_t t);
void adamw_step_f32(float *p, const float *g, float *m, float *v, int64_t n, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int64_t t);
void sgd_momentum_step_f64(double *p, const double *g, double *buf, int64_t n, double lr,
                           double momentum, double weight_decay, int64_t t);
void adamw_step_f64(double *p, const double *g, double *m, double *v, int64_t n, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int64_t t);

/* min(1, clip_norm / (norm + 1e-6)); 1 when clip_norm <= 0. */
double clip_coefficient(double norm, double clip_norm);

#endif
