/*
 * Shared pieces of the comm_collectives test: a per-run context (no global
 * state), TAP-ish reporting where each test point is agreed by all ranks,
 * counter-based per-rank data that any rank can regenerate for any other
 * rank, and helpers to read and write elements of each dtype.
 */
#ifndef DTB_TEST_COMM_UTIL_H
#define DTB_TEST_COMM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "comm.h"

typedef struct tctx {
    dtb_comm *comm;        /* the communicator under test */
    int rank, size;
    int point;             /* TAP test points emitted so far */
    int local_failures;    /* this rank's failed checks in the current point */
    int printed;           /* failure lines printed in the current point */
    int points_failed;     /* points failed on any rank */
    dtb_counters expect;   /* what the test issued on comm, tallied by hand */
} tctx;

void t_fail(tctx *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define T_CHECK(t, cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond))                                                                           \
            t_fail((t), __FILE__, __LINE__, __VA_ARGS__);                                      \
    } while (0)

/* Ends a test point: all ranks agree (MPI_Allreduce on MPI_COMM_WORLD) whether
 * any of them failed; rank 0 prints "ok k - name" or "not ok k - name". */
void t_point(tctx *t, const char *name, ...) __attribute__((format(printf, 2, 3)));

/* Records a collective the test issued successfully, for the final counter check. */
void t_expect(tctx *t, dtb_collective kind, uint64_t bytes);

/* Checks that buf holds the same bytes on every rank (FNV-1a hash gathered to
 * rank 0 and compared there). Collective over MPI_COMM_WORLD. */
void t_check_same_on_all_ranks(tctx *t, const void *buf, size_t bytes, const char *what);

/* ---- data --------------------------------------------------------------- */
typedef enum t_data_kind {
    T_INT = 0,  /* integers in [-32,-1] u [1,32]: sums over <= 4 ranks are exact */
    T_REAL = 1  /* non-integer values of magnitude ~[2^-7, 2) */
} t_data_kind;

uint64_t t_mix(uint64_t x); /* splitmix64 finaliser */
/* Value of element i of rank's data for (seed, kind), as stored in dtype. */
double t_value(dtb_dtype dtype, t_data_kind kind, uint64_t seed, int rank, int64_t i);
/* buf[j] = t_value(..., first + j) for j in [0, n). */
void t_fill(void *buf, dtb_dtype dtype, t_data_kind kind, uint64_t seed, int rank,
            int64_t first, int64_t n);
/* Element i of buf, widened to double. */
double t_get(const void *buf, dtb_dtype dtype, int64_t i);
/* Stores v (exactly representable in dtype) as element i. */
void t_set(void *buf, dtb_dtype dtype, int64_t i, double v);
/* Sentinel bit pattern for guards and pre-filled outputs. */
void t_poison(void *buf, size_t bytes);
int t_is_poisoned(const void *buf, size_t bytes);

const char *t_dtype_name(dtb_dtype dtype);
/* Unit roundoff of dtype: 2^-24, 2^-53, 2^-8. */
double t_unit_roundoff(dtb_dtype dtype);
/* malloc that aborts the test on failure. */
void *t_alloc(size_t bytes);

/* Completes req: comm_wait, or (poll != 0) comm_test until done. */
int t_complete(tctx *t, comm_request *req, int poll);

/* Sizes the collectives are run at: 0, 1, 7, 17, 53, 4N+1 and ~1M; returns
 * how many were written to sizes (at most 8). block = 1 scales the ~1M entry
 * down by N, for reduce-scatter and allgather blocks. */
int t_sizes(const tctx *t, int block, int64_t *sizes);

/* ---- the test groups (one file each) ------------------------------------ */
void test_bf16_arithmetic(tctx *t);     /* test_comm_bf16.c */
void test_allreduce(tctx *t);           /* test_comm_reduce.c */
void test_reduce_scatter(tctx *t);
void test_allgather(tctx *t);           /* test_comm_move.c */
void test_broadcast(tctx *t);
void test_concurrent_requests(tctx *t); /* test_comm_requests.c */
void test_request_states(tctx *t);
void test_error_paths(tctx *t);         /* test_comm_errors.c */
void test_counter_sequence(tctx *t);    /* test_comm_counters.c */

#endif
