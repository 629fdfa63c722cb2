/*
 * Helpers for comparing the CUDA backend against the CPU backend op by op:
 * TAP-ish test points, seeded data, device upload/download through the
 * backend's own ops, and element-wise checks (bitwise, or within a per-element
 * tolerance the caller derives and states).
 */
#ifndef DTB_TEST_BACKEND_COMPARE_H
#define DTB_TEST_BACKEND_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

typedef struct cmp_ctx {
    dtb_backend *cpu, *gpu;
    int point;          /* test points so far */
    int points_failed;
    int fails;          /* failed checks in the current point */
} cmp_ctx;

/* Unit roundoff of fp32 (half an ulp of 1) and of fp64. */
#define U32 0x1p-24
#define U64 0x1p-53

void cc_fail(cmp_ctx *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends a test point: "ok k - name" or "not ok k - name". */
void cc_point(cmp_ctx *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* splitmix64-driven uniform values in [lo, hi); never all zero for n > 1. */
void fill_uniform(float *x, int64_t n, uint64_t seed, float lo, float hi);
uint64_t mix64(uint64_t x);
/* malloc or exit(1) with a message. */
void *host_alloc(size_t bytes);

/* A device copy of host data (NULL after recording a failure). */
void *dev_upload(cmp_ctx *cc, const void *host, size_t bytes);
/* Device buffer of bytes, uninitialised (NULL after recording a failure). */
void *dev_alloc(cmp_ctx *cc, size_t bytes);
/* Copies device data back; 0, or -1 after recording a failure. */
int dev_download(cmp_ctx *cc, void *host, const void *dev, size_t bytes);
void dev_free(cmp_ctx *cc, void *dev);
/* Records a failure if rc != 0 on backend be. */
int expect_ok(cmp_ctx *cc, dtb_backend *be, int rc, const char *what);

/* got[i] == want[i] bit for bit. */
void expect_bitwise(cmp_ctx *cc, const float *got, const float *want, int64_t n,
                    const char *what);
/* |got[i] - want[i]| <= tol[i]. */
void expect_close(cmp_ctx *cc, const float *got, const float *want, const double *tol,
                  int64_t n, const char *what);

#endif
