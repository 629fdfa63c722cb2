/*
 * Philox4x32-10 exactly as Random123 defines it (philox.h, PHILOX_DEFAULT_ROUNDS
 * = 10). One round maps counter (x0, x1, x2, x3) under key (k0, k1) to
 *     (hi(M1*x2) ^ x1 ^ k0,  lo(M1*x2),  hi(M0*x0) ^ x3 ^ k1,  lo(M0*x0))
 * with 64-bit products split into 32-bit halves; between rounds the key is
 * bumped by the Weyl constants (k0 += W0, k1 += W1, mod 2^32).
 */
#include "rng.h"

enum {
    PHILOX_ROUNDS = 10
};

static const uint32_t PHILOX_M0 = 0xD2511F53u;
static const uint32_t PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u;
static const uint32_t PHILOX_W1 = 0xBB67AE85u;

static philox4x32_ctr philox4x32_round(philox4x32_ctr x, philox4x32_key k)
{
    const uint64_t p0 = (uint64_t)PHILOX_M0 * x.v[0];
    const uint64_t p1 = (uint64_t)PHILOX_M1 * x.v[2];
    philox4x32_ctr y;
    y.v[0] = (uint32_t)(p1 >> 32) ^ x.v[1] ^ k.v[0];
    y.v[1] = (uint32_t)p1;
    y.v[2] = (uint32_t)(p0 >> 32) ^ x.v[3] ^ k.v[1];
    y.v[3] = (uint32_t)p0;
    return y;
}

philox4x32_ctr philox4x32_10(philox4x32_ctr ctr, philox4x32_key key)
{
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
        if (round > 0) {
            key.v[0] += PHILOX_W0;
            key.v[1] += PHILOX_W1;
        }
        ctr = philox4x32_round(ctr, key);
    }
    return ctr;
}

philox4x32_key philox_key_from_seed(uint64_t seed)
{
    philox4x32_key key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return key;
}

double philox_unit_open(uint32_t u)
{
    /* u + 0.5 < 2^32 needs 33 significant bits and the scale is a power of
     * two, so the result is exact in double. */
    return ((double)u + 0.5) * 0x1p-32;
}
