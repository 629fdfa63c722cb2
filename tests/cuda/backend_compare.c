#include "backend_compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PRINTED = 6 };

void cc_fail(cmp_ctx *cc, const char *fmt, ...)
{
    if (cc->fails++ >= MAX_PRINTED) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "# FAIL: ");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
}

void cc_point(cmp_ctx *cc, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    cc->point++;
    if (cc->fails) {
        cc->points_failed++;
    }
    printf("%s %d - %s\n", cc->fails ? "not ok" : "ok", cc->point, name);
    fflush(stdout);
    cc->fails = 0;
}

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void fill_uniform(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        const double u = (double)(mix64(seed ^ mix64((uint64_t)i)) >> 11) * 0x1p-53;
        x[i] = (float)(lo + (hi - lo) * u);
    }
}

void *host_alloc(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "out of host memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

int expect_ok(cmp_ctx *cc, dtb_backend *be, int rc, const char *what)
{
    if (rc != 0) {
        cc_fail(cc, "%s on %s: %s", what, be->ops->name, be->error);
        return -1;
    }
    return 0;
}

void *dev_alloc(cmp_ctx *cc, size_t bytes)
{
    void *d = NULL;
    if (expect_ok(cc, cc->gpu, cc->gpu->ops->alloc(cc->gpu, bytes, &d), "alloc") != 0) {
        return NULL;
    }
    return d;
}

void *dev_upload(cmp_ctx *cc, const void *host, size_t bytes)
{
    void *d = dev_alloc(cc, bytes);
    if (d != NULL &&
        expect_ok(cc, cc->gpu, cc->gpu->ops->copy_in(cc->gpu, d, host, bytes), "copy_in") != 0) {
        cc->gpu->ops->release(cc->gpu, d);
        return NULL;
    }
    return d;
}

int dev_download(cmp_ctx *cc, void *host, const void *dev, size_t bytes)
{
    if (dev == NULL) {
        return -1;
    }
    return expect_ok(cc, cc->gpu, cc->gpu->ops->copy_out(cc->gpu, host, dev, bytes), "copy_out");
}

void dev_free(cmp_ctx *cc, void *dev)
{
    if (dev != NULL) {
        cc->gpu->ops->release(cc->gpu, dev);
    }
}

void expect_bitwise(cmp_ctx *cc, const float *got, const float *want, int64_t n,
                    const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            cc_fail(cc, "%s[%lld]: cuda %.9g, cpu %.9g (bitwise expected)", what, (long long)i,
                    got[i], want[i]);
        }
    }
}

void expect_close(cmp_ctx *cc, const float *got, const float *want, const double *tol,
                  int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= tol[i])) {
            cc_fail(cc, "%s[%lld]: cuda %.9g, cpu %.9g, |diff| %.3g > tol %.3g", what,
                    (long long)i, got[i], want[i], d, tol[i]);
        }
    }
}
