/*
 * bf16 <-> fp32: a bf16 value is the top 16 bits of an fp32 (1 sign,
 * 8 exponent, 7 mantissa bits), so widening is a shift (exact) and narrowing
 * rounds the low 16 bits to nearest, ties to even. Raw bits in uint16_t.
 * The one definition the reference model, the communicator and the
 * implementations share, so every rank and the baseline round identically.
 */
#ifndef DTB_REFERENCE_BF16_H
#define DTB_REFERENCE_BF16_H

#include <stdint.h>
#include <string.h>

static inline float bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint16_t float_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    /* NaN: truncation could clear every mantissa bit left (giving inf), so
     * keep the sign and top payload and force the quiet bit. */
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x0040u);
    /* Round to nearest, ties to even: add just under half an ulp of the
     * result, plus one more when the kept lsb is odd, then truncate. A carry
     * out of the mantissa bumps the exponent, which is the right answer,
     * including max-finite rounding up to inf. Cannot overflow 32 bits:
     * u <= 0xff800000 here. */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* The fp32 value nearest-even representable in bf16 (a rounding in place). */
static inline float round_to_bf16(float f)
{
    return bf16_to_float(float_to_bf16(f));
}

static inline void bf16_widen(const uint16_t *src, float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = bf16_to_float(src[i]);
}

static inline void bf16_narrow(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = float_to_bf16(src[i]);
}

#endif
