#include "comm_test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

enum { T_MAX_PRINTED = 8 };
static const unsigned char T_POISON = 0xA5;

void t_fail(tctx *t, const char *file, int line, const char *fmt, ...)
{
    t->local_failures++;
    if (t->printed++ >= T_MAX_PRINTED)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "# rank %d: FAIL %s:%d: %s\n", t->rank, file, line, msg);
}

void t_point(tctx *t, const char *name, ...)
{
    int any = 0;
    int mine = t->local_failures > 0;
    if (MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        any = 1;
    t->point++;
    if (any)
        t->points_failed++;
    if (t->rank == 0) {
        char title[256];
        va_list ap;
        va_start(ap, name);
        vsnprintf(title, sizeof title, name, ap);
        va_end(ap);
        printf("%s %d - %s (np %d)\n", any ? "not ok" : "ok", t->point, title, t->size);
        fflush(stdout);
    }
    t->local_failures = 0;
    t->printed = 0;
}

void t_expect(tctx *t, dtb_collective kind, uint64_t bytes)
{
    t->expect.calls[kind] += 1;
    t->expect.bytes[kind] += bytes;
}

static uint64_t fnv1a(const void *buf, size_t bytes)
{
    const unsigned char *p = buf;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void t_check_same_on_all_ranks(tctx *t, const void *buf, size_t bytes, const char *what)
{
    uint64_t h = fnv1a(buf, bytes);
    uint64_t *all = t->rank == 0 ? t_alloc(sizeof *all * (size_t)t->size) : NULL;
    int rc = MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    T_CHECK(t, rc == MPI_SUCCESS, "MPI_Gather of hashes failed");
    if (t->rank == 0 && rc == MPI_SUCCESS)
        for (int r = 1; r < t->size; r++)
            T_CHECK(t, all[r] == all[0], "%s: rank %d's result differs bitwise from rank 0's",
                    what, r);
    free(all);
}

uint64_t t_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t bits_of(uint64_t seed, int rank, int64_t i)
{
    return t_mix(t_mix(seed * 0x100000001b3ull + (uint64_t)rank) ^ (uint64_t)i);
}

/* A bf16 value built from bits without rounding: sign, exponent in
 * [120, 127] (magnitude [2^-7, 2)), 7 random mantissa bits. */
static uint16_t bf16_from_bits(uint64_t b)
{
    uint16_t sign = (uint16_t)((b >> 63) << 15);
    uint16_t exponent = (uint16_t)(120 + ((b >> 32) & 7));
    uint16_t mantissa = (uint16_t)(b & 0x7f);
    return (uint16_t)(sign | (exponent << 7) | mantissa);
}

static double bf16_bits_to_double(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

double t_value(dtb_dtype dtype, t_data_kind kind, uint64_t seed, int rank, int64_t i)
{
    uint64_t b = bits_of(seed, rank, i);
    if (kind == T_INT) {
        double m = (double)(1 + (b % 32));
        return (b >> 63) ? -m : m;
    }
    switch (dtype) {
    case DTB_DTYPE_BF16: return bf16_bits_to_double(bf16_from_bits(b));
    case DTB_DTYPE_FP32: {
        /* 24 random bits over [-2, 2) with a nonzero fraction. */
        float f = (float)(((double)(b >> 40) - 8388608.0) / 4194304.0) + 0x1p-20f;
        return f;
    }
    case DTB_DTYPE_FP64:
    default: return ((double)(b >> 11) * 0x1p-53 * 4.0 - 2.0) + 0x1p-45;
    }
}

void t_set(void *buf, dtb_dtype dtype, int64_t i, double v)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: ((float *)buf)[i] = (float)v; break;
    case DTB_DTYPE_FP64: ((double *)buf)[i] = v; break;
    case DTB_DTYPE_BF16: {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        ((uint16_t *)buf)[i] = (uint16_t)(u >> 16); /* v is exact in bf16 */
        break;
    }
    }
}

double t_get(const void *buf, dtb_dtype dtype, int64_t i)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: return ((const float *)buf)[i];
    case DTB_DTYPE_FP64: return ((const double *)buf)[i];
    case DTB_DTYPE_BF16: return bf16_bits_to_double(((const uint16_t *)buf)[i]);
    }
    return NAN;
}

void t_fill(void *buf, dtb_dtype dtype, t_data_kind kind, uint64_t seed, int rank,
            int64_t first, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        t_set(buf, dtype, j, t_value(dtype, kind, seed, rank, first + j));
}

void t_poison(void *buf, size_t bytes) { memset(buf, T_POISON, bytes); }

int t_is_poisoned(const void *buf, size_t bytes)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < bytes; i++)
        if (p[i] != T_POISON)
            return 0;
    return 1;
}

const char *t_dtype_name(dtb_dtype dtype)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: return "fp32";
    case DTB_DTYPE_FP64: return "fp64";
    case DTB_DTYPE_BF16: return "bf16";
    }
    return "?";
}

double t_unit_roundoff(dtb_dtype dtype)
{
    switch (dtype) {
    case DTB_DTYPE_FP32: return 0x1p-24;
    case DTB_DTYPE_FP64: return 0x1p-53;
    case DTB_DTYPE_BF16: return 0x1p-8;
    }
    return 1.0;
}

void *t_alloc(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "# out of memory (%zu bytes)\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}

int t_complete(tctx *t, comm_request *req, int poll)
{
    if (!poll)
        return comm_wait(t->comm, req);
    int done = 0;
    while (!done)
        if (comm_test(t->comm, req, &done) != 0)
            return -1;
    return 0;
}

int t_sizes(const tctx *t, int block, int64_t *sizes)
{
    const int64_t big = 1000003; /* prime: no world size > 1 divides it */
    int n = 0;
    sizes[n++] = 0;
    sizes[n++] = 1;
    sizes[n++] = 7;
    sizes[n++] = 17;
    sizes[n++] = 53;
    sizes[n++] = 4 * (int64_t)t->size + 1;
    sizes[n++] = block ? big / t->size + 1 : big;
    return n;
}
