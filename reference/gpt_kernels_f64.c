/*
 * GPT-2 kernels in fp64 with plain loops (gpt_kernels.h): the oracle's
 * versions, written as directly from the formulas as possible; attention
 * visits only t2 <= t.
 */
#include "gpt_kernels.h"

#include <math.h>
#include <string.h>

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

void gpt_embed_forward_f64(const int32_t *tok, const double *wte, const double *wpe, double *x,
                           int64_t B, int64_t T, int64_t C)
{
    for (int64_t n = 0; n < B * T; n++) {
        for (int64_t c = 0; c < C; c++) {
            x[n * C + c] = wte[(int64_t)tok[n] * C + c] + wpe[(n % T) * C + c];
        }
    }
}

void gpt_embed_backward_f64(const double *dx, const int32_t *tok, double *dwte, double *dwpe,
                            int64_t B, int64_t T, int64_t C)
{
    for (int64_t n = 0; n < B * T; n++) {
        for (int64_t c = 0; c < C; c++) {
            dwte[(int64_t)tok[n] * C + c] += dx[n * C + c];
            dwpe[(n % T) * C + c] += dx[n * C + c];
        }
    }
}

void gpt_layernorm_forward_f64(const double *x, const double *w, const double *b, double *out,
                               double *mean, double *rstd, int64_t N, int64_t C, double eps)
{
    for (int64_t n = 0; n < N; n++) {
        const double *xr = x + n * C;
        double m = 0.0;
        for (int64_t c = 0; c < C; c++) {
            m += xr[c];
        }
        m /= (double)C;
        double var = 0.0;
        for (int64_t c = 0; c < C; c++) {
            var += (xr[c] - m) * (xr[c] - m);
        }
        var /= (double)C;
        const double s = 1.0 / sqrt(var + eps);
        for (int64_t c = 0; c < C; c++) {
            out[n * C + c] = (xr[c] - m) * s * w[c] + b[c];
        }
        mean[n] = m;
        rstd[n] = s;
    }
}

void gpt_layernorm_backward_f64(const double *dout, const double *x, const double *w,
                                const double *mean, const double *rstd, double *dx, double *dw,
                                double *db, int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const double *xr = x + n * C, *d = dout + n * C;
        const double m = mean[n], s = rstd[n];
        double mg = 0.0, mgx = 0.0;
        for (int64_t c = 0; c < C; c++) {
            mg += d[c] * w[c];
            mgx += d[c] * w[c] * (xr[c] - m) * s;
        }
        mg /= (double)C;
        mgx /= (double)C;
        for (int64_t c = 0; c < C; c++) {
            const double xhat = (xr[c] - m) * s;
            dx[n * C + c] += s * (d[c] * w[c] - mg - xhat * mgx);
            dw[c] += d[c] * xhat;
            db[c] += d[c];
        }
    }
}

void gpt_attention_forward_f64(const double *qkv, double *att, double *y, int64_t B, int64_t T,
                               int64_t C, int64_t NH)
{
    const int64_t hs = C / NH, C3 = 3 * C;
    const double scale = 1.0 / sqrt((double)hs);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < NH; h++) {
            for (int64_t t = 0; t < T; t++) {
                const double *q = qkv + (b * T + t) * C3 + h * hs;
                double *p = att + ((b * NH + h) * T + t) * T;
                double mx = -INFINITY;
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    p[t2] = dot(q, qkv + (b * T + t2) * C3 + C + h * hs, hs) * scale;
                    mx = fmax(mx, p[t2]);
                }
                double sum = 0.0;
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    p[t2] = exp(p[t2] - mx);
                    sum += p[t2];
                }
                for (int64_t t2 = 0; t2 < T; t2++) {
                    p[t2] = t2 <= t ? p[t2] / sum : 0.0;
                }
                double *yt = y + (b * T + t) * C + h * hs;
                for (int64_t d = 0; d < hs; d++) {
                    double acc = 0.0;
                    for (int64_t t2 = 0; t2 <= t; t2++) {
                        acc += p[t2] * qkv[(b * T + t2) * C3 + 2 * C + h * hs + d];
                    }
                    yt[d] = acc;
                }
            }
        }
    }
}

void gpt_attention_backward_f64(const double *dy, const double *qkv, const double *att,
                                double *dqkv, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    const int64_t hs = C / NH, C3 = 3 * C;
    const double scale = 1.0 / sqrt((double)hs);
    memset(dqkv, 0, (size_t)(B * T * C3) * sizeof *dqkv);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < NH; h++) {
            for (int64_t t = 0; t < T; t++) {
                const double *p = att + ((b * NH + h) * T + t) * T;
                const double *q = qkv + (b * T + t) * C3 + h * hs;
                const double *dyt = dy + (b * T + t) * C + h * hs;
                double *dq = dqkv + (b * T + t) * C3 + h * hs;
                /* r = sum_t2 p dP, dP[t2] = dy_t . v_t2 */
                double r = 0.0;
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    r += p[t2] * dot(dyt, qkv + (b * T + t2) * C3 + 2 * C + h * hs, hs);
                }
                for (int64_t t2 = 0; t2 <= t; t2++) {
                    const int64_t row = (b * T + t2) * C3 + h * hs;
                    const double *k = qkv + row + C, *v = qkv + row + 2 * C;
                    double *dk = dqkv + row + C, *dv = dqkv + row + 2 * C;
                    const double ds = p[t2] * (dot(dyt, v, hs) - r);
                    for (int64_t d = 0; d < hs; d++) {
                        dq[d] += ds * scale * k[d];
                        dk[d] += ds * scale * q[d];
                        dv[d] += p[t2] * dyt[d];
                    }
                }
            }
        }
    }
}

void gpt_residual_add_f64(double *x, const double *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        x[i] += y[i];
    }
}
