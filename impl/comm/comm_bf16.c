/*
 * bf16 arithmetic for the bf16 sum reduction: a bf16 value is the top 16 bits
 * of an fp32 (1 sign, 8 exponent, 7 mantissa bits), so widening is a shift
 * and narrowing is a rounding of the low 16 bits.
 */
#include <string.h>

#include "comm_internal.h"

float comm_bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t comm_float_to_bf16(float f)
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

uint16_t comm_bf16_add(uint16_t a, uint16_t b)
{
    /* The fp32 sum is rounded once (to 24 bits) then once more to 8 bits;
     * since 24 >= 2*8 + 1 the double rounding never differs from rounding
     * the exact sum (Figueroa, "When is double rounding innocuous?"). The
     * assignment to a float drops any excess precision (C11 5.2.4.2.2). */
    float s = comm_bf16_to_float(a) + comm_bf16_to_float(b);
    return comm_float_to_bf16(s);
}

void comm_bf16_sum_op(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type; /* only ever registered for the comm's 2-byte bf16 type */
    const unsigned char *src = in;
    unsigned char *dst = inout;
    /* memcpy: MPI gives no alignment guarantee for the buffers. */
    for (int i = 0; i < *len; i++) {
        uint16_t a, b;
        memcpy(&a, src + 2 * (size_t)i, 2);
        memcpy(&b, dst + 2 * (size_t)i, 2);
        uint16_t s = comm_bf16_add(a, b);
        memcpy(dst + 2 * (size_t)i, &s, 2);
    }
}
