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

/* "DDP", "ZeRO-1", ... for messages. */
const char *theory_stage_title(int32_t stage);

#endif
