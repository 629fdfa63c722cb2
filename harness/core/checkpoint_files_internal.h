/*
 * What the files implementing checkpoint_files.h share; not for other
 * modules. Each helper is defined in the file named above it.
 *
 * Byte layout of an array file: npy_header(float32, (n,)) of H bytes, then
 * element i at byte H + 4 i, little-endian. Every size is H + 4 n with
 * n <= CKPT_MAX_N, so no byte offset overflows an int64.
 */
#ifndef DTB_HARNESS_CHECKPOINT_FILES_INTERNAL_H
#define DTB_HARNESS_CHECKPOINT_FILES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint_files.h"
#include "npy.h"
#include "sha256.h"

#define CKPT_MANIFEST "manifest.json"
/* A rank's record .written-<rank>: this line, "rank optimizer n_params";
 * per array of the optimizer, in file order, "array n" and n lines
 * "first count" (sorted, disjoint); "end". */
#define CKPT_RECORD_MAGIC "dtbench-ckpt-written 1"
/* Bytes of one record line "<first> <count>\n", at most. */
#define CKPT_RECORD_LINE_MAX 48
/* Largest n_params: H + 4 n fits an int64 with room to spare. */
#define CKPT_MAX_N ((INT64_MAX - NPY_HEADER_CAP) / 8)
/* Room for any one-line message of this module: a path and some words. */
#define CKPT_MSG_LEN (PATH_MAX + 512)

/* ---- checkpoint_io.c: bytes in and out of files ------------------------- */

int ckpt_host_is_little_endian(void);
/* Reverses the bytes of each of n 4-byte elements (big-endian host <-> file). */
void ckpt_swap32(void *data, size_t n);
/* dir/name into out; -1 when it does not fit. */
int ckpt_join(char *out, size_t cap, const char *dir, const char *name);
/* path without trailing slashes ("/" stays "/") into out; -1 if it does not
 * fit or is empty. */
int ckpt_trim_slashes(const char *path, char *out, size_t cap);
/* All of buf at byte `at`; -1 with errno. */
int ckpt_pwrite_all(int fd, const void *buf, size_t len, int64_t at);
/* All of len bytes from byte `at`; -1 with errno, or with errno 0 at the
 * end of the file. */
int ckpt_pread_all(int fd, void *buf, size_t len, int64_t at);
int ckpt_fsync_dir(const char *dir, char *err, size_t err_len);
/* Closes fd after a step that failed (what names it) or not (NULL): the
 * failure to report, with errno its cause. */
const char *ckpt_close_after(int fd, const char *what);
/* 0 when path does not exist; else -1 with "checkpoint <path> exists already". */
int ckpt_refuse_existing(const char *path, char *err, size_t err_len);
/* Writes buf to a new `tmp`, fsyncs it and renames it onto `path`. */
int ckpt_write_file_atomic(const char *tmp, const char *path, const char *buf, size_t len,
                           char *err, size_t err_len);
/* The whole of a small regular file into a NUL-terminated malloc'd buffer;
 * NULL with errno (ENOENT: missing; EFBIG: over max bytes). */
char *ckpt_slurp(const char *path, size_t max, size_t *len);

/* A growable text buffer; on allocation failure it stays failed. */
typedef struct ckpt_sbuf {
    char *p;
    size_t len, cap;
    int failed;
} ckpt_sbuf;

void ckpt_sb_printf(ckpt_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- checkpoint_meta.c: names, the array files' headers, the metadata ---- */

/* The names manifest.json spells for the plugin API's enumerations. */
typedef struct ckpt_named {
    int32_t value;
    const char *name;
} ckpt_named;

/* Each ends with {0, NULL}. */
extern const ckpt_named ckpt_kinds[], ckpt_optimizers[], ckpt_precisions[], ckpt_stages[];

/* The name of value in table; NULL when it has none. */
const char *ckpt_name_of(const ckpt_named *table, int32_t value);
/* The value named name into *value; -1 when the table has no such name. */
int ckpt_value_of(const ckpt_named *table, const char *name, int32_t *value);
/* The .npy header of an array of n float32 elements into buf[NPY_HEADER_CAP]. */
int ckpt_array_header(int64_t n, char *buf, size_t *len);
/* "first..last" of a range whose last element first + count - 1 fits an int64. */
const char *ckpt_range_text(int64_t first, int64_t count, char buf[48]);
/* Everything a manifest must hold to read back exactly what was written;
 * why names the first problem. */
int ckpt_check_meta(const ckpt_meta *m, char *why, size_t len);
/* ckpt_check_meta, with "checkpoint metadata: <why>" into err. */
int ckpt_meta_ok(const ckpt_meta *m, char *err, size_t err_len);

/* ---- checkpoint_hash.c: the array files, checked one thread per file ----- */

/* Size and header of an open array file against n elements (the header's
 * length into *header_len); why names the problem. */
int ckpt_check_array_file(int fd, int64_t n, size_t *header_len, char *why, size_t why_len);

/* One array's work: 0, or -1 with a one-line message in err. */
typedef int (*ckpt_array_job)(void *ctx, int i, char *err, size_t err_len);
/* job(ctx, i) for i = 0 .. n-1 (n <= DTB_CKPT_ARRAY_COUNT), each on a
 * thread of its own and all finished before it returns; the jobs touch
 * disjoint state. 0, or -1 with the message of the lowest i that failed:
 * the result and message of running them in order up to the first
 * failure, whatever order they finish in. */
int ckpt_each_array(int n, ckpt_array_job job, void *ctx, char *err, size_t err_len);

/* ---- checkpoint_manifest.c and checkpoint_manifest_parse.c ---------------- */

/* stage/manifest.json for meta and the files' sums (indexed by array),
 * written atomically and fsynced. */
int ckpt_write_manifest(const char *stage, const ckpt_meta *m, char sums[][SHA256_HEX_LEN],
                        char *err, size_t err_len);
/* dir/manifest.json, strictly parsed: the metadata into *m (checked as
 * ckpt_check_meta does), the sha256 of each of its arrays into sums.
 * Refusals: "checkpoint <dir>: ...". */
int ckpt_load_manifest(const char *dir, ckpt_meta *m, char sums[][SHA256_HEX_LEN], char *err,
                       size_t err_len);

#endif
