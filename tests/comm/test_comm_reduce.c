/*
 * Allreduce and reduce-scatter against expectations each rank computes from
 * every rank's regenerated data: exact for integer-valued data and for MAX;
 * for non-integer sums within (N-1) pairwise roundings, |err| <= 2(N-1) u
 * sum_r |x_r| (the factor 2 covers the rounding of the double reference);
 * allreduce results bitwise identical on every rank; guard bytes past the
 * output untouched; reduce-scatter's input left as it was.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_test_util.h"

enum { GUARD = 16 }; /* guard elements after each output */

static const dtb_dtype DTYPES[] = {DTB_DTYPE_FP32, DTB_DTYPE_FP64, DTB_DTYPE_BF16};
static const char *MODE_NAME[] = {"blocking", "non-blocking, wait", "non-blocking, test"};

static uint64_t case_seed(int coll, dtb_dtype dtype, comm_op op, t_data_kind kind, int64_t n)
{
    return t_mix(((uint64_t)coll << 56) ^ ((uint64_t)dtype << 48) ^ ((uint64_t)op << 44) ^
                 ((uint64_t)kind << 40) ^ (uint64_t)n);
}

/* got[j] against op over ranks r of element first+j of rank r's data. */
static void check_reduced(tctx *t, const void *got, dtb_dtype dtype, comm_op op,
                          t_data_kind kind, uint64_t seed, int64_t first, int64_t n,
                          const char *what)
{
    double u = t_unit_roundoff(dtype);
    for (int64_t j = 0; j < n; j++) {
        double exact = op == COMM_MAX ? -INFINITY : 0.0, mag = 0.0;
        for (int r = 0; r < t->size; r++) {
            double x = t_value(dtype, kind, seed, r, first + j);
            exact = op == COMM_MAX ? fmax(exact, x) : exact + x;
            mag += fabs(x);
        }
        double tol = (op == COMM_MAX || kind == T_INT) ? 0.0 : 2.0 * (t->size - 1) * u * mag;
        double g = t_get(got, dtype, j);
        T_CHECK(t, fabs(g - exact) <= tol, "%s: element %lld = %.17g, expected %.17g (tol %.3g)",
                what, (long long)(first + j), g, exact, tol);
    }
}

static void allreduce_case(tctx *t, int mode, dtb_dtype dtype, comm_op op, t_data_kind kind,
                           int64_t count)
{
    size_t es = comm_dtype_size(dtype);
    uint64_t seed = case_seed(1, dtype, op, kind, count);
    char *buf = t_alloc((size_t)(count + GUARD) * es);
    t_fill(buf, dtype, kind, seed, t->rank, 0, count);
    t_poison(buf + count * es, GUARD * es);
    char what[128];
    snprintf(what, sizeof what, "allreduce %s %s %s count %lld", t_dtype_name(dtype),
             op == COMM_SUM ? "sum" : "max", kind == T_INT ? "int" : "real", (long long)count);

    int rc;
    if (mode == 0) {
        rc = comm_allreduce(t->comm, buf, count, dtype, op);
    } else {
        comm_request req = {0};
        rc = comm_iallreduce(t->comm, buf, count, dtype, op, &req);
        T_CHECK(t, rc != 0 || req.active, "%s: request not active after issue", what);
        if (rc == 0)
            rc = t_complete(t, &req, mode == 2);
        T_CHECK(t, !req.active, "%s: request still active after completion", what);
    }
    T_CHECK(t, rc == 0, "%s: rc %d: %s", what, rc, comm_error(t->comm));
    if (rc == 0) {
        t_expect(t, DTB_COLL_ALLREDUCE, (uint64_t)count * es);
        check_reduced(t, buf, dtype, op, kind, seed, 0, count, what);
    }
    T_CHECK(t, t_is_poisoned(buf + count * es, GUARD * es), "%s: wrote past the buffer", what);
    t_check_same_on_all_ranks(t, buf, (size_t)count * es, what);
    free(buf);
}

/* in_place: the N blocks go in and the result comes out of one buffer
 * (send == recv), the result at its start. */
static void reduce_scatter_case(tctx *t, int mode, dtb_dtype dtype, comm_op op,
                                t_data_kind kind, int64_t block, int in_place)
{
    size_t es = comm_dtype_size(dtype);
    int64_t total = block * t->size;
    uint64_t seed = case_seed(2, dtype, op, kind, block);
    char *send = t_alloc((size_t)(total + GUARD) * es);
    char *recv = in_place ? send : t_alloc((size_t)(block + GUARD) * es);
    t_poison(send, (size_t)(total + GUARD) * es);
    if (!in_place)
        t_poison(recv, (size_t)(block + GUARD) * es);
    t_fill(send, dtype, kind, seed, t->rank, 0, total);
    char what[128];
    snprintf(what, sizeof what, "reduce_scatter %s %s %s block %lld%s", t_dtype_name(dtype),
             op == COMM_SUM ? "sum" : "max", kind == T_INT ? "int" : "real", (long long)block,
             in_place ? " in place" : "");

    int rc;
    if (mode == 0) {
        rc = comm_reduce_scatter(t->comm, send, recv, block, dtype, op);
    } else {
        comm_request req = {0};
        rc = comm_ireduce_scatter(t->comm, send, recv, block, dtype, op, &req);
        if (rc == 0)
            rc = t_complete(t, &req, mode == 2);
        T_CHECK(t, !req.active, "%s: request still active after completion", what);
    }
    T_CHECK(t, rc == 0, "%s: rc %d: %s", what, rc, comm_error(t->comm));
    if (rc == 0) {
        t_expect(t, DTB_COLL_REDUCE_SCATTER, (uint64_t)total * es);
        check_reduced(t, recv, dtype, op, kind, seed, (int64_t)t->rank * block, block, what);
    }
    if (in_place) {
        T_CHECK(t, t_is_poisoned(send + total * es, GUARD * es), "%s: wrote past the buffer",
                what);
        free(send);
        return;
    }
    T_CHECK(t, t_is_poisoned(recv + block * es, GUARD * es), "%s: wrote past recv", what);
    /* The input is read-only: it must still be this rank's data. */
    char *again = t_alloc((size_t)total * es);
    t_fill(again, dtype, kind, seed, t->rank, 0, total);
    T_CHECK(t, total == 0 || memcmp(again, send, (size_t)total * es) == 0,
            "%s: send buffer modified", what);
    free(again);
    free(send);
    free(recv);
}

void test_allreduce(tctx *t)
{
    int64_t sizes[8];
    int ns = t_sizes(t, 0, sizes);
    for (int mode = 0; mode < 3; mode++)
        for (size_t d = 0; d < sizeof DTYPES / sizeof DTYPES[0]; d++) {
            for (int op = COMM_SUM; op <= COMM_MAX; op++) {
                if (DTYPES[d] == DTB_DTYPE_BF16 && op == COMM_MAX)
                    continue; /* refused; see test_error_paths */
                for (int kind = T_INT; kind <= T_REAL; kind++)
                    for (int s = 0; s < ns; s++)
                        allreduce_case(t, mode, DTYPES[d], (comm_op)op, (t_data_kind)kind,
                                       sizes[s]);
            }
            t_point(t, "allreduce %s, %s", t_dtype_name(DTYPES[d]), MODE_NAME[mode]);
        }
}

void test_reduce_scatter(tctx *t)
{
    int64_t sizes[8];
    int ns = t_sizes(t, 1, sizes);
    for (int mode = 0; mode < 3; mode++)
        for (size_t d = 0; d < sizeof DTYPES / sizeof DTYPES[0]; d++) {
            for (int op = COMM_SUM; op <= COMM_MAX; op++) {
                if (DTYPES[d] == DTB_DTYPE_BF16 && op == COMM_MAX)
                    continue;
                for (int kind = T_INT; kind <= T_REAL; kind++)
                    for (int s = 0; s < ns; s++)
                        for (int in_place = 0; in_place <= 1; in_place++)
                            reduce_scatter_case(t, mode, DTYPES[d], (comm_op)op,
                                                (t_data_kind)kind, sizes[s], in_place);
            }
            t_point(t, "reduce_scatter %s, %s", t_dtype_name(DTYPES[d]), MODE_NAME[mode]);
        }
}
