/*
 * The GPT-2 kernels besides the linear layers, GELU and the loss (those are
 * backend.h's and mlp_f64.h's): token + position embedding, LayerNorm,
 * causal multi-head self-attention and the residual add, in fp32
 * (gpt_kernels_f32.c; attention products by cblas_sgemm) and fp64
 * (gpt_kernels_f64.c; plain loops). Host memory, row-major. The functions
 * trust their arguments (the models check tokens and sizes first).
 *
 * Shapes: N rows of width C; for attention N = B*T with rows n = b*T + t and
 * qkv [N x 3C] holding q | k | v, head h in columns h*hs .. h*hs+hs-1 of each
 * third (hs = C / NH).
 */
#ifndef DTB_REFERENCE_GPT_KERNELS_H
#define DTB_REFERENCE_GPT_KERNELS_H

#include <stdint.h>

/* x[b*T + t][:] = wte[tok[b*T + t]][:] + wpe[t][:]. */
void gpt_embed_forward_f32(const int32_t *tok, const float *wte, const float *wpe, float *x,
                           int64_t B, int64_t T, int64_t C);
/* dwte[tok[n]][:] += dx[n][:];  dwpe[t][:] += dx[b*T + t][:]  (rows in order). */
void gpt_embed_backward_f32(const float *dx, const int32_t *tok, float *dwte, float *dwpe,
                            int64_t B, int64_t T, int64_t C);

/* Per row: mean = sum x / C;  var = sum (x - mean)^2 / C;  rstd = 1/sqrt(var + eps);
 * out = (x - mean) rstd w + b. Saves mean[N], rstd[N]. */
void gpt_layernorm_forward_f32(const float *x, const float *w, const float *b, float *out,
                               float *mean, float *rstd, int64_t N, int64_t C, float eps);
/* With xhat = (x - mean) rstd and g = dout * w (per element):
 *   dx += rstd (g - mean_c(g) - xhat mean_c(g xhat));
 *   dw += sum_n dout xhat;  db += sum_n dout. */
void gpt_layernorm_backward_f32(const float *dout, const float *x, const float *w,
                                const float *mean, const float *rstd, float *dx, float *dw,
                                float *db, int64_t N, int64_t C);

/* Per sequence b and head h:  s[t][t2] = q_t . k_t2 / sqrt(hs) for t2 <= t,
 * att[b][h][t][:] = softmax over t2 <= t (0 for t2 > t),  y_t = sum att v_t2.
 * att [B][NH][T][T], y [N x C] (head h in columns h*hs..). */
void gpt_attention_forward_f32(const float *qkv, float *att, float *y, int64_t B, int64_t T,
                               int64_t C, int64_t NH);
/* dqkv = (dq | dk | dv), OVERWRITTEN:  dP = dy v^T;  dv = P^T dy;
 * dS = P .* (dP - rowsum(P .* dP));  dq = dS k / sqrt(hs);  dk = dS^T q / sqrt(hs).
 * scratch holds T*T floats. */
void gpt_attention_backward_f32(const float *dy, const float *qkv, const float *att, float *dqkv,
                                float *scratch, int64_t B, int64_t T, int64_t C, int64_t NH);

/* x += y (the residual stream). */
void gpt_residual_add_f32(float *x, const float *y, int64_t n);

/* The same in double (attention backward needs no scratch). */
void gpt_embed_forward_f64(const int32_t *tok, const double *wte, const double *wpe, double *x,
                           int64_t B, int64_t T, int64_t C);
void gpt_embed_backward_f64(const double *dx, const int32_t *tok, double *dwte, double *dwpe,
                            int64_t B, int64_t T, int64_t C);
void gpt_layernorm_forward_f64(const double *x, const double *w, const double *b, double *out,
                               double *mean, double *rstd, int64_t N, int64_t C, double eps);
void gpt_layernorm_backward_f64(const double *dout, const double *x, const double *w,
                                const double *mean, const double *rstd, double *dx, double *dw,
                                double *db, int64_t N, int64_t C);
void gpt_attention_forward_f64(const double *qkv, double *att, double *y, int64_t B, int64_t T,
                               int64_t C, int64_t NH);
void gpt_attention_backward_f64(const double *dy, const double *qkv, const double *att,
                                double *dqkv, int64_t B, int64_t T, int64_t C, int64_t NH);
void gpt_residual_add_f64(double *x, const double *y, int64_t n);

#endif
