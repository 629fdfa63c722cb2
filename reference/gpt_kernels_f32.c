/*
 * GPT-2 kernels in fp32 (gpt_kernels.h). Sums run in float in a fixed order
 * (serial per row), so results do not depend on the OpenMP thread count:
 * threads split independent rows only; reductions over rows (LayerNorm dw,
 * db; embedding gradients) stay serial. Attention's products are sgemm calls
 * per (sequence, head) over the strided q, k, v columns (leading dimension
 * 3C); they compute the full T x T score matrix and the softmax then zeroes
 * the part above the diagonal, so P v and the backward products need no mask.
 */
#include "gpt_kernels.h"

#include <cblas.h>
#include <math.h>

#include "parallel.h"

void gpt_embed_forward_f32(const int32_t *tok, const float *wte, const float *wpe, float *x,
                           int64_t B, int64_t T, int64_t C)
{
    const int64_t N = B * T;
#pragma omp parallel for schedule(static) if (N * C >= DTB_PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *e = wte + (int64_t)tok[n] * C, *p = wpe + (n % T) * C;
        float *out = x + n * C;
        for (int64_t c = 0; c < C; c++) {
            out[c] = e[c] + p[c];
        }
    }
}

void gpt_embed_backward_f32(const float *dx, const int32_t *tok, float *dwte, float *dwpe,
                            int64_t B, int64_t T, int64_t C)
{
    /* Serial: rows with the same token (or position) add into one row. */
    for (int64_t n = 0; n < B * T; n++) {
        const float *d = dx + n * C;
        float *e = dwte + (int64_t)tok[n] * C, *p = dwpe + (n % T) * C;
        for (int64_t c = 0; c < C; c++) {
            e[c] += d[c];
            p[c] += d[c];
        }
    }
}

void gpt_layernorm_forward_f32(const float *x, const float *w, const float *b, float *out,
                               float *mean, float *rstd, int64_t N, int64_t C, float eps)
{
    const float inv_c = 1.0f / (float)C;
#pragma omp parallel for schedule(static) if (N * C >= DTB_PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xr = x + n * C;
        float *o = out + n * C;
        float sum = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            sum += xr[c];
        }
        const float m = sum * inv_c;
        /* Two passes: the variance of x - mean, never E[x^2] - mean^2. */
        float ss = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            const float d = xr[c] - m;
            ss += d * d;
        }
        const float s = 1.0f / sqrtf(ss * inv_c + eps);
        for (int64_t c = 0; c < C; c++) {
            o[c] = (xr[c] - m) * s * w[c] + b[c];
        }
        mean[n] = m;
        rstd[n] = s;
    }
}

void gpt_layernorm_backward_f32(const float *dout, const float *x, const float *w,
                                const float *mean, const float *rstd, float *dx, float *dw,
                                float *db, int64_t N, int64_t C)
{
    const float inv_c = 1.0f / (float)C;
#pragma omp parallel for schedule(static) if (N * C >= DTB_PARALLEL_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *xr = x + n * C, *d = dout + n * C;
        float *dxr = dx + n * C;
        const float m = mean[n], s = rstd[n];
        float sg = 0.0f, sgx = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            const float g = d[c] * w[c];
            sg += g;
            sgx += g * ((xr[c] - m) * s);
        }
        const float mg = sg * inv_c, mgx = sgx * inv_c;
        for (int64_t c = 0; c < C; c++) {
            const float xhat = (xr[c] - m) * s;
            dxr[c] += s * (d[c] * w[c] - mg - xhat * mgx);
        }
    }
    /* Serial over rows: dw and db are sums over all of them. */
    for (int64_t n = 0; n < N; n++) {
        const float *xr = x + n * C, *d = dout + n * C;
        const float m = mean[n], s = rstd[n];
        for (int64_t c = 0; c < C; c++) {
            dw[c] += d[c] * ((xr[c] - m) * s);
            db[c] += d[c];
        }
    }
}

/* Row t of the [T x T] scores: softmax over t2 <= t (minus the row max),
 * zeros for t2 > t. */
static void softmax_causal(float *S, int64_t T)
{
#pragma omp parallel for schedule(static) if (T * T >= DTB_PARALLEL_MIN)
    for (int64_t t = 0; t < T; t++) {
        float *row = S + t * T;
        float mx = row[0];
        for (int64_t t2 = 1; t2 <= t; t2++) {
            mx = row[t2] > mx ? row[t2] : mx;
        }
        float sum = 0.0f;
        for (int64_t t2 = 0; t2 <= t; t2++) {
            row[t2] = expf(row[t2] - mx);
            sum += row[t2];
        }
        const float inv = 1.0f / sum;
        for (int64_t t2 = 0; t2 <= t; t2++) {
            row[t2] *= inv;
        }
        for (int64_t t2 = t + 1; t2 < T; t2++) {
            row[t2] = 0.0f;
        }
    }
}

void gpt_attention_forward_f32(const float *qkv, float *att, float *y, int64_t B, int64_t T,
                               int64_t C, int64_t NH)
{
    const int64_t hs = C / NH, C3 = 3 * C;
    const float alpha = 1.0f / sqrtf((float)hs);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < NH; h++) {
            const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
            float *P = att + (b * NH + h) * T * T;
            /* S = alpha q k^T, then P = causal softmax(S) in place. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)hs, alpha,
                        q, (int)C3, k, (int)C3, 0.0f, P, (int)T);
            softmax_causal(P, T);
            /* y_h = P v (P is 0 above the diagonal). */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)hs, (int)T, 1.0f,
                        P, (int)T, v, (int)C3, 0.0f, y + b * T * C + h * hs, (int)C);
        }
    }
}

/* In place: dP -> dS = P .* (dP - r),  r_t = sum_{t2 <= t} P dP (0 above the diagonal). */
static void softmax_causal_backward(const float *P, float *dP, int64_t T)
{
#pragma omp parallel for schedule(static) if (T * T >= DTB_PARALLEL_MIN)
    for (int64_t t = 0; t < T; t++) {
        const float *p = P + t * T;
        float *d = dP + t * T;
        float r = 0.0f;
        for (int64_t t2 = 0; t2 <= t; t2++) {
            r += p[t2] * d[t2];
        }
        for (int64_t t2 = 0; t2 <= t; t2++) {
            d[t2] = p[t2] * (d[t2] - r);
        }
        for (int64_t t2 = t + 1; t2 < T; t2++) {
            d[t2] = 0.0f;
        }
    }
}

void gpt_attention_backward_f32(const float *dy, const float *qkv, const float *att, float *dqkv,
                                float *scratch, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    const int64_t hs = C / NH, C3 = 3 * C;
    const float alpha = 1.0f / sqrtf((float)hs);
    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < NH; h++) {
            const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
            const float *P = att + (b * NH + h) * T * T, *dyh = dy + b * T * C + h * hs;
            float *dq = dqkv + b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;
            /* dP = dy v^T;  dv = P^T dy. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)hs, 1.0f,
                        dyh, (int)C, v, (int)C3, 0.0f, scratch, (int)T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)hs, (int)T, 1.0f, P,
                        (int)T, dyh, (int)C, 0.0f, dv, (int)C3);
            softmax_causal_backward(P, scratch, T);
            /* dq = alpha dS k;  dk = alpha dS^T q. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)hs, (int)T, alpha,
                        scratch, (int)T, k, (int)C3, 0.0f, dq, (int)C3);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)hs, (int)T, alpha,
                        scratch, (int)T, q, (int)C3, 0.0f, dk, (int)C3);
        }
    }
}

void gpt_residual_add_f32(float *x, const float *y, int64_t n)
{
#pragma omp parallel for schedule(static) if (n >= DTB_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        x[i] += y[i];
    }
}
