/*
 * The statistics of compare and gate on synthetic samples (fixed seeds,
 * never all-zero data): identical distributions are not regressed, a 10%
 * shift is, noisy but unshifted samples are not over many seeds, exact
 * metrics follow the minimum effect, and the building blocks (generator,
 * median, Mann-Whitney, bootstrap) give known answers.
 */
#include "results_test.h"

/* n samples of exp(log(center) + sigma z), plus `outliers` of them
 * multiplied by 3 (a process descheduled mid-step). */
static void draw(double *x, int n, double center, double sigma, int outliers, stats_rng *rng)
{
    for (int i = 0; i < n; i++)
        x[i] = center * exp(sigma * test_normal(rng));
    for (int i = 0; i < outliers && i < n; i++)
        x[(int)(stats_rng_uniform(rng) * n)] *= 3.0;
}

static void test_building_blocks(void)
{
    /* splitmix64 from state 0: the reference implementation's first outputs */
    stats_rng r = {0};
    CHECK(stats_rng_next(&r) == 0xE220A8397B1DCDAFull);
    CHECK(stats_rng_next(&r) == 0x6E789E6AA1B965F4ull);
    double u = stats_rng_uniform(&r);
    CHECK(u >= 0 && u < 1);

    double odd[] = {5, 1, 4, 2, 3};
    CHECK(stats_median_inplace(odd, 5) == 3);
    double even[] = {4, 1, 3, 2};
    CHECK(stats_median_inplace(even, 4) == 2.5);
    double ties[] = {7, 7, 7, 1, 9, 7};
    CHECK(stats_median_inplace(ties, 6) == 7);

    /* Complete separation of 5 and 5: U = 0, z = (12.5 - 0.5) / sqrt(25 * 11 / 12),
     * p = erfc(z / sqrt 2) = 0.01219 */
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    double p = -1;
    CHECK(stats_mann_whitney(a, 5, b, 5, &p) == 0);
    CHECK(fabs(p - 0.012186) < 1e-4);
    CHECK(stats_mann_whitney(a, 5, a, 5, &p) == 0 && p == 1.0);
    double same[] = {2, 2, 2, 2};
    CHECK(stats_mann_whitney(same, 4, same, 4, &p) == 0 && p == 1.0);

    /* the bootstrap interval is reproducible and covers the true ratio */
    stats_rng g = {42};
    double base[40], head[40], lo1, hi1, lo2, hi2;
    draw(base, 40, 1e-3, 0.02, 0, &g);
    draw(head, 40, 1.2e-3, 0.02, 0, &g);
    CHECK(stats_bootstrap_ratio(base, 40, head, 40, 2000, 0.99, 7, &lo1, &hi1) == 0);
    CHECK(stats_bootstrap_ratio(base, 40, head, 40, 2000, 0.99, 7, &lo2, &hi2) == 0);
    CHECK(lo1 == lo2 && hi1 == hi2);
    CHECK(lo1 < 1.2 && hi1 > 1.2 && lo1 > 1.1 && hi1 < 1.3);
}

static void test_identical(void)
{
    stats_policy pol;
    stats_policy_default(&pol);
    stats_rng g = {1};
    double x[36];
    draw(x, 36, 3e-4, 0.05, 2, &g);
    stats_result s;
    CHECK(stats_compare(x, 36, x, 36, 0, 0, &pol, 9, &s) == 0);
    CHECK(s.verdict == STATS_UNCHANGED);
    CHECK(s.ratio == 1.0 && s.p == 1.0);
}

/* Over many seeds: samples of one distribution are never "regressed";
 * samples 10% slower always are; a few percent is never "regressed" with a
 * 5% minimum effect. */
static void test_many_seeds(void)
{
    stats_policy pol;
    stats_policy_default(&pol);
    enum { SEEDS = 200, N = 36 };
    int fp_noisy = 0, fp_small = 0, detected = 0, detected_noisy = 0;
    for (int seed = 1; seed <= SEEDS; seed++) {
        stats_rng g = {(uint64_t)seed * 0x9E3779B97F4A7C15ull};
        double base[N], head[N];
        stats_result s;
        /* noisy (sigma 20%, a few 3x outliers) but unshifted */
        draw(base, N, 1e-3, 0.20, 3, &g);
        draw(head, N, 1e-3, 0.20, 3, &g);
        CHECK(stats_compare(base, N, head, N, 0, 0, &pol, (uint64_t)seed, &s) == 0);
        fp_noisy += s.verdict == STATS_REGRESSED;
        /* a 2% shift, under the minimum effect */
        draw(base, N, 1e-3, 0.02, 0, &g);
        draw(head, N, 1.02e-3, 0.02, 0, &g);
        CHECK(stats_compare(base, N, head, N, 0, 0, &pol, (uint64_t)seed, &s) == 0);
        fp_small += s.verdict == STATS_REGRESSED;
        /* a 10% shift, moderate noise (sigma 3%) */
        draw(base, N, 1e-3, 0.03, 1, &g);
        draw(head, N, 1.1e-3, 0.03, 1, &g);
        CHECK(stats_compare(base, N, head, N, 0, 0, &pol, (uint64_t)seed, &s) == 0);
        detected += s.verdict == STATS_REGRESSED;
        /* a 10% shift under sigma 8%: found about three times in four */
        draw(base, N, 1e-3, 0.08, 1, &g);
        draw(head, N, 1.1e-3, 0.08, 1, &g);
        CHECK(stats_compare(base, N, head, N, 0, 0, &pol, (uint64_t)seed, &s) == 0);
        detected_noisy += s.verdict == STATS_REGRESSED;
        /* and never "improved" the wrong way round */
        CHECK(s.verdict != STATS_IMPROVED);
    }
    printf("over %d seeds: noisy unshifted regressed %d, 2%% shift regressed %d, 10%% shift "
           "detected %d (sigma 3%%) and %d (sigma 8%%)\n",
           SEEDS, fp_noisy, fp_small, detected, detected_noisy);
    CHECK(fp_noisy == 0);
    CHECK(fp_small == 0);
    CHECK(detected == SEEDS);
    CHECK(detected_noisy >= SEEDS * 70 / 100);
}

static void test_verdicts(void)
{
    stats_policy pol;
    stats_policy_default(&pol);
    stats_rng g = {3};
    double base[20], head[20];
    stats_result s;
    /* faster by 20%: improved; with higher-is-better it is a regression */
    draw(base, 20, 1e-3, 0.02, 0, &g);
    draw(head, 20, 0.8e-3, 0.02, 0, &g);
    CHECK(stats_compare(base, 20, head, 20, 0, 0, &pol, 1, &s) == 0);
    CHECK(s.verdict == STATS_IMPROVED);
    CHECK(stats_compare(base, 20, head, 20, 0, 1, &pol, 1, &s) == 0);
    CHECK(s.verdict == STATS_REGRESSED);
    /* too few samples */
    CHECK(stats_compare(base, 4, head, 20, 0, 0, &pol, 1, &s) == 0);
    CHECK(s.verdict == STATS_INCONCLUSIVE);
    CHECK_CONTAINS(s.why, "too few samples");
    /* a large change that the samples cannot tell from noise */
    double wild_b[10] = {1, 9, 2, 8, 3, 7, 4, 6, 5, 10};
    double wild_h[10] = {1.5, 9, 2.5, 8, 3.5, 7, 4.5, 6, 5.5, 10};
    CHECK(stats_compare(wild_b, 10, wild_h, 10, 0, 0, &pol, 1, &s) == 0);
    CHECK(s.verdict == STATS_INCONCLUSIVE || s.verdict == STATS_UNCHANGED);
    CHECK(s.verdict != STATS_REGRESSED);

    /* exact metrics: the maximum over ranks against the minimum effect */
    double eb[2] = {62532, 62532}, e_same[2] = {62532, 62532}, e_up[2] = {62532, 70000},
           e_small[2] = {62532, 63000}, e_down[2] = {50000, 50000}, zero[2] = {0, 0};
    CHECK(stats_compare(eb, 2, e_same, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_UNCHANGED);
    CHECK(stats_compare(eb, 2, e_up, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_REGRESSED);
    CHECK(stats_compare(eb, 2, e_small, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_UNCHANGED);
    CHECK(stats_compare(eb, 2, e_down, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_IMPROVED);
    CHECK(stats_compare(zero, 2, eb, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_REGRESSED && isinf(s.ratio));
    CHECK(stats_compare(zero, 2, zero, 2, 1, 0, &pol, 1, &s) == 0 &&
          s.verdict == STATS_UNCHANGED);
}

/* Two launches of one case: their medians 1.0 and 1.5 ms apart by log 1.5;
 * a 20% change inside that envelope is not beyond noise, outside it is. */
static void test_envelope(void)
{
    double x[6] = {1.0, 1.01, 0.99, 1.5, 1.49, 1.52};
    int launch[6] = {1, 1, 1, 2, 2, 2}, one[6] = {1, 1, 1, 1, 1, 1};
    double spread = -1;
    CHECK(stats_launch_spread(x, launch, 6, &spread) == 0);
    CHECK(fabs(spread - log(1.5 / 1.0)) < 1e-12);
    CHECK(stats_launch_spread(x, one, 6, &spread) == 0 && spread == 0);
    stats_policy pol;
    stats_policy_default(&pol);
    stats_result r = {.ratio = 1.2, .verdict = STATS_REGRESSED};
    stats_apply_envelope(&r, log(1.1), &pol);
    CHECK(r.verdict == STATS_REGRESSED);
    stats_apply_envelope(&r, log(1.5), &pol);
    CHECK(r.verdict == STATS_INCONCLUSIVE);
    CHECK_CONTAINS(r.why, "launches of one case differed");
    stats_result u = {.ratio = 0.8, .verdict = STATS_IMPROVED};
    stats_apply_envelope(&u, log(1.5), &pol);
    CHECK(u.verdict == STATS_INCONCLUSIVE);
}

/* The suite-level consensus over 12 cases. */
static void test_consensus(void)
{
    stats_policy pol;
    stats_policy_default(&pol);
    enum { CASES = 12, SEEDS = 1000 };
    double d[CASES];
    stats_result s;
    stats_rng g = {77};
    /* unchanged: small noise around 0 */
    for (int i = 0; i < CASES; i++)
        d[i] = 0.01 * test_normal(&g);
    stats_consensus(d, CASES, 0, &pol, &s);
    CHECK(s.verdict == STATS_UNCHANGED);
    /* every case 10% slower */
    for (int i = 0; i < CASES; i++)
        d[i] = log(1.10) + 0.01 * test_normal(&g);
    stats_consensus(d, CASES, 0, &pol, &s);
    CHECK(s.verdict == STATS_REGRESSED);
    CHECK(s.ci_lo > 1.0 && s.ratio > 1.07 && s.ratio < 1.13);
    /* ... but with higher-is-better it is an improvement */
    for (int i = 0; i < CASES; i++)
        d[i] = log(1.10) + 0.01 * test_normal(&g);
    stats_consensus(d, CASES, 1, &pol, &s);
    CHECK(s.verdict == STATS_IMPROVED);
    /* two cases caught in a slow spell (+50%), the others unchanged */
    for (int i = 0; i < CASES; i++)
        d[i] = i < 2 ? log(1.5) : 0.01 * test_normal(&g);
    stats_consensus(d, CASES, 0, &pol, &s);
    CHECK(s.verdict == STATS_UNCHANGED);
    /* too few cases for a 99% interval */
    for (int i = 0; i < 5; i++)
        d[i] = log(1.2);
    stats_consensus(d, 5, 0, &pol, &s);
    CHECK(s.verdict == STATS_INCONCLUSIVE);
    CHECK_CONTAINS(s.why, "too few");
    /* Heavy, symmetric noise between unchanged runs (sigma 20%, a third of
     * the cases caught in a 1.5x slow spell in one run or the other), over
     * many seeds: regressed at most as often as the 99% level allows. */
    int fp = 0, found = 0;
    for (int seed = 1; seed <= SEEDS; seed++) {
        stats_rng r = {(uint64_t)seed * 0x2545F4914F6CDD1Dull};
        for (int i = 0; i < CASES; i++) {
            d[i] = 0.2 * test_normal(&r);
            if (stats_rng_uniform(&r) < 1.0 / 3)
                d[i] += stats_rng_uniform(&r) < 0.5 ? log(1.5) : -log(1.5);
        }
        stats_consensus(d, CASES, 0, &pol, &s);
        fp += s.verdict == STATS_REGRESSED;
        /* a quiet machine: 10% everywhere, sigma 2% */
        for (int i = 0; i < CASES; i++)
            d[i] = log(1.10) + 0.02 * test_normal(&r);
        stats_consensus(d, CASES, 0, &pol, &s);
        found += s.verdict == STATS_REGRESSED;
    }
    printf("consensus over %d seeds: noisy unchanged regressed %d, 10%% on a quiet machine "
           "found %d\n", SEEDS, fp, found);
    CHECK(fp <= SEEDS / 200); /* <= 0.5%: the two-sided 99% level */
    CHECK(found == SEEDS);
}

int main(void)
{
    test_building_blocks();
    test_identical();
    test_many_seeds();
    test_verdicts();
    test_envelope();
    test_consensus();
    return check_report("results_unit_stats");
}
