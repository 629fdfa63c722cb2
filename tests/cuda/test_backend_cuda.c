/*
 * cuda_backend: every op of the CUDA backend against the CPU backend on
 * seeded random inputs. Exits 77 (ctest: skipped) printing "no CUDA device"
 * when the CUDA runtime reports no device.
 *
 * Expected agreement (see backend_cuda.cu), with u = 2^-24:
 *   bitwise: copies, zero, scale, add, db of linear_backward, SGD, AdamW;
 *   sgemm results: |diff| <= 2 (k+2) u (sum_k |a_k b_k| + |c|)   (each side
 *     within gamma_{k+1} of the exact value, whatever the summation order);
 *   GELU: the float expressions are the same, so only tanhf differs, by at
 *     most 4 ulp(t) (2 ulp device + 2 ulp libm); the bound propagates that
 *     and both sides' rounding of the rest;
 *   cross-entropy: expf/logf differ by <= 3 ulp and the row sums s are taken
 *     in another order: |ds|/s <= (2C+8) u;  dz within (2C+20) u relative
 *     plus 2u*scale; each row loss within (2C+8) u + 4u(|lse|+|z_y|+|log s|);
 *   sum of squares (double): |diff| <= 2 n 2^-53 * sum.
 */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backend_compare.h"

#define SKIP_CODE 77

/* ---- memory ops -------------------------------------------------------- */

static void test_memory(cmp_ctx *cc)
{
    const int64_t n = 100003;
    float *h = host_alloc(sizeof(float) * n), *back = host_alloc(sizeof(float) * n);
    float *zeros = calloc((size_t)n, sizeof(float));
    if (zeros == NULL) {
        exit(1);
    }
    fill_uniform(h, n, 1, -3.0f, 3.0f);
    void *empty = dev_alloc(cc, 0);
    if (empty == NULL) {
        cc_fail(cc, "a zero-byte alloc gave no pointer");
    }
    dev_free(cc, empty);
    float *d = dev_upload(cc, h, sizeof(float) * n);
    if (dev_download(cc, back, d, sizeof(float) * n) == 0) {
        expect_bitwise(cc, back, h, n, "copy_in/copy_out round trip");
    }
    expect_ok(cc, cc->gpu, cc->gpu->ops->zero(cc->gpu, d, sizeof(float) * n), "zero");
    if (dev_download(cc, back, d, sizeof(float) * n) == 0) {
        expect_bitwise(cc, back, zeros, n, "zero");
    }
    expect_ok(cc, cc->gpu, cc->gpu->ops->synchronize(cc->gpu), "synchronize");
    dev_free(cc, d);
    free(h);
    free(back);
    free(zeros);
    cc_point(cc, "alloc (incl. 0 bytes), copy_in/copy_out, zero, synchronize");
}

/* ---- linear layers -------------------------------------------------------- */

typedef struct shape {
    int64_t B, in, out;
} shape;

static const shape SHAPES[] = {{1, 1, 1}, {7, 17, 5}, {33, 64, 10}, {128, 257, 129}, {3, 1000, 2}};
enum { N_SHAPES = sizeof SHAPES / sizeof SHAPES[0] };

static void test_linear_forward(cmp_ctx *cc, shape s, uint64_t seed)
{
    const int64_t B = s.B, in = s.in, out = s.out;
    float *X = host_alloc(sizeof(float) * B * in), *W = host_alloc(sizeof(float) * out * in);
    float *b = host_alloc(sizeof(float) * out);
    float *Zc = host_alloc(sizeof(float) * B * out), *Zg = host_alloc(sizeof(float) * B * out);
    float *Zg2 = host_alloc(sizeof(float) * B * out);
    double *tol = host_alloc(sizeof(double) * B * out);
    fill_uniform(X, B * in, seed, -1.0f, 1.0f);
    fill_uniform(W, out * in, seed + 1, -0.5f, 0.5f);
    fill_uniform(b, out, seed + 2, -0.1f, 0.1f);
    for (int64_t j = 0; j < B; j++) {
        for (int64_t o = 0; o < out; o++) {
            double mag = fabs(b[o]);
            for (int64_t k = 0; k < in; k++) {
                mag += fabs((double)X[j * in + k] * W[o * in + k]);
            }
            tol[j * out + o] = 2.0 * (double)(in + 2) * U32 * mag;
        }
    }
    expect_ok(cc, cc->cpu, cc->cpu->ops->linear_forward(cc->cpu, X, W, b, Zc, B, in, out),
              "linear_forward");
    float *dX = dev_upload(cc, X, sizeof(float) * B * in);
    float *dW = dev_upload(cc, W, sizeof(float) * out * in);
    float *db = dev_upload(cc, b, sizeof(float) * out);
    float *dZ = dev_alloc(cc, sizeof(float) * B * out);
    if (dX && dW && db && dZ) {
        expect_ok(cc, cc->gpu, cc->gpu->ops->linear_forward(cc->gpu, dX, dW, db, dZ, B, in, out),
                  "linear_forward");
        if (dev_download(cc, Zg, dZ, sizeof(float) * B * out) == 0) {
            expect_close(cc, Zg, Zc, tol, B * out, "linear_forward Z");
        }
        /* Run to run: the same inputs give the same bits. */
        expect_ok(cc, cc->gpu, cc->gpu->ops->linear_forward(cc->gpu, dX, dW, db, dZ, B, in, out),
                  "linear_forward again");
        if (dev_download(cc, Zg2, dZ, sizeof(float) * B * out) == 0) {
            expect_bitwise(cc, Zg2, Zg, B * out, "linear_forward Z, second run");
        }
    }
    dev_free(cc, dX);
    dev_free(cc, dW);
    dev_free(cc, db);
    dev_free(cc, dZ);
    free(X);
    free(W);
    free(b);
    free(Zc);
    free(Zg);
    free(Zg2);
    free(tol);
}

static void test_linear_backward(cmp_ctx *cc, shape s, uint64_t seed, int with_dX)
{
    const int64_t B = s.B, in = s.in, out = s.out;
    float *dZ = host_alloc(sizeof(float) * B * out), *X = host_alloc(sizeof(float) * B * in);
    float *W = host_alloc(sizeof(float) * out * in);
    float *dW = host_alloc(sizeof(float) * out * in), *dWg = host_alloc(sizeof(float) * out * in);
    float *db = host_alloc(sizeof(float) * out), *dbg = host_alloc(sizeof(float) * out);
    float *dX = host_alloc(sizeof(float) * B * in), *dXg = host_alloc(sizeof(float) * B * in);
    double *tol_W = host_alloc(sizeof(double) * out * in);
    double *tol_X = host_alloc(sizeof(double) * B * in);
    fill_uniform(dZ, B * out, seed, -1.0f, 1.0f);
    fill_uniform(X, B * in, seed + 1, -1.0f, 1.0f);
    fill_uniform(W, out * in, seed + 2, -0.5f, 0.5f);
    /* dW, db start non-zero: the op accumulates. */
    fill_uniform(dW, out * in, seed + 3, -0.2f, 0.2f);
    fill_uniform(db, out, seed + 4, -0.2f, 0.2f);
    for (int64_t o = 0; o < out; o++) {
        for (int64_t i = 0; i < in; i++) {
            double mag = fabs(dW[o * in + i]);
            for (int64_t j = 0; j < B; j++) {
                mag += fabs((double)dZ[j * out + o] * X[j * in + i]);
            }
            tol_W[o * in + i] = 2.0 * (double)(B + 2) * U32 * mag;
        }
    }
    for (int64_t j = 0; j < B; j++) {
        for (int64_t i = 0; i < in; i++) {
            double mag = 0.0;
            for (int64_t o = 0; o < out; o++) {
                mag += fabs((double)dZ[j * out + o] * W[o * in + i]);
            }
            tol_X[j * in + i] = 2.0 * (double)(out + 2) * U32 * mag;
        }
    }
    float *g_dZ = dev_upload(cc, dZ, sizeof(float) * B * out);
    float *g_X = dev_upload(cc, X, sizeof(float) * B * in);
    float *g_W = dev_upload(cc, W, sizeof(float) * out * in);
    float *g_dW = dev_upload(cc, dW, sizeof(float) * out * in);
    float *g_db = dev_upload(cc, db, sizeof(float) * out);
    float *g_dX = with_dX ? dev_alloc(cc, sizeof(float) * B * in) : NULL;
    expect_ok(cc, cc->cpu,
              cc->cpu->ops->linear_backward(cc->cpu, dZ, X, W, with_dX ? dX : NULL, dW, db, B, in,
                                            out),
              "linear_backward");
    if (g_dZ && g_X && g_W && g_dW && g_db && (g_dX || !with_dX)) {
        expect_ok(cc, cc->gpu,
                  cc->gpu->ops->linear_backward(cc->gpu, g_dZ, g_X, g_W, g_dX, g_dW, g_db, B, in,
                                                out),
                  "linear_backward");
        if (dev_download(cc, dWg, g_dW, sizeof(float) * out * in) == 0) {
            expect_close(cc, dWg, dW, tol_W, out * in, "linear_backward dW");
        }
        if (dev_download(cc, dbg, g_db, sizeof(float) * out) == 0) {
            expect_bitwise(cc, dbg, db, out, "linear_backward db");
        }
        if (with_dX && dev_download(cc, dXg, g_dX, sizeof(float) * B * in) == 0) {
            expect_close(cc, dXg, dX, tol_X, B * in, "linear_backward dX");
        }
    }
    dev_free(cc, g_dZ);
    dev_free(cc, g_X);
    dev_free(cc, g_W);
    dev_free(cc, g_dW);
    dev_free(cc, g_db);
    dev_free(cc, g_dX);
    free(dZ);
    free(X);
    free(W);
    free(dW);
    free(dWg);
    free(db);
    free(dbg);
    free(dX);
    free(dXg);
    free(tol_W);
    free(tol_X);
}

static void test_linear(cmp_ctx *cc)
{
    for (int i = 0; i < N_SHAPES; i++) {
        test_linear_forward(cc, SHAPES[i], 100 + (uint64_t)i * 10);
    }
    cc_point(cc, "linear_forward within 2(in+2)u sum|x w|; bitwise run to run");
    for (int i = 0; i < N_SHAPES; i++) {
        test_linear_backward(cc, SHAPES[i], 200 + (uint64_t)i * 10, 1);
        test_linear_backward(cc, SHAPES[i], 300 + (uint64_t)i * 10, 0);
    }
    cc_point(cc, "linear_backward: dW, dX within the sgemm bound, db bitwise, dX = NULL");
    /* B = 0 is accepted and does nothing; bad sizes are refused. */
    float one = 1.0f;
    expect_ok(cc, cc->gpu, cc->gpu->ops->linear_forward(cc->gpu, &one, &one, &one, &one, 0, 1, 1),
              "linear_forward B=0");
    if (cc->gpu->ops->linear_forward(cc->gpu, NULL, NULL, NULL, NULL, 2, 0, 3) == 0) {
        cc_fail(cc, "linear_forward accepted in = 0");
    }
    if (cc->gpu->ops->linear_backward(cc->gpu, NULL, NULL, NULL, NULL, NULL, NULL, -1, 2, 3) ==
        0) {
        cc_fail(cc, "linear_backward accepted B = -1");
    }
    cc_point(cc, "linear: B = 0 is a no-op, bad sizes refused with a message");
}

/* ---- GELU ------------------------------------------------------------------ */

static float ulpf(float x)
{
    const float a = fabsf(x);
    return nextafterf(a, INFINITY) - a;
}

static void test_gelu(cmp_ctx *cc)
{
    const int64_t n = 4001 + 5000;
    float *Z = host_alloc(sizeof(float) * n), *dA = host_alloc(sizeof(float) * n);
    float *Ac = host_alloc(sizeof(float) * n), *Ag = host_alloc(sizeof(float) * n);
    float *dZc = host_alloc(sizeof(float) * n), *dZg = host_alloc(sizeof(float) * n);
    double *tol_f = host_alloc(sizeof(double) * n), *tol_b = host_alloc(sizeof(double) * n);
    for (int64_t i = 0; i < 4001; i++) {
        Z[i] = (float)(-10.0 + 0.005 * (double)i); /* a grid over [-10, 10] */
    }
    fill_uniform(Z + 4001, 5000, 7, -6.0f, 6.0f);
    fill_uniform(dA, n, 8, -2.0f, 2.0f);
    const double k = 0.7978845608028654, c = 0.044715;
    for (int64_t i = 0; i < n; i++) {
        /* u is bitwise the same on both sides; t = tanh(u) may differ by 4 ulp. */
        const float z = Z[i];
        const float u = 0.7978845608028654f * (z + 0.044715f * z * z * z);
        const double t = tanh((double)u);
        const double dt = 4.0 * ulpf((float)t);
        const double A = 0.5 * z * (1.0 + t);
        tol_f[i] = 0.5 * fabs(z) * dt + 4.0 * U32 * fabs(A) + 1e-37;
        const double du_dz = k * (1.0 + 3.0 * c * z * z);
        const double left = 0.5 * (1.0 + t);
        const double right_mag = 0.5 * fabs(z) * du_dz;
        const double grad = left + 0.5 * z * (1.0 - t * t) * du_dz;
        tol_b[i] = fabs(dA[i]) * (dt * (0.5 + fabs(z * t) * du_dz) + 16.0 * U32 * (left + right_mag)) +
                   2.0 * U32 * fabs(dA[i] * grad) + 1e-37;
    }
    expect_ok(cc, cc->cpu, cc->cpu->ops->gelu_forward(cc->cpu, Z, Ac, NULL, n), "gelu_forward");
    expect_ok(cc, cc->cpu, cc->cpu->ops->gelu_backward(cc->cpu, Z, NULL, dA, dZc, n),
              "gelu_backward");
    float *gZ = dev_upload(cc, Z, sizeof(float) * n), *gdA = dev_upload(cc, dA, sizeof(float) * n);
    float *gA = dev_alloc(cc, sizeof(float) * n), *gdZ = dev_alloc(cc, sizeof(float) * n);
    float *gT = dev_alloc(cc, sizeof(float) * n);
    if (gZ && gdA && gA && gdZ && gT) {
        /* The device keeps t in the forward and reads it in the backward. */
        expect_ok(cc, cc->gpu, cc->gpu->ops->gelu_forward(cc->gpu, gZ, gA, gT, n), "gelu_forward");
        expect_ok(cc, cc->gpu, cc->gpu->ops->gelu_backward(cc->gpu, gZ, gT, gdA, gdZ, n),
                  "gelu_backward");
        if (dev_download(cc, Ag, gA, sizeof(float) * n) == 0) {
            expect_close(cc, Ag, Ac, tol_f, n, "gelu_forward");
        }
        if (dev_download(cc, dZg, gdZ, sizeof(float) * n) == 0) {
            expect_close(cc, dZg, dZc, tol_b, n, "gelu_backward");
        }
    }
    dev_free(cc, gZ);
    dev_free(cc, gdA);
    dev_free(cc, gA);
    dev_free(cc, gdZ);
    dev_free(cc, gT);
    free(Z);
    free(dA);
    free(Ac);
    free(Ag);
    free(dZc);
    free(dZg);
    free(tol_f);
    free(tol_b);
    cc_point(cc, "gelu forward/backward on [-10, 10]: within 4 ulp of tanh, propagated");
}

/* ---- softmax cross-entropy -------------------------------------------------- */

static void test_xent_case(cmp_ctx *cc, int64_t B, int64_t C, float scale, uint64_t seed)
{
    float *z = host_alloc(sizeof(float) * B * C);
    float *dc = host_alloc(sizeof(float) * B * C), *dg = host_alloc(sizeof(float) * B * C);
    double *tol = host_alloc(sizeof(double) * B * C);
    int32_t *y = host_alloc(sizeof(int32_t) * B);
    fill_uniform(z, B * C, seed, -6.0f, 6.0f);
    for (int64_t j = 0; j < B; j++) {
        y[j] = (int32_t)(mix64(seed + 77 + (uint64_t)j) % (uint64_t)C);
        if (j % 3 == 1) {
            z[j * C + (j % C)] = 40.0f; /* a dominant logit: exp underflows elsewhere */
        }
    }
    double loss_tol = 0.0;
    for (int64_t j = 0; j < B; j++) {
        const float *r = z + j * C;
        double m = r[0], s = 0.0;
        for (int64_t c = 1; c < C; c++) {
            m = r[c] > m ? r[c] : m;
        }
        for (int64_t c = 0; c < C; c++) {
            s += exp(r[c] - m);
        }
        const double lse = m + log(s);
        for (int64_t c = 0; c < C; c++) {
            const double p = exp(r[c] - m) / s;
            tol[j * C + c] = (2.0 * C + 20.0) * U32 * p * fabs(scale) + 2.0 * U32 * fabs(scale);
        }
        loss_tol += (2.0 * C + 8.0) * U32 + 4.0 * U32 * (fabs(lse) + fabs(r[y[j]]) + fabs(log(s)));
    }
    double loss_c = 0.0, loss_g = 0.0;
    expect_ok(cc, cc->cpu,
              cc->cpu->ops->xent_forward_backward(cc->cpu, z, y, B, C, scale, dc, &loss_c), "xent");
    float *gz = dev_upload(cc, z, sizeof(float) * B * C);
    int32_t *gy = dev_upload(cc, y, sizeof(int32_t) * B);
    float *gd = dev_alloc(cc, sizeof(float) * B * C);
    if (gz && gy && gd) {
        expect_ok(cc, cc->gpu,
                  cc->gpu->ops->xent_forward_backward(cc->gpu, gz, gy, B, C, scale, gd, &loss_g),
                  "xent");
        if (dev_download(cc, dg, gd, sizeof(float) * B * C) == 0) {
            char what[64];
            snprintf(what, sizeof what, "xent dlogits B=%lld C=%lld", (long long)B, (long long)C);
            expect_close(cc, dg, dc, tol, B * C, what);
        }
        if (!(fabs(loss_g - loss_c) <= loss_tol)) {
            cc_fail(cc, "xent loss B=%lld C=%lld: cuda %.17g cpu %.17g tol %.3g", (long long)B,
                    (long long)C, loss_g, loss_c, loss_tol);
        }
        /* A label outside [0, C) is refused with a message. */
        int32_t bad = (int32_t)C;
        if (B > 1 &&
            expect_ok(cc, cc->gpu, cc->gpu->ops->copy_in(cc->gpu, gy + 1, &bad, sizeof bad),
                      "copy_in") == 0) {
            int rc = cc->gpu->ops->xent_forward_backward(cc->gpu, gz, gy, B, C, scale, gd, &loss_g);
            if (rc == 0 || strstr(cc->gpu->error, "label") == NULL) {
                cc_fail(cc, "xent accepted label %d (C=%lld): rc %d \"%s\"", bad, (long long)C, rc,
                        cc->gpu->error);
            }
        }
    }
    dev_free(cc, gz);
    dev_free(cc, gy);
    dev_free(cc, gd);
    free(z);
    free(dc);
    free(dg);
    free(tol);
    free(y);
}

static void test_xent(cmp_ctx *cc)
{
    test_xent_case(cc, 1, 1, 1.0f, 11);
    test_xent_case(cc, 5, 3, 0.2f, 12);
    test_xent_case(cc, 37, 10, 1.0f / 37.0f, 13);
    test_xent_case(cc, 16, 1000, 1.0f / 64.0f, 14);
    test_xent_case(cc, 3, 3000, 0.5f, 15);
    test_xent_case(cc, 300, 7, 1.0f / 300.0f, 16);
    cc_point(cc, "softmax cross-entropy: dlogits and loss within the stated bounds; bad label refused");
}

/* ---- reductions and elementwise ops ------------------------------------- */

static void test_sum_squares(cmp_ctx *cc)
{
    const int64_t sizes[] = {0, 1, 7, 1000, 262147, (1 << 20) + 3};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s];
        float *x = host_alloc(sizeof(float) * (size_t)n);
        fill_uniform(x, n, 40 + s, -2.0f, 2.0f);
        double rc = 0.0, rg = -1.0;
        expect_ok(cc, cc->cpu, cc->cpu->ops->sum_squares(cc->cpu, x, n, &rc), "sum_squares");
        float *g = dev_upload(cc, x, sizeof(float) * (size_t)n);
        if (g != NULL &&
            expect_ok(cc, cc->gpu, cc->gpu->ops->sum_squares(cc->gpu, g, n, &rg), "sum_squares") ==
                0) {
            const double tol = 2.0 * (double)n * U64 * rc;
            if (!(fabs(rg - rc) <= tol)) {
                cc_fail(cc, "sum_squares n=%lld: cuda %.17g cpu %.17g tol %.3g", (long long)n, rg,
                        rc, tol);
            }
        }
        dev_free(cc, g);
        free(x);
    }
    cc_point(cc, "sum_squares in double within 2n 2^-53 sum, n = 0 .. 1M+3");
}

static void test_scale_add(cmp_ctx *cc)
{
    const int64_t n = (1 << 20) + 3;
    float *x = host_alloc(sizeof(float) * n), *y = host_alloc(sizeof(float) * n);
    float *back = host_alloc(sizeof(float) * n);
    fill_uniform(x, n, 50, -5.0f, 5.0f);
    fill_uniform(y, n, 51, -5.0f, 5.0f);
    float *gx = dev_upload(cc, x, sizeof(float) * n), *gy = dev_upload(cc, y, sizeof(float) * n);
    if (gx && gy) {
        expect_ok(cc, cc->cpu, cc->cpu->ops->scale(cc->cpu, x, n, 0.3f), "scale");
        expect_ok(cc, cc->gpu, cc->gpu->ops->scale(cc->gpu, gx, n, 0.3f), "scale");
        if (dev_download(cc, back, gx, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, x, n, "scale");
        }
        expect_ok(cc, cc->cpu, cc->cpu->ops->add(cc->cpu, x, y, n), "add");
        expect_ok(cc, cc->gpu, cc->gpu->ops->add(cc->gpu, gx, gy, n), "add");
        if (dev_download(cc, back, gx, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, x, n, "add");
        }
        expect_ok(cc, cc->gpu, cc->gpu->ops->scale(cc->gpu, gx, 0, 2.0f), "scale n=0");
        if (cc->gpu->ops->add(cc->gpu, gx, gy, -1) == 0) {
            cc_fail(cc, "add accepted n = -1");
        }
    }
    dev_free(cc, gx);
    dev_free(cc, gy);
    free(x);
    free(y);
    free(back);
    cc_point(cc, "scale and add bitwise; n = 0 no-op, n < 0 refused");
}

/* ---- optimizers ------------------------------------------------------------- */

static void test_sgd(cmp_ctx *cc, double lr, double mu, double wd)
{
    const int64_t n = 100003;
    float *p = host_alloc(sizeof(float) * n), *g = host_alloc(sizeof(float) * n);
    float *buf = host_alloc(sizeof(float) * n), *back = host_alloc(sizeof(float) * n);
    fill_uniform(p, n, 60, -1.0f, 1.0f);
    memset(buf, 0, sizeof(float) * n);
    float *gp = dev_upload(cc, p, sizeof(float) * n), *gb = dev_upload(cc, buf, sizeof(float) * n);
    float *gg = dev_alloc(cc, sizeof(float) * n);
    for (int64_t t = 1; t <= 3 && gp && gb && gg; t++) {
        fill_uniform(g, n, 61 + (uint64_t)t, -0.5f, 0.5f);
        expect_ok(cc, cc->gpu, cc->gpu->ops->copy_in(cc->gpu, gg, g, sizeof(float) * n), "copy_in");
        expect_ok(cc, cc->cpu, cc->cpu->ops->sgd_momentum_step(cc->cpu, p, g, buf, n, lr, mu, wd, t),
                  "sgd");
        expect_ok(cc, cc->gpu,
                  cc->gpu->ops->sgd_momentum_step(cc->gpu, gp, gg, gb, n, lr, mu, wd, t), "sgd");
        if (dev_download(cc, back, gp, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, p, n, "sgd p");
        }
        if (dev_download(cc, back, gb, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, buf, n, "sgd momentum buffer");
        }
    }
    if (gp && cc->gpu->ops->sgd_momentum_step(cc->gpu, gp, gg, gb, n, lr, mu, wd, 0) == 0) {
        cc_fail(cc, "sgd accepted step 0");
    }
    dev_free(cc, gp);
    dev_free(cc, gb);
    dev_free(cc, gg);
    free(p);
    free(g);
    free(buf);
    free(back);
}

static void test_adamw(cmp_ctx *cc, double lr, double b1, double b2, double eps, double wd)
{
    const int64_t n = 100003;
    float *p = host_alloc(sizeof(float) * n), *g = host_alloc(sizeof(float) * n);
    float *m = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)n, sizeof(float));
    float *back = host_alloc(sizeof(float) * n);
    if (m == NULL || v == NULL) {
        exit(1);
    }
    fill_uniform(p, n, 70, -1.0f, 1.0f);
    float *gp = dev_upload(cc, p, sizeof(float) * n), *gm = dev_upload(cc, m, sizeof(float) * n);
    float *gv = dev_upload(cc, v, sizeof(float) * n), *gg = dev_alloc(cc, sizeof(float) * n);
    for (int64_t t = 1; t <= 4 && gp && gm && gv && gg; t++) {
        fill_uniform(g, n, 71 + (uint64_t)t, -0.5f, 0.5f);
        g[t] = 0.0f; /* v may stay 0: denom = eps */
        expect_ok(cc, cc->gpu, cc->gpu->ops->copy_in(cc->gpu, gg, g, sizeof(float) * n), "copy_in");
        expect_ok(cc, cc->cpu, cc->cpu->ops->adamw_step(cc->cpu, p, g, m, v, n, lr, b1, b2, eps, wd, t),
                  "adamw");
        expect_ok(cc, cc->gpu,
                  cc->gpu->ops->adamw_step(cc->gpu, gp, gg, gm, gv, n, lr, b1, b2, eps, wd, t),
                  "adamw");
        if (dev_download(cc, back, gp, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, p, n, "adamw p");
        }
        if (dev_download(cc, back, gm, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, m, n, "adamw m");
        }
        if (dev_download(cc, back, gv, sizeof(float) * n) == 0) {
            expect_bitwise(cc, back, v, n, "adamw v");
        }
    }
    if (gp && cc->gpu->ops->adamw_step(cc->gpu, gp, gg, gm, gv, n, lr, b1, b2, eps, wd, 0) == 0) {
        cc_fail(cc, "adamw accepted step 0");
    }
    dev_free(cc, gp);
    dev_free(cc, gm);
    dev_free(cc, gv);
    dev_free(cc, gg);
    free(p);
    free(g);
    free(m);
    free(v);
    free(back);
}

static void test_optimizers(cmp_ctx *cc)
{
    test_sgd(cc, 0.05, 0.9, 0.01);
    test_sgd(cc, 0.1, 0.0, 0.0);
    cc_point(cc, "sgd with momentum: p and buffer bitwise equal to optim.c over 3 steps");
    test_adamw(cc, 1e-3, 0.9, 0.999, 1e-8, 0.1);
    test_adamw(cc, 3e-2, 0.8, 0.95, 1e-6, 0.0);
    cc_point(cc, "adamw: p, m, v bitwise equal to optim.c over 4 steps");
}

/* ---- create and destroy ------------------------------------------------------ */

static void test_create_errors(cmp_ctx *cc, int count)
{
    char err[256] = "";
    dtb_backend *be = NULL;
    if (backend_cuda_create(count, &be, err, sizeof err) == 0 || be != NULL ||
        strstr(err, "does not exist") == NULL) {
        cc_fail(cc, "backend_cuda_create(%d) with %d devices: \"%s\"", count, count, err);
        backend_destroy(be);
    }
    if (backend_cuda_create(-1, &be, NULL, 0) == 0) {
        cc_fail(cc, "backend_cuda_create(-1) accepted");
        backend_destroy(be);
    }
    backend_destroy(NULL);
    cc_point(cc, "backend_cuda_create refuses a device that does not exist");
}

int main(void)
{
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        printf("1..0 # SKIP no CUDA device (%s)\n",
               e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount reports 0");
        return SKIP_CODE;
    }
    printf("TAP version 13\n");
    cmp_ctx cc = {0};
    char err[256];
    if (backend_cpu_create(&cc.cpu) != 0) {
        printf("Bail out! backend_cpu_create failed\n");
        return 1;
    }
    if (backend_cuda_create(0, &cc.gpu, err, sizeof err) != 0) {
        printf("Bail out! backend_cuda_create(0): %s\n", err);
        backend_destroy(cc.cpu);
        return 1;
    }
    if (strcmp(cc.gpu->ops->name, "cuda") != 0) {
        cc_fail(&cc, "backend name \"%s\"", cc.gpu->ops->name);
    }
    cc_point(&cc, "backend_cuda_create(0) on %d device(s)", count);

    test_memory(&cc);
    test_linear(&cc);
    test_gelu(&cc);
    test_xent(&cc);
    test_sum_squares(&cc);
    test_scale_add(&cc);
    test_optimizers(&cc);
    test_create_errors(&cc, count);

    backend_destroy(cc.gpu);
    backend_destroy(cc.cpu);
    printf("1..%d\n", cc.point);
    return cc.points_failed ? 1 : 0;
}

/* Sanitizer builds: the CUDA driver maps memory inside the shadow gap that
 * ASan protects by default, and then fails every call; leave it unprotected.
 * (Read by the ASan runtime; unused otherwise.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "protect_shadow_gap=0"; }
