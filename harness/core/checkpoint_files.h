/*
 * Canonical checkpoint files (docs/checkpoint.md is the normative text).
 *
 * A checkpoint is one directory <root>/step-<S> (S = optimizer steps taken,
 * decimal, no padding) holding
 *
 *   params.npy                 fp32 '<f4', shape (n_params,), canonical layout
 *   momentum_buffer.npy        SGD only
 *   exp_avg.npy, exp_avg_sq.npy AdamW only
 *   manifest.json              format, version, step, model (name, kind,
 *                              n_params, tensor table), recipe, writer, and
 *                              per array: file, dtype, shape, bytes, sha256
 *
 * so that NumPy and PyTorch read it without dtbench (np.load, then reshape a
 * tensor's slice [offset, offset + numel) to its shape).
 *
 * Writing is shared by the ranks of a world and never leaves a directory
 * named step-<S> that is not complete and verified:
 *
 *   rank 0:    ckpt_prepare   makes <root>/.step-<S>.partial-<pid>, every
 *                             array file at its full size with its header
 *   (barrier)
 *   each rank: ckpt_writer_open, ckpt_writer_put ..., ckpt_writer_close
 *                             (pwrite at the element's offset; fdatasync; a
 *                             record of the ranges it wrote, .written-<rank>)
 *   (barrier)
 *   rank 0:    ckpt_commit    every element of every array written by some
 *                             rank, or -1 naming the first gap; sha256 of
 *                             each file; manifest.json written, fsynced;
 *                             coverage records removed; the staging
 *                             directory renamed to step-<S>; root fsynced
 *
 * A process killed at any point leaves at most a ".partial-" directory,
 * which ckpt_latest never returns. ckpt_open verifies the manifest, every
 * file's size, header and sha256 before a value is read: a torn or modified
 * checkpoint is refused with one line.
 *
 * Elements are stored little-endian whatever the host's byte order.
 * No MPI here: the caller provides the barriers.
 */
#ifndef DTB_HARNESS_CHECKPOINT_FILES_H
#define DTB_HARNESS_CHECKPOINT_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define CKPT_FORMAT "dtbench-checkpoint"
#define CKPT_VERSION 1
#define CKPT_MAX_TENSORS 256

/* "params", "momentum_buffer", "exp_avg", "exp_avg_sq"; NULL otherwise. */
const char *ckpt_array_name(int32_t array);
/* The arrays a checkpoint of this optimizer (dtb_optimizer) holds, in file
 * order, into out[DTB_CKPT_ARRAY_COUNT]; returns their number (0 for an
 * unknown optimizer). */
int ckpt_arrays_of(int32_t optimizer, int32_t *out);

/* Everything manifest.json says besides the files. */
typedef struct ckpt_meta {
    int64_t step;                          /* optimizer steps taken, >= 1 */
    /* model */
    char model[DTB_NAME_LEN];
    int32_t model_kind;                    /* dtb_model_kind */
    int64_t n_params;
    int32_t n_tensors;
    dtb_tensor_desc tensors[CKPT_MAX_TENSORS];
    /* recipe */
    int32_t optimizer;                     /* dtb_optimizer */
    double lr, momentum, beta1, beta2, eps, weight_decay, clip_norm;
    int32_t precision;                     /* dtb_precision */
    int64_t global_batch;
    int32_t micro_batches;
    uint64_t seed;
    /* writer (informative) */
    char writer_impl[DTB_NAME_LEN];        /* plugin name */
    int32_t writer_stage;                  /* dtb_stage */
    int32_t writer_world;                  /* world size */
} ckpt_meta;

/* <root>/step-<step> into out. -1 if it does not fit. */
int ckpt_dir_of(const char *root, int64_t step, char *out, size_t out_len);

/* Rank 0, before any rank writes: refuses when <root>/step-<S> exists
 * (committed already), makes root (one level) if missing, creates the
 * staging directory and each of meta's optimizer's array files (header,
 * then n_params zeros as a sparse file of the full size). The staging
 * path into stage_dir. 0, or -1 with a one-line message. */
int ckpt_prepare(const char *root, const ckpt_meta *meta, char *stage_dir, size_t stage_len,
                 char *err, size_t err_len);

#define CKPT_MAX_RANGES 4096

typedef struct ckpt_range {
    int64_t first, count;
} ckpt_range;

/* One rank's writer into a staging directory. */
typedef struct ckpt_writer {
    char dir[PATH_MAX];
    int rank;
    int32_t optimizer;
    int64_t n_params;
    int fd[DTB_CKPT_ARRAY_COUNT];          /* -1: not an array of this optimizer */
    size_t header_len[DTB_CKPT_ARRAY_COUNT];
    /* What this rank wrote, per array: ranges merged as they come (adjacent
     * and overlapping ones joined); more than CKPT_MAX_RANGES disjoint
     * ranges is refused. */
    ckpt_range *ranges[DTB_CKPT_ARRAY_COUNT];
    int n_ranges[DTB_CKPT_ARRAY_COUNT];
} ckpt_writer;

/* Opens the staging directory's array files for writing. 0, or -1. */
int ckpt_writer_open(ckpt_writer *w, const char *stage_dir, int32_t optimizer, int64_t n_params,
                     int rank, char *err, size_t err_len);
/* Stores values[0 .. count) as elements first .. first+count-1 of array.
 * Refuses (one line naming the array and range) an array the optimizer has
 * not, a range outside 0..n_params, a negative count. count 0 is a no-op. */
int ckpt_writer_put(ckpt_writer *w, int32_t array, int64_t first, int64_t count,
                    const float *values, char *err, size_t err_len);
/* fdatasync and close every file; writes .written-<rank> (the ranges, in a
 * format of the implementation's choosing) and fsyncs it. 0, or -1. */
int ckpt_writer_close(ckpt_writer *w, char *err, size_t err_len);
/* Closes and frees without writing the record (after a failure). Safe twice. */
void ckpt_writer_abandon(ckpt_writer *w);

/* Rank 0, after every rank of a world of `world` closed its writer: the
 * coverage of every array (the union of the ranks' records) must be all of
 * 0..n_params, else -1 with "no rank saved exp_avg elements 600..1199 (of
 * 1804)" (the first gap, and how many elements are missing in all when there
 * are several gaps); a missing record names the rank. Then the checksums,
 * manifest.json, and the rename to <root>/step-<S>, every step fsynced.
 * final_dir gets the committed path. On failure the staging directory is
 * left for ckpt_discard. */
int ckpt_commit(const char *stage_dir, const char *root, const ckpt_meta *meta, int world,
                char *final_dir, size_t final_len, char *err, size_t err_len);
/* Removes a staging directory and everything in it (a failed save). */
void ckpt_discard(const char *stage_dir);

/* A committed checkpoint, open for reading. */
typedef struct ckpt_reader {
    char dir[PATH_MAX];
    ckpt_meta meta;
    int fd[DTB_CKPT_ARRAY_COUNT];
    size_t header_len[DTB_CKPT_ARRAY_COUNT];
} ckpt_reader;

/* Parses manifest.json (format and version checked), checks each listed
 * file's size, .npy header (dtype '<f4', shape (n_params,)) and sha256
 * against the manifest, and the tensor table's consistency (offsets ascend
 * from 0 to n_params). Every refusal is one line naming the directory and
 * the problem ("checkpoint /x/step-4: exp_avg.npy does not match its
 * sha256 in manifest.json (torn or modified)"). 0, or -1. */
int ckpt_open(ckpt_reader *r, const char *dir, char *err, size_t err_len);
/* ckpt_open without the sha256 of the files (the manifest, sizes and .npy
 * headers are still checked): for the ranks of a world whose rank 0 has
 * verified the same directory with ckpt_open, so that a load hashes every
 * file once, not once per rank. */
int ckpt_open_unverified(ckpt_reader *r, const char *dir, char *err, size_t err_len);
/* Elements first .. first+count-1 of array into out. 0, or -1. */
int ckpt_read(ckpt_reader *r, int32_t array, int64_t first, int64_t count, float *out,
              char *err, size_t err_len);
void ckpt_close(ckpt_reader *r);

/* The committed checkpoint of the highest step under root: directories named
 * exactly step-<digits> (staging directories never count). Returns 0 with
 * *step and its path in dir, 1 when there is none (or root does not exist),
 * -1 on an error reading root. Does not verify it: ckpt_open does. */
int ckpt_latest(const char *root, int64_t *step, char *dir, size_t dir_len, char *err,
                size_t err_len);

#endif
