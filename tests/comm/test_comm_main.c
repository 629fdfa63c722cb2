/*
 * comm_collectives: the impl/comm communicator against expectations every
 * rank computes itself. Run under mpirun at several world sizes; prints one
 * TAP line per test point (rank 0) and exits non-zero if any check failed on
 * any rank.
 */
#include <stdio.h>
#include <stdlib.h>

#include "comm_test_util.h"

/* The counters of the communicator under test must equal the tally of every
 * collective the test groups issued successfully on it. */
static void check_final_counters(tctx *t)
{
    dtb_counters got;
    comm_counters(t->comm, &got);
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++) {
        T_CHECK(t, got.calls[i] == t->expect.calls[i], "kind %d: %llu calls, tallied %llu", i,
                (unsigned long long)got.calls[i], (unsigned long long)t->expect.calls[i]);
        T_CHECK(t, got.bytes[i] == t->expect.bytes[i], "kind %d: %llu bytes, tallied %llu", i,
                (unsigned long long)got.bytes[i], (unsigned long long)t->expect.bytes[i]);
    }
    t_point(t, "counters equal the tally of everything issued (refused calls not counted)");
}

int main(int argc, char **argv)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "MPI_Init failed\n");
        return 1;
    }
    tctx t = {0};
    MPI_Comm_rank(MPI_COMM_WORLD, &t.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &t.size);
    if (t.rank == 0)
        printf("TAP version 13\n");

    char err[256];
    if (comm_create(MPI_Comm_c2f(MPI_COMM_WORLD), &t.comm, err, sizeof err) != 0) {
        fprintf(stderr, "# rank %d: comm_create: %s\n", t.rank, err);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (comm_rank(t.comm) != t.rank || comm_size(t.comm) != t.size) {
        fprintf(stderr, "# rank %d: comm_rank/comm_size disagree with MPI_COMM_WORLD\n", t.rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    test_bf16_arithmetic(&t);
    test_allreduce(&t);
    test_reduce_scatter(&t);
    test_allgather(&t);
    test_broadcast(&t);
    test_concurrent_requests(&t);
    test_request_states(&t);
    test_error_paths(&t);
    test_counter_sequence(&t);
    check_final_counters(&t);

    int b = comm_barrier(t.comm); /* completes; counted after the final check */
    T_CHECK(&t, b == 0, "barrier: %s", comm_error(t.comm));
    comm_destroy(t.comm);
    t_point(&t, "barrier and destroy");

    if (t.rank == 0) {
        printf("1..%d\n", t.point);
        if (t.points_failed)
            printf("# %d of %d test points failed\n", t.points_failed, t.point);
    }
    int failed = t.points_failed != 0;
    MPI_Finalize();
    return failed ? 1 : 0;
}

/* Sanitizer builds: Open MPI allocates inside components it dlopens and
 * unloads again in MPI_Finalize, so the frame-pointer unwinder stops in
 * modules that are gone by report time and ci/lsan.supp cannot match them.
 * The slower DWARF unwinder records the libmpi/libopen-pal callers, which the
 * suppressions do match. (Read by the ASan runtime; unused otherwise.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }
