/*
 * bf16 rounding against hand-picked values: the conversion from fp32 (round
 * to nearest, ties to even, NaN kept NaN, overflow to inf), the add, and the
 * add as the communicator's MPI sum op (rank 0 holds a, rank 1 holds b, the
 * others -0, which leaves any sum unchanged: x + (-0) = x for every x).
 */
#include <string.h>

#include "comm_test_util.h"

static int bf16_is_nan(uint16_t h) { return (h & 0x7fffu) > 0x7f80u; }

typedef struct f2b_case {
    uint32_t f;     /* fp32 bits */
    uint16_t want;  /* bf16 bits; for NaN inputs only NaN-ness and sign are checked */
    const char *why;
} f2b_case;

static const f2b_case F2B[] = {
    {0x3f800000u, 0x3f80, "1.0 exact"},
    {0x3f808000u, 0x3f80, "tie, lsb even: down"},
    {0x3f818000u, 0x3f82, "tie, lsb odd: up"},
    {0x3f808001u, 0x3f81, "just above a tie: up"},
    {0x3f807fffu, 0x3f80, "just below a tie: down"},
    {0xbf808000u, 0xbf80, "negative tie, even: toward zero"},
    {0xbf818000u, 0xbf82, "negative tie, odd: away from zero"},
    {0x7f7fffffu, 0x7f80, "max fp32 rounds to inf"},
    {0x7f7f7fffu, 0x7f7f, "below the tie: max bf16"},
    {0x7f800000u, 0x7f80, "inf"},
    {0xff800000u, 0xff80, "-inf"},
    {0x00008000u, 0x0000, "subnormal tie, even"},
    {0x00018000u, 0x0002, "subnormal tie, odd"},
    {0x80000000u, 0x8000, "-0"},
    {0x7f800001u, 0x7fc0, "NaN with only low payload bits stays NaN"},
    {0xffc00000u, 0xffc0, "negative quiet NaN"},
};

typedef struct add_case {
    uint16_t a, b, want; /* want 0x7fc0: any NaN */
    const char *why;
} add_case;

static const add_case ADD[] = {
    {0x3f80, 0x3b80, 0x3f80, "1 + 2^-8: tie to even, down"},
    {0x3f81, 0x3b80, 0x3f82, "(1+2^-7) + 2^-8: tie to even, up"},
    {0x3f80, 0x3bc0, 0x3f81, "1 + 1.5*2^-8: above half an ulp"},
    {0x3f80, 0x3b00, 0x3f80, "1 + 2^-9: below half an ulp"},
    {0xbf80, 0xbb80, 0xbf80, "-1 - 2^-8: negative tie, even"},
    {0xbf81, 0xbb80, 0xbf82, "-(1+2^-7) - 2^-8: negative tie, odd"},
    {0x4380, 0x3f80, 0x4380, "256 + 1: tie between 256 and 258, even"},
    {0x4381, 0x3f80, 0x4382, "258 + 1: tie between 258 and 260, even"},
    {0x437f, 0x3f80, 0x4380, "255 + 1 = 256 exact"},
    {0x3f80, 0x3f80, 0x4000, "1 + 1 = 2"},
    {0x3f80, 0xbf80, 0x0000, "1 - 1 = +0"},
    {0x8000, 0x8000, 0x8000, "-0 + -0 = -0"},
    {0x0001, 0x0001, 0x0002, "subnormals add exactly"},
    {0x7f7f, 0x7b00, 0x7f80, "max + half an ulp: tie, odd, overflows to inf"},
    {0x7f7f, 0x7f7f, 0x7f80, "max + max = inf"},
    {0x7f80, 0xff80, 0x7fc0, "inf - inf = NaN"},
    {0x7fc1, 0x3f80, 0x7fc0, "NaN + 1 = NaN"},
};

enum { N_F2B = sizeof F2B / sizeof F2B[0], N_ADD = sizeof ADD / sizeof ADD[0] };

static void check_sum(tctx *t, uint16_t got, const add_case *c, const char *how)
{
    if (c->want == 0x7fc0)
        T_CHECK(t, bf16_is_nan(got), "%s %s: got 0x%04x, want NaN", how, c->why, got);
    else
        T_CHECK(t, got == c->want, "%s %s: got 0x%04x, want 0x%04x", how, c->why, got, c->want);
}

void test_bf16_arithmetic(tctx *t)
{
    for (int i = 0; i < N_F2B; i++) {
        float f;
        memcpy(&f, &F2B[i].f, sizeof f);
        uint16_t got = comm_float_to_bf16(f);
        if (bf16_is_nan(F2B[i].want))
            T_CHECK(t, bf16_is_nan(got) && (got & 0x8000) == (F2B[i].want & 0x8000),
                    "float_to_bf16 %s: got 0x%04x", F2B[i].why, got);
        else
            T_CHECK(t, got == F2B[i].want, "float_to_bf16 %s: got 0x%04x, want 0x%04x",
                    F2B[i].why, got, F2B[i].want);
    }
    T_CHECK(t, comm_bf16_to_float(0x3fc0) == 1.5f, "bf16_to_float(0x3fc0) != 1.5");
    T_CHECK(t, comm_bf16_to_float(0xc2f7) == -123.5f, "bf16_to_float(0xc2f7) != -123.5");
    t_point(t, "bf16 conversion from fp32: ties to even, NaN, inf, subnormals");

    for (int i = 0; i < N_ADD; i++) {
        check_sum(t, comm_bf16_add(ADD[i].a, ADD[i].b), &ADD[i], "bf16_add");
        check_sum(t, comm_bf16_add(ADD[i].b, ADD[i].a), &ADD[i], "bf16_add (swapped)");
    }
    t_point(t, "bf16 add: hand-picked values incl. ties to even");

    uint16_t buf[N_ADD];
    for (int i = 0; i < N_ADD; i++)
        buf[i] = t->rank == 0 ? ADD[i].a : t->rank == 1 ? ADD[i].b : 0x8000;
    int rc = comm_allreduce(t->comm, buf, N_ADD, DTB_DTYPE_BF16, COMM_SUM);
    T_CHECK(t, rc == 0, "bf16 allreduce: %s", comm_error(t->comm));
    if (rc == 0) {
        t_expect(t, DTB_COLL_ALLREDUCE, 2 * N_ADD);
        for (int i = 0; i < N_ADD; i++) {
            if (t->size >= 2)
                check_sum(t, buf[i], &ADD[i], "MPI bf16 sum op");
            else /* one rank: nothing is added */
                T_CHECK(t, buf[i] == ADD[i].a, "np 1 bf16 allreduce changed element %d", i);
        }
    }
    t_check_same_on_all_ranks(t, buf, sizeof buf, "bf16 hand-picked allreduce");
    t_point(t, "bf16 sum op through MPI_Allreduce: hand-picked values");
}
