/*
 * The fp32 arithmetic of one ensemble member (ensemble.h): the model's
 * forward, backward, loss and optimizer in float32, done the way some
 * correct implementation might legitimately do them, as a dtb_backend that
 * reference/mlp_train.h drives unchanged. Every variant computes the same
 * mathematical function as reference/backend_cpu.c; they differ only in the
 * order and grouping of the floating-point operations (docs/tolerance.md):
 *
 *   matmul        BLAS     the CPU backend's sgemm (what the baseline runs)
 *                 DOT4     plain loops: dot products with four partial sums
 *                          (lanes i mod 4, added (s0 + s1) + (s2 + s3));
 *                          sums over samples and outputs taken in pairs
 *                 REVERSE  plain loops, every sum taken in reverse index
 *                          order, the forward's starting from the bias
 *                 FMA      plain loops with fused multiply-adds (fmaf): one
 *                          rounding per product-and-sum, as MKL and cuBLAS do
 *   elementwise   REF      model-spec.md's expressions (backend_cpu.c)
 *                 TORCH    PyTorch's: gelu with x*x*x then the constant, its
 *                          backward in aten's grouping, and the softmax
 *                          gradient as exp(log-softmax) - onehot, then scaled
 *   optimizer     REF      optim.h (model-spec.md section 11)
 *                 TORCH    AdamW's first moment as lerp (m + (g - m)(1-b1))
 *                          and its second as addcmul (b2 v + ((1-b2) g) g)
 *
 * The CPU backend holds the buffers and does everything a variant does not
 * redefine (copies, sums of squares, scaling, SGD).
 */
#ifndef DTB_HARNESS_ENSEMBLE_BACKEND_H
#define DTB_HARNESS_ENSEMBLE_BACKEND_H

#include "backend.h"

typedef enum ens_matmul {
    ENS_MATMUL_BLAS = 0,
    ENS_MATMUL_DOT4 = 1,
    ENS_MATMUL_REVERSE = 2,
    ENS_MATMUL_FMA = 3
} ens_matmul;

typedef enum ens_elementwise { ENS_EW_REF = 0, ENS_EW_TORCH = 1 } ens_elementwise;

typedef enum ens_optimizer { ENS_OPT_REF = 0, ENS_OPT_TORCH = 1 } ens_optimizer;

typedef struct ens_arith {
    ens_matmul matmul;
    ens_elementwise elementwise;
    ens_optimizer optimizer;
} ens_arith;

/* A backend computing with `arith`; 0, or -1 when out of memory. Release
 * with backend_destroy. */
int ensemble_backend_create(const ens_arith *arith, dtb_backend **out);

#endif
