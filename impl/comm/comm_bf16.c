/*
 * bf16 arithmetic for the bf16 sum reduction: a bf16 value is the top 16 bits
 * of an fp32 (1 sign, 8 exponent, 7 mantissa bits), so widening is a shift
 * and narrowing is a rounding of the low 16 bits.
 */
#include <string.h>

#include "bf16.h"
#include "comm_internal.h"

float comm_bf16_to_float(uint16_t h)
{
    return bf16_to_float(h);
}

uint16_t comm_float_to_bf16(float f)
{
    return float_to_bf16(f);
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
