#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Bytes before the header text: magic (6), version (2), header length (2).
 * The header is padded so that the data starts at a multiple of NPY_ALIGN. */
#define NPY_PREFIX 10
#define NPY_ALIGN 64

const char *npy_descr(npy_dtype dtype)
{
    switch (dtype) {
    case NPY_FLOAT32:
        return "<f4";
    case NPY_FLOAT64:
        return "<f8";
    case NPY_INT32:
        return "<i4";
    }
    return NULL;
}

size_t npy_itemsize(npy_dtype dtype)
{
    switch (dtype) {
    case NPY_FLOAT32:
    case NPY_INT32:
        return 4;
    case NPY_FLOAT64:
        return 8;
    }
    return 0;
}

/* Python's repr of the shape tuple: "()", "(3,)", "(3, 4)". */
static int shape_repr(const int64_t *shape, int ndim, char *buf, size_t cap)
{
    size_t used = 0;
    for (int d = 0; d <= ndim; d++) {
        int w;
        if (d < ndim)
            w = snprintf(buf + used, cap - used, "%s%lld", d ? ", " : "(", (long long)shape[d]);
        else
            w = snprintf(buf + used, cap - used, "%s", ndim == 0 ? "()" : ndim == 1 ? ",)" : ")");
        if (w < 0 || (size_t)w >= cap - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

int npy_header(npy_dtype dtype, const int64_t *shape, int ndim, char *buf, size_t cap,
               size_t *len, char *err, size_t err_len)
{
    const char *descr = npy_descr(dtype);
    if (descr == NULL) {
        snprintf(err, err_len, "npy: unknown dtype %d", (int)dtype);
        return -1;
    }
    if (ndim < 0 || ndim > NPY_MAX_DIMS) {
        snprintf(err, err_len, "npy: %d dimensions (0..%d)", ndim, NPY_MAX_DIMS);
        return -1;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            snprintf(err, err_len, "npy: dimension %d is negative (%lld)", d,
                     (long long)shape[d]);
            return -1;
        }
    }
    char tuple[NPY_MAX_DIMS * 22 + 4];
    if (shape_repr(shape, ndim, tuple, sizeof tuple) != 0) {
        snprintf(err, err_len, "npy: shape does not fit the header");
        return -1;
    }
    char dict[sizeof tuple + 64];
    const int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                           descr, tuple);
    if (n < 0 || (size_t)n >= sizeof dict) {
        snprintf(err, err_len, "npy: shape does not fit the header");
        return -1;
    }
    /* Text, spaces, '\n': the smallest total with NPY_PREFIX + total a
     * multiple of NPY_ALIGN. */
    const size_t text = (size_t)n;
    const size_t unpadded = NPY_PREFIX + text + 1;
    const size_t pad = (NPY_ALIGN - unpadded % NPY_ALIGN) % NPY_ALIGN;
    const size_t header_len = text + pad + 1; /* the uint16 field */
    const size_t total = NPY_PREFIX + header_len;
    if (header_len > 65535 || total > cap) {
        snprintf(err, err_len, "npy: header of %zu bytes does not fit %zu", total, cap);
        return -1;
    }
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(header_len & 0xFF);
    buf[9] = (char)(header_len >> 8);
    memcpy(buf + NPY_PREFIX, dict, text);
    memset(buf + NPY_PREFIX + text, ' ', pad);
    buf[total - 1] = '\n';
    *len = total;
    return 0;
}

/* Elements of the array; -1 when the byte count would not fit a size_t. */
static int count_elements(const int64_t *shape, int ndim, size_t itemsize, size_t *count)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        const size_t dim = (size_t)shape[d];
        if (dim != 0 && n > SIZE_MAX / itemsize / dim)
            return -1;
        n *= dim;
    }
    *count = n;
    return 0;
}

/* Element k's bytes, least significant first, into out. */
static void put_le(const unsigned char *elem, size_t itemsize, unsigned char *out)
{
    if (itemsize == 4) {
        uint32_t v;
        memcpy(&v, elem, 4);
        for (size_t b = 0; b < 4; b++)
            out[b] = (unsigned char)(v >> (8 * b));
    } else {
        uint64_t v;
        memcpy(&v, elem, 8);
        for (size_t b = 0; b < 8; b++)
            out[b] = (unsigned char)(v >> (8 * b));
    }
}

static int write_data(FILE *f, const void *data, size_t count, size_t itemsize)
{
    enum { CHUNK = 8192 }; /* elements per fwrite */
    unsigned char buf[CHUNK * 8];
    const unsigned char *src = data;
    for (size_t done = 0; done < count;) {
        const size_t n = count - done < CHUNK ? count - done : CHUNK;
        for (size_t k = 0; k < n; k++)
            put_le(src + (done + k) * itemsize, itemsize, buf + k * itemsize);
        if (fwrite(buf, itemsize, n, f) != n)
            return -1;
        done += n;
    }
    return 0;
}

int npy_write(const char *path, npy_dtype dtype, const int64_t *shape, int ndim,
              const void *data, char *err, size_t err_len)
{
    char header[NPY_HEADER_CAP], why[128];
    size_t header_len = 0, count = 0;
    if (npy_header(dtype, shape, ndim, header, sizeof header, &header_len, why, sizeof why) != 0) {
        snprintf(err, err_len, "%s: %s", path, why);
        return -1;
    }
    const size_t itemsize = npy_itemsize(dtype);
    if (count_elements(shape, ndim, itemsize, &count) != 0) {
        snprintf(err, err_len, "%s: npy: the array's size overflows", path);
        return -1;
    }
    if (count > 0 && data == NULL) {
        snprintf(err, err_len, "%s: npy: no data for %zu elements", path, count);
        return -1;
    }
    errno = 0;
    FILE *f = fopen(path, "wbx");
    if (f == NULL) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    int failed = fwrite(header, 1, header_len, f) != header_len ||
                 write_data(f, data, count, itemsize) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        snprintf(err, err_len, "writing %s failed: %s", path,
                 saved ? strerror(saved) : "short write");
        return -1;
    }
    return 0;
}
