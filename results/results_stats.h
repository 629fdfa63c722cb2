/*
 * Deciding whether a metric changed between two runs, from the repeated
 * samples of each (docs/results.md, "Statistics").
 *
 * For a timing metric (noisy) with samples B (base) and H (head):
 *   ratio r   = median(H) / median(B)
 *   p         = two-sided Mann-Whitney U test of B vs H (normal
 *               approximation with tie and continuity corrections)
 *   [lo, hi]  = percentile bootstrap interval of median(H*)/median(B*),
 *               resampling B and H independently, a fixed-seed RNG
 *   significant  <=>  p < alpha  and  the interval excludes 1
 *   worse by the minimum effect e  <=>  r >= 1 + e   (lower is better)
 *   better by it                   <=>  r <= 1/(1 + e)
 * Verdict: regressed = significant and worse by e; improved = significant
 * and better by e; unchanged = r within (1/(1+e), 1+e); inconclusive =
 * too few samples, or a change of at least e that is not significant.
 *
 * For an exact metric (deterministic counters, memory) there is no noise:
 * the value is the maximum over samples (the worst rank) and the verdict is
 * the ratio against the same minimum effect.
 */
#ifndef DTB_RESULTS_STATS_H
#define DTB_RESULTS_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum stats_verdict {
    STATS_UNCHANGED = 0,
    STATS_IMPROVED = 1,
    STATS_REGRESSED = 2,
    STATS_INCONCLUSIVE = 3
} stats_verdict;

typedef struct stats_policy {
    double min_effect;      /* e: smallest relative change that counts (0.05 = 5%) */
    double alpha;           /* Mann-Whitney significance level, two-sided */
    double confidence;      /* bootstrap interval coverage (0.99) */
    int bootstrap_iters;    /* resamples */
    int min_samples;        /* per side, below which a timing is inconclusive */
} stats_policy;

/* The documented defaults (docs/results.md): e 5%, alpha 0.001, 99%
 * interval, 2000 resamples, at least 8 samples a side. */
void stats_policy_default(stats_policy *p);

typedef struct stats_result {
    int n_base, n_head;
    double base_value, head_value;  /* medians (timing) or maxima (exact) */
    double ratio;                   /* head/base; +inf when base is 0 and head is not */
    double p;                       /* Mann-Whitney p (timing), NaN for exact */
    double ci_lo, ci_hi;            /* bootstrap interval of the ratio, NaN if none */
    stats_verdict verdict;
    char why[160];                  /* one short clause: why this verdict */
} stats_result;

/* A fixed-seed generator (splitmix64): same seed, same stream, any machine. */
typedef struct stats_rng {
    uint64_t state;
} stats_rng;
uint64_t stats_rng_next(stats_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double stats_rng_uniform(stats_rng *r);

/* Median of x[0..n-1] (n >= 1); x is reordered. */
double stats_median_inplace(double *x, int n);

/* Two-sided Mann-Whitney U p-value of a vs b (1 when there is no
 * variation at all). Returns -1 when out of memory. */
int stats_mann_whitney(const double *a, int na, const double *b, int nb, double *p);

/* Percentile bootstrap interval at `confidence` of median(h*)/median(b*).
 * Returns -1 when out of memory or a resampled base median is 0 everywhere. */
int stats_bootstrap_ratio(const double *b, int nb, const double *h, int nh, int iters,
                          double confidence, uint64_t seed, double *lo, double *hi);

/* Compares samples of one metric. exact: deterministic metric; higher_is_better
 * flips the direction; seed makes the bootstrap reproducible. Returns -1 only
 * when out of memory. */
int stats_compare(const double *base, int nb, const double *head, int nh, int exact,
                  int higher_is_better, const stats_policy *policy, uint64_t seed,
                  stats_result *out);

/* The launch-to-launch spread of one case in one run: samples are tagged
 * with the world run (launch) they come from; the result is the largest
 * |log(median of launch a / median of launch b)| over pairs of launches
 * (0 with fewer than two launches). The largest spread over the cases of
 * two runs is the launch noise envelope: a change of one case no larger
 * than that is something the machine did to an unchanged case within one
 * run, so it is not "beyond noise" whatever the sample-level test says.
 * Returns -1 when out of memory. */
int stats_launch_spread(const double *x, const int *launch, int n, double *spread);

/* Applies the envelope (a log ratio) to a timing verdict: a regressed or
 * improved result whose |log ratio| does not exceed it becomes
 * inconclusive. */
void stats_apply_envelope(stats_result *r, double envelope, const stats_policy *policy);

/* The suite-level consensus over n cases of one timing metric, from each
 * case's log(HEAD/BASE): ratio = exp(median), and the distribution-free
 * interval for the median at `confidence` from order statistics: the k-th
 * smallest and k-th largest value, k the largest with
 * P(Binomial(n, 1/2) < k) <= (1 - confidence)/2. Regressed when the
 * interval lies above 1 and the ratio is at least 1 + e (improved
 * mirrored); unchanged when the ratio is within (1/(1+e), 1+e);
 * inconclusive otherwise, or with too few cases for the interval.
 * log_ratios is sorted in place. n_base/n_head hold n. */
void stats_consensus(double *log_ratios, int n, int higher_is_better, const stats_policy *policy,
                     stats_result *out);

const char *stats_verdict_name(stats_verdict v);

/* FNV-1a of a string, to derive a per-metric seed from its names. */
uint64_t stats_hash(const char *s, uint64_t h);

#endif
