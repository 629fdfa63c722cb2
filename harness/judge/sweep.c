/* The seed sweep's seeds and plan (sweep.h). */
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t sweep_seed(uint64_t base, int i)
{
    /* splitmix64's output function (Steele, Lea, Flood 2014) */
    uint64_t x = base + (uint64_t)i + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x & ((1ull << 53) - 1);
}

int plan_sweep(const dtb_suite *suite, const plan_overrides *ov, int n_seeds, dtb_case **out,
               int *n, char *err, size_t err_len)
{
    *out = NULL;
    *n = 0;
    if (n_seeds < 1 || n_seeds > SWEEP_MAX_SEEDS) {
        snprintf(err, err_len, "a seed sweep takes 1..%d seeds, not %d", SWEEP_MAX_SEEDS, n_seeds);
        return -1;
    }
    plan_overrides each = ov ? *ov : (plan_overrides){0};
    const uint64_t base = each.has_seed ? each.seed : suite->seed;
    each.has_seed = 1;
    dtb_case *all = NULL;
    int total = 0;
    for (int i = 0; i < n_seeds; i++) {
        each.seed = sweep_seed(base, i);
        dtb_case *cases = NULL;
        int k = 0;
        if (plan_cases(suite, &each, &cases, &k, err, err_len) != 0) {
            free(all);
            return -1;
        }
        dtb_case *grown = realloc(all, (size_t)(total + k > 0 ? total + k : 1) * sizeof *grown);
        if (!grown) {
            free(cases);
            free(all);
            snprintf(err, err_len, "out of memory planning a sweep of %d seeds", n_seeds);
            return -1;
        }
        all = grown;
        for (int c = 0; c < k; c++) {
            all[total + c] = cases[c];
            all[total + c].index = total + c;
            all[total + c].sweep_index = i;
        }
        total += k;
        free(cases);
    }
    *out = all;
    *n = total;
    return 0;
}
