/* The comm benchmark's inputs and their closed forms: values are never zero
 * and sums are exact in fp32 in any order; the verification passes a correct
 * output and catches every kind of wrong one (one element off by an ulp, a
 * sign, a NaN, a rank's contribution missing or counted twice, a shifted or
 * stale buffer, blocks swapped). No MPI: the ranks are simulated. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/check.h"
#include "comm_pattern.h"

#define SEED 20241123u

static float *alloc_floats(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* Every value s * m * 2^-e: nonzero, a multiple of 1/8, |v| <= 8; not all
 * equal (the generator really varies). */
static void test_values(void)
{
    comm_pattern p;
    comm_pattern_init(&p, SEED, 0);
    int seen[64] = {0}, distinct = 0;
    for (int64_t j = 0; j < (1 << 20); j += 7) {
        float v = comm_pattern_value(&p, j);
        CHECK(v != 0.0f && fabsf(v) <= 8.0f);
        CHECK(v * 8.0f == floorf(v * 8.0f));
    }
    /* every code occurs among 4096 draws */
    for (int64_t j = 0; j < 4096; j++) {
        unsigned code = (p.t[0][j & 4095] ^ p.t[1][0] ^ p.t[2][0]) & 63u;
        CHECK(comm_pattern_value(&p, j) == p.value[code]);
        if (!seen[code]++)
            distinct++;
    }
    CHECK(distinct == 64);
    /* deterministic, and another sequence gives another pattern */
    comm_pattern q, r;
    comm_pattern_init(&q, SEED, 0);
    comm_pattern_init(&r, SEED, 1);
    int differ = 0;
    for (int64_t j = 0; j < 1000; j++) {
        CHECK(comm_pattern_value(&q, j) == comm_pattern_value(&p, j));
        differ += comm_pattern_value(&r, j) != comm_pattern_value(&p, j);
    }
    CHECK(differ > 900);
    /* the high index bits matter: a shift by 4096 or 2^24 changes the values */
    int shifted = 0, far = 0;
    for (int64_t j = 0; j < 1000; j++) {
        shifted += comm_pattern_value(&p, j + 4096) != comm_pattern_value(&p, j);
        far += comm_pattern_value(&p, j + (1 << 24)) != comm_pattern_value(&p, j);
    }
    CHECK(shifted > 900 && far > 900);
}

/* Simulates an op over np ranks: each rank's input from fill_input, the
 * output of rank `rank` computed the way a collective would (sums in a
 * rank order given by `order`), in fp32. */
static void simulate(const comm_pattern *p, dtb_collective op, int np, int64_t elements,
                     int rank, const int *order, float *out)
{
    int64_t in_len = comm_pattern_input_len(op, elements, np);
    int64_t out_len = comm_pattern_output_len(op, elements, np);
    float **in = calloc((size_t)np, sizeof *in);
    for (int r = 0; r < np; r++) {
        in[r] = alloc_floats(in_len);
        comm_pattern_fill_input(p, op, in[r], elements, r, np);
    }
    for (int64_t i = 0; i < out_len; i++) {
        float acc = 0.0f;
        switch (op) {
        case DTB_COLL_ALLREDUCE:
            for (int k = 0; k < np; k++)
                acc += in[order[k]][i];
            break;
        case DTB_COLL_REDUCE_SCATTER:
            for (int k = 0; k < np; k++)
                acc += in[order[k]][(int64_t)rank * elements + i];
            break;
        case DTB_COLL_ALLGATHER:
            acc = in[i / elements][i % elements];
            break;
        case DTB_COLL_BROADCAST:
            acc = in[0][i];
            break;
        default:
            break;
        }
        out[i] = acc;
    }
    for (int r = 0; r < np; r++)
        free(in[r]);
    free(in);
}

static void shuffle(int *order, int np, unsigned *state)
{
    for (int r = 0; r < np; r++)
        order[r] = r;
    for (int r = np - 1; r > 0; r--) {
        *state = *state * 1103515245u + 12345u;
        int k = (int)((*state >> 8) % (unsigned)(r + 1));
        int t = order[r];
        order[r] = order[k];
        order[k] = t;
    }
}

static const dtb_collective OPS[4] = {DTB_COLL_ALLREDUCE, DTB_COLL_REDUCE_SCATTER,
                                      DTB_COLL_ALLGATHER, DTB_COLL_BROADCAST};

/* Correct outputs pass, whatever the summation order and world size, up to
 * 64 ranks (the exactness bound). */
static void test_exact_any_order(void)
{
    const int worlds[] = {1, 2, 3, 4, 7, 64};
    unsigned state = 7;
    int order[64];
    for (size_t w = 0; w < sizeof worlds / sizeof worlds[0]; w++)
        for (int o = 0; o < 4; o++) {
            int np = worlds[w];
            int64_t elements = np == 64 ? 257 : 1031;
            comm_pattern p;
            comm_pattern_init(&p, SEED, (uint64_t)(w * 4 + o));
            float *out = alloc_floats(comm_pattern_output_len(OPS[o], elements, np));
            for (int rank = 0; rank < np; rank += np > 4 ? 5 : 1) {
                shuffle(order, np, &state);
                simulate(&p, OPS[o], np, elements, rank, order, out);
                comm_mismatch m = {-1, 0, 0};
                int64_t wrong = comm_pattern_verify(&p, OPS[o], out, elements, rank, np, &m);
                if (wrong)
                    fprintf(stderr, "op %d np %d rank %d: %lld wrong, first %lld: %g vs %g\n",
                            o, np, rank, (long long)wrong, (long long)m.index, m.expected,
                            m.got);
                CHECK(wrong == 0 && m.index == -1);
                CHECK(comm_pattern_expected(&p, OPS[o], rank, np, elements, elements / 2) ==
                      out[elements / 2]);
            }
            free(out);
        }
}

/* Each corruption of a correct output is caught, counted and located. */
static void test_corruption_caught(void)
{
    const int np = 4, rank = 2;
    const int64_t elements = 5000;
    int order[4] = {0, 1, 2, 3};
    for (int o = 0; o < 4; o++) {
        dtb_collective op = OPS[o];
        int64_t n = comm_pattern_output_len(op, elements, np);
        comm_pattern p;
        comm_pattern_init(&p, SEED, 100 + (uint64_t)o);
        float *good = alloc_floats(n), *bad = alloc_floats(n);
        simulate(&p, op, np, elements, rank, order, good);
        comm_mismatch m;

        /* one element one ulp off */
        memcpy(bad, good, (size_t)n * sizeof *bad);
        int64_t at = n - 3;
        bad[at] = nextafterf(bad[at], INFINITY);
        CHECK(comm_pattern_verify(&p, op, bad, elements, rank, np, &m) == 1);
        CHECK(m.index == at && m.expected == good[at] && m.got == bad[at]);

        /* a sign, a NaN, a zero: three more */
        bad[7] = -bad[7];
        bad[1000] = NAN;
        bad[1500] = 0.0f;
        CHECK(comm_pattern_verify(&p, op, bad, elements, rank, np, &m) == 4);
        CHECK(m.index == 7 && m.expected == good[7] && m.got == -good[7]);

        /* the previous repetition's output (stale: the collective did nothing) */
        comm_pattern prev;
        comm_pattern_init(&prev, SEED, 99 + (uint64_t)o);
        simulate(&prev, op, np, elements, rank, order, bad);
        CHECK(comm_pattern_verify(&p, op, bad, elements, rank, np, &m) > n / 2);

        /* shifted by one element */
        memcpy(bad, good + 1, (size_t)(n - 1) * sizeof *bad);
        bad[n - 1] = good[0];
        CHECK(comm_pattern_verify(&p, op, bad, elements, rank, np, &m) > n / 2);
        CHECK(m.index >= 0 && m.index < 64);

        /* the untouched input of this rank (no reduction, no gather) */
        if (op != DTB_COLL_BROADCAST) {
            /* (an allgather's input is 1 block of its N-block output: the rest 0) */
            float *in = alloc_floats(n > comm_pattern_input_len(op, elements, np)
                                         ? n
                                         : comm_pattern_input_len(op, elements, np));
            comm_pattern_fill_input(&p, op, in, elements, rank, np);
            CHECK(comm_pattern_verify(&p, op, in, elements, rank, np, &m) > 0);
            free(in);
        }
        free(good);
        free(bad);
    }
}

/* Reduction bugs: a rank left out, a rank counted twice, the wrong block
 * scattered, allgather blocks swapped, broadcast from the wrong root. */
static void test_reduction_bugs(void)
{
    const int np = 4;
    const int64_t elements = 999;
    comm_pattern p;
    comm_pattern_init(&p, SEED, 7);
    comm_mismatch m;
    float *out = alloc_floats(elements * np);

    int missing[4] = {0, 1, 2, 2}; /* rank 3 left out, rank 2 twice */
    simulate(&p, DTB_COLL_ALLREDUCE, np, elements, 0, missing, out);
    CHECK(comm_pattern_verify(&p, DTB_COLL_ALLREDUCE, out, elements, 0, np, &m) == elements);

    int order[4] = {0, 1, 2, 3};
    simulate(&p, DTB_COLL_REDUCE_SCATTER, np, elements, 1, order, out); /* rank 1's block */
    CHECK(comm_pattern_verify(&p, DTB_COLL_REDUCE_SCATTER, out, elements, 2, np, &m) > 900);

    simulate(&p, DTB_COLL_ALLGATHER, np, elements, 0, order, out);
    for (int64_t k = 0; k < elements; k++) { /* swap blocks 1 and 2 */
        float t = out[elements + k];
        out[elements + k] = out[2 * elements + k];
        out[2 * elements + k] = t;
    }
    /* a(j) w(1) and a(j') w(2) can coincide (3 * 2 = 2 * 3): most, not all, differ */
    CHECK(comm_pattern_verify(&p, DTB_COLL_ALLGATHER, out, elements, 0, np, &m) > 3 * elements / 2);
    CHECK(m.index >= elements && m.index < elements + 100);

    /* a non-root's own input: -a(j), every element wrong */
    comm_pattern_fill_input(&p, DTB_COLL_BROADCAST, out, elements, 3, np);
    CHECK(comm_pattern_verify(&p, DTB_COLL_BROADCAST, out, elements, 3, np, &m) == elements);
    free(out);
}

int main(void)
{
    test_values();
    test_exact_any_order();
    test_corruption_caught();
    test_reduction_bugs();
    return check_report("bench_unit_comm_pattern");
}
