/*
 * Allgather (separate and in-place send) and broadcast (every root): pure
 * data movement, so the result must equal, byte for byte, what each rank
 * regenerates from the sender's seed; guard bytes past the output untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_test_util.h"

enum { GUARD = 16 };

static const dtb_dtype DTYPES[] = {DTB_DTYPE_FP32, DTB_DTYPE_FP64, DTB_DTYPE_BF16};
static const char *MODE_NAME[] = {"blocking", "non-blocking, wait", "non-blocking, test"};

static void allgather_case(tctx *t, int mode, dtb_dtype dtype, int in_place, int64_t block)
{
    size_t es = comm_dtype_size(dtype);
    size_t blk = (size_t)block * es, total = blk * (size_t)t->size;
    uint64_t seed = t_mix(0xa11ull << 32 ^ (uint64_t)dtype << 24 ^ (uint64_t)block);
    char *recv = t_alloc(total + GUARD * es);
    char *send = in_place ? recv + (size_t)t->rank * blk : t_alloc(blk);
    char *expect = t_alloc(total);
    t_poison(recv, total + GUARD * es);
    t_fill(send, dtype, T_REAL, seed, t->rank, 0, block);
    for (int r = 0; r < t->size; r++)
        t_fill(expect + (size_t)r * blk, dtype, T_REAL, seed, r, 0, block);
    char what[128];
    snprintf(what, sizeof what, "allgather %s %s block %lld", t_dtype_name(dtype),
             in_place ? "in-place" : "separate", (long long)block);

    int rc;
    if (mode == 0) {
        rc = comm_allgather(t->comm, send, recv, block, dtype);
    } else {
        comm_request req = {0};
        rc = comm_iallgather(t->comm, send, recv, block, dtype, &req);
        if (rc == 0)
            rc = t_complete(t, &req, mode == 2);
        T_CHECK(t, !req.active, "%s: request still active after completion", what);
    }
    T_CHECK(t, rc == 0, "%s: rc %d: %s", what, rc, comm_error(t->comm));
    if (rc == 0)
        t_expect(t, DTB_COLL_ALLGATHER, (uint64_t)total);
    for (int r = 0; r < t->size && rc == 0; r++)
        T_CHECK(t, blk == 0 || memcmp(recv + (size_t)r * blk, expect + (size_t)r * blk, blk) == 0,
                "%s: block of rank %d differs", what, r);
    T_CHECK(t, t_is_poisoned(recv + total, GUARD * es), "%s: wrote past recv", what);
    t_check_same_on_all_ranks(t, recv, total, what);
    if (!in_place)
        free(send);
    free(recv);
    free(expect);
}

static void broadcast_case(tctx *t, int mode, dtb_dtype dtype, int root, int64_t count)
{
    size_t es = comm_dtype_size(dtype), bytes = (size_t)count * es;
    uint64_t seed = t_mix(0xbcull << 32 ^ (uint64_t)dtype << 24 ^ (uint64_t)count);
    char *buf = t_alloc(bytes + GUARD * es);
    char *expect = t_alloc(bytes);
    t_poison(buf, bytes + GUARD * es);
    if (t->rank == root)
        t_fill(buf, dtype, T_REAL, seed, root, 0, count);
    t_fill(expect, dtype, T_REAL, seed, root, 0, count);
    char what[128];
    snprintf(what, sizeof what, "broadcast %s root %d count %lld", t_dtype_name(dtype), root,
             (long long)count);

    int rc;
    if (mode == 0) {
        rc = comm_broadcast(t->comm, buf, count, dtype, root);
    } else {
        comm_request req = {0};
        rc = comm_ibroadcast(t->comm, buf, count, dtype, root, &req);
        if (rc == 0)
            rc = t_complete(t, &req, mode == 2);
        T_CHECK(t, !req.active, "%s: request still active after completion", what);
    }
    T_CHECK(t, rc == 0, "%s: rc %d: %s", what, rc, comm_error(t->comm));
    if (rc == 0)
        t_expect(t, DTB_COLL_BROADCAST, (uint64_t)bytes);
    T_CHECK(t, rc != 0 || bytes == 0 || memcmp(buf, expect, bytes) == 0,
            "%s: data differs from the root's", what);
    T_CHECK(t, t_is_poisoned(buf + bytes, GUARD * es), "%s: wrote past the buffer", what);
    free(buf);
    free(expect);
}

void test_allgather(tctx *t)
{
    int64_t sizes[8];
    int ns = t_sizes(t, 1, sizes);
    for (int mode = 0; mode < 3; mode++)
        for (size_t d = 0; d < sizeof DTYPES / sizeof DTYPES[0]; d++) {
            for (int in_place = 0; in_place <= 1; in_place++)
                for (int s = 0; s < ns; s++)
                    allgather_case(t, mode, DTYPES[d], in_place, sizes[s]);
            t_point(t, "allgather %s, separate and in-place, %s", t_dtype_name(DTYPES[d]),
                    MODE_NAME[mode]);
        }
}

void test_broadcast(tctx *t)
{
    int64_t sizes[8];
    int ns = t_sizes(t, 0, sizes);
    for (int mode = 0; mode < 3; mode++)
        for (size_t d = 0; d < sizeof DTYPES / sizeof DTYPES[0]; d++) {
            for (int root = 0; root < t->size; root++)
                for (int s = 0; s < ns; s++)
                    broadcast_case(t, mode, DTYPES[d], root, sizes[s]);
            t_point(t, "broadcast %s, every root, %s", t_dtype_name(DTYPES[d]), MODE_NAME[mode]);
        }
}
