/*
 * core/npy.h: the bytes of small arrays against hand-computed headers.
 *
 * A header is "\x93NUMPY", 1, 0, the header length H as a little-endian
 * uint16, then the dict text, spaces and '\n' with 10 + H a multiple of 64.
 * The dict text is 53 characters plus the shape tuple's:
 *   "{'descr': '<f4', 'fortran_order': False, 'shape': " (50) + S + ", }" (3)
 * so (3,) gives 57 characters, 10 + 57 + 1 = 68, padded with 60 spaces to
 * 128: H = 118 = 0x76. The same for (2, 3) (59 + 58 spaces) and () (55 +
 * 62). A tuple of 64 characters gives exactly 10 + 117 + 1 = 128 (no
 * spaces); one of 65 gives 129, padded with 63 spaces to 192.
 *
 * Usage: trajectory_unit_npy (writes into a fresh directory under $TMPDIR)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/check.h"
#include "npy.h"

/* The expected header: prefix, text, `pad` spaces, '\n'. */
static size_t expected_header(const char *text, size_t pad, unsigned char *out)
{
    const size_t n = strlen(text), h = n + pad + 1;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(h & 0xFF);
    out[9] = (unsigned char)(h >> 8);
    memcpy(out + 10, text, n);
    memset(out + 10 + n, ' ', pad);
    out[10 + n + pad] = '\n';
    return 10 + h;
}

static void check_header(npy_dtype dtype, const int64_t *shape, int ndim, const char *text,
                         size_t pad, size_t total)
{
    unsigned char want[NPY_HEADER_CAP];
    char got[NPY_HEADER_CAP], err[256] = "";
    size_t len = 0;
    const size_t want_len = expected_header(text, pad, want);
    CHECK(want_len == total && total % 64 == 0);
    CHECK(npy_header(dtype, shape, ndim, got, sizeof got, &len, err, sizeof err) == 0);
    CHECK(len == total);
    CHECK(len == want_len && memcmp(got, want, len) == 0);
}

static void test_headers(void)
{
    const int64_t s3[1] = {3}, s23[2] = {2, 3}, s0[1] = {0};
    check_header(NPY_FLOAT32, s3, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 60, 128);
    check_header(NPY_INT32, s23, 2,
                 "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 58, 128);
    check_header(NPY_FLOAT64, NULL, 0,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62, 128);
    check_header(NPY_FLOAT32, s0, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 60, 128);
    /* 8 x "100000": 48 digits + 2 parentheses + 7 ", " = a 64-character tuple. */
    const int64_t exact[8] = {100000, 100000, 100000, 100000, 100000, 100000, 100000, 100000};
    check_header(NPY_FLOAT32, exact, 8,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000, "
                 "100000, 100000, 100000, 100000, 100000), }",
                 0, 128);
    const int64_t over[8] = {1000000, 100000, 100000, 100000, 100000, 100000, 100000, 100000};
    check_header(NPY_FLOAT32, over, 8,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 100000, 100000, "
                 "100000, 100000, 100000, 100000, 100000), }",
                 63, 192);
}

static void test_header_refusals(void)
{
    char buf[NPY_HEADER_CAP], err[256];
    size_t len;
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, neg[2] = {2, -1}, s3[1] = {3};
    err[0] = '\0';
    CHECK(npy_header(NPY_FLOAT32, nine, 9, buf, sizeof buf, &len, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "9 dimensions");
    CHECK(npy_header(NPY_FLOAT32, neg, 2, buf, sizeof buf, &len, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "dimension 1 is negative");
    CHECK(npy_header((npy_dtype)7, s3, 1, buf, sizeof buf, &len, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown dtype");
    CHECK(npy_header(NPY_FLOAT32, s3, 1, buf, 100, &len, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "does not fit");
    CHECK(npy_descr((npy_dtype)7) == NULL && npy_itemsize((npy_dtype)7) == 0);
    CHECK(npy_itemsize(NPY_FLOAT64) == 8 && npy_itemsize(NPY_INT32) == 4);
}

/* The whole file at path; *len its size. NULL on failure. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static void check_file(const char *path, const char *text, size_t pad, const unsigned char *data,
                       size_t data_len)
{
    unsigned char *want = malloc(NPY_HEADER_CAP + data_len);
    CHECK(want != NULL);
    if (!want)
        return;
    const size_t h = expected_header(text, pad, want);
    if (data_len)
        memcpy(want + h, data, data_len);
    size_t len = 0;
    unsigned char *got = slurp(path, &len);
    CHECK(got != NULL && len == h + data_len);
    CHECK(got != NULL && len == h + data_len && memcmp(got, want, len) == 0);
    free(got);
    free(want);
}

static void test_files(const char *dir)
{
    char path[600], err[700] = "";
    /* float32 (3,): 1.0 = 0x3f800000, -2.0 = 0xc0000000, 0.5 = 0x3f000000. */
    const float f[3] = {1.0f, -2.0f, 0.5f};
    const unsigned char f_le[12] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f};
    const int64_t s3[1] = {3};
    snprintf(path, sizeof path, "%s/f.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, s3, 1, f, err, sizeof err) == 0);
    check_file(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 60, f_le, 12);

    /* int32 (2, 3) in C order: 0, 1, -1, 256, 65536, INT32_MIN. */
    const int32_t y[6] = {0, 1, -1, 256, 65536, INT32_MIN};
    const unsigned char y_le[24] = {0, 0, 0, 0,    1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                    0, 1, 0, 0,    0, 0, 1, 0, 0,    0,    0,    0x80};
    const int64_t s23[2] = {2, 3};
    snprintf(path, sizeof path, "%s/y.npy", dir);
    CHECK(npy_write(path, NPY_INT32, s23, 2, y, err, sizeof err) == 0);
    check_file(path, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 58, y_le, 24);

    /* float64 scalar 1.5 = 0x3ff8000000000000. */
    const double d = 1.5;
    const unsigned char d_le[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    snprintf(path, sizeof path, "%s/d.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT64, NULL, 0, &d, err, sizeof err) == 0);
    check_file(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62, d_le, 8);

    /* An empty array needs no data. */
    const int64_t s0[2] = {0, 37};
    snprintf(path, sizeof path, "%s/empty.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, s0, 2, NULL, err, sizeof err) == 0);
    check_file(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 37), }", 57, NULL, 0);

    /* Refusals: an existing file is never overwritten; a missing directory;
     * data missing for a non-empty array. */
    snprintf(path, sizeof path, "%s/f.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, s3, 1, f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot create");
    CHECK_CONTAINS(err, "f.npy");
    check_file(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 60, f_le, 12);
    snprintf(path, sizeof path, "%s/missing/f.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, s3, 1, f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "No such file or directory");
    snprintf(path, sizeof path, "%s/null.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, s3, 1, NULL, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no data");
    CHECK(access(path, F_OK) != 0);

    /* More elements than one write chunk, converted element by element. */
    enum { N = 20000 };
    float *big = malloc(N * sizeof *big);
    unsigned char *big_le = malloc(N * 4);
    CHECK(big && big_le);
    if (!big || !big_le) {
        free(big), free(big_le);
        return;
    }
    uint32_t state = 12345; /* fresh values from a fixed seed */
    for (int i = 0; i < N; i++) {
        state = state * 1664525u + 1013904223u;
        uint32_t bits = state & 0xBF7FFFFFu; /* finite: exponent below 255 */
        memcpy(&big[i], &bits, 4);
        for (int b = 0; b < 4; b++)
            big_le[4 * i + b] = (unsigned char)(bits >> (8 * b));
    }
    const int64_t sn[1] = {N};
    snprintf(path, sizeof path, "%s/big.npy", dir);
    CHECK(npy_write(path, NPY_FLOAT32, sn, 1, big, err, sizeof err) == 0);
    check_file(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (20000,), }", 56, big_le,
               N * 4);
    free(big);
    free(big_le);
}

int main(void)
{
    test_headers();
    test_header_refusals();
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dtbench-npy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_files(dir);
    const char *names[] = {"f.npy", "y.npy", "d.npy", "empty.npy", "big.npy"};
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CHECK(rmdir(dir) == 0);
    return check_report("trajectory_unit_npy");
}
