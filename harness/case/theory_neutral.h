/*
 * The implementation-neutral figures (docs/plugins.md, "How the suites
 * judge"): what any correct implementation of a stage must at least move,
 * what it may hold, and how much padding and working memory it may declare,
 * whatever its partition, padding, bucketing or collective shape.
 *
 * With Psi parameters, N ranks, M micro-batches, T tensors and the recipe's
 * bytes per element p (compute parameters), g (gradient reduction: 4 under
 * both recipes) and K (optimizer state, fp32 masters included):
 *
 *   minimum bus bytes per rank per step (nccl-tests factors)
 *     DDP     2(N-1)/N * g * Psi            one allreduce of the gradient
 *     ZeRO-1  (N-1)/N * (g + p) * Psi       reduce-scatter + allgather
 *     ZeRO-2  (N-1)/N * (M g + p) * Psi     a reduce-scatter per micro-batch
 *     ZeRO-3  (N-1)/N * M (g + 2p) * Psi    and two gathers per micro-batch
 *   allowed = the same at Psi' = Psi + T (N + ALIGN) elements (every tensor
 *   padded to a multiple of N and aligned to ALIGN elements, in every
 *   buffer), plus SCALAR_BYTES per step (loss, norms, flags).
 *
 *   model states (peak params + grads + optim) <= formula + padding + working
 *     formula  DDP (p+g+K) Psi; ZeRO-1 (p+g) Psi + K Psi/N;
 *              ZeRO-2 p Psi + (g+K) Psi/N; ZeRO-3 (p+g+K) Psi/N
 *     padding  declared by the plugin, at most (p+g+K) T (N + ALIGN) bytes
 *     working  declared, ZeRO-3 only, at most (d+1) p (n_max + t_max (N + ALIGN))
 *              bytes: d+1 layers materialised (d the prefetch depth, 1 when
 *              not reported), n_max the largest layer's elements, t_max its
 *              tensors
 */
#ifndef DTB_HARNESS_THEORY_NEUTRAL_H
#define DTB_HARNESS_THEORY_NEUTRAL_H

#include <stdint.h>

#include "theory.h"

#define THEORY_NEUTRAL_ALIGN 64       /* elements of alignment per tensor and buffer */
#define THEORY_NEUTRAL_SCALAR_BYTES 4096 /* bus bytes per step for scalars */

typedef struct theory_neutral {
    double min_bus_per_step;     /* at Psi, bytes */
    double allowed_bus_per_step; /* at Psi', plus the scalars */
    double formula;              /* model-state bytes at (Psi, Psi/N) */
    int64_t padding_bound;       /* bytes a plugin may declare as padding */
    int64_t working_bound;       /* bytes of materialised layers (ZeRO-3), else 0 */
} theory_neutral;

/* For the DDP and ZeRO stages; c->prefetch_depth is the plugin's reported
 * depth (negative: unknown, taken as 1). 0, or -1 for another stage or an
 * unknown precision or optimizer (out zeroed). */
int theory_neutral_bounds(const theory_case *c, theory_neutral *out);

/* ---- activations, communication buffers, scratch --------------------------
 * Per rank, with r = max(b, 1) rows for b the largest share of a micro-batch
 * any rank gets (split_max_rank_share), d_0..d_L the widths, w = max_{l>=1}
 * d_l, n_max the largest layer's elements (d_{l+1} (d_l + 1)), U_max the
 * reference's largest padded unit (N ceil(n_max / N)), Psi_s its shard total:
 *
 *   the reference (strict: exact)
 *     activations  4 r (d_0 + 1 + sum_{l=1..L} d_l + 2 sum_{l=1..L-1} d_l + 2 w)
 *                  + r (4 d_0 + 4)     workspace (input, labels, pre- and post-
 *                  activations, GELU's tanh kept for the backward, two backward
 *                  scratch rows) and the batch staging
 *     comm         DDP 0 (buckets are views of the gradient); ZeRO-1 g Psi_s
 *                  (the reduce-scatter output); ZeRO-2/3 2 g U_max (two buckets)
 *     other        DDP 4 n_max under bf16-mixed (one layer widened), else 0;
 *                  ZeRO 4 U_max (scratch), plus 4 U_max under bf16-mixed
 *   any implementation (neutral bounds), L' = n_max + 2 (N + ALIGN)
 *     activations  <= 3/2 the reference's, plus ACT_SLACK_BYTES: other layouts
 *                  of the same tensors fit, a workspace for the whole global
 *                  or micro-batch instead of the rank's share does not
 *     comm         DDP <= g Psi' (a bucket copy of the gradient, as PyTorch's);
 *                  ZeRO-1 <= g Psi' + g Psi'/N; ZeRO-2/3 <= 2 g L' + g Psi'/N
 *     other        <= 2 * 4 L' (two layer-sized fp32 scratch buffers) */
#define THEORY_ACT_SLACK_BYTES 4096

typedef struct theory_buffers {
    int64_t activations, comm, other;                   /* the reference's, exact */
    int64_t activations_bound, comm_bound, other_bound; /* any implementation's */
} theory_buffers;

/* For the single, DDP and ZeRO stages of an MLP given by its widths: 0, or
 * -1 for an unknown stage or precision or a model given by units only
 * (out zeroed). share: the largest micro-batch share of a rank. */
int theory_buffer_bounds(const theory_case *c, int64_t share, theory_buffers *out);

/* "DDP", "ZeRO-1", ... for messages. */
const char *theory_stage_title(int32_t stage);

#endif
