/*
 * The result of one rank of one case, as the worker writes it to
 * rank-<r>.bin and the harness reads it back. All integers and floats are
 * little-endian; sizes in bytes:
 *
 *   8   magic "DTBRANK3"
 *   4   i32 rank            4  i32 world_size
 *   8   i64 steps           8  i64 n_params
 *   4   i32 n_checks        4  i32 compute_dtype (dtb_dtype, -1: not reported)
 *   8*steps     f64 loss[steps]          (step s at index s-1)
 *   8*steps     f64 grad_norm[steps]     (negative: not reported)
 *   8*steps     f64 clip_coef[steps]     (negative: not reported)
 *   8*steps     f64 step_seconds[steps]  (wall time of train_step)
 *   8*n_checks  i64 check_steps[n_checks]
 *   4*n_checks*n_params  f32 params[n_checks][n_params] (canonical layout)
 *   w*n_checks*n_params  compute params: w = 4 (f32) or 2 (bf16 bits), 0 if none
 *   8*7 u64 counters.calls[7]   8*7 u64 counters.bytes[7]   (as reported)
 *   8*7 u64 measured.calls[7]   8*7 u64 measured.bytes[7]   (as the worker counted)
 *   8*7 u64 measured_create.calls[7]   8*7 u64 measured_create.bytes[7]   (of it, in create)
 *   4   i32 measured_valid      4  i32 reserved (0)
 *   4*4 i32 facts.stage, precision, reduce_dtype, param_dtype
 *   8   i64 facts.bucket_bytes  4 i32 facts.prefetch_depth  4 i32 reserved (0)
 *   8   i64 facts.mem_padding_bytes   8 i64 facts.mem_working_bytes
 *   8*6 i64 mem_peak[6] (per dtb_mem_category)   8 i64 mem_total_peak
 *   8   i64 rss_base            8  i64 rss_hwm  (bytes; -1 unknown)
 *   8   end marker "DTBEND03"
 *
 * The file is written under a temporary name and renamed, so a rank that
 * dies leaves no rank file; the reader accepts only a file whose size is
 * exactly what its header implies and whose markers are intact.
 */
#ifndef DTB_HARNESS_RANK_FILE_H
#define DTB_HARNESS_RANK_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

#define RANK_FILE_MAGIC "DTBRANK3"
#define RANK_FILE_END "DTBEND03"
/* Sanity bounds the reader enforces before allocating. */
#define RANK_FILE_MAX_STEPS 10000000ll
#define RANK_FILE_MAX_CHECKS 1024
#define RANK_FILE_MAX_PARAMS (1ll << 34)

typedef struct rank_result {
    int32_t rank, world_size;
    int64_t steps, n_params;
    int32_t n_checks;
    double *loss;              /* [steps] */
    double *grad_norm;         /* [steps] */
    double *clip_coef;         /* [steps] */
    double *step_seconds;      /* [steps] */
    int64_t *check_steps;      /* [n_checks] */
    float *params;             /* [n_checks * n_params] */
    /* get_compute_params at the checked steps, when has_compute_params:
     * compute_dtype DTB_DTYPE_FP32 (floats) or DTB_DTYPE_BF16 (uint16_t bit
     * patterns), [n_checks * n_params] in canonical layout. */
    int32_t has_compute_params;
    int32_t compute_dtype;
    void *compute_params;
    dtb_counters counters;     /* as the plugin reported them */
    dtb_counters measured;     /* as the worker counted them (PMPI) */
    /* The part of `measured` that create issued (a one-time setup, such as
     * PyTorch DDP's broadcast of the initial parameters). */
    dtb_counters measured_create;
    int32_t measured_valid;    /* 0: the worker could not count */
    dtb_facts facts;
    int64_t mem_peak[DTB_MEM_CATEGORY_COUNT];
    int64_t mem_total_peak;
    /* The process's resident bytes before create and its high-water mark
     * from then to destroy (/proc/self/status); -1 unknown. */
    int64_t rss_base, rss_hwm;
} rank_result;

/* The traffic of r's training steps: the worker's measurement less what
 * create moved (a one-time setup) when the worker counted; else what the
 * plugin reported, create included. *measured (when not NULL) says which. */
dtb_counters rank_step_traffic(const rank_result *r, int *measured);

/* Bytes of one compute parameter of r (0 when it has none). */
size_t rank_compute_bytes(const rank_result *r);

/* Allocates the arrays of r for its steps, n_params, n_checks and compute
 * parameters (zeroed). */
int rank_result_alloc(rank_result *r);
void rank_result_free(rank_result *r);

/* Writes r to `path` (through path + ".tmp" and rename). */
int rank_file_write(const char *path, const rank_result *r, char *err, size_t err_len);
/* Reads and validates; on failure r is left empty (nothing to free). */
int rank_file_read(const char *path, rank_result *r, char *err, size_t err_len);

#endif
