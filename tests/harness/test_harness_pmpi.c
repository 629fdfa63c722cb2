/* pmpi_count.h under mpirun (np 1, 2, 3): every wrapper counts one call of
 * the right kind with nccl-tests' size S (docs/verification.md), in its
 * blocking, non-blocking and MPI_IN_PLACE forms, while counting is on and
 * never while it is off; sends to MPI_PROC_NULL count nothing; a size the
 * library cannot determine makes the counters inexact; threads count
 * without losing updates; and the wrapped calls still compute what MPI
 * computes (results checked on random data). Counts come from a fixed seed,
 * the same on every rank; data from the seed and the rank, never zero. */
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "pmpi_count.h"

#define SEED 0x5eed2026u
#define MAX_COUNT 300

static int rank, np;
static uint64_t rng_state = SEED;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A count in [1, MAX_COUNT], the same on every rank (shared sequence). */
static int random_count(void)
{
    return 1 + (int)(next_u64() % MAX_COUNT);
}

/* Element i of rank r's data for the op numbered `op`: in [1, 1000]. */
static int value(int op, int r, int i)
{
    uint64_t z = SEED ^ ((uint64_t)op << 40) ^ ((uint64_t)r << 20) ^ (uint64_t)i;
    z = (z ^ (z >> 31)) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ull;
    return 1 + (int)((z ^ (z >> 32)) % 1000);
}

static int *ints(size_t n)
{
    int *p = calloc(n ? n : 1, sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return p;
}

static void fill(int *buf, int op, int r, int n)
{
    for (int i = 0; i < n; i++)
        buf[i] = value(op, r, i);
}

static void begin(void)
{
    pmpi_count_reset();
    pmpi_count_on();
}

/* Counting off; exactly `calls` calls and `bytes` bytes of `kind`, nothing else. */
static void expect(const char *what, int kind, uint64_t calls, uint64_t bytes)
{
    pmpi_count_off();
    dtb_counters c;
    int exact = pmpi_count_read(&c) == 0;
    int ok = exact;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        uint64_t wc = k == kind ? calls : 0, wb = k == kind ? bytes : 0;
        ok &= c.calls[k] == wc && c.bytes[k] == wb;
    }
    if (!ok) {
        fprintf(stderr, "rank %d np %d: %s: want kind %d %llu calls %llu bytes, got (exact %d)",
                rank, np, what, kind, (unsigned long long)calls, (unsigned long long)bytes,
                exact);
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
            fprintf(stderr, " [%d] %llu/%llu", k, (unsigned long long)c.calls[k],
                    (unsigned long long)c.bytes[k]);
        fprintf(stderr, "\n");
    }
    CHECK(ok);
}

static void wait(MPI_Request *req)
{
    CHECK(MPI_Wait(req, MPI_STATUS_IGNORE) == MPI_SUCCESS);
}

/* ---- allreduce, reduce, bcast ------------------------------------------------- */

static void test_allreduce(int op)
{
    int n = random_count();
    int *a = ints((size_t)n), *b = ints((size_t)n);
    fill(a, op, rank, n);
    begin();
    CHECK(MPI_Allreduce(a, b, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("allreduce", DTB_COLL_ALLREDUCE, 1, 4ull * n);
    for (int i = 0; i < n; i++) {
        int want = 0;
        for (int r = 0; r < np; r++)
            want += value(op, r, i);
        CHECK(b[i] == want);
    }
    begin(); /* in place, doubles: 8 bytes each */
    double *d = calloc((size_t)n, sizeof *d);
    CHECK(d != NULL);
    for (int i = 0; d && i < n; i++)
        d[i] = value(op, rank, i);
    CHECK(MPI_Allreduce(MPI_IN_PLACE, d, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("allreduce in place", DTB_COLL_ALLREDUCE, 1, 8ull * n);
    MPI_Request req;
    begin();
    CHECK(MPI_Iallreduce(MPI_IN_PLACE, a, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req) ==
          MPI_SUCCESS);
    wait(&req);
    expect("iallreduce in place", DTB_COLL_ALLREDUCE, 1, 4ull * n);
    free(a);
    free(b);
    free(d);
}

static void test_reduce_bcast(int op)
{
    int n = random_count(), root = np - 1;
    int *a = ints((size_t)n), *b = ints((size_t)n);
    fill(a, op, rank, n);
    begin();
    CHECK(MPI_Reduce(rank == root ? MPI_IN_PLACE : a, a, n, MPI_INT, MPI_SUM, root,
                     MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("reduce (root in place)", DTB_COLL_REDUCE, 1, 4ull * n);
    MPI_Request req;
    begin();
    CHECK(MPI_Ireduce(a, b, n, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("ireduce", DTB_COLL_REDUCE, 1, 4ull * n);
    fill(a, op, root, n);
    if (rank != root)
        fill(a, op + 1, rank, n);
    begin();
    CHECK(MPI_Bcast(a, n, MPI_INT, root, MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("bcast", DTB_COLL_BROADCAST, 1, 4ull * n);
    for (int i = 0; i < n; i++)
        CHECK(a[i] == value(op, root, i));
    begin();
    CHECK(MPI_Ibcast(a, n, MPI_SHORT, 0, MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("ibcast of shorts", DTB_COLL_BROADCAST, 1, 2ull * n);
    free(a);
    free(b);
}

/* ---- reduce-scatter: S = the whole input ------------------------------------ */

static void test_reduce_scatter(int op)
{
    int block = random_count();
    int *in = ints((size_t)block * np), *out = ints((size_t)block);
    fill(in, op, rank, block * np);
    begin();
    CHECK(MPI_Reduce_scatter_block(in, out, block, MPI_INT, MPI_SUM, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("reduce_scatter_block", DTB_COLL_REDUCE_SCATTER, 1, 4ull * block * np);
    for (int i = 0; i < block; i++) {
        int want = 0;
        for (int r = 0; r < np; r++)
            want += value(op, r, rank * block + i);
        CHECK(out[i] == want);
    }
    begin();
    CHECK(MPI_Reduce_scatter_block(MPI_IN_PLACE, in, block, MPI_INT, MPI_SUM,
                                   MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("reduce_scatter_block in place", DTB_COLL_REDUCE_SCATTER, 1, 4ull * block * np);
    MPI_Request req;
    fill(in, op, rank, block * np);
    begin();
    CHECK(MPI_Ireduce_scatter_block(in, out, block, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD,
                                    &req) == MPI_SUCCESS);
    wait(&req);
    expect("ireduce_scatter_block", DTB_COLL_REDUCE_SCATTER, 1, 4ull * block * np);

    /* Uneven blocks: S = sum of recvcounts. */
    int *counts = ints((size_t)np);
    long long total = 0;
    for (int r = 0; r < np; r++)
        total += counts[r] = random_count();
    int *all = ints((size_t)total), *mine = ints((size_t)counts[rank]);
    fill(all, op, rank, (int)total);
    begin();
    CHECK(MPI_Reduce_scatter(all, mine, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("reduce_scatter", DTB_COLL_REDUCE_SCATTER, 1, 4ull * (uint64_t)total);
    begin();
    CHECK(MPI_Reduce_scatter(MPI_IN_PLACE, all, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("reduce_scatter in place", DTB_COLL_REDUCE_SCATTER, 1, 4ull * (uint64_t)total);
    begin();
    CHECK(MPI_Ireduce_scatter(all, mine, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &req) ==
          MPI_SUCCESS);
    wait(&req);
    expect("ireduce_scatter", DTB_COLL_REDUCE_SCATTER, 1, 4ull * (uint64_t)total);
    free(in);
    free(out);
    free(counts);
    free(all);
    free(mine);
}

/* ---- allgather: S = the whole output ----------------------------------------- */

static void test_allgather(int op)
{
    int block = random_count();
    int *mine = ints((size_t)block), *all = ints((size_t)block * np);
    fill(mine, op, rank, block);
    begin();
    CHECK(MPI_Allgather(mine, block, MPI_INT, all, block, MPI_INT, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("allgather", DTB_COLL_ALLGATHER, 1, 4ull * block * np);
    for (int r = 0; r < np; r++)
        for (int i = 0; i < block; i++)
            CHECK(all[r * block + i] == value(op, r, i));
    /* In place: the send side is ignored (here deliberately bogus), the
     * receive side sizes the call. */
    begin();
    CHECK(MPI_Allgather(MPI_IN_PLACE, -7, MPI_DATATYPE_NULL, all, block, MPI_INT,
                        MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("allgather in place", DTB_COLL_ALLGATHER, 1, 4ull * block * np);
    MPI_Request req;
    begin();
    CHECK(MPI_Iallgather(mine, 2 * block, MPI_SHORT, all, 2 * block, MPI_SHORT,
                         MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("iallgather", DTB_COLL_ALLGATHER, 1, 4ull * block * np);

    int *counts = ints((size_t)np), *displs = ints((size_t)np);
    long long total = 0;
    for (int r = 0; r < np; r++) {
        counts[r] = random_count() % block + 1; /* <= block: fits in mine */
        displs[r] = (int)total;
        total += counts[r];
    }
    int *v = ints((size_t)total);
    begin();
    CHECK(MPI_Allgatherv(mine, counts[rank], MPI_INT, v, counts, displs, MPI_INT,
                         MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("allgatherv", DTB_COLL_ALLGATHER, 1, 4ull * (uint64_t)total);
    for (int r = 0; r < np; r++)
        for (int i = 0; i < counts[r]; i++)
            CHECK(v[displs[r] + i] == value(op, r, i));
    begin();
    CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, counts, displs, MPI_INT,
                         MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("allgatherv in place", DTB_COLL_ALLGATHER, 1, 4ull * (uint64_t)total);
    begin();
    CHECK(MPI_Iallgatherv(mine, counts[rank], MPI_INT, v, counts, displs, MPI_INT,
                          MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("iallgatherv", DTB_COLL_ALLGATHER, 1, 4ull * (uint64_t)total);
    free(mine);
    free(all);
    free(counts);
    free(displs);
    free(v);
}

static void test_barrier(void)
{
    begin();
    CHECK(MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("barrier", DTB_COLL_BARRIER, 1, 0);
    MPI_Request req;
    begin();
    CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("ibarrier", DTB_COLL_BARRIER, 1, 0);
}

/* ---- point-to-point: a ring, each rank sends to the next ----------------------- */

static void test_p2p(int op)
{
    const int next = (rank + 1) % np, prev = (rank + np - 1) % np;
    int n = random_count();
    int *out = ints((size_t)n), *in = ints((size_t)n);
    fill(out, op, rank, n);
    MPI_Request rreq, sreq;
    /* The blocking sends: the receive is posted first, so even a world of
     * one (a rank sending to itself) completes; for rsend everyone's
     * receive is posted before anyone sends (the barrier is not counted). */
    for (int form = 0; form < 4; form++) {
        static const char *const names[] = {"send", "ssend", "rsend", "bsend"};
        CHECK(MPI_Irecv(in, n, MPI_INT, prev, form, MPI_COMM_WORLD, &rreq) == MPI_SUCCESS);
        CHECK(MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS);
        int size = 0;
        void *attached = NULL;
        if (form == 3) {
            CHECK(MPI_Pack_size(n, MPI_INT, MPI_COMM_WORLD, &size) == MPI_SUCCESS);
            size += MPI_BSEND_OVERHEAD;
            attached = malloc((size_t)size);
            CHECK(attached && MPI_Buffer_attach(attached, size) == MPI_SUCCESS);
        }
        begin();
        int rc = form == 0   ? MPI_Send(out, n, MPI_INT, next, form, MPI_COMM_WORLD)
                 : form == 1 ? MPI_Ssend(out, n, MPI_INT, next, form, MPI_COMM_WORLD)
                 : form == 2 ? MPI_Rsend(out, n, MPI_INT, next, form, MPI_COMM_WORLD)
                             : MPI_Bsend(out, n, MPI_INT, next, form, MPI_COMM_WORLD);
        CHECK(rc == MPI_SUCCESS);
        expect(names[form], DTB_COLL_P2P, 1, 4ull * n);
        wait(&rreq);
        for (int i = 0; i < n; i++)
            CHECK(in[i] == value(op, prev, i));
        if (form == 3)
            CHECK(MPI_Buffer_detach(&attached, &size) == MPI_SUCCESS);
        free(attached);
    }
    for (int form = 0; form < 4; form++) {
        static const char *const names[] = {"isend", "issend", "irsend", "ibsend"};
        CHECK(MPI_Irecv(in, n, MPI_INT, prev, 10 + form, MPI_COMM_WORLD, &rreq) ==
              MPI_SUCCESS);
        CHECK(MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS);
        int size = 0;
        void *attached = NULL;
        if (form == 3) {
            CHECK(MPI_Pack_size(n, MPI_INT, MPI_COMM_WORLD, &size) == MPI_SUCCESS);
            size += MPI_BSEND_OVERHEAD;
            attached = malloc((size_t)size);
            CHECK(attached && MPI_Buffer_attach(attached, size) == MPI_SUCCESS);
        }
        begin();
        int tag = 10 + form;
        int rc = form == 0   ? MPI_Isend(out, n, MPI_INT, next, tag, MPI_COMM_WORLD, &sreq)
                 : form == 1 ? MPI_Issend(out, n, MPI_INT, next, tag, MPI_COMM_WORLD, &sreq)
                 : form == 2 ? MPI_Irsend(out, n, MPI_INT, next, tag, MPI_COMM_WORLD, &sreq)
                             : MPI_Ibsend(out, n, MPI_INT, next, tag, MPI_COMM_WORLD, &sreq);
        CHECK(rc == MPI_SUCCESS);
        expect(names[form], DTB_COLL_P2P, 1, 4ull * n);
        wait(&sreq);
        wait(&rreq);
        for (int i = 0; i < n; i++)
            CHECK(in[i] == value(op, prev, i));
        if (form == 3)
            CHECK(MPI_Buffer_detach(&attached, &size) == MPI_SUCCESS);
        free(attached);
    }
    /* sendrecv: the send side only, whatever is received. */
    int m = n + random_count(); /* room for more than arrives */
    int *big = ints((size_t)m);
    begin();
    CHECK(MPI_Sendrecv(out, n, MPI_INT, next, 20, big, m, MPI_INT, prev, 20, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE) == MPI_SUCCESS);
    expect("sendrecv", DTB_COLL_P2P, 1, 4ull * n);
    for (int i = 0; i < n; i++)
        CHECK(big[i] == value(op, prev, i));
    fill(in, op, rank, n);
    begin();
    CHECK(MPI_Sendrecv_replace(in, n, MPI_INT, next, 21, prev, 21, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE) == MPI_SUCCESS);
    expect("sendrecv_replace", DTB_COLL_P2P, 1, 4ull * n);
    for (int i = 0; i < n; i++)
        CHECK(in[i] == value(op, prev, i));
    /* Nothing leaves for MPI_PROC_NULL. */
    begin();
    CHECK(MPI_Send(out, n, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD) == MPI_SUCCESS);
    CHECK(MPI_Isend(out, n, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD, &sreq) == MPI_SUCCESS);
    wait(&sreq);
    CHECK(MPI_Sendrecv(out, n, MPI_INT, MPI_PROC_NULL, 22, in, n, MPI_INT, MPI_PROC_NULL, 22,
                       MPI_COMM_WORLD, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    expect("sends to MPI_PROC_NULL", DTB_COLL_P2P, 0, 0);
    free(out);
    free(in);
    free(big);
}

/* ---- alltoall, gather, scatter: the bytes sent to other ranks ------------------- */

static void test_alltoall(int op)
{
    int block = random_count();
    int *out = ints((size_t)block * np), *in = ints((size_t)block * np);
    fill(out, op, rank, block * np);
    const uint64_t others = (uint64_t)(np - 1);
    begin();
    CHECK(MPI_Alltoall(out, block, MPI_INT, in, block, MPI_INT, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("alltoall", DTB_COLL_P2P, 1, 4ull * block * others);
    for (int r = 0; r < np; r++)
        for (int i = 0; i < block; i++)
            CHECK(in[r * block + i] == value(op, r, rank * block + i));
    begin();
    CHECK(MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, in, block, MPI_INT,
                       MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("alltoall in place", DTB_COLL_P2P, 1, 4ull * block * others);
    MPI_Request req;
    begin();
    CHECK(MPI_Ialltoall(out, block, MPI_INT, in, block, MPI_INT, MPI_COMM_WORLD, &req) ==
          MPI_SUCCESS);
    wait(&req);
    expect("ialltoall", DTB_COLL_P2P, 1, 4ull * block * others);

    /* alltoallv: rank r sends (r + d + 1) elements to rank d (symmetric:
     * rank d expects the same from r as r sends it). */
    int *sc = ints((size_t)np), *sd = ints((size_t)np), *rc = ints((size_t)np),
        *rd = ints((size_t)np);
    int st = 0, rt = 0;
    uint64_t sent = 0;
    for (int d = 0; d < np; d++) {
        sc[d] = rank + d + 1;
        rc[d] = d + rank + 1;
        sd[d] = st;
        rd[d] = rt;
        st += sc[d];
        rt += rc[d];
        if (d != rank)
            sent += 4ull * (uint64_t)sc[d];
    }
    int *vout = ints((size_t)st), *vin = ints((size_t)rt);
    fill(vout, op, rank, st);
    begin();
    CHECK(MPI_Alltoallv(vout, sc, sd, MPI_INT, vin, rc, rd, MPI_INT, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("alltoallv", DTB_COLL_P2P, 1, sent);
    begin();
    CHECK(MPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, vin, rc, rd, MPI_INT,
                        MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("alltoallv in place", DTB_COLL_P2P, 1, sent); /* rc = sc here */
    begin();
    CHECK(MPI_Ialltoallv(vout, sc, sd, MPI_INT, vin, rc, rd, MPI_INT, MPI_COMM_WORLD, &req) ==
          MPI_SUCCESS);
    wait(&req);
    expect("ialltoallv", DTB_COLL_P2P, 1, sent);
    free(out);
    free(in);
    free(sc);
    free(sd);
    free(rc);
    free(rd);
    free(vout);
    free(vin);
}

static void test_gather_scatter(int op)
{
    int block = random_count(), root = np / 2;
    const int is_root = rank == root;
    int *mine = ints((size_t)block), *all = ints((size_t)block * np);
    fill(mine, op, rank, block);
    fill(all, op, rank, block * np);
    const uint64_t gathered = is_root ? 0 : 4ull * block;
    const uint64_t scattered = is_root ? 4ull * block * (uint64_t)(np - 1) : 0;
    begin();
    CHECK(MPI_Gather(mine, block, MPI_INT, all, block, MPI_INT, root, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("gather", DTB_COLL_P2P, 1, gathered);
    for (int r = 0; is_root && r < np; r++)
        for (int i = 0; i < block; i++)
            CHECK(all[r * block + i] == value(op, r, i));
    begin();
    CHECK(MPI_Gather(is_root ? MPI_IN_PLACE : mine, block, MPI_INT, all, block, MPI_INT, root,
                     MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("gather (root in place)", DTB_COLL_P2P, 1, gathered);
    MPI_Request req;
    begin();
    CHECK(MPI_Igather(mine, block, MPI_INT, all, block, MPI_INT, root, MPI_COMM_WORLD, &req) ==
          MPI_SUCCESS);
    wait(&req);
    expect("igather", DTB_COLL_P2P, 1, gathered);
    int *counts = ints((size_t)np), *displs = ints((size_t)np);
    for (int r = 0; r < np; r++)
        counts[r] = block, displs[r] = r * block;
    begin();
    CHECK(MPI_Gatherv(mine, block, MPI_INT, all, counts, displs, MPI_INT, root,
                      MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("gatherv", DTB_COLL_P2P, 1, gathered);
    begin();
    CHECK(MPI_Igatherv(mine, block, MPI_INT, all, counts, displs, MPI_INT, root,
                       MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("igatherv", DTB_COLL_P2P, 1, gathered);

    fill(all, op + 1, rank, block * np);
    begin();
    CHECK(MPI_Scatter(all, block, MPI_INT, mine, block, MPI_INT, root, MPI_COMM_WORLD) ==
          MPI_SUCCESS);
    expect("scatter", DTB_COLL_P2P, 1, scattered);
    for (int i = 0; i < block; i++)
        CHECK(mine[i] == value(op + 1, root, rank * block + i));
    begin();
    CHECK(MPI_Iscatter(all, block, MPI_INT, mine, block, MPI_INT, root, MPI_COMM_WORLD,
                       &req) == MPI_SUCCESS);
    wait(&req);
    expect("iscatter", DTB_COLL_P2P, 1, scattered);
    /* scatterv, the root's own block counted out whatever its size */
    counts[root] = 1;
    uint64_t v_scattered = 0;
    for (int r = 0; r < np; r++)
        if (r != root)
            v_scattered += 4ull * (uint64_t)counts[r];
    begin();
    CHECK(MPI_Scatterv(all, counts, displs, MPI_INT, is_root ? MPI_IN_PLACE : mine,
                       counts[rank], MPI_INT, root, MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("scatterv (root in place)", DTB_COLL_P2P, 1, is_root ? v_scattered : 0);
    begin();
    CHECK(MPI_Iscatterv(all, counts, displs, MPI_INT, mine, counts[rank], MPI_INT, root,
                        MPI_COMM_WORLD, &req) == MPI_SUCCESS);
    wait(&req);
    expect("iscatterv", DTB_COLL_P2P, 1, is_root ? v_scattered : 0);
    free(mine);
    free(all);
    free(counts);
    free(displs);
}

/* ---- the switch, the reset, a size MPI cannot give ------------------------------ */

static void test_off_and_reset(int op)
{
    int n = random_count();
    int *a = ints((size_t)n);
    fill(a, op, rank, n);
    pmpi_count_reset(); /* reset leaves counting off */
    CHECK(MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS);
    CHECK(MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("calls while off", DTB_COLL_ALLREDUCE, 0, 0);
    begin();
    CHECK(MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS);
    pmpi_count_off();
    CHECK(MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS);
    pmpi_count_on();
    CHECK(MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS);
    expect("on, off, on", DTB_COLL_ALLREDUCE, 2, 8ull * n);
    free(a);
}

/* A failed call counts nothing; a datatype whose size MPI refuses makes the
 * counters inexact (errors return instead of aborting, on a duplicate). */
static void test_inexact(void)
{
    MPI_Comm dup;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup) == MPI_SUCCESS);
    CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN) == MPI_SUCCESS);
    CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) == MPI_SUCCESS);
    int x = rank + 1;
    begin();
    CHECK(MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DATATYPE_NULL, MPI_SUM, dup) != MPI_SUCCESS);
    pmpi_count_off();
    dtb_counters c;
    CHECK(pmpi_count_read(&c) == -1);
    CHECK(c.calls[DTB_COLL_ALLREDUCE] == 0 && c.bytes[DTB_COLL_ALLREDUCE] == 0);
    pmpi_count_reset();
    CHECK(pmpi_count_read(&c) == 0); /* the reset clears it */
    CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL) == MPI_SUCCESS);
    CHECK(MPI_Comm_free(&dup) == MPI_SUCCESS);
}

/* ---- threads: no update lost ------------------------------------------------------ */

#define THREADS 4
#define CALLS_PER_THREAD 400

typedef struct thread_arg {
    MPI_Comm comm;
    int count, ok;
} thread_arg;

static void *bcast_loop(void *p)
{
    thread_arg *a = p;
    int *buf = calloc((size_t)a->count, sizeof *buf);
    a->ok = buf != NULL;
    for (int i = 0; a->ok && i < CALLS_PER_THREAD; i++)
        a->ok = MPI_Bcast(buf, a->count, MPI_INT, 0, a->comm) == MPI_SUCCESS;
    free(buf);
    return NULL;
}

static void test_threads(int provided)
{
    if (provided < MPI_THREAD_MULTIPLE) {
        printf("rank %d: MPI_THREAD_MULTIPLE not provided, thread test skipped\n", rank);
        return;
    }
    thread_arg args[THREADS];
    pthread_t tid[THREADS];
    uint64_t bytes = 0;
    for (int t = 0; t < THREADS; t++) {
        args[t].count = random_count();
        bytes += 4ull * (uint64_t)args[t].count * CALLS_PER_THREAD;
        CHECK(MPI_Comm_dup(MPI_COMM_SELF, &args[t].comm) == MPI_SUCCESS);
    }
    begin();
    for (int t = 0; t < THREADS; t++)
        CHECK(pthread_create(&tid[t], NULL, bcast_loop, &args[t]) == 0);
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(tid[t], NULL) == 0);
        CHECK(args[t].ok);
    }
    expect("threads", DTB_COLL_BROADCAST, (uint64_t)THREADS * CALLS_PER_THREAD, bytes);
    for (int t = 0; t < THREADS; t++)
        CHECK(MPI_Comm_free(&args[t].comm) == MPI_SUCCESS);
}

int main(int argc, char **argv)
{
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    CHECK(pmpi_count_available() == 1);
    /* Several rounds of fresh random sizes. */
    for (int round = 0; round < 3; round++) {
        int op = 100 * round;
        test_allreduce(op + 1);
        test_reduce_bcast(op + 2);
        test_reduce_scatter(op + 4);
        test_allgather(op + 5);
        test_barrier();
        test_p2p(op + 6);
        test_alltoall(op + 7);
        test_gather_scatter(op + 8);
        test_off_and_reset(op + 10);
    }
    test_inexact();
    test_threads(provided);
    int failures = check_failures, any = 0;
    MPI_Allreduce(&failures, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    if (rank == 0 && any && !check_failures)
        fprintf(stderr, "another rank failed\n");
    return any ? 1 : check_report("harness_unit_pmpi");
}
