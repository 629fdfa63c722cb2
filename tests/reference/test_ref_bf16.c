/*
 * bf16 rounding (reference/bf16.h): float_to_bf16 and double_to_bf16 on
 * known answers (ties to even, subnormals, the largest finite value and the
 * overflow threshold, infinities, NaN, signed zeros, and the double-rounding
 * trap of going double -> float -> bf16), then both against an independent
 * reference on seeded random inputs.
 *
 * bf16 facts used below: 8 significant bits (1 implicit + 7 stored), the
 * exponent range of fp32. The ulp of [1, 2) is 2^-7; the smallest normal is
 * 2^-126 (0x0080), the smallest subnormal 2^-133 (0x0001), the largest finite
 * (2 - 2^-7) * 2^127 (0x7f7f); halfway above it, (2 - 2^-8) * 2^127, rounds
 * to infinity (the tie goes to the even significand, 2^128, which overflows).
 *
 * The reference rounding (ref_round): lo = the largest bf16 <= |d| (found by
 * truncating a float near |d| and stepping down once if needed), hi = the
 * next one (2^128 above the largest finite); lo + hi has at most 9
 * significant bits, so comparing 2|d| with lo + hi is exact in double and
 * decides nearest, with ties to the even one of lo and hi.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bf16.h"
#include "ref_util.h"

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int bf16_is_nan(uint16_t h)
{
    return (h & 0x7f80u) == 0x7f80u && (h & 0x007fu) != 0;
}

/* The value of bf16 bits h (magnitude part only), 2^128 for 0x7f80. */
static double bf16_mag(uint16_t h)
{
    h &= 0x7fffu;
    return h == 0x7f80u ? 0x1p128 : (double)bf16_to_float(h);
}

/* Independent nearest-even rounding of a finite double (see the header). */
static uint16_t ref_round(double d)
{
    const uint16_t sign = signbit(d) ? 0x8000u : 0u;
    const double a = fabs(d);
    uint16_t lo = a > FLT_MAX ? 0x7f7fu : (uint16_t)(f32_bits((float)a) >> 16);
    if (lo > 0x7f7fu) {
        lo = 0x7f7fu; /* (float)a rounded up to infinity */
    }
    while (bf16_mag(lo) > a) {
        lo--;
    }
    const uint16_t hi = (uint16_t)(lo + 1u);
    const double twice = 2.0 * a, mid = bf16_mag(lo) + bf16_mag(hi);
    uint16_t r = twice < mid ? lo : twice > mid ? hi : ((lo & 1u) ? hi : lo);
    return (uint16_t)(sign | r);
}

static void check_double(ref_checker *c, const char *what, double d, uint16_t want)
{
    const uint16_t got = double_to_bf16(d);
    ref_check(c, got == want, "double_to_bf16(%s = %a) = 0x%04x, want 0x%04x", what, d, got, want);
}

static void check_float(ref_checker *c, const char *what, uint32_t bits, uint16_t want)
{
    const uint16_t got = float_to_bf16(f32_from_bits(bits));
    ref_check(c, got == want, "float_to_bf16(%s = 0x%08x) = 0x%04x, want 0x%04x", what, bits, got,
              want);
}

static void known_double(ref_checker *c)
{
    check_double(c, "1", 1.0, 0x3f80);
    check_double(c, "-2", -2.0, 0xc000);
    check_double(c, "+0", 0.0, 0x0000);
    check_double(c, "-0", -0.0, 0x8000);
    /* ties to even in [1, 2): ulp 2^-7, halfway points k*2^-7 + 2^-8 */
    check_double(c, "1 + 2^-8 (tie, down to even)", 1.0 + 0x1p-8, 0x3f80);
    check_double(c, "1 + 3*2^-8 (tie, up to even)", 1.0 + 3 * 0x1p-8, 0x3f82);
    check_double(c, "-(1 + 2^-8) (tie)", -(1.0 + 0x1p-8), 0xbf80);
    check_double(c, "1 + 2^-8 - 2^-40", 1.0 + 0x1p-8 - 0x1p-40, 0x3f80);
    /* the double-rounding traps: through float these land on a tie first */
    check_double(c, "1 + 2^-8 + 2^-40 (float would give 0x3f80)", 1.0 + 0x1p-8 + 0x1p-40, 0x3f81);
    check_double(c, "1 + 3*2^-8 - 2^-40 (float would give 0x3f82)", 1.0 + 3 * 0x1p-8 - 0x1p-40,
                 0x3f81);
    ref_check(c, float_to_bf16((float)(1.0 + 0x1p-8 + 0x1p-40)) == 0x3f80,
              "(double -> float -> bf16 of 1 + 2^-8 + 2^-40 is 0x3f80: the trap is real)");
    /* carry into the exponent */
    check_double(c, "2 - 2^-9 (rounds up to 2)", 2.0 - 0x1p-9, 0x4000);
    /* subnormals: multiples of 2^-133 below 2^-126 */
    check_double(c, "2^-126 (smallest normal)", 0x1p-126, 0x0080);
    check_double(c, "2^-133 (smallest subnormal)", 0x1p-133, 0x0001);
    check_double(c, "127 * 2^-133 (largest subnormal)", 127 * 0x1p-133, 0x007f);
    check_double(c, "2^-134 (tie with 0, to even 0)", 0x1p-134, 0x0000);
    check_double(c, "3 * 2^-134 (tie, up to even 2)", 3 * 0x1p-134, 0x0002);
    check_double(c, "2^-134 + 2^-160", 0x1p-134 + 0x1p-160, 0x0001);
    check_double(c, "-(2^-134 + 2^-160)", -(0x1p-134 + 0x1p-160), 0x8001);
    check_double(c, "2^-126 - 2^-134 (tie, up to the smallest normal)", 0x1p-126 - 0x1p-134,
                 0x0080);
    check_double(c, "2^-1074 (smallest double)", 0x1p-1074, 0x0000);
    check_double(c, "-2^-1074", -0x1p-1074, 0x8000);
    /* the top of the range */
    check_double(c, "(2 - 2^-7) 2^127 (largest finite)", 0x1.fep127, 0x7f7f);
    check_double(c, "(2 - 2^-8) 2^127 - 2^80 (below the tie)", 0x1.ffp127 - 0x1p80, 0x7f7f);
    check_double(c, "(2 - 2^-8) 2^127 (tie: to infinity)", 0x1.ffp127, 0x7f80);
    check_double(c, "FLT_MAX", (double)FLT_MAX, 0x7f80);
    check_double(c, "1e300", 1e300, 0x7f80);
    check_double(c, "-DBL_MAX", -DBL_MAX, 0xff80);
    check_double(c, "+inf", INFINITY, 0x7f80);
    check_double(c, "-inf", -INFINITY, 0xff80);
    const uint16_t qnan = double_to_bf16(NAN), nqnan = double_to_bf16(-NAN);
    ref_check(c, bf16_is_nan(qnan) && (qnan & 0x0040u) && bf16_is_nan(nqnan) && (nqnan & 0x8000u),
              "double_to_bf16(NaN) = 0x%04x, (-NaN) = 0x%04x: quiet NaNs, sign kept", qnan, nqnan);
}

static void known_float(ref_checker *c)
{
    check_float(c, "1", 0x3f800000u, 0x3f80);
    check_float(c, "1 + 2^-8 (tie, down)", 0x3f808000u, 0x3f80);
    check_float(c, "1 + 3*2^-8 (tie, up)", 0x3f818000u, 0x3f82);
    check_float(c, "1 + 2^-8 + 2^-23", 0x3f808001u, 0x3f81);
    check_float(c, "1 + 2^-8 - 2^-23", 0x3f807fffu, 0x3f80);
    check_float(c, "-0", 0x80000000u, 0x8000);
    check_float(c, "smallest subnormal 2^-149", 0x00000001u, 0x0000);
    check_float(c, "2^-134 (tie with 0)", 0x00008000u, 0x0000);
    check_float(c, "3 * 2^-134 (tie, up to even)", 0x00018000u, 0x0002);
    check_float(c, "2^-134 + 2^-149", 0x00008001u, 0x0001);
    check_float(c, "largest finite bf16", 0x7f7f0000u, 0x7f7f);
    check_float(c, "just below the overflow tie", 0x7f7f7fffu, 0x7f7f);
    check_float(c, "the overflow tie (2 - 2^-8) 2^127", 0x7f7f8000u, 0x7f80);
    check_float(c, "FLT_MAX", 0x7f7fffffu, 0x7f80);
    check_float(c, "-FLT_MAX", 0xff7fffffu, 0xff80);
    check_float(c, "+inf", 0x7f800000u, 0x7f80);
    check_float(c, "-inf", 0xff800000u, 0xff80);
    const uint16_t low = float_to_bf16(f32_from_bits(0x7f800001u));
    const uint16_t quiet = float_to_bf16(f32_from_bits(0xffc00000u));
    ref_check(c, bf16_is_nan(low) && bf16_is_nan(quiet) && (quiet & 0x8000u),
              "NaN with only low payload bits stays NaN (0x%04x, not inf); -qNaN -> 0x%04x", low,
              quiet);
    ref_check(c, bf16_to_float(0x3f81) == 1.0f + 0x1p-7f && round_to_bf16(1.0f + 0x1p-9f) == 1.0f,
              "bf16_to_float(0x3f81) = 1 + 2^-7; round_to_bf16(1 + 2^-9) = 1");
    uint16_t narrowed[3];
    float widened[3];
    const float src[3] = {1.0f + 0x1p-8f, -3.5f, 0x1p-130f};
    bf16_narrow(src, narrowed, 3);
    bf16_widen(narrowed, widened, 3);
    ref_check(c, narrowed[0] == 0x3f80 && narrowed[1] == 0xc060 && narrowed[2] == 0x0008 &&
                     widened[0] == 1.0f && widened[1] == -3.5f && widened[2] == 0x1p-130f,
              "bf16_narrow / bf16_widen on 3 values");
}

/* Random finite doubles over the whole bf16 range and beyond, with a share
 * placed on or next to bf16 ties, against ref_round; and random floats,
 * where double_to_bf16((double)f) must equal float_to_bf16(f) (a float is
 * exact in double, so there is only one rounding either way). */
static void random_inputs(ref_checker *c)
{
    ref_rand rng = {.state = 0xbf16bf16u};
    int64_t bad_d = 0, bad_f = 0, bad_fd = 0;
    const int64_t n = 400000;
    for (int64_t k = 0; k < n; k++) {
        const int e = (int)ref_rand_below(&rng, 300) - 160; /* 2^-160 .. 2^139 */
        double d = ldexp(ref_rand_uniform(&rng, 1.0, 2.0), e);
        if (k % 4 == 1) {
            /* exactly a tie: a bf16 value plus half its ulp (normal range) */
            const double m = floor(ref_rand_uniform(&rng, 128.0, 256.0)) + 0.5;
            d = ldexp(m, e - 7);
        } else if (k % 4 == 2) {
            /* a tie nudged by one double ulp either way */
            const double m = floor(ref_rand_uniform(&rng, 128.0, 256.0)) + 0.5;
            d = ldexp(m, e - 7);
            d = (ref_rand_u64(&rng) & 1) ? nextafter(d, 0.0) : nextafter(d, INFINITY);
        }
        if (ref_rand_u64(&rng) & 1) {
            d = -d;
        }
        if (isfinite(d) && double_to_bf16(d) != ref_round(d)) {
            if (bad_d++ < 5) {
                printf("  mismatch: double_to_bf16(%a) = 0x%04x, reference 0x%04x\n", d,
                       double_to_bf16(d), ref_round(d));
            }
        }
        const uint32_t bits = (uint32_t)ref_rand_u64(&rng);
        const float f = f32_from_bits(bits);
        if (isnan(f)) {
            continue;
        }
        bad_f += float_to_bf16(f) != ref_round((double)f);
        bad_fd += double_to_bf16((double)f) != float_to_bf16(f);
    }
    ref_check(c, bad_d == 0, "double_to_bf16 = reference rounding on %lld random doubles "
              "(a quarter exact ties, a quarter one ulp off a tie): %lld mismatches",
              (long long)n, (long long)bad_d);
    ref_check(c, bad_f == 0 && bad_fd == 0,
              "float_to_bf16 = reference = double_to_bf16 on random float bit patterns: "
              "%lld / %lld mismatches", (long long)bad_f, (long long)bad_fd);
}

int main(void)
{
    ref_checker c = {.test = "ref_bf16"};
    known_double(&c);
    known_float(&c);
    random_inputs(&c);
    return ref_finish(&c);
}
