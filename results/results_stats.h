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
 * Samples within one launch of a rank world are not independent evidence
 * on a shared machine (a whole launch runs fast or slow), so a per-case
 * verdict is also held to the launch noise envelope (stats_apply_envelope),
 * and the suite-level test (stats_suite_test) uses launches, not samples,
 * as its replicates.
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

/* The launches (world runs) of one timing metric of one case in one run.
 * Samples are tagged with the launch they come from. Per launch: its lower
 * decile, the location used by the suite-level test (interference on a
 * shared machine only ever adds time, so the fast end of a launch is its
 * steadiest figure). spread: the largest |log(median a / median b)| between
 * two launches. low: the lower decile of all samples. */
#define STATS_MAX_LAUNCHES 16
typedef struct stats_launches {
    double loc[STATS_MAX_LAUNCHES];
    int n;
    double spread;
    double low;
} stats_launches;

/* Lower decile: the ceil(0.1 n)-th smallest of x (n >= 1); x is reordered. */
double stats_lower_decile_inplace(double *x, int n);

/* Groups x by launch (launches past STATS_MAX_LAUNCHES are pooled into the
 * last). Returns -1 when out of memory. */
int stats_launches_of(const double *x, const int *launch, int n, stats_launches *out);

/* The launch noise envelope (a log ratio; the largest spread of any case of
 * two runs) applied to a per-case timing verdict: a regressed or improved
 * result whose |log ratio| does not exceed it becomes inconclusive. */
void stats_apply_envelope(stats_result *r, double envelope, const stats_policy *policy);

/* One case in the suite-level test: its launches in BASE and HEAD, and
 * log(lower decile of HEAD / lower decile of BASE). */
typedef struct stats_stratum {
    const stats_launches *base, *head;
    double log_ratio;
} stats_stratum;

/* The suite-level test of one timing metric over n cases, launches being
 * the independent replicates and cases the strata: within each case the
 * launches of both runs are ranked together (mid-ranks for ties), and the
 * statistic is the sum over cases of HEAD's rank sum; its exact null
 * distribution (every split of each case's launches equally likely,
 * independently across cases) gives one-sided p-values for "HEAD slower"
 * and "HEAD faster" (van Elteren's stratified rank-sum test, unweighted).
 * ratio = exp(median log_ratio). Regressed when HEAD ranks slower with
 * p < (1 - confidence)/2 and ratio >= 1 + e (improved mirrored); unchanged
 * when ratio is within (1/(1+e), 1+e); inconclusive otherwise. p holds the
 * two-sided p-value. Returns -1 when out of memory. */
int stats_suite_test(const stats_stratum *strata, int n, int higher_is_better,
                     const stats_policy *policy, stats_result *out);

const char *stats_verdict_name(stats_verdict v);

/* FNV-1a of a string, to derive a per-metric seed from its names. */
uint64_t stats_hash(const char *s, uint64_t h);

#endif
