#include "results_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_policy_default(stats_policy *p)
{
    p->min_effect = 0.05;
    p->alpha = 0.001;
    p->confidence = 0.99;
    p->bootstrap_iters = 2000;
    p->min_samples = 8;
}

const char *stats_verdict_name(stats_verdict v)
{
    switch (v) {
    case STATS_UNCHANGED:
        return "unchanged";
    case STATS_IMPROVED:
        return "improved";
    case STATS_REGRESSED:
        return "regressed";
    case STATS_INCONCLUSIVE:
        return "inconclusive";
    }
    return "inconclusive";
}

uint64_t stats_hash(const char *s, uint64_t h)
{
    if (h == 0)
        h = 1469598103934665603ull; /* FNV offset basis */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull; /* FNV prime */
    }
    return h;
}

/* splitmix64 (Steele, Lea, Flood 2014): a Weyl sequence through a mixer. */
uint64_t stats_rng_next(stats_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double stats_rng_uniform(stats_rng *r)
{
    return (double)(stats_rng_next(r) >> 11) * 0x1.0p-53;
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Reorders x so that x[k] is the k-th smallest, x[0..k-1] <= x[k] <=
 * x[k+1..n-1] (Hoare's selection with a median-of-three pivot). */
static void select_kth(double *x, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (hi > lo) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo])
            swap(&x[mid], &x[lo]);
        if (x[hi] < x[lo])
            swap(&x[hi], &x[lo]);
        if (x[hi] < x[mid])
            swap(&x[hi], &x[mid]);
        double pivot = x[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                swap(&x[i], &x[j]);
                i++;
                j--;
            }
        }
        /* now x[lo..j] <= pivot <= x[i..hi], and j < i */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

double stats_median_inplace(double *x, int n)
{
    int k = n / 2;
    select_kth(x, n, k);
    if (n % 2)
        return x[k];
    /* even n: the mean of the two middle values; the lower one is the
     * largest of x[0..k-1]. */
    double lower = x[0];
    for (int i = 1; i < k; i++)
        if (x[i] > lower)
            lower = x[i];
    return 0.5 * (lower + x[k]);
}

typedef struct tagged {
    double v;
    int in_a;
} tagged;

static int by_value(const void *pa, const void *pb)
{
    double a = ((const tagged *)pa)->v, b = ((const tagged *)pb)->v;
    return (a > b) - (a < b);
}

/* U of sample a: ranks of the pooled samples (ties share their mean rank),
 * U_a = R_a - na(na+1)/2, mean na nb / 2, variance
 * na nb / 12 [(n + 1) - sum(t^3 - t) / (n (n - 1))] over tie groups of size t;
 * z with a continuity correction of 1/2; p = erfc(|z| / sqrt 2). */
int stats_mann_whitney(const double *a, int na, const double *b, int nb, double *p)
{
    int n = na + nb;
    *p = 1.0;
    if (na < 1 || nb < 1)
        return 0;
    tagged *all = malloc((size_t)n * sizeof *all);
    if (!all)
        return -1;
    for (int i = 0; i < na; i++)
        all[i] = (tagged){a[i], 1};
    for (int i = 0; i < nb; i++)
        all[na + i] = (tagged){b[i], 0};
    qsort(all, (size_t)n, sizeof *all, by_value);
    double rank_sum_a = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        double t = j - i + 1, mean_rank = 0.5 * ((i + 1) + (j + 1));
        for (int k = i; k <= j; k++)
            if (all[k].in_a)
                rank_sum_a += mean_rank;
        ties += t * t * t - t;
        i = j + 1;
    }
    free(all);
    double u = rank_sum_a - 0.5 * na * (na + 1.0);
    double mean = 0.5 * na * (double)nb;
    double var = na * (double)nb / 12.0 * ((n + 1.0) - (n > 1 ? ties / (n * (n - 1.0)) : 0));
    if (!(var > 0))
        return 0; /* every value equal: no evidence of a difference */
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    *p = z > 0 ? erfc(z / sqrt(2.0)) : 1.0;
    return 0;
}

static int by_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double ratio_of(double head, double base)
{
    if (base == 0)
        return head == 0 ? 1.0 : INFINITY;
    return head / base;
}

int stats_bootstrap_ratio(const double *b, int nb, const double *h, int nh, int iters,
                          double confidence, uint64_t seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (nb < 1 || nh < 1 || iters < 1)
        return 0;
    double *rb = malloc((size_t)nb * sizeof *rb);
    double *rh = malloc((size_t)nh * sizeof *rh);
    double *ratios = malloc((size_t)iters * sizeof *ratios);
    if (!rb || !rh || !ratios) {
        free(rb);
        free(rh);
        free(ratios);
        return -1;
    }
    stats_rng rng = {seed};
    for (int it = 0; it < iters; it++) {
        /* index = floor(u n) with u in [0, 1): uniform over 0..n-1 */
        for (int i = 0; i < nb; i++)
            rb[i] = b[(int)(stats_rng_uniform(&rng) * nb)];
        for (int i = 0; i < nh; i++)
            rh[i] = h[(int)(stats_rng_uniform(&rng) * nh)];
        ratios[it] = ratio_of(stats_median_inplace(rh, nh), stats_median_inplace(rb, nb));
    }
    qsort(ratios, (size_t)iters, sizeof *ratios, by_double);
    double tail = 0.5 * (1.0 - confidence);
    int ilo = (int)floor(tail * iters);
    int ihi = (int)ceil((1.0 - tail) * iters) - 1;
    if (ilo < 0)
        ilo = 0;
    if (ihi > iters - 1)
        ihi = iters - 1;
    if (ihi < ilo)
        ihi = ilo;
    *lo = ratios[ilo];
    *hi = ratios[ihi];
    free(rb);
    free(rh);
    free(ratios);
    return 0;
}

static double max_of(const double *x, int n)
{
    double m = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > m)
            m = x[i];
    return m;
}

static int compare_exact(const double *base, int nb, const double *head, int nh,
                         int higher_is_better, const stats_policy *pol, stats_result *out)
{
    out->base_value = max_of(base, nb);
    out->head_value = max_of(head, nh);
    out->ratio = ratio_of(out->head_value, out->base_value);
    double up = 1.0 + pol->min_effect, down = 1.0 / (1.0 + pol->min_effect);
    int grew = out->ratio >= up, shrank = out->ratio <= down;
    if (out->head_value == out->base_value) {
        out->verdict = STATS_UNCHANGED;
        snprintf(out->why, sizeof out->why, "identical (exact)");
    } else if (grew || shrank) {
        out->verdict = grew != higher_is_better ? STATS_REGRESSED : STATS_IMPROVED;
        snprintf(out->why, sizeof out->why, "exact value changed by %+.1f%% (limit %.0f%%)",
                 100.0 * (out->ratio - 1.0), 100.0 * pol->min_effect);
    } else {
        out->verdict = STATS_UNCHANGED;
        snprintf(out->why, sizeof out->why, "exact value changed by %+.2f%%, under %.0f%%",
                 100.0 * (out->ratio - 1.0), 100.0 * pol->min_effect);
    }
    return 0;
}

int stats_compare(const double *base, int nb, const double *head, int nh, int exact,
                  int higher_is_better, const stats_policy *pol, uint64_t seed,
                  stats_result *out)
{
    memset(out, 0, sizeof *out);
    out->n_base = nb;
    out->n_head = nh;
    out->base_value = out->head_value = out->ratio = out->p = NAN;
    out->ci_lo = out->ci_hi = NAN;
    out->verdict = STATS_INCONCLUSIVE;
    if (nb < 1 || nh < 1) {
        snprintf(out->why, sizeof out->why, "no samples in %s", nb < 1 ? "base" : "head");
        return 0;
    }
    if (exact)
        return compare_exact(base, nb, head, nh, higher_is_better, pol, out);

    double *tmp = malloc((size_t)(nb > nh ? nb : nh) * sizeof *tmp);
    if (!tmp)
        return -1;
    memcpy(tmp, base, (size_t)nb * sizeof *tmp);
    out->base_value = stats_median_inplace(tmp, nb);
    memcpy(tmp, head, (size_t)nh * sizeof *tmp);
    out->head_value = stats_median_inplace(tmp, nh);
    free(tmp);
    out->ratio = ratio_of(out->head_value, out->base_value);
    if (nb < pol->min_samples || nh < pol->min_samples) {
        snprintf(out->why, sizeof out->why, "too few samples (%d and %d; %d a side needed)", nb,
                 nh, pol->min_samples);
        return 0;
    }
    if (stats_mann_whitney(base, nb, head, nh, &out->p) ||
        stats_bootstrap_ratio(base, nb, head, nh, pol->bootstrap_iters, pol->confidence, seed,
                              &out->ci_lo, &out->ci_hi))
        return -1;
    int significant = out->p < pol->alpha && (out->ci_lo > 1.0 || out->ci_hi < 1.0);
    double up = 1.0 + pol->min_effect, down = 1.0 / (1.0 + pol->min_effect);
    int grew = out->ratio >= up, shrank = out->ratio <= down;
    double change = 100.0 * (out->ratio - 1.0);
    if (significant && (grew || shrank)) {
        out->verdict = grew != higher_is_better ? STATS_REGRESSED : STATS_IMPROVED;
        snprintf(out->why, sizeof out->why, "%+.1f%%, beyond noise (p=%.2g) and %.0f%%", change,
                 out->p, 100.0 * pol->min_effect);
    } else if (!grew && !shrank) {
        out->verdict = STATS_UNCHANGED;
        snprintf(out->why, sizeof out->why, "%+.1f%%, within %.0f%%%s", change,
                 100.0 * pol->min_effect, significant ? " (significant but small)" : "");
    } else {
        out->verdict = STATS_INCONCLUSIVE;
        snprintf(out->why, sizeof out->why, "%+.1f%% but not beyond noise (p=%.2g)", change,
                 out->p);
    }
    return 0;
}

int stats_launch_spread(const double *x, const int *launch, int n, double *spread)
{
    *spread = 0;
    if (n < 2)
        return 0;
    double *tmp = malloc((size_t)n * sizeof *tmp);
    int *seen = malloc((size_t)n * sizeof *seen);
    double *medians = malloc((size_t)n * sizeof *medians);
    if (!tmp || !seen || !medians) {
        free(tmp);
        free(seen);
        free(medians);
        return -1;
    }
    /* the distinct launches, in order of appearance, and their medians */
    int n_launches = 0;
    for (int i = 0; i < n; i++) {
        int known = 0;
        for (int j = 0; j < n_launches && !known; j++)
            known = seen[j] == launch[i];
        if (known)
            continue;
        int m = 0;
        for (int k = i; k < n; k++)
            if (launch[k] == launch[i])
                tmp[m++] = x[k];
        seen[n_launches] = launch[i];
        medians[n_launches++] = stats_median_inplace(tmp, m);
    }
    for (int a = 0; a < n_launches; a++)
        for (int b = a + 1; b < n_launches; b++)
            if (medians[a] > 0 && medians[b] > 0) {
                double s = fabs(log(medians[a] / medians[b]));
                if (s > *spread)
                    *spread = s;
            }
    free(tmp);
    free(seen);
    free(medians);
    return 0;
}

void stats_apply_envelope(stats_result *r, double envelope, const stats_policy *pol)
{
    (void)pol;
    if (r->verdict != STATS_REGRESSED && r->verdict != STATS_IMPROVED)
        return;
    if (!(r->ratio > 0) || fabs(log(r->ratio)) > envelope)
        return;
    r->verdict = STATS_INCONCLUSIVE;
    snprintf(r->why, sizeof r->why, "%+.1f%%, but launches of one case differed by up to %.0f%%",
             100.0 * (r->ratio - 1.0), 100.0 * (exp(envelope) - 1.0));
}

/* P(Binomial(n, 1/2) <= k), through logs (n may exceed 1074). */
static double binomial_half_cdf(int n, int k)
{
    double sum = 0;
    for (int i = 0; i <= k; i++)
        sum += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) - n * log(2.0));
    return sum;
}

void stats_consensus(double *d, int n, int higher_is_better, const stats_policy *pol,
                     stats_result *out)
{
    memset(out, 0, sizeof *out);
    out->n_base = out->n_head = n;
    out->base_value = out->head_value = out->p = NAN;
    out->ratio = out->ci_lo = out->ci_hi = NAN;
    out->verdict = STATS_INCONCLUSIVE;
    if (n < 1) {
        snprintf(out->why, sizeof out->why, "no case with enough samples");
        return;
    }
    qsort(d, (size_t)n, sizeof *d, by_double);
    double median = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
    out->ratio = exp(median);
    double tail = 0.5 * (1.0 - pol->confidence);
    int k = 0;
    while (k < n && binomial_half_cdf(n, k) <= tail)
        k++;
    /* k order statistics cut from each end; k = 0: no interval at this level */
    if (k >= 1) {
        out->ci_lo = exp(d[k - 1]);
        out->ci_hi = exp(d[n - k]);
        out->p = 2.0 * binomial_half_cdf(n, k - 1);
    }
    double up = 1.0 + pol->min_effect, down = 1.0 / up;
    int grew = out->ratio >= up, shrank = out->ratio <= down;
    double change = 100.0 * (out->ratio - 1.0);
    if (!grew && !shrank) {
        out->verdict = STATS_UNCHANGED;
        snprintf(out->why, sizeof out->why, "median case %+.1f%%, within %.0f%%", change,
                 100.0 * pol->min_effect);
    } else if (k < 1) {
        snprintf(out->why, sizeof out->why, "median case %+.1f%%, but %d cases are too few for "
                 "a %.0f%% interval", change, n, 100 * pol->confidence);
    } else if ((grew && out->ci_lo > 1.0) || (shrank && out->ci_hi < 1.0)) {
        out->verdict = grew != higher_is_better ? STATS_REGRESSED : STATS_IMPROVED;
        snprintf(out->why, sizeof out->why, "median case %+.1f%%; at least %d of %d cases %s",
                 change, n - k + 1, n, grew ? "slower" : "faster");
    } else {
        snprintf(out->why, sizeof out->why, "median case %+.1f%%, but the cases disagree",
                 change);
    }
}
