/*
 * What the MPI world tests of the reference implementations share: how far
 * two parameter vectors are apart, whether every rank holds the same bytes,
 * and DDP's exact collectives. Header-only; the including test links MPI
 * (and, for test_ddp_expected_counters, impl/ddp).
 */
#ifndef DTB_TESTS_WORLD_H
#define DTB_TESTS_WORLD_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "ddp_buckets.h"

/* max |a - b| / max |b| */
static inline double test_deviation(const float *a, const float *b, int64_t n)
{
    double worst = 0.0, big = 0.0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
        big = fmax(big, fabs((double)b[i]));
    }
    return worst / big;
}

/* 1 when every rank's bytes equal rank 0's; collective. */
static inline int test_same_on_all_ranks(const void *buf, size_t bytes)
{
    unsigned char *root = malloc(bytes);
    if (root == NULL)
        MPI_Abort(MPI_COMM_WORLD, 2);
    memcpy(root, buf, bytes);
    MPI_Bcast(root, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    const int same = memcmp(root, buf, bytes) == 0;
    free(root);
    int all = 0;
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

/* Reference DDP's collectives over `steps` steps at `world` ranks: per step
 * one allreduce per bucket (4 Psi bytes in all) and one of the fp64 loss
 * sum; nothing in a world of one. -1 when the spec's model is refused. */
static inline int test_ddp_expected_counters(const dtb_run_spec *spec, int world, int64_t steps,
                                             dtb_counters *want)
{
    memset(want, 0, sizeof *want);
    net_model m;
    char why[256];
    const int rc = net_model_init(spec, &m, why, sizeof why);
    const int64_t nb = rc == 0 ? ddp_count_buckets(&m, spec->bucket_bytes) : -1;
    net_model_free(&m);
    if (nb < 1)
        return -1;
    if (world > 1) {
        want->calls[DTB_COLL_ALLREDUCE] = (uint64_t)(steps * (nb + 1));
        want->bytes[DTB_COLL_ALLREDUCE] = (uint64_t)(steps * (4 * spec->model->n_params + 8));
    }
    return 0;
}

#endif
