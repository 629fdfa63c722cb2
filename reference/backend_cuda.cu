/*
 * The CUDA backend: device memory, one non-blocking stream owned by the
 * backend (every copy, memset, kernel and cuBLAS call is ordered on it),
 * cuBLAS sgemm for the matrix products and small CUDA C kernels for the rest.
 *
 * Agreement with the CPU backend (backend_cpu.c), which the cuda_backend test
 * checks op by op:
 *   - bitwise: copies, zero, scale, add, the bias-gradient column sum (one
 *     thread per column adds the rows in row order, as the CPU loop does) and
 *     the SGD/AdamW updates (same float expressions in the same order as
 *     optim.c, each written with the _rn intrinsics so nvcc cannot contract
 *     a*b+c into an FMA; scalar coefficients computed in double on the host
 *     and rounded once to float, as optim.c does);
 *   - within rounding: the sgemms (cuBLAS sums in another order; math mode
 *     default, i.e. plain fp32, no TF32), GELU (device tanhf), cross-entropy
 *     (device expf/logf, tree sums) and sum of squares (tree sum in double).
 * Every reduction has a fixed shape for a given size, so results are bitwise
 * reproducible run to run on the same GPU.
 *
 * Every CUDA and cuBLAS call is checked; a failure becomes a message in
 * be->error and a non-zero return. Kernel launch errors are read with
 * cudaGetLastError right after the launch; errors of the kernel's execution
 * surface at the next synchronising call.
 *
 * This file is CUDA C: C-style code, compiled by nvcc; backend.h is a C
 * header, so it and the one exported function have C linkage.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "backend.h"
}

/* Threads per block of every kernel; block reductions assume a power of 2. */
#define CUDA_THREADS 256
/* Blocks of the first pass of a two-pass reduction; the second pass is one
 * block over these partial sums. */
#define CUDA_REDUCE_BLOCKS 1024
/* Upper bound on the grid of the grid-stride elementwise kernels. */
#define CUDA_MAX_GRID 65535

typedef struct cuda_impl {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    int have_stream, have_blas;
    double *partials;            /* CUDA_REDUCE_BLOCKS partial sums, then the total */
    unsigned long long *bad_row; /* xent: smallest row with a label outside [0, C) */
    double *row_loss;            /* xent: per-row loss, row_loss_cap entries */
    int64_t row_loss_cap;
} cuda_impl;

/* ---- error handling ------------------------------------------------------ */

static int cuda_check(dtb_backend *be, cudaError_t e, const char *what)
{
    if (e == cudaSuccess) {
        return 0;
    }
    return backend_error(be, "cuda %s: %s (%s)", what, cudaGetErrorString(e),
                         cudaGetErrorName(e));
}

static int blas_check(dtb_backend *be, cublasStatus_t s, const char *what)
{
    if (s == CUBLAS_STATUS_SUCCESS) {
        return 0;
    }
    return backend_error(be, "cuda %s: cuBLAS %s (status %d)", what, cublasGetStatusString(s),
                         (int)s);
}

/* After a kernel launch: configuration errors are reported at once. */
static int launch_check(dtb_backend *be, const char *what)
{
    return cuda_check(be, cudaGetLastError(), what);
}

static cuda_impl *impl_of(dtb_backend *be)
{
    return (cuda_impl *)be->impl;
}

/* The backend's device becomes current for this thread (cheap when it is). */
static int enter(dtb_backend *be, const char *what)
{
    return cuda_check(be, cudaSetDevice(impl_of(be)->device), what);
}

/* Blocks for a grid-stride loop over n >= 1 items. */
static unsigned grid_for(int64_t n)
{
    int64_t blocks = (n + CUDA_THREADS - 1) / CUDA_THREADS;
    return (unsigned)(blocks < CUDA_MAX_GRID ? blocks : CUDA_MAX_GRID);
}

static int check_count(dtb_backend *be, const char *what, int64_t n)
{
    if (n < 0) {
        return backend_error(be, "cuda %s: negative count %lld", what, (long long)n);
    }
    return 0;
}

/* ---- block reductions (fixed tree order) --------------------------------- */
/* Each returns the block's total to every thread. The leading barrier lets a
 * kernel call the same reduction twice: nobody overwrites s[] until every
 * thread has read the previous result. */

__device__ static double block_sum_double(double v)
{
    __shared__ double s[CUDA_THREADS];
    __syncthreads();
    s[threadIdx.x] = v;
    __syncthreads();
    for (int w = CUDA_THREADS / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w) {
            s[threadIdx.x] += s[threadIdx.x + w];
        }
        __syncthreads();
    }
    return s[0];
}

__device__ static float block_sum_float(float v)
{
    __shared__ float s[CUDA_THREADS];
    __syncthreads();
    s[threadIdx.x] = v;
    __syncthreads();
    for (int w = CUDA_THREADS / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w) {
            s[threadIdx.x] = __fadd_rn(s[threadIdx.x], s[threadIdx.x + w]);
        }
        __syncthreads();
    }
    return s[0];
}

__device__ static float block_max_float(float v)
{
    __shared__ float s[CUDA_THREADS];
    __syncthreads();
    s[threadIdx.x] = v;
    __syncthreads();
    for (int w = CUDA_THREADS / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w) {
            float o = s[threadIdx.x + w];
            s[threadIdx.x] = o > s[threadIdx.x] ? o : s[threadIdx.x];
        }
        __syncthreads();
    }
    return s[0];
}

/* ---- two-pass sums in double --------------------------------------------- */
/* Pass 1: block b sums x_i^2 (or x_i) for i = b*T + t + k*G*T into partials[b];
 * pass 2: one block sums the G partials into partials[CUDA_REDUCE_BLOCKS]. */

__global__ static void sum_squares_partial_kernel(const float *x, int64_t n, double *partials)
{
    double acc = 0.0;
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        const double xi = (double)x[i];
        acc += xi * xi;
    }
    const double total = block_sum_double(acc);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = total;
    }
}

__global__ static void sum_partial_kernel(const double *x, int64_t n, double *partials)
{
    double acc = 0.0;
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        acc += x[i];
    }
    const double total = block_sum_double(acc);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = total;
    }
}

__global__ static void sum_final_kernel(const double *partials, int n, double *out)
{
    double acc = 0.0;
    for (int i = threadIdx.x; i < n; i += CUDA_THREADS) {
        acc += partials[i];
    }
    const double total = block_sum_double(acc);
    if (threadIdx.x == 0) {
        *out = total;
    }
}

/* Second pass plus the copy of the total to the host; waits for the stream. */
static int finish_sum(dtb_backend *be, unsigned blocks, double *out, const char *what)
{
    cuda_impl *c = impl_of(be);
    double *total = c->partials + CUDA_REDUCE_BLOCKS;
    sum_final_kernel<<<1, CUDA_THREADS, 0, c->stream>>>(c->partials, (int)blocks, total);
    if (launch_check(be, what) != 0 ||
        cuda_check(be, cudaMemcpyAsync(out, total, sizeof *out, cudaMemcpyDeviceToHost, c->stream),
                   what) != 0 ||
        cuda_check(be, cudaStreamSynchronize(c->stream), what) != 0) {
        return -1;
    }
    return 0;
}

static unsigned reduce_blocks_for(int64_t n)
{
    int64_t blocks = (n + CUDA_THREADS - 1) / CUDA_THREADS;
    if (blocks < 1) {
        blocks = 1;
    }
    return (unsigned)(blocks < CUDA_REDUCE_BLOCKS ? blocks : CUDA_REDUCE_BLOCKS);
}

/* ---- memory ------------------------------------------------------------- */

static int cuda_alloc(dtb_backend *be, size_t bytes, void **out)
{
    *out = NULL;
    if (enter(be, "alloc") != 0) {
        return -1;
    }
    /* A zero-byte request still gets a unique, freeable pointer. */
    cudaError_t e = cudaMalloc(out, bytes > 0 ? bytes : 1);
    if (e != cudaSuccess) {
        *out = NULL;
        return backend_error(be, "cuda alloc of %zu bytes: %s (%s)", bytes, cudaGetErrorString(e),
                             cudaGetErrorName(e));
    }
    return 0;
}

/* cudaFree waits for the device, so no queued work still uses ptr. A failure
 * can only be recorded in be->error. */
static void cuda_release(dtb_backend *be, void *ptr)
{
    if (ptr == NULL || enter(be, "release") != 0) {
        return;
    }
    cuda_check(be, cudaFree(ptr), "release");
}

static int cuda_zero(dtb_backend *be, void *ptr, size_t bytes)
{
    if (bytes == 0) {
        return 0;
    }
    if (enter(be, "zero") != 0) {
        return -1;
    }
    return cuda_check(be, cudaMemsetAsync(ptr, 0, bytes, impl_of(be)->stream), "zero");
}

/* Both copies return only once the host buffer may be reused or read: the
 * caller's host memory may be pinned, for which cudaMemcpyAsync returns early. */
static int cuda_copy_in(dtb_backend *be, void *dst, const void *host_src, size_t bytes)
{
    if (bytes == 0) {
        return 0;
    }
    cuda_impl *c = impl_of(be);
    if (enter(be, "copy_in") != 0 ||
        cuda_check(be, cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, c->stream),
                   "copy_in") != 0) {
        return -1;
    }
    return cuda_check(be, cudaStreamSynchronize(c->stream), "copy_in");
}

static int cuda_copy_out(dtb_backend *be, void *host_dst, const void *src, size_t bytes)
{
    if (bytes == 0) {
        return 0;
    }
    cuda_impl *c = impl_of(be);
    if (enter(be, "copy_out") != 0 ||
        cuda_check(be, cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, c->stream),
                   "copy_out") != 0) {
        return -1;
    }
    return cuda_check(be, cudaStreamSynchronize(c->stream), "copy_out");
}

static int cuda_synchronize(dtb_backend *be)
{
    if (enter(be, "synchronize") != 0) {
        return -1;
    }
    return cuda_check(be, cudaStreamSynchronize(impl_of(be)->stream), "synchronize");
}

/* ---- linear layers -------------------------------------------------------- */
/* cuBLAS is column-major: a row-major [r x c] matrix is the column-major
 * [c x r] matrix with leading dimension c, i.e. its transpose. So a row-major
 * product P = A B is computed as the column-major P^T = B^T A^T. */

/* cuBLAS takes int dimensions. */
static int check_dims(dtb_backend *be, const char *op, int64_t B, int64_t in, int64_t out)
{
    if (B < 0 || in < 1 || out < 1 || B > INT32_MAX || in > INT32_MAX || out > INT32_MAX) {
        return backend_error(be, "cuda %s: bad sizes B=%lld in=%lld out=%lld", op, (long long)B,
                             (long long)in, (long long)out);
    }
    return 0;
}

/* Z[j][o] += b[o] over the B x out elements. */
__global__ static void bias_add_kernel(float *Z, const float *b, int64_t B, int64_t out)
{
    const int64_t n = B * out;
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        Z[i] = __fadd_rn(Z[i], b[i % out]);
    }
}

/* db[o] += dZ[0][o] + dZ[1][o] + ... added one row at a time, in row order
 * (the CPU backend's order, so the result is bitwise the same). One thread
 * per column; neighbouring threads read neighbouring addresses. */
__global__ static void column_sum_kernel(const float *dZ, float *db, int64_t B, int64_t out)
{
    for (int64_t o = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; o < out;
         o += (int64_t)gridDim.x * CUDA_THREADS) {
        float acc = db[o];
        for (int64_t j = 0; j < B; j++) {
            acc = __fadd_rn(acc, dZ[j * out + o]);
        }
        db[o] = acc;
    }
}

/* Z = X W^T, then + b.  Column-major: Z^T[out x B] = W[out x in] X^T[in x B],
 * where W is the column-major [in x out] buffer transposed (op T) and X^T is
 * the X buffer as is (op N). */
static int cuda_linear_forward(dtb_backend *be, const float *X, const float *W, const float *b,
                               float *Z, int64_t B, int64_t in, int64_t out)
{
    if (check_dims(be, "linear_forward", B, in, out) != 0) {
        return -1;
    }
    if (B == 0) {
        return 0;
    }
    cuda_impl *c = impl_of(be);
    const float one = 1.0f, zero = 0.0f;
    if (enter(be, "linear_forward") != 0 ||
        blas_check(be,
                   cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)B, (int)in, &one,
                               W, (int)in, X, (int)in, &zero, Z, (int)out),
                   "linear_forward sgemm") != 0) {
        return -1;
    }
    bias_add_kernel<<<grid_for(B * out), CUDA_THREADS, 0, c->stream>>>(Z, b, B, out);
    return launch_check(be, "linear_forward bias");
}

/* dW += dZ^T X:  column-major dW^T[in x out] += X^T[in x B] (X buffer, op N)
 *                times dZ[B x out] (the dZ buffer is dZ^T, so op T);
 * db += column sums of dZ;
 * dX = dZ W:     column-major dX^T[in x B] = W^T[in x out] (W buffer, op N)
 *                times dZ^T[out x B] (dZ buffer, op N). */
static int cuda_linear_backward(dtb_backend *be, const float *dZ, const float *X, const float *W,
                                float *dX, float *dW, float *db, int64_t B, int64_t in,
                                int64_t out)
{
    if (check_dims(be, "linear_backward", B, in, out) != 0) {
        return -1;
    }
    if (B == 0) {
        return 0;
    }
    cuda_impl *c = impl_of(be);
    const float one = 1.0f, zero = 0.0f;
    if (enter(be, "linear_backward") != 0 ||
        blas_check(be,
                   cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_T, (int)in, (int)out, (int)B, &one,
                               X, (int)in, dZ, (int)out, &one, dW, (int)in),
                   "linear_backward sgemm dW") != 0) {
        return -1;
    }
    column_sum_kernel<<<grid_for(out), CUDA_THREADS, 0, c->stream>>>(dZ, db, B, out);
    if (launch_check(be, "linear_backward db") != 0) {
        return -1;
    }
    if (dX != NULL) {
        return blas_check(be,
                          cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)in, (int)B, (int)out,
                                      &one, W, (int)in, dZ, (int)out, &zero, dX, (int)in),
                          "linear_backward sgemm dX");
    }
    return 0;
}

/* ---- GELU (tanh form) ------------------------------------------------------ */
/* The same float expressions in the same order as backend_cpu.c; only tanhf
 * (device vs libm) differs. */
#define GELU_SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_CUBIC 0.044715f

/* u = sqrt(2/pi) (z + 0.044715 z^3), evaluated as K * (z + ((C*z)*z)*z). */
__device__ static float gelu_inner(float z)
{
    const float cubic = __fmul_rn(__fmul_rn(__fmul_rn(GELU_CUBIC, z), z), z);
    return __fmul_rn(GELU_SQRT_2_OVER_PI, __fadd_rn(z, cubic));
}

/* A = 0.5 z (1 + tanh(u)); T (optional) keeps t for the backward. */
__global__ static void gelu_forward_kernel(const float *Z, float *A, float *T, int64_t n)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        const float z = Z[i];
        const float t = tanhf(gelu_inner(z));
        A[i] = __fmul_rn(__fmul_rn(0.5f, z), __fadd_rn(1.0f, t));
        if (T != NULL) {
            T[i] = t;
        }
    }
}

/* dZ = dA * (0.5 (1 + t) + 0.5 z (1 - t^2) sqrt(2/pi) (1 + 3*0.044715 z^2)). */
__global__ static void gelu_backward_kernel(const float *Z, const float *T, const float *dA,
                                            float *dZ, int64_t n)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        const float z = Z[i];
        const float t = T != NULL ? T[i] : tanhf(gelu_inner(z));
        const float z2 = __fmul_rn(__fmul_rn(__fmul_rn(3.0f, GELU_CUBIC), z), z);
        const float du_dz = __fmul_rn(GELU_SQRT_2_OVER_PI, __fadd_rn(1.0f, z2));
        const float left = __fmul_rn(0.5f, __fadd_rn(1.0f, t));
        const float right = __fmul_rn(
            __fmul_rn(__fmul_rn(0.5f, z), __fadd_rn(1.0f, -__fmul_rn(t, t))), du_dz);
        dZ[i] = __fmul_rn(dA[i], __fadd_rn(left, right));
    }
}

static int cuda_gelu_forward(dtb_backend *be, const float *Z, float *A, float *T, int64_t n)
{
    if (check_count(be, "gelu_forward", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (enter(be, "gelu_forward") != 0) {
        return -1;
    }
    gelu_forward_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(Z, A, T, n);
    return launch_check(be, "gelu_forward");
}

static int cuda_gelu_backward(dtb_backend *be, const float *Z, const float *T, const float *dA,
                              float *dZ, int64_t n)
{
    if (check_count(be, "gelu_backward", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (enter(be, "gelu_backward") != 0) {
        return -1;
    }
    gelu_backward_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(Z, T, dA, dZ,
                                                                                n);
    return launch_check(be, "gelu_backward");
}

/* ---- softmax cross-entropy ------------------------------------------------- */

/* One block per row j:  m = max_c z_c;  s = sum_c exp(z_c - m) (float, tree);
 * lse = m + log(s);  row_loss[j] = (double)(lse - z_y);
 * dz_c = (e_c * (1/s)) * scale with e_c = exp(z_c - m);  dz_y -= scale
 * (the CPU backend's float expressions, in its order).
 * A label outside [0, C) records the row in *bad_row (atomicMin) and leaves
 * that row's loss 0 and its dz without the one-hot term. */
__global__ static void xent_kernel(const float *logits, const int32_t *y, int64_t C, float scale,
                                   float *dlogits, double *row_loss, unsigned long long *bad_row)
{
    const int64_t j = blockIdx.x;
    const float *z = logits + j * C;
    float *dz = dlogits + j * C;

    float m = -INFINITY;
    for (int64_t c = threadIdx.x; c < C; c += CUDA_THREADS) {
        m = z[c] > m ? z[c] : m;
    }
    m = block_max_float(m);

    float part = 0.0f;
    for (int64_t c = threadIdx.x; c < C; c += CUDA_THREADS) {
        const float e = expf(__fadd_rn(z[c], -m));
        dz[c] = e;
        part = __fadd_rn(part, e);
    }
    const float s = block_sum_float(part);
    const float inv_s = __fdiv_rn(1.0f, s);
    for (int64_t c = threadIdx.x; c < C; c += CUDA_THREADS) {
        dz[c] = __fmul_rn(__fmul_rn(dz[c], inv_s), scale);
    }
    __syncthreads(); /* every dz[c] written before thread 0 touches dz[y] */
    if (threadIdx.x == 0) {
        const int32_t label = y[j];
        if (label < 0 || label >= C) {
            atomicMin(bad_row, (unsigned long long)j);
            row_loss[j] = 0.0;
        } else {
            const float lse = __fadd_rn(m, logf(s));
            row_loss[j] = (double)__fadd_rn(lse, -z[label]);
            dz[label] = __fadd_rn(dz[label], -scale);
        }
    }
}

/* row_loss holds at least B doubles afterwards (grown by free + malloc). */
static int ensure_row_loss(dtb_backend *be, int64_t B)
{
    cuda_impl *c = impl_of(be);
    if (B <= c->row_loss_cap) {
        return 0;
    }
    /* cudaFree waits for the device, so the old buffer is no longer in use. */
    if (c->row_loss != NULL && cuda_check(be, cudaFree(c->row_loss), "xent scratch") != 0) {
        return -1;
    }
    c->row_loss = NULL;
    c->row_loss_cap = 0;
    if (cuda_check(be, cudaMalloc((void **)&c->row_loss, (size_t)B * sizeof(double)),
                   "xent scratch") != 0) {
        c->row_loss = NULL;
        return -1;
    }
    c->row_loss_cap = B;
    return 0;
}

static int cuda_xent_forward_backward(dtb_backend *be, const float *logits, const int32_t *y,
                                      int64_t B, int64_t C, float scale, float *dlogits,
                                      double *loss_sum)
{
    if (B < 0 || C < 1 || B > INT32_MAX) {
        return backend_error(be, "cuda xent: bad sizes B=%lld C=%lld", (long long)B,
                             (long long)C);
    }
    *loss_sum = 0.0;
    if (B == 0) {
        return 0;
    }
    cuda_impl *c = impl_of(be);
    if (enter(be, "xent") != 0 || ensure_row_loss(be, B) != 0 ||
        cuda_check(be, cudaMemsetAsync(c->bad_row, 0xff, sizeof *c->bad_row, c->stream),
                   "xent") != 0) {
        return -1;
    }
    xent_kernel<<<(unsigned)B, CUDA_THREADS, 0, c->stream>>>(logits, y, C, scale, dlogits,
                                                              c->row_loss, c->bad_row);
    if (launch_check(be, "xent") != 0) {
        return -1;
    }
    const unsigned blocks = reduce_blocks_for(B);
    sum_partial_kernel<<<blocks, CUDA_THREADS, 0, c->stream>>>(c->row_loss, B, c->partials);
    if (launch_check(be, "xent loss sum") != 0) {
        return -1;
    }
    unsigned long long bad = 0;
    if (cuda_check(be, cudaMemcpyAsync(&bad, c->bad_row, sizeof bad, cudaMemcpyDeviceToHost,
                                       c->stream),
                   "xent") != 0 ||
        finish_sum(be, blocks, loss_sum, "xent loss sum") != 0) {
        return -1;
    }
    if (bad != ULLONG_MAX) {
        int32_t label = 0;
        if (cuda_check(be, cudaMemcpyAsync(&label, y + bad, sizeof label,
                                           cudaMemcpyDeviceToHost, c->stream),
                       "xent") != 0 ||
            cuda_check(be, cudaStreamSynchronize(c->stream), "xent") != 0) {
            return -1;
        }
        return backend_error(be, "cuda xent: label %d of sample %llu outside 0..%lld", (int)label,
                             bad, (long long)(C - 1));
    }
    return 0;
}

/* ---- reductions and elementwise updates ---------------------------------- */

static int cuda_sum_squares(dtb_backend *be, const float *x, int64_t n, double *out)
{
    if (check_count(be, "sum_squares", n) != 0) {
        return -1;
    }
    cuda_impl *c = impl_of(be);
    if (enter(be, "sum_squares") != 0) {
        return -1;
    }
    const unsigned blocks = reduce_blocks_for(n);
    sum_squares_partial_kernel<<<blocks, CUDA_THREADS, 0, c->stream>>>(x, n, c->partials);
    if (launch_check(be, "sum_squares") != 0) {
        return -1;
    }
    return finish_sum(be, blocks, out, "sum_squares");
}

__global__ static void scale_kernel(float *x, int64_t n, float a)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        x[i] = __fmul_rn(x[i], a);
    }
}

__global__ static void add_kernel(float *x, const float *y, int64_t n)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        x[i] = __fadd_rn(x[i], y[i]);
    }
}

static int cuda_scale(dtb_backend *be, float *x, int64_t n, float a)
{
    if (check_count(be, "scale", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (enter(be, "scale") != 0) {
        return -1;
    }
    scale_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(x, n, a);
    return launch_check(be, "scale");
}

static int cuda_add(dtb_backend *be, float *x, const float *y, int64_t n)
{
    if (check_count(be, "add", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (enter(be, "add") != 0) {
        return -1;
    }
    add_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(x, y, n);
    return launch_check(be, "add");
}

/* SGD as optim.c: d = g + wd*p;  b = d (first step) or mu*buf + d;  buf = b;
 * p = p - lr*b.  lr, mu, wd are the double hyper-parameters rounded to float. */
__global__ static void sgd_momentum_kernel(float *p, const float *g, float *buf, int64_t n,
                                           float lr, float mu, float wd, int first_step)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        const float pi = p[i];
        const float d = __fadd_rn(g[i], __fmul_rn(wd, pi));
        const float b = first_step ? d : __fadd_rn(__fmul_rn(mu, buf[i]), d);
        buf[i] = b;
        p[i] = __fadd_rn(pi, -__fmul_rn(lr, b));
    }
}

static int cuda_sgd_momentum_step(dtb_backend *be, float *p, const float *g, float *buf,
                                  int64_t n, double lr, double momentum, double weight_decay,
                                  int64_t t)
{
    if (t < 1) {
        return backend_error(be, "cuda sgd: step %lld < 1", (long long)t);
    }
    if (check_count(be, "sgd", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (enter(be, "sgd") != 0) {
        return -1;
    }
    sgd_momentum_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(
        p, g, buf, n, (float)lr, (float)momentum, (float)weight_decay, t == 1);
    return launch_check(be, "sgd");
}

/* AdamW as optim.c, with its float coefficients (computed here in double on
 * the host with the same expressions as optim.c's adamw_coefficients, then
 * rounded once):  decay = 1 - lr*wd;  step_size = lr / (1 - b1^t);
 * bc2_sqrt = sqrt(1 - b2^t).  Per element:
 *   p = p*decay;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*(g*g);
 *   denom = sqrt(v)/bc2_sqrt + eps;  p = p - step_size*(m/denom). */
typedef struct adamw_f32_coefs {
    float decay, step_size, bc2_sqrt, b1, one_minus_b1, b2, one_minus_b2, eps;
} adamw_f32_coefs;

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, int64_t n,
                                    adamw_f32_coefs k)
{
    for (int64_t i = (int64_t)blockIdx.x * CUDA_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * CUDA_THREADS) {
        const float gi = g[i];
        const float pi = __fmul_rn(p[i], k.decay);
        const float mi = __fadd_rn(__fmul_rn(k.b1, m[i]), __fmul_rn(k.one_minus_b1, gi));
        const float vi =
            __fadd_rn(__fmul_rn(k.b2, v[i]), __fmul_rn(k.one_minus_b2, __fmul_rn(gi, gi)));
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), k.bc2_sqrt), k.eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = __fadd_rn(pi, -__fmul_rn(k.step_size, __fdiv_rn(mi, denom)));
    }
}

static int cuda_adamw_step(dtb_backend *be, float *p, const float *g, float *m, float *v,
                           int64_t n, double lr, double beta1, double beta2, double eps,
                           double weight_decay, int64_t t)
{
    if (t < 1) {
        return backend_error(be, "cuda adamw: step %lld < 1", (long long)t);
    }
    if (check_count(be, "adamw", n) != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    const double decay = 1.0 - lr * weight_decay;
    const double step_size = lr / (1.0 - pow(beta1, (double)t));
    const double bc2_sqrt = sqrt(1.0 - pow(beta2, (double)t));
    adamw_f32_coefs k;
    k.decay = (float)decay;
    k.step_size = (float)step_size;
    k.bc2_sqrt = (float)bc2_sqrt;
    k.b1 = (float)beta1;
    k.one_minus_b1 = (float)(1.0 - beta1);
    k.b2 = (float)beta2;
    k.one_minus_b2 = (float)(1.0 - beta2);
    k.eps = (float)eps;
    if (enter(be, "adamw") != 0) {
        return -1;
    }
    adamw_kernel<<<grid_for(n), CUDA_THREADS, 0, impl_of(be)->stream>>>(p, g, m, v, n, k);
    return launch_check(be, "adamw");
}

/* ---- life cycle ------------------------------------------------------------ */

/* Releases everything create made, in reverse order; tolerates a partial
 * create. Errors are recorded in be->error only (nothing can be returned). */
static void cuda_destroy(dtb_backend *be)
{
    cuda_impl *c = impl_of(be);
    if (c == NULL) {
        return;
    }
    if (cudaSetDevice(c->device) == cudaSuccess) {
        if (c->have_stream) {
            cuda_check(be, cudaStreamSynchronize(c->stream), "destroy");
        }
        if (c->row_loss != NULL) {
            cuda_check(be, cudaFree(c->row_loss), "destroy");
        }
        if (c->bad_row != NULL) {
            cuda_check(be, cudaFree(c->bad_row), "destroy");
        }
        if (c->partials != NULL) {
            cuda_check(be, cudaFree(c->partials), "destroy");
        }
        if (c->have_blas) {
            blas_check(be, cublasDestroy(c->blas), "destroy");
        }
        if (c->have_stream) {
            cuda_check(be, cudaStreamDestroy(c->stream), "destroy");
        }
    }
    free(c);
    be->impl = NULL;
}

/* Positional, in dtb_backend_ops' field order (C++17 has no designated
 * initialisers): a constant table, initialised at compile time. */
static const dtb_backend_ops CUDA_OPS = {
    "cuda",                     /* name */
    cuda_alloc,                 /* alloc */
    cuda_release,               /* release */
    cuda_zero,                  /* zero */
    cuda_copy_in,               /* copy_in */
    cuda_copy_out,              /* copy_out */
    cuda_synchronize,           /* synchronize */
    cuda_linear_forward,        /* linear_forward */
    cuda_linear_backward,       /* linear_backward */
    cuda_gelu_forward,          /* gelu_forward */
    cuda_gelu_backward,         /* gelu_backward */
    cuda_xent_forward_backward, /* xent_forward_backward */
    cuda_sum_squares,           /* sum_squares */
    cuda_scale,                 /* scale */
    cuda_add,                   /* add */
    cuda_sgd_momentum_step,     /* sgd_momentum_step */
    cuda_adamw_step,            /* adamw_step */
    cuda_destroy,               /* destroy */
};

/* Stream, cuBLAS handle (host pointer mode, default fp32 math: no TF32) and
 * the reduction scratch of a fresh backend on c->device. */
static int cuda_init(dtb_backend *be)
{
    cuda_impl *c = impl_of(be);
    if (cuda_check(be, cudaSetDevice(c->device), "create: cudaSetDevice") != 0 ||
        cuda_check(be, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking),
                   "create: stream") != 0) {
        return -1;
    }
    c->have_stream = 1;
    if (blas_check(be, cublasCreate(&c->blas), "create: cublasCreate") != 0) {
        return -1;
    }
    c->have_blas = 1;
    if (blas_check(be, cublasSetStream(c->blas, c->stream), "create: cublasSetStream") != 0 ||
        blas_check(be, cublasSetPointerMode(c->blas, CUBLAS_POINTER_MODE_HOST),
                   "create: cublasSetPointerMode") != 0 ||
        blas_check(be, cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH),
                   "create: cublasSetMathMode") != 0) {
        return -1;
    }
    if (cuda_check(be, cudaMalloc((void **)&c->partials,
                                  (CUDA_REDUCE_BLOCKS + 1) * sizeof(double)),
                   "create: scratch") != 0) {
        c->partials = NULL;
        return -1;
    }
    if (cuda_check(be, cudaMalloc((void **)&c->bad_row, sizeof *c->bad_row), "create: scratch") !=
        0) {
        c->bad_row = NULL;
        return -1;
    }
    return 0;
}

extern "C" int backend_cuda_create(int device_index, dtb_backend **out, char *err, size_t err_len)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (out == NULL) {
        if (err != NULL && err_len > 0) {
            snprintf(err, err_len, "cuda backend: out is NULL");
        }
        return -1;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (err != NULL && err_len > 0) {
            snprintf(err, err_len, "no CUDA device: %s",
                     e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount reports 0");
        }
        return -1;
    }
    if (device_index < 0 || device_index >= count) {
        if (err != NULL && err_len > 0) {
            snprintf(err, err_len, "cuda backend: device %d does not exist (%d present)",
                     device_index, count);
        }
        return -1;
    }

    dtb_backend *be = (dtb_backend *)calloc(1, sizeof *be);
    cuda_impl *c = (cuda_impl *)calloc(1, sizeof *c);
    if (be == NULL || c == NULL) {
        free(be);
        free(c);
        if (err != NULL && err_len > 0) {
            snprintf(err, err_len, "cuda backend: out of memory");
        }
        return -1;
    }
    c->device = device_index;
    be->ops = &CUDA_OPS;
    be->impl = c;
    if (cuda_init(be) != 0) {
        if (err != NULL && err_len > 0) {
            snprintf(err, err_len, "%s", be->error);
        }
        backend_destroy(be);
        return -1;
    }
    *out = be;
    return 0;
}
