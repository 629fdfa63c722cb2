/*
 * Philox4x32-10 (reference/rng.c) against Random123's known answers, the key
 * layout, and the bounds and exactness of philox_unit_open.
 *
 * Known answers: Random123 tests/kat_vectors, the three "philox4x32 10" lines
 * (columns: counter x4, key x2, expected output x4, all hex):
 *   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000  6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff  408f276d 41c83b0e a20bc7c6 6d5451fd
 *   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0  d16cfe09 94fdcceb 5001e420 24126ea1
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ref_util.h"
#include "rng.h"

typedef struct kat {
    uint32_t ctr[4], key[2], expect[4];
} kat;

static const kat PHILOX4X32_10_KAT[] = {
    {{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
     {0x00000000u, 0x00000000u},
     {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
    {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
     {0xffffffffu, 0xffffffffu},
     {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
    {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
     {0xa4093822u, 0x299f31d0u},
     {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
};

static void check_known_answers(ref_checker *c)
{
    for (size_t k = 0; k < sizeof PHILOX4X32_10_KAT / sizeof PHILOX4X32_10_KAT[0]; k++) {
        const kat *v = &PHILOX4X32_10_KAT[k];
        philox4x32_ctr ctr;
        philox4x32_key key;
        memcpy(ctr.v, v->ctr, sizeof ctr.v);
        memcpy(key.v, v->key, sizeof key.v);
        const philox4x32_ctr out = philox4x32_10(ctr, key);
        ref_check(c, memcmp(out.v, v->expect, sizeof out.v) == 0,
                  "philox4x32-10 KAT %zu: ctr %08x %08x %08x %08x key %08x %08x -> "
                  "%08x %08x %08x %08x (expect %08x %08x %08x %08x)",
                  k, v->ctr[0], v->ctr[1], v->ctr[2], v->ctr[3], v->key[0], v->key[1], out.v[0],
                  out.v[1], out.v[2], out.v[3], v->expect[0], v->expect[1], v->expect[2],
                  v->expect[3]);
    }
}

static void check_key_layout(ref_checker *c)
{
    const philox4x32_key key = philox_key_from_seed(0x0123456789abcdefull);
    ref_check(c, key.v[0] == 0x89abcdefu && key.v[1] == 0x01234567u,
              "philox_key_from_seed(0x0123456789abcdef) = {%08x, %08x} (low word first)",
              key.v[0], key.v[1]);
    /* The seed used as a key gives the KAT answer: seed 0xffffffffffffffff is key (ffffffff, ffffffff). */
    const philox4x32_ctr ones = {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}};
    const philox4x32_ctr out = philox4x32_10(ones, philox_key_from_seed(UINT64_MAX));
    ref_check(c, out.v[0] == 0x408f276du && out.v[3] == 0x6d5451fdu,
              "seed 2^64-1 as a key reproduces the all-ones KAT");
}

/* Every single-bit change of counter or key changes every output word (a
 * weak avalanche check that would catch a dropped word or round). */
static void check_sensitivity(ref_checker *c)
{
    const philox4x32_ctr base_ctr = {{0x01234567u, 0x89abcdefu, 0x0badf00du, 0xdeadbeefu}};
    const philox4x32_key base_key = {{0x13579bdfu, 0x2468ace0u}};
    const philox4x32_ctr base = philox4x32_10(base_ctr, base_key);
    int all_changed = 1;
    double flipped_bits = 0.0;
    int trials = 0;
    for (int word = 0; word < 6; word++) {
        for (int bit = 0; bit < 32; bit++) {
            philox4x32_ctr ctr = base_ctr;
            philox4x32_key key = base_key;
            if (word < 4) {
                ctr.v[word] ^= 1u << bit;
            } else {
                key.v[word - 4] ^= 1u << bit;
            }
            const philox4x32_ctr out = philox4x32_10(ctr, key);
            for (int w = 0; w < 4; w++) {
                all_changed = all_changed && out.v[w] != base.v[w];
                uint32_t diff = out.v[w] ^ base.v[w];
                while (diff) {
                    flipped_bits += diff & 1u;
                    diff >>= 1;
                }
            }
            trials++;
        }
    }
    const double mean_flipped = flipped_bits / trials;
    ref_check(c, all_changed && fabs(mean_flipped - 64.0) < 4.0,
              "every 1-bit change of counter/key changes all 4 words; mean %.2f of 128 output "
              "bits flip (expect ~64)",
              mean_flipped);
}

static void check_unit_open(ref_checker *c)
{
    const double lo = philox_unit_open(0u), hi = philox_unit_open(UINT32_MAX);
    ref_check(c, lo == 0x1p-33 && lo > 0.0, "philox_unit_open(0) = 2^-33 = %.17g > 0", lo);
    ref_check(c, hi == 1.0 - 0x1p-33 && hi < 1.0, "philox_unit_open(2^32-1) = 1 - 2^-33 < 1 (%.17g)",
              hi);
    ref_check(c, philox_unit_open(0x80000000u) == 0.5 + 0x1p-33,
              "philox_unit_open(2^31) = 0.5 + 2^-33 exactly");
    /* Exact: (u + 0.5) * 2^-32 recovers u from the double. */
    ref_rand r = {0x5eed0001u};
    int exact = 1, monotone = 1;
    double sum = 0.0;
    const int n = 200000;
    double prev = 0.0;
    uint32_t prev_u = 0;
    for (int k = 0; k < n; k++) {
        const uint32_t u = (uint32_t)ref_rand_u64(&r);
        const double d = philox_unit_open(u);
        exact = exact && d * 0x1p32 - 0.5 == (double)u && d > 0.0 && d < 1.0;
        if (k > 0 && ((u > prev_u) != (d > prev) || (u == prev_u) != (d == prev))) {
            monotone = 0;
        }
        prev = d;
        prev_u = u;
    }
    ref_check(c, exact, "philox_unit_open is exact and inside (0, 1) for %d random words", n);
    ref_check(c, monotone, "philox_unit_open is strictly increasing in u");
    /* Philox output words through unit_open: mean near 1/2. */
    const philox4x32_key key = philox_key_from_seed(42);
    for (int k = 0; k < n; k++) {
        const philox4x32_ctr ctr = {{(uint32_t)k, 0, 0, 0}};
        sum += philox_unit_open(philox4x32_10(ctr, key).v[0]);
    }
    const double mean = sum / n, sigma = sqrt(1.0 / 12.0 / n);
    ref_check(c, fabs(mean - 0.5) < 5.0 * sigma,
              "mean of unit_open over %d Philox words = %.5f (0.5 +- %.5f)", n, mean, 5.0 * sigma);
    /* Documented edge (model-spec.md, "Data"): (float)(2u - 1) reaches +-1.0f
     * at the extreme words, so data lies in the closed interval [-1, 1]. */
    ref_check(c, (float)(2.0 * hi - 1.0) == 1.0f && (float)(2.0 * lo - 1.0) == -1.0f,
              "(float)(2*unit_open(u) - 1) is +-1.0f at u = 2^32-1 and u = 0 (closed interval)");
    /* Exactly 64 words at each end round to +-1.0f. */
    const float at63 = (float)(2.0 * philox_unit_open(63u) - 1.0);
    const float at64 = (float)(2.0 * philox_unit_open(64u) - 1.0);
    const float top64 = (float)(2.0 * philox_unit_open(UINT32_MAX - 63u) - 1.0);
    const float top65 = (float)(2.0 * philox_unit_open(UINT32_MAX - 64u) - 1.0);
    ref_check(c, at63 == -1.0f && at64 > -1.0f && top64 == 1.0f && top65 < 1.0f,
              "words 0..63 give -1.0f and 2^32-64..2^32-1 give +1.0f; 64 and 2^32-65 stay inside");
}

int main(void)
{
    ref_checker c = {.test = "ref_rng"};
    check_known_answers(&c);
    check_key_layout(&c);
    check_sensitivity(&c);
    check_unit_open(&c);
    return ref_finish(&c);
}
