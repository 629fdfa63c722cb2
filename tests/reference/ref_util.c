#include "ref_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpt_configs.h"

int ref_check(ref_checker *c, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    c->checks++;
    if (!ok) {
        c->failures++;
    }
    fflush(stdout);
    return ok;
}

int ref_finish(const ref_checker *c)
{
    printf("%s: %d checks, %d failed\n", c->test, c->checks, c->failures);
    return c->failures == 0 && c->checks > 0 ? 0 : 1;
}

uint64_t ref_rand_u64(ref_rand *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double ref_rand_uniform(ref_rand *r, double lo, double hi)
{
    const double u = (double)(ref_rand_u64(r) >> 11) * 0x1p-53; /* [0, 1) */
    return lo + (hi - lo) * u;
}

int64_t ref_rand_below(ref_rand *r, int64_t n)
{
    return (int64_t)(ref_rand_u64(r) % (uint64_t)n);
}

void ref_fill_f32(ref_rand *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)ref_rand_uniform(r, lo, hi);
    }
}

const gpt_config *ref_gpt_config(const char *name)
{
    const gpt_named_config *n = gpt_config_find(name);
    if (n == NULL) {
        fprintf(stderr, "%s is not in the GPT table\n", name);
        exit(1);
    }
    return &n->cfg;
}
