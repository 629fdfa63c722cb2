/*
 * A writer of NumPy's .npy format, version 1.0, for arrays that numpy.load
 * and torch.from_numpy read without dtbench:
 *
 *   bytes 0-5   "\x93NUMPY"
 *   bytes 6-7   major 1, minor 0
 *   bytes 8-9   H = header length, little-endian uint16
 *   H bytes     "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
 *               then spaces and one '\n', so that 10 + H is a multiple of 64
 *   data        the elements in C (row-major) order, little-endian
 *
 * The shape is written as Python writes a tuple: "()", "(3,)", "(3, 4)". The
 * data is converted to little-endian element by element, whatever the
 * host's byte order.
 */
#ifndef DTB_HARNESS_NPY_H
#define DTB_HARNESS_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef enum npy_dtype {
    NPY_FLOAT32 = 0, /* '<f4': float */
    NPY_FLOAT64 = 1, /* '<f8': double */
    NPY_INT32 = 2,   /* '<i4': int32_t */
} npy_dtype;

#define NPY_MAX_DIMS 8
/* Room for the longest header npy_header writes (8 dimensions of 19 digits). */
#define NPY_HEADER_CAP 320

/* "<f4", "<f8", "<i4"; NULL for anything else. */
const char *npy_descr(npy_dtype dtype);
/* Bytes per element: 4, 8, 4; 0 for an unknown dtype. */
size_t npy_itemsize(npy_dtype dtype);

/* The complete header (magic to '\n') into buf[0 .. *len): 0, or -1 with a
 * message for an unknown dtype, ndim outside 0..NPY_MAX_DIMS, a negative
 * dimension, or cap below the header's length. */
int npy_header(npy_dtype dtype, const int64_t *shape, int ndim, char *buf, size_t cap,
               size_t *len, char *err, size_t err_len);

/* Writes a new file `path` (refused if it exists: fopen "wbx") holding the
 * array of `shape` whose elements, product(shape) of them in C order, are at
 * `data` (float, double or int32_t by dtype). 0, or -1 with a one-line
 * message naming the path; a failed write leaves a partial file, which the
 * caller removes. */
int npy_write(const char *path, npy_dtype dtype, const int64_t *shape, int ndim,
              const void *data, char *err, size_t err_len);

#endif
