/*
 * theory.h against hand-computed values.
 *
 * mlp-odd (37-53-56-3) has three layer units: n_0 = 53*37 + 53 = 2014,
 * n_1 = 56*53 + 56 = 3024, n_2 = 3*56 + 3 = 171; Psi = 5209, L = 3. Per rank
 * s_l = ceil(n_l / N):
 *   N = 1: 2014 + 3024 + 171 = 5209 = Psi_s = Psi_P
 *   N = 2: 1007 + 1512 +  86 = 2605, Psi_P = 5210
 *   N = 3:  672 + 1008 +  57 = 1737, Psi_P = 5211
 *   N = 4:  504 +  756 +  43 = 1303, Psi_P = 5212
 * and max_l U_l = 3024 (unit 1 divides by 2, 3 and 4).
 *
 * Communication, M = 3 micro-batches, S = 10 steps, per rank (docs/zero.md):
 * e.g. ZeRO-3 bf16 at N = 4: reduce-scatter S*M*L = 90 calls of
 * S*M*g*Psi_P = 10*3*4*5212 = 625440 bytes, allgather S*2*M*L = 180 calls of
 * S*2*M*p*Psi_P = 10*6*2*5212 = 625440 bytes, allreduce 20 calls, 160 bytes;
 * DDP allreduce S*(4*Psi + 8) = 208440 bytes in at least 2*S = 20 calls.
 *
 * Memory, with the formula and padding multiplied by N to stay integers:
 * e.g. ZeRO-1 fp32 SGD at N = 3 (p = g = K = 4): formula (4+4)*5209 +
 * 4*5209/3 = 145852/3; padded (4+4)*5211 + 4*1737 = 48636 = bound, so the
 * padding is 48636 - 145852/3 = 56/3. ZeRO-3 fp32 SGD at N = 4 with d = 1:
 * 12*5209/4 = 62508/4, padded 12*1303 = 15636, materialised (1+1)*4*3024 =
 * 24192, bound 39828.
 */
#include <math.h>

#include "check.h"
#include "theory.h"

#define DDP DTB_STAGE_DDP
#define ZERO1 DTB_STAGE_ZERO1
#define ZERO2 DTB_STAGE_ZERO2
#define ZERO3 DTB_STAGE_ZERO3
#define FP32 DTB_PREC_FP32
#define BF16 DTB_PREC_BF16_MIXED
#define SGD DTB_OPT_SGD_MOMENTUM
#define ADAMW DTB_OPT_ADAMW

static theory_case odd_case(int32_t stage, int32_t precision, int32_t optimizer, int world)
{
    theory_case c = {.stage = stage, .precision = precision, .optimizer = optimizer,
                     .n_linear = 3, .dims = {37, 53, 56, 3}, .world_size = world,
                     .micro_batches = 3, .steps = 10, .prefetch_depth = 1};
    return c;
}

static void test_partition(void)
{
    static const int64_t shard[4][3] = {
        {2014, 3024, 171}, {1007, 1512, 86}, {672, 1008, 57}, {504, 756, 43}};
    static const int64_t shard_total[4] = {5209, 2605, 1737, 1303};
    static const int64_t padded_total[4] = {5209, 5210, 5211, 5212};
    for (int n = 1; n <= 4; n++) {
        theory_case c = odd_case(ZERO3, FP32, SGD, n);
        theory_partition p;
        theory_partition_init(&c, &p);
        CHECK(p.n_units == 3 && p.n_params == 5209);
        CHECK(p.unit_numel[0] == 2014 && p.unit_numel[1] == 3024 && p.unit_numel[2] == 171);
        for (int l = 0; l < 3; l++)
            CHECK(p.shard_numel[l] == shard[n - 1][l]);
        CHECK(p.shard_total == shard_total[n - 1]);
        CHECK(p.padded_total == padded_total[n - 1]);
        CHECK(p.max_unit_padded == 3024);
    }
}

static void test_bytes_per_element(void)
{
    theory_bytes b;
    CHECK(theory_bytes_per_element(FP32, SGD, &b) == 0 && b.p == 4 && b.g == 4 && b.K == 4);
    CHECK(theory_bytes_per_element(FP32, ADAMW, &b) == 0 && b.p == 4 && b.g == 4 && b.K == 8);
    CHECK(theory_bytes_per_element(BF16, SGD, &b) == 0 && b.p == 2 && b.g == 4 && b.K == 8);
    CHECK(theory_bytes_per_element(BF16, ADAMW, &b) == 0 && b.p == 2 && b.g == 4 && b.K == 12);
    CHECK(b.paper_p == 2 && b.paper_g == 2);
    CHECK(theory_bytes_per_element(FP32, ADAMW, &b) == 0 && b.paper_p == 4 && b.paper_g == 4);
    CHECK(theory_bytes_per_element(7, SGD, &b) != 0);
    CHECK(theory_bytes_per_element(FP32, 9, &b) != 0);
}

/* stage, precision, N, then totals over 10 steps: reduce-scatter calls and
 * bytes, allgather calls and bytes, allreduce calls and bytes. */
typedef struct comm_row {
    int32_t stage, precision;
    int world;
    uint64_t rs_calls, rs_bytes, ag_calls, ag_bytes, ar_calls, ar_bytes;
} comm_row;

static const comm_row COMM_ROWS[] = {
    {DDP, FP32, 1, 0, 0, 0, 0, 0, 0},
    {DDP, FP32, 2, 0, 0, 0, 0, 20, 208440},
    {DDP, FP32, 3, 0, 0, 0, 0, 20, 208440},
    {DDP, FP32, 4, 0, 0, 0, 0, 20, 208440},
    {DDP, BF16, 1, 0, 0, 0, 0, 0, 0},
    {DDP, BF16, 2, 0, 0, 0, 0, 20, 208440},
    {DDP, BF16, 3, 0, 0, 0, 0, 20, 208440},
    {DDP, BF16, 4, 0, 0, 0, 0, 20, 208440},
    {ZERO1, FP32, 1, 0, 0, 0, 0, 0, 0},
    {ZERO1, FP32, 2, 30, 208400, 30, 208400, 20, 160},
    {ZERO1, FP32, 3, 30, 208440, 30, 208440, 20, 160},
    {ZERO1, FP32, 4, 30, 208480, 30, 208480, 20, 160},
    {ZERO1, BF16, 1, 0, 0, 0, 0, 0, 0},
    {ZERO1, BF16, 2, 30, 208400, 30, 104200, 20, 160},
    {ZERO1, BF16, 3, 30, 208440, 30, 104220, 20, 160},
    {ZERO1, BF16, 4, 30, 208480, 30, 104240, 20, 160},
    {ZERO2, FP32, 1, 0, 0, 0, 0, 0, 0},
    {ZERO2, FP32, 2, 90, 625200, 30, 208400, 20, 160},
    {ZERO2, FP32, 3, 90, 625320, 30, 208440, 20, 160},
    {ZERO2, FP32, 4, 90, 625440, 30, 208480, 20, 160},
    {ZERO2, BF16, 1, 0, 0, 0, 0, 0, 0},
    {ZERO2, BF16, 2, 90, 625200, 30, 104200, 20, 160},
    {ZERO2, BF16, 3, 90, 625320, 30, 104220, 20, 160},
    {ZERO2, BF16, 4, 90, 625440, 30, 104240, 20, 160},
    {ZERO3, FP32, 1, 0, 0, 0, 0, 0, 0},
    {ZERO3, FP32, 2, 90, 625200, 180, 1250400, 20, 160},
    {ZERO3, FP32, 3, 90, 625320, 180, 1250640, 20, 160},
    {ZERO3, FP32, 4, 90, 625440, 180, 1250880, 20, 160},
    {ZERO3, BF16, 1, 0, 0, 0, 0, 0, 0},
    {ZERO3, BF16, 2, 90, 625200, 180, 625200, 20, 160},
    {ZERO3, BF16, 3, 90, 625320, 180, 625320, 20, 160},
    {ZERO3, BF16, 4, 90, 625440, 180, 625440, 20, 160},
};

static void test_communication(void)
{
    for (size_t i = 0; i < sizeof COMM_ROWS / sizeof COMM_ROWS[0]; i++) {
        const comm_row *w = &COMM_ROWS[i];
        theory_case c = odd_case(w->stage, w->precision, SGD, w->world);
        theory_comm t;
        CHECK(theory_communication(&c, &t) == 0);
        const dtb_counters *e = &t.expected;
        int ok = e->calls[DTB_COLL_REDUCE_SCATTER] == w->rs_calls &&
                 e->bytes[DTB_COLL_REDUCE_SCATTER] == w->rs_bytes &&
                 e->calls[DTB_COLL_ALLGATHER] == w->ag_calls &&
                 e->bytes[DTB_COLL_ALLGATHER] == w->ag_bytes &&
                 e->calls[DTB_COLL_ALLREDUCE] == w->ar_calls &&
                 e->bytes[DTB_COLL_ALLREDUCE] == w->ar_bytes;
        for (int k = DTB_COLL_BROADCAST; k < DTB_COLL_KIND_COUNT; k++)
            ok = ok && e->calls[k] == 0 && e->bytes[k] == 0;
        /* Only the DDP allreduce count is a lower bound (buckets). */
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
            ok = ok && t.calls_exact[k] ==
                           !(w->stage == DDP && w->world > 1 && k == DTB_COLL_ALLREDUCE);
        if (!ok)
            fprintf(stderr, "communication row %zu (stage %d precision %d N %d)\n", i,
                    (int)w->stage, (int)w->precision, w->world);
        CHECK(ok);
        /* The optimizer changes nothing on the wire. */
        theory_case a = odd_case(w->stage, w->precision, ADAMW, w->world);
        theory_comm ta;
        CHECK(theory_communication(&a, &ta) == 0 &&
              memcmp(&ta.expected, &t.expected, sizeof t.expected) == 0);
    }
    /* The single-device stage, and unknown inputs. */
    theory_case c = odd_case(DTB_STAGE_SINGLE, FP32, SGD, 1);
    theory_comm t;
    CHECK(theory_communication(&c, &t) == 0 && t.expected.bytes[DTB_COLL_ALLREDUCE] == 0);
    c.stage = 9;
    CHECK(theory_communication(&c, &t) != 0);
    c = odd_case(ZERO1, 5, SGD, 2);
    CHECK(theory_communication(&c, &t) != 0);
}

static void test_bus_bytes(void)
{
    CHECK(theory_bus_factor(DTB_COLL_ALLREDUCE, 4) == 1.5);
    CHECK(theory_bus_factor(DTB_COLL_REDUCE_SCATTER, 4) == 0.75);
    CHECK(theory_bus_factor(DTB_COLL_ALLGATHER, 2) == 0.5);
    CHECK(theory_bus_factor(DTB_COLL_BROADCAST, 3) == 1.0);
    CHECK(theory_bus_factor(DTB_COLL_REDUCE, 3) == 1.0);
    CHECK(theory_bus_factor(DTB_COLL_BARRIER, 3) == 0.0);
    CHECK(theory_bus_factor(DTB_COLL_ALLREDUCE, 1) == 0.0);
    /* ZeRO-3 bf16, N = 4, per step: (62544 + 62544) * 3/4 + 16 * 3/2 = 93840. */
    theory_case c = odd_case(ZERO3, BF16, ADAMW, 4);
    theory_comm t;
    CHECK(theory_communication(&c, &t) == 0);
    CHECK(theory_bus_bytes_per_step(&t.expected, 4, 10) == 93840.0);
    CHECK(theory_bus_bytes_per_step(&t.expected, 4, 0) == 0.0);
    /* DDP, N = 2: (4*5209 + 8) * 2*(1/2) = 20844. */
    c = odd_case(DDP, FP32, SGD, 2);
    CHECK(theory_communication(&c, &t) == 0);
    CHECK(theory_bus_bytes_per_step(&t.expected, 2, 10) == 20844.0);
    /* The paper's 2 Psi / 3 Psi elements, times (N-1)/N. */
    CHECK(theory_paper_bus_elements(DDP, 5209, 2) == 5209.0);
    CHECK(theory_paper_bus_elements(ZERO2, 5209, 4) == 2.0 * 5209 * 0.75);
    CHECK(theory_paper_bus_elements(ZERO3, 5209, 4) == 3.0 * 5209 * 0.75);
    CHECK(theory_paper_bus_elements(ZERO3, 5209, 1) == 0.0);
}

/* stage, precision, optimizer, N, N*formula, N*padding, materialised
 * (ZeRO-3, d = 1), bound, N*paper formula. */
typedef struct mem_row {
    int32_t stage, precision, optimizer;
    int world;
    int64_t formula_n, padding_n, materialised, bound, paper_n;
} mem_row;

static const mem_row MEM_ROWS[] = {
    {DDP, FP32, SGD, 1, 62508, 0, 0, 62508, 62508},
    {DDP, FP32, SGD, 2, 125016, 0, 0, 62508, 125016},
    {DDP, FP32, SGD, 3, 187524, 0, 0, 62508, 187524},
    {DDP, FP32, SGD, 4, 250032, 0, 0, 62508, 250032},
    {DDP, FP32, ADAMW, 1, 83344, 0, 0, 83344, 83344},
    {DDP, FP32, ADAMW, 2, 166688, 0, 0, 83344, 166688},
    {DDP, FP32, ADAMW, 3, 250032, 0, 0, 83344, 250032},
    {DDP, FP32, ADAMW, 4, 333376, 0, 0, 83344, 333376},
    {DDP, BF16, SGD, 1, 72926, 0, 0, 72926, 62508},
    {DDP, BF16, SGD, 2, 145852, 0, 0, 72926, 125016},
    {DDP, BF16, SGD, 3, 218778, 0, 0, 72926, 187524},
    {DDP, BF16, SGD, 4, 291704, 0, 0, 72926, 250032},
    {DDP, BF16, ADAMW, 1, 93762, 0, 0, 93762, 83344},
    {DDP, BF16, ADAMW, 2, 187524, 0, 0, 93762, 166688},
    {DDP, BF16, ADAMW, 3, 281286, 0, 0, 93762, 250032},
    {DDP, BF16, ADAMW, 4, 375048, 0, 0, 93762, 333376},
    {ZERO1, FP32, SGD, 1, 62508, 0, 0, 62508, 62508},
    {ZERO1, FP32, SGD, 2, 104180, 20, 0, 52100, 104180},
    {ZERO1, FP32, SGD, 3, 145852, 56, 0, 48636, 145852},
    {ZERO1, FP32, SGD, 4, 187524, 108, 0, 46908, 187524},
    {ZERO1, FP32, ADAMW, 1, 83344, 0, 0, 83344, 83344},
    {ZERO1, FP32, ADAMW, 2, 125016, 24, 0, 62520, 125016},
    {ZERO1, FP32, ADAMW, 3, 166688, 64, 0, 55584, 166688},
    {ZERO1, FP32, ADAMW, 4, 208360, 120, 0, 52120, 208360},
    {ZERO1, BF16, SGD, 1, 72926, 0, 0, 72926, 62508},
    {ZERO1, BF16, SGD, 2, 104180, 20, 0, 52100, 83344},
    {ZERO1, BF16, SGD, 3, 135434, 52, 0, 45162, 104180},
    {ZERO1, BF16, SGD, 4, 166688, 96, 0, 41696, 125016},
    {ZERO1, BF16, ADAMW, 1, 93762, 0, 0, 93762, 83344},
    {ZERO1, BF16, ADAMW, 2, 125016, 24, 0, 62520, 104180},
    {ZERO1, BF16, ADAMW, 3, 156270, 60, 0, 52110, 125016},
    {ZERO1, BF16, ADAMW, 4, 187524, 108, 0, 46908, 145852},
    {ZERO2, FP32, SGD, 1, 62508, 0, 0, 62508, 62508},
    {ZERO2, FP32, SGD, 2, 83344, 16, 0, 41680, 83344},
    {ZERO2, FP32, SGD, 3, 104180, 40, 0, 34740, 104180},
    {ZERO2, FP32, SGD, 4, 125016, 72, 0, 31272, 125016},
    {ZERO2, FP32, ADAMW, 1, 83344, 0, 0, 83344, 83344},
    {ZERO2, FP32, ADAMW, 2, 104180, 20, 0, 52100, 104180},
    {ZERO2, FP32, ADAMW, 3, 125016, 48, 0, 41688, 125016},
    {ZERO2, FP32, ADAMW, 4, 145852, 84, 0, 36484, 145852},
    {ZERO2, BF16, SGD, 1, 72926, 0, 0, 72926, 62508},
    {ZERO2, BF16, SGD, 2, 83344, 16, 0, 41680, 72926},
    {ZERO2, BF16, SGD, 3, 93762, 36, 0, 31266, 83344},
    {ZERO2, BF16, SGD, 4, 104180, 60, 0, 26060, 93762},
    {ZERO2, BF16, ADAMW, 1, 93762, 0, 0, 93762, 83344},
    {ZERO2, BF16, ADAMW, 2, 104180, 20, 0, 52100, 93762},
    {ZERO2, BF16, ADAMW, 3, 114598, 44, 0, 38214, 104180},
    {ZERO2, BF16, ADAMW, 4, 125016, 72, 0, 31272, 114598},
    {ZERO3, FP32, SGD, 1, 62508, 0, 24192, 86700, 62508},
    {ZERO3, FP32, SGD, 2, 62508, 12, 24192, 55452, 62508},
    {ZERO3, FP32, SGD, 3, 62508, 24, 24192, 45036, 62508},
    {ZERO3, FP32, SGD, 4, 62508, 36, 24192, 39828, 62508},
    {ZERO3, FP32, ADAMW, 1, 83344, 0, 24192, 107536, 83344},
    {ZERO3, FP32, ADAMW, 2, 83344, 16, 24192, 65872, 83344},
    {ZERO3, FP32, ADAMW, 3, 83344, 32, 24192, 51984, 83344},
    {ZERO3, FP32, ADAMW, 4, 83344, 48, 24192, 45040, 83344},
    {ZERO3, BF16, SGD, 1, 72926, 0, 12096, 85022, 62508},
    {ZERO3, BF16, SGD, 2, 72926, 14, 12096, 48566, 62508},
    {ZERO3, BF16, SGD, 3, 72926, 28, 12096, 36414, 62508},
    {ZERO3, BF16, SGD, 4, 72926, 42, 12096, 30338, 62508},
    {ZERO3, BF16, ADAMW, 1, 93762, 0, 12096, 105858, 83344},
    {ZERO3, BF16, ADAMW, 2, 93762, 18, 12096, 58986, 83344},
    {ZERO3, BF16, ADAMW, 3, 93762, 36, 12096, 43362, 83344},
    {ZERO3, BF16, ADAMW, 4, 93762, 54, 12096, 35550, 83344},
};

static int close_to(double x, double want)
{
    return fabs(x - want) <= 1e-9 * (fabs(want) + 1);
}

static void test_memory(void)
{
    for (size_t i = 0; i < sizeof MEM_ROWS / sizeof MEM_ROWS[0]; i++) {
        const mem_row *w = &MEM_ROWS[i];
        theory_case c = odd_case(w->stage, w->precision, w->optimizer, w->world);
        theory_memory m;
        double n = w->world;
        int ok = theory_memory_bounds(&c, &m) == 0 &&
                 close_to(m.formula, (double)w->formula_n / n) &&
                 close_to(m.padding, (double)w->padding_n / n) &&
                 m.materialised == w->materialised && m.bound == w->bound &&
                 close_to(m.paper, (double)w->paper_n / n);
        if (!ok)
            fprintf(stderr, "memory row %zu: formula %.17g padding %.17g materialised %lld "
                    "bound %lld paper %.17g\n", i, m.formula, m.padding,
                    (long long)m.materialised, (long long)m.bound, m.paper);
        CHECK(ok);
    }
    /* ZeRO-3 prefetch depth: d = 0 keeps one gathered layer, d = 2 three;
     * no depth, no theory. */
    theory_case c = odd_case(ZERO3, FP32, SGD, 4);
    theory_memory m;
    c.prefetch_depth = 0;
    CHECK(theory_memory_bounds(&c, &m) == 0 && m.materialised == 4 * 3024 &&
          m.bound == 15636 + 4 * 3024);
    c.prefetch_depth = 2;
    CHECK(theory_memory_bounds(&c, &m) == 0 && m.materialised == 3 * 4 * 3024);
    c.prefetch_depth = -1;
    CHECK(theory_memory_bounds(&c, &m) != 0);
    c = odd_case(ZERO2, FP32, SGD, 4);
    c.prefetch_depth = -1; /* irrelevant below stage 3 */
    CHECK(theory_memory_bounds(&c, &m) == 0 && m.bound == 31272);
    c.optimizer = 9;
    CHECK(theory_memory_bounds(&c, &m) != 0);
}

/* A unit smaller than N: widths 4-2-1 have units n_0 = 2*4 + 2 = 10 and
 * n_1 = 1*2 + 1 = 3. At N = 4: s = (3, 1), U = (12, 4), Psi_s = 4,
 * Psi_P = 16; rank 3 owns only padding of unit 1. */
static void test_unit_smaller_than_world(void)
{
    theory_case c = {.stage = ZERO3, .precision = FP32, .optimizer = SGD, .n_linear = 2,
                     .dims = {4, 2, 1}, .world_size = 4, .micro_batches = 1, .steps = 1,
                     .prefetch_depth = 0};
    theory_partition p;
    theory_partition_init(&c, &p);
    CHECK(p.n_params == 13 && p.unit_numel[1] == 3 && p.shard_numel[0] == 3 &&
          p.shard_numel[1] == 1 && p.shard_total == 4 && p.padded_total == 16 &&
          p.max_unit_padded == 12);
    /* One step, one micro-batch: reduce-scatter L = 2 calls of 4*16 = 64
     * bytes, allgather 2*L = 4 calls of 2*4*16 = 128 bytes. */
    theory_comm t;
    CHECK(theory_communication(&c, &t) == 0);
    CHECK(t.expected.calls[DTB_COLL_REDUCE_SCATTER] == 2 &&
          t.expected.bytes[DTB_COLL_REDUCE_SCATTER] == 64 &&
          t.expected.calls[DTB_COLL_ALLGATHER] == 4 && t.expected.bytes[DTB_COLL_ALLGATHER] == 128 &&
          t.expected.calls[DTB_COLL_ALLREDUCE] == 2 && t.expected.bytes[DTB_COLL_ALLREDUCE] == 16);
    /* Memory: formula 12*13/4 = 39, padded 12*4 = 48 (padding 9),
     * materialised (0+1)*4*12 = 48, bound 96. */
    theory_memory m;
    CHECK(theory_memory_bounds(&c, &m) == 0 && close_to(m.formula, 39) &&
          close_to(m.padding, 9) && m.materialised == 48 && m.bound == 96);
    /* ZeRO-1 at N = 4: (4+4)*16 + 4*4 = 144 bound; formula 8*13 + 4*13/4 = 117. */
    c.stage = ZERO1;
    CHECK(theory_memory_bounds(&c, &m) == 0 && m.bound == 144 && close_to(m.formula, 117) &&
          close_to(m.padding, 27) && m.materialised == 0);
}

int main(void)
{
    test_partition();
    test_bytes_per_element();
    test_communication();
    test_bus_bytes();
    test_memory();
    test_unit_smaller_than_world();
    return check_report("test_harness_theory");
}
