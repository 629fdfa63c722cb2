/*
 * Counters after a known sequence on a fresh communicator, against numbers
 * written out by hand (S in bytes: allreduce/broadcast the buffer,
 * reduce-scatter and allgather N*block), with refused calls in between that
 * must count nothing; and comm_bus_bytes against nccl-tests' factors.
 */
#include <stdlib.h>
#include <string.h>

#include "comm_test_util.h"

static void check_bus_bytes(tctx *t)
{
    struct {
        dtb_collective kind;
        double size;
        int n;
        double want;
    } cases[] = {
        {DTB_COLL_ALLREDUCE, 1000, 4, 1500},     /* 2(N-1)/N = 1.5 */
        {DTB_COLL_ALLREDUCE, 1000, 2, 1000},     /* 2(N-1)/N = 1 */
        {DTB_COLL_ALLREDUCE, 1000, 1, 0},
        {DTB_COLL_REDUCE_SCATTER, 1000, 4, 750}, /* (N-1)/N */
        {DTB_COLL_ALLGATHER, 1000, 4, 750},
        {DTB_COLL_ALLGATHER, 999, 3, 666},
        {DTB_COLL_BROADCAST, 1000, 4, 1000},     /* 1 */
        {DTB_COLL_REDUCE, 1000, 4, 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = comm_bus_bytes(cases[i].kind, cases[i].size, cases[i].n);
        T_CHECK(t, got == cases[i].want, "bus bytes case %zu: %g, want %g", i, got,
                cases[i].want);
    }
}

void test_counter_sequence(tctx *t)
{
    const int N = t->size, me = t->rank;
    dtb_comm *c = NULL;
    char err[256];
    if (comm_create(MPI_Comm_c2f(MPI_COMM_WORLD), &c, err, sizeof err) != 0) {
        T_CHECK(t, 0, "comm_create: %s", err);
        t_point(t, "counters after a known sequence are exact");
        return;
    }
    T_CHECK(t, comm_rank(c) == me && comm_size(c) == N, "rank/size wrong");
    T_CHECK(t, comm_error(c)[0] == '\0', "fresh comm has an error message");
    dtb_counters k;
    comm_counters(c, &k);
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++)
        T_CHECK(t, k.calls[i] == 0 && k.bytes[i] == 0, "fresh counters nonzero for kind %d", i);

    float f[64];
    double d[64];
    uint16_t h[64];
    for (int i = 0; i < 64; i++) {
        f[i] = (float)(i + 1);
        d[i] = i + 1;
        h[i] = 0x3f80; /* 1.0 */
    }
    comm_request r = {0};
    int bad = 0;
    bad |= comm_allreduce(c, f, 10, DTB_DTYPE_FP32, COMM_SUM);                /* 40 */
    bad |= comm_allreduce(c, h, 7, DTB_DTYPE_BF16, COMM_SUM);                 /* 14 */
    bad |= comm_iallreduce(c, d, 5, DTB_DTYPE_FP64, COMM_MAX, &r);            /* 40 */
    bad |= comm_wait(c, &r);
    bad |= comm_allreduce(c, f, -1, DTB_DTYPE_FP32, COMM_SUM) == 0;           /* refused */
    bad |= comm_allreduce(c, h, 2, DTB_DTYPE_BF16, COMM_MAX) == 0;            /* refused */
    float rs_in[4 * 3 * 4];
    memset(rs_in, 0, sizeof rs_in);
    bad |= comm_reduce_scatter(c, rs_in, f, 3, DTB_DTYPE_FP32, COMM_SUM);     /* 12N */
    uint16_t rs_h[2 * 4] = {0};
    bad |= comm_ireduce_scatter(c, rs_h, h, 2, DTB_DTYPE_BF16, COMM_SUM, &r); /* 4N */
    bad |= comm_wait(c, &r);
    double ag[4 * 4];
    bad |= comm_allgather(c, d, ag, 4, DTB_DTYPE_FP64);                       /* 32N */
    float ag_f[4];
    ag_f[me] = 1.0f;
    bad |= comm_iallgather(c, ag_f + me, ag_f, 1, DTB_DTYPE_FP32, &r);        /* 4N, in place */
    bad |= comm_wait(c, &r);
    bad |= comm_broadcast(c, h, 9, DTB_DTYPE_BF16, N - 1);                    /* 18 */
    bad |= comm_broadcast(c, h, 9, DTB_DTYPE_BF16, N) == 0;                   /* refused */
    bad |= comm_ibroadcast(c, f, 6, DTB_DTYPE_FP32, 0, &r);                   /* 24 */
    bad |= comm_wait(c, &r);
    bad |= comm_barrier(c);
    bad |= comm_barrier(c);
    T_CHECK(t, !bad, "the sequence did not run as planned: %s", comm_error(c));

    const uint64_t n = (uint64_t)N;
    const uint64_t want_calls[DTB_COLL_KIND_COUNT] = {3, 2, 2, 2, 0, 2};
    const uint64_t want_bytes[DTB_COLL_KIND_COUNT] = {94, 16 * n, 36 * n, 42, 0, 0};
    comm_counters(c, &k);
    static const char *names[] = {"allreduce", "reduce_scatter", "allgather",
                                  "broadcast", "reduce",         "barrier",       "p2p"};
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++) {
        T_CHECK(t, k.calls[i] == want_calls[i], "%s calls %llu, want %llu", names[i],
                (unsigned long long)k.calls[i], (unsigned long long)want_calls[i]);
        T_CHECK(t, k.bytes[i] == want_bytes[i], "%s bytes %llu, want %llu", names[i],
                (unsigned long long)k.bytes[i], (unsigned long long)want_bytes[i]);
    }
    comm_destroy(c);
    check_bus_bytes(t);
    t_point(t, "counters after a known sequence are exact; bus-byte factors");
}
