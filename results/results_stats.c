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

double stats_lower_decile_inplace(double *x, int n)
{
    int k = (int)ceil(0.1 * n) - 1;
    if (k < 0)
        k = 0;
    select_kth(x, n, k);
    return x[k];
}

int stats_launches_of(const double *x, const int *launch, int n, stats_launches *out)
{
    memset(out, 0, sizeof *out);
    out->low = NAN;
    if (n < 1)
        return 0;
    double *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return -1;
    int ids[STATS_MAX_LAUNCHES];
    double medians[STATS_MAX_LAUNCHES];
    for (int i = 0; i < n; i++) {
        int known = 0;
        for (int j = 0; j < out->n && !known; j++)
            known = ids[j] == launch[i];
        if (!known && out->n < STATS_MAX_LAUNCHES)
            ids[out->n++] = launch[i];
    }
    for (int j = 0; j < out->n; j++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            int owner = out->n - 1; /* launches past the last id pool into it */
            for (int q = 0; q < out->n; q++)
                if (ids[q] == launch[i]) {
                    owner = q;
                    break;
                }
            if (owner == j)
                tmp[m++] = x[i];
        }
        medians[j] = stats_median_inplace(tmp, m);
        out->loc[j] = stats_lower_decile_inplace(tmp, m);
    }
    for (int a = 0; a < out->n; a++)
        for (int b = a + 1; b < out->n; b++) {
            double s = medians[a] > 0 && medians[b] > 0 ? fabs(log(medians[a] / medians[b])) : 0;
            if (s > out->spread)
                out->spread = s;
        }
    memcpy(tmp, x, (size_t)n * sizeof *tmp);
    out->low = stats_lower_decile_inplace(tmp, n);
    free(tmp);
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

/* Null distribution of HEAD's doubled rank sum in one case: dist[s] for
 * s in 0..max_sum, the fraction of the C(m, nh) equally likely splits whose
 * HEAD half sums to s. ranks2: the m doubled mid-ranks. Subset-sum counting
 * by dynamic programming over (items taken, sum). */
static int split_distribution(const int *ranks2, int m, int nh, double *dist, int max_sum)
{
    double *ways = calloc((size_t)(nh + 1) * (size_t)(max_sum + 1), sizeof *ways);
    if (!ways)
        return -1;
    ways[0] = 1; /* ways[t * (max_sum + 1) + s]: t items taken summing to s */
    for (int i = 0; i < m; i++)
        for (int t = (i + 1 < nh ? i + 1 : nh); t >= 1; t--)
            for (int s = max_sum; s >= ranks2[i]; s--)
                ways[t * (max_sum + 1) + s] += ways[(t - 1) * (max_sum + 1) + s - ranks2[i]];
    double total = 0;
    for (int s = 0; s <= max_sum; s++)
        total += ways[nh * (max_sum + 1) + s];
    for (int s = 0; s <= max_sum; s++)
        dist[s] = total > 0 ? ways[nh * (max_sum + 1) + s] / total : 0;
    free(ways);
    return 0;
}

typedef struct ranked {
    double v;
    int head;
} ranked;

static int by_ranked(const void *pa, const void *pb)
{
    double a = ((const ranked *)pa)->v, b = ((const ranked *)pb)->v;
    return (a > b) - (a < b);
}

/* HEAD's doubled rank sum in one case and its null distribution. */
static int stratum_ranks(const stats_stratum *s, int *observed, double **dist, int *max_sum)
{
    int nb = s->base->n, nh = s->head->n, m = nb + nh;
    ranked all[2 * STATS_MAX_LAUNCHES];
    int ranks2[2 * STATS_MAX_LAUNCHES];
    for (int i = 0; i < nb; i++)
        all[i] = (ranked){s->base->loc[i], 0};
    for (int i = 0; i < nh; i++)
        all[nb + i] = (ranked){s->head->loc[i], 1};
    qsort(all, (size_t)m, sizeof *all, by_ranked);
    *observed = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && all[j + 1].v == all[i].v)
            j++;
        for (int k = i; k <= j; k++) {
            ranks2[k] = (i + 1) + (j + 1); /* twice the mean rank of the tie */
            if (all[k].head)
                *observed += ranks2[k];
        }
        i = j + 1;
    }
    *max_sum = m * (m + 1); /* the doubled sum of all ranks bounds any subset */
    *dist = malloc((size_t)(*max_sum + 1) * sizeof **dist);
    if (!*dist)
        return -1;
    if (split_distribution(ranks2, m, nh, *dist, *max_sum)) {
        free(*dist);
        *dist = NULL;
        return -1;
    }
    return 0;
}

int stats_suite_test(const stats_stratum *strata, int n, int higher_is_better,
                     const stats_policy *pol, stats_result *out)
{
    memset(out, 0, sizeof *out);
    out->n_base = out->n_head = n;
    out->base_value = out->head_value = NAN;
    out->ratio = out->p = out->ci_lo = out->ci_hi = NAN;
    out->verdict = STATS_INCONCLUSIVE;
    if (n < 1) {
        snprintf(out->why, sizeof out->why, "no case with enough samples");
        return 0;
    }
    double *d = malloc((size_t)n * sizeof *d);
    double *total = malloc(sizeof *total);
    int total_max = 0, rc = 0;
    long long observed = 0;
    if (!d || !total) {
        free(d);
        free(total);
        return -1;
    }
    total[0] = 1; /* distribution of the sum so far: the empty sum is 0 */
    for (int i = 0; i < n && rc == 0; i++) {
        d[i] = strata[i].log_ratio;
        if (strata[i].base->n < 1 || strata[i].head->n < 1)
            continue;
        int obs, max_sum;
        double *dist;
        if (stratum_ranks(&strata[i], &obs, &dist, &max_sum)) {
            rc = -1;
            break;
        }
        observed += obs;
        /* convolve: new[s + t] += total[s] * dist[t] */
        double *next = calloc((size_t)(total_max + max_sum + 1), sizeof *next);
        if (!next) {
            free(dist);
            rc = -1;
            break;
        }
        for (int s = 0; s <= total_max; s++)
            if (total[s] != 0)
                for (int t = 0; t <= max_sum; t++)
                    next[s + t] += total[s] * dist[t];
        free(dist);
        free(total);
        total = next;
        total_max += max_sum;
    }
    if (rc == 0) {
        double p_slower = 0, p_faster = 0;
        for (int s = 0; s <= total_max; s++) {
            if (s >= observed)
                p_slower += total[s];
            if (s <= observed)
                p_faster += total[s];
        }
        qsort(d, (size_t)n, sizeof *d, by_double);
        out->ratio = exp(n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]));
        double tail = 0.5 * (1.0 - pol->confidence);
        double up = 1.0 + pol->min_effect, down = 1.0 / up;
        int grew = out->ratio >= up, shrank = out->ratio <= down;
        double change = 100.0 * (out->ratio - 1.0);
        /* "slower": HEAD's values larger; for a higher-is-better metric, "higher" */
        double p_one = grew ? p_slower : p_faster;
        const char *way = higher_is_better ? (grew ? "higher" : "lower")
                                           : (grew ? "slower" : "faster");
        out->p = 2 * p_one < 1 ? 2 * p_one : 1;
        if (!grew && !shrank) {
            out->verdict = STATS_UNCHANGED;
            out->p = 2 * (p_slower < p_faster ? p_slower : p_faster);
            if (out->p > 1)
                out->p = 1;
            snprintf(out->why, sizeof out->why, "median case %+.1f%%, within %.0f%%", change,
                     100.0 * pol->min_effect);
        } else if (p_one < tail) {
            out->verdict = grew != higher_is_better ? STATS_REGRESSED : STATS_IMPROVED;
            snprintf(out->why, sizeof out->why, "median case %+.1f%%; the launches of %d cases "
                     "rank HEAD %s (p=%.2g)", change, n, way, out->p);
        } else {
            snprintf(out->why, sizeof out->why, "median case %+.1f%%, but the launches do not "
                     "rank HEAD %s beyond noise (p=%.2g)", change, way, out->p);
        }
    }
    free(d);
    free(total);
    return rc;
}
