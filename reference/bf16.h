/*
 * bf16 <-> fp32: a bf16 value is the top 16 bits of an fp32 (1 sign,
 * 8 exponent, 7 mantissa bits), so widening is a shift (exact) and narrowing
 * rounds the low 16 bits to nearest, ties to even. Raw bits in uint16_t.
 * The one definition the reference model, the communicator and the
 * implementations share, so every rank and the baseline round identically.
 */
#ifndef DTB_REFERENCE_BF16_H
#define DTB_REFERENCE_BF16_H

#include <math.h>
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

/* double -> bf16 rounded ONCE, to nearest, ties to even: the fp64 oracle's
 * compute parameters. Going through float would round twice (53 -> 24 -> 8
 * significant bits), and the first rounding can land exactly on a bf16 tie:
 * 1 + 2^-8 + 2^-40 -> (float) 1 + 2^-8 -> (tie, to even) 1, where the right
 * answer is 1 + 2^-7. So the rounding is done here in exact double
 * arithmetic:
 *   q = the bf16 quantum at |d|: 2^(floor(log2|d|) - 7) for |d| >= 2^-126
 *       (8 significant bits), 2^-133 below (bf16 subnormals);
 *   x = |d| / q           exact (scaling by a power of two), x < 2^8;
 *   k = x rounded to the nearest integer, ties to the even one
 *       (floor, and the remainder x - floor(x), are exact);
 *   |result| = k * q      exact; >= 2^128 overflows to infinity, so the
 *       largest finite bf16 (2 - 2^-7) * 2^127 rounds up to infinity from
 *       the tie (2 - 2^-8) * 2^127 on, as IEEE 754 rounding does.
 * The result is a bf16 value, so its float has 16 zero low bits and the final
 * float_to_bf16 only drops them. Signs of zeros are kept; NaN stays a quiet
 * NaN (sign and top payload kept, as through float); infinities stay. */
static inline uint16_t double_to_bf16(double d)
{
    if (isnan(d))
        return float_to_bf16((float)d); /* NaN -> NaN: no rounding involved */
    const uint16_t sign = signbit(d) ? 0x8000u : 0u;
    const double a = fabs(d);
    if (isinf(a))
        return (uint16_t)(sign | 0x7f80u);
    int e = 0;
    (void)frexp(a, &e);                 /* a in [2^(e-1), 2^e); e = 0 for a = 0 */
    const int q_exp = e - 8 < -133 ? -133 : e - 8;
    const double x = ldexp(a, -q_exp);
    double k = floor(x);
    const double rest = x - k;
    if (rest > 0.5 || (rest == 0.5 && fmod(k, 2.0) != 0.0))
        k += 1.0;
    const double r = ldexp(k, q_exp);
    if (r >= 0x1p128)
        return (uint16_t)(sign | 0x7f80u);
    return (uint16_t)(sign | float_to_bf16((float)r));
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
