/*
 * GPT-2's initial values and the Markov-chain token stream of
 * docs/model-spec.md section 16, from Philox counters.
 */
#include "gpt_init_data.h"

#include <math.h>
#include <stddef.h>

#include "rng.h"

/* Counter word 3 names the stream (0 init, 1-2 the MLP's data). */
enum {
    STREAM_INIT = 0,
    STREAM_SUCCESSORS = 3,
    STREAM_FIRST_TOKEN = 4,
    STREAM_TRANSITION = 5
};

/* Block tensor k (0..11): ln_1.weight, ln_1.bias, c_attn.weight, c_attn.bias,
 * attn.c_proj.weight, attn.c_proj.bias, ln_2.weight, ln_2.bias, c_fc.weight,
 * c_fc.bias, mlp.c_proj.weight, mlp.c_proj.bias. */
static const gpt_init_kind BLOCK_KINDS[GPT_BLOCK_TENSORS] = {
    GPT_INIT_ONE, GPT_INIT_ZERO, GPT_INIT_NORMAL,          GPT_INIT_ZERO,
    GPT_INIT_NORMAL_RESIDUAL,    GPT_INIT_ZERO, GPT_INIT_ONE, GPT_INIT_ZERO,
    GPT_INIT_NORMAL, GPT_INIT_ZERO, GPT_INIT_NORMAL_RESIDUAL, GPT_INIT_ZERO};
static const gpt_init_kind HEAD_KINDS[GPT_GLOBAL_TENSORS] = {GPT_INIT_NORMAL, GPT_INIT_NORMAL,
                                                           GPT_INIT_ONE, GPT_INIT_ZERO};

int gpt_tensor_init_kind(int64_t n_layer, int32_t t)
{
    if (n_layer < 1 || t < 0 || t >= GPT_GLOBAL_TENSORS + GPT_BLOCK_TENSORS * n_layer) {
        return -1;
    }
    if (t < GPT_GLOBAL_TENSORS) {
        return (int)HEAD_KINDS[t];
    }
    return (int)BLOCK_KINDS[(t - GPT_GLOBAL_TENSORS) % GPT_BLOCK_TENSORS];
}

int gpt_init_values(uint64_t seed, int64_t n_layer, int32_t t, int64_t numel, int64_t first,
                    int64_t count, float *out)
{
    const int kind = gpt_tensor_init_kind(n_layer, t);
    if (kind < 0 || numel < 0 || first < 0 || count < 0 || first > numel ||
        count > numel - first) {
        return -1;
    }
    if (kind == GPT_INIT_ZERO || kind == GPT_INIT_ONE) {
        const float value = kind == GPT_INIT_ONE ? 1.0f : 0.0f;
        for (int64_t k = 0; k < count; k++) {
            out[k] = value;
        }
        return 0;
    }
    /* Irwin-Hall of four uniforms, centred: variance 4/12, so sqrt(3) makes it 1.
     * Each unit() is a multiple of 2^-33 below 1: the sum is exact in double. */
    const double sigma =
        kind == GPT_INIT_NORMAL ? GPT_INIT_STD : GPT_INIT_STD / sqrt(2.0 * (double)n_layer);
    const double scale = sigma * sqrt(3.0);
    const philox4x32_key key = philox_key_from_seed(seed);
    for (int64_t k = 0; k < count; k++) {
        const uint64_t i = (uint64_t)(first + k);
        const philox4x32_ctr ctr = {{(uint32_t)i, (uint32_t)(i >> 32), (uint32_t)t, STREAM_INIT}};
        const philox4x32_ctr v = philox4x32_10(ctr, key);
        const double w = philox_unit_open(v.v[0]) + philox_unit_open(v.v[1]) +
                         philox_unit_open(v.v[2]) + philox_unit_open(v.v[3]) - 2.0;
        out[k] = (float)(w * scale);
    }
    return 0;
}

/* floor(u * n / 2^32) for a 32-bit word u: the 64-bit product's high word. */
static int32_t scale_word(uint32_t u, int64_t n)
{
    return (int32_t)(((uint64_t)u * (uint64_t)n) >> 32);
}

int32_t gpt_successor(uint64_t seed, int64_t vocab, int32_t a, int k)
{
    const philox4x32_ctr ctr = {{(uint32_t)a, 0, 0, STREAM_SUCCESSORS}};
    return scale_word(philox4x32_10(ctr, philox_key_from_seed(seed)).v[k & 3], vocab);
}

int gpt_sample_batch(uint64_t seed, int64_t vocab, int64_t context, int64_t step, int64_t first,
                     int64_t count, int32_t *inputs, int32_t *targets)
{
    if (vocab < 1 || vocab > INT32_MAX || context < 1 || context > (int64_t)UINT32_MAX ||
        step < 1 || step > (int64_t)UINT32_MAX || first < 0 || count < 0 ||
        count > ((int64_t)UINT32_MAX + 1) - first) {
        return -1;
    }
    const philox4x32_key key = philox_key_from_seed(seed);
    for (int64_t k = 0; k < count; k++) {
        const uint32_t j = (uint32_t)(first + k);
        const philox4x32_ctr start = {{0, j, (uint32_t)step, STREAM_FIRST_TOKEN}};
        int32_t token = scale_word(philox4x32_10(start, key).v[0], vocab);
        for (int64_t p = 0; p < context; p++) {
            const philox4x32_ctr move = {{(uint32_t)p, j, (uint32_t)step, STREAM_TRANSITION}};
            const int which = (int)(philox4x32_10(move, key).v[0] >> 30);
            const int32_t next = gpt_successor(seed, vocab, token, which);
            if (inputs != NULL) {
                inputs[k * context + p] = token;
            }
            if (targets != NULL) {
                targets[k * context + p] = next;
            }
            token = next;
        }
    }
    return 0;
}
