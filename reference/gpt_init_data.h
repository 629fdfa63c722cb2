/*
 * The GPT family's initial values and data (docs/model-spec.md, section 16):
 * counter-based, so any rank computes any range of any tensor or batch
 * without computing the rest, and a third party reproduces them bit for bit.
 */
#ifndef DTB_REFERENCE_GPT_INIT_DATA_H
#define DTB_REFERENCE_GPT_INIT_DATA_H

#include <stdint.h>

#include "gpt.h"

#define GPT_INIT_STD 0.02

typedef enum gpt_init_kind {
    GPT_INIT_ZERO,            /* biases, LayerNorm biases */
    GPT_INIT_ONE,             /* LayerNorm weights */
    GPT_INIT_NORMAL,          /* std 0.02: wte, wpe, c_attn and c_fc weights */
    GPT_INIT_NORMAL_RESIDUAL  /* std 0.02 / sqrt(2L): the c_proj weights into the residual */
} gpt_init_kind;

/* The kind of canonical tensor t (0 = wte, ..., 4 + 12 l + k = block l's k-th);
 * -1 for t outside 0 .. 4 + 12 n_layer - 1. */
int gpt_tensor_init_kind(int64_t n_layer, int32_t t);

/* Elements first .. first+count-1 of tensor t (numel elements), n_layer blocks:
 * normal kinds: (v0..v3) = Philox((lo32(i), hi32(i), t, 0), seed),
 *   w = unit(v0)+unit(v1)+unit(v2)+unit(v3) - 2 (exact), value = fl32(w * sigma*sqrt(3));
 * constants 0 or 1 otherwise. 0, or -1 for a bad tensor or range. */
int gpt_init_values(uint64_t seed, int64_t n_layer, int32_t t, int64_t numel, int64_t first,
                    int64_t count, float *out);

/* Successor k (0..3) of token a: (Philox((a, 0, 0, 3), seed).v[k] * vocab) >> 32. */
int32_t gpt_successor(uint64_t seed, int64_t vocab, int32_t a, int k);

/* Sequences first .. first+count-1 of step s >= 1, each x[0..T] of the
 * Markov chain: x[0] = (Philox((0, j, s, 4)).v0 * V) >> 32,
 * x[p+1] = succ[x[p]][Philox((p, j, s, 5)).v0 >> 30]. inputs[k][p] = x[p] and
 * targets[k][p] = x[p+1], p < T, row-major [count x T]; either may be NULL.
 * 0, or -1 for a bad step, range or size (s, j and p must fit in 32 bits). */
int gpt_sample_batch(uint64_t seed, int64_t vocab, int64_t context, int64_t step, int64_t first,
                     int64_t count, int32_t *inputs, int32_t *targets);

#endif
