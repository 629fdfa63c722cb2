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

/* Two launches of one case: medians 1.0 and 1.5 apart by log 1.5; lower
 * deciles; and the envelope turning a change inside it into inconclusive. */
static void test_launches(void)
{
    double tens[10] = {7, 3, 9, 1, 5, 10, 2, 8, 4, 6}, eighteen[18];
    CHECK(stats_lower_decile_inplace(tens, 10) == 1); /* ceil(1.0): the smallest */
    for (int i = 0; i < 18; i++)
        eighteen[i] = 18 - i;
    CHECK(stats_lower_decile_inplace(eighteen, 18) == 2); /* ceil(1.8): the 2nd smallest */

    double x[6] = {1.0, 1.01, 0.99, 1.5, 1.49, 1.52};
    int launch[6] = {1, 1, 1, 2, 2, 2}, one[6] = {1, 1, 1, 1, 1, 1};
    stats_launches l;
    CHECK(stats_launches_of(x, launch, 6, &l) == 0);
    CHECK(l.n == 2 && l.loc[0] == 0.99 && l.loc[1] == 1.49 && l.low == 0.99);
    CHECK(fabs(l.spread - log(1.5 / 1.0)) < 1e-12);
    CHECK(stats_launches_of(x, one, 6, &l) == 0 && l.n == 1 && l.spread == 0);

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

enum { CASES = 12 };

/* Twelve cases of two launches a run: launch locations around `center`
 * times the case's own cost, with spread sigma, each launch caught in a
 * 1.5x slow spell with probability p_slow. */
static void draw_launches(stats_launches *l, double center, double sigma, double p_slow,
                          stats_rng *g)
{
    memset(l, 0, sizeof *l);
    l->n = 2;
    for (int i = 0; i < 2; i++) {
        l->loc[i] = center * exp(sigma * test_normal(g));
        if (stats_rng_uniform(g) < p_slow)
            l->loc[i] *= 1.5;
    }
    l->low = l->loc[0] < l->loc[1] ? l->loc[0] : l->loc[1];
}

/* The suite: cases c get base and head launches; head scaled by `scale`. */
static void suite(stats_launches *b, stats_launches *h, stats_stratum *s, double scale,
                  double sigma, double p_slow, stats_rng *g)
{
    for (int c = 0; c < CASES; c++) {
        double cost = 1e-4 * (1 + c); /* every case its own cost */
        draw_launches(&b[c], cost, sigma, p_slow, g);
        draw_launches(&h[c], cost * scale, sigma, p_slow, g);
        s[c] = (stats_stratum){&b[c], &h[c], log(h[c].low / b[c].low)};
    }
}

static void test_suite_level(void)
{
    stats_policy pol;
    stats_policy_default(&pol);
    stats_launches b[CASES], h[CASES];
    stats_stratum s[CASES];
    stats_result r;
    stats_rng g = {77};

    /* one case, HEAD's launches both above BASE's: 1 split in 6, p = 2/6 */
    stats_launches one_b = {.loc = {1.0, 1.1}, .n = 2, .low = 1.0};
    stats_launches one_h = {.loc = {1.2, 1.3}, .n = 2, .low = 1.2};
    stats_stratum one = {&one_b, &one_h, log(1.2)};
    CHECK(stats_suite_test(&one, 1, 0, &pol, &r) == 0);
    CHECK(fabs(r.p - 1.0 / 3.0) < 1e-12 && r.verdict == STATS_INCONCLUSIVE);
    /* ties everywhere: no evidence */
    stats_launches flat = {.loc = {1.0, 1.0}, .n = 2, .low = 1.0};
    stats_stratum tie = {&flat, &flat, 0};
    CHECK(stats_suite_test(&tie, 1, 0, &pol, &r) == 0 && r.p == 1.0);
    CHECK(r.verdict == STATS_UNCHANGED);
    CHECK(stats_suite_test(s, 0, 0, &pol, &r) == 0 && r.verdict == STATS_INCONCLUSIVE);

    /* unchanged */
    suite(b, h, s, 1.0, 0.02, 0, &g);
    CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0 && r.verdict == STATS_UNCHANGED);
    /* every case 10% slower: (1/6)^12 */
    suite(b, h, s, 1.10, 0.01, 0, &g);
    CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0 && r.verdict == STATS_REGRESSED);
    CHECK(r.p < 1e-8 && r.ratio > 1.07 && r.ratio < 1.13);
    /* ... an improvement when higher is better */
    CHECK(stats_suite_test(s, CASES, 1, &pol, &r) == 0 && r.verdict == STATS_IMPROVED);
    /* two cases caught in slow spells in HEAD, the others unchanged */
    suite(b, h, s, 1.0, 0.01, 0, &g);
    for (int c = 0; c < 2; c++) {
        h[c].loc[0] *= 1.5;
        h[c].loc[1] *= 1.5;
        h[c].low *= 1.5;
        s[c].log_ratio = log(h[c].low / b[c].low);
    }
    CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0 && r.verdict == STATS_UNCHANGED);

    /* Over many seeds: launches that each have a one-in-four chance of a
     * 1.5x slow spell, in both runs alike, are regressed at most at the
     * one-sided 0.5% level; 10% everywhere on a quiet machine is always
     * found, and on the noisy one most of the time. */
    enum { SEEDS = 1000 };
    int fp = 0, quiet = 0, noisy = 0;
    for (int seed = 1; seed <= SEEDS; seed++) {
        stats_rng q = {(uint64_t)seed * 0x2545F4914F6CDD1Dull};
        suite(b, h, s, 1.0, 0.02, 0.25, &q);
        CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0);
        fp += r.verdict == STATS_REGRESSED;
        suite(b, h, s, 1.10, 0.02, 0, &q);
        CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0);
        quiet += r.verdict == STATS_REGRESSED;
        suite(b, h, s, 1.10, 0.02, 0.25, &q);
        CHECK(stats_suite_test(s, CASES, 0, &pol, &r) == 0);
        noisy += r.verdict == STATS_REGRESSED;
    }
    printf("suite level over %d seeds: unchanged with slow spells regressed %d; 10%% found %d "
           "(quiet), %d (slow spells)\n", SEEDS, fp, quiet, noisy);
    CHECK(fp <= SEEDS / 200);
    CHECK(quiet == SEEDS);
    CHECK(noisy >= SEEDS / 2);
}

int main(void)
{
    test_building_blocks();
    test_identical();
    test_many_seeds();
    test_verdicts();
    test_launches();
    test_suite_level();
    return check_report("results_unit_stats");
}
