/*
 * Reference ZeRO stages 1-3 on a real MPI world (run with 1..4 ranks), fp32
 * and bf16-mixed, SGD and AdamW with clipping: it must follow reference DDP's
 * trajectory (same math, other summation orders), keep the parameters it
 * reports bitwise identical on every rank, issue exactly docs/zero.md's
 * collectives, hold exactly docs/zero.md's buffers, return every byte, and
 * each zoo bug must move it visibly away from the correct run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "ddp.h"
#include "model.h"
#include "model_host.h"
#include "zero.h"
#include "stage_train.h"
#include "test_spec_model.h"
#include "test_world.h"

#define STEPS 4
static int failures, rank, world;

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL rank %d/%d %s:%d: ", rank, world, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

static dtb_run_spec make_spec(int optimizer, int precision, int prefetch)
{
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    test_spec_set_model(&s, mlp_config_find("mlp-odd"));
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 1e-2 : 5e-2;
    s.momentum = 0.9;
    s.beta1 = 0.9;
    s.beta2 = 0.999;
    s.eps = 1e-8;
    s.weight_decay = 0.01;
    s.clip_norm = 0.05;
    s.precision = precision;
    s.global_batch = 30;
    s.micro_batches = 3;
    s.steps = STEPS;
    s.seed = 20261124;
    s.rank = rank;
    s.world_size = world;
    s.mpi_comm_fortran = (int64_t)MPI_Comm_c2f(MPI_COMM_WORLD);
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.bucket_bytes = 4096;
    s.prefetch_depth = prefetch;
    return s;
}

typedef stage_outcome outcome;

static outcome train(const dtb_run_spec *spec, int stage, zero_bug bug)
{
    return stage_train(spec, stage, DDP_BUG_NONE, bug);
}

static double deviation(const float *a, const float *b, int64_t n)
{
    return test_deviation(a, b, n);
}

/* docs/zero.md over mlp-odd's layer units (W_l then b_l), from its widths. */
static void expected(const dtb_run_spec *spec, int stage, int64_t *calls, int64_t *bytes,
                     int64_t mem[DTB_MEM_CATEGORY_COUNT])
{
    const mlp_config *cfg = mlp_config_find("mlp-odd");
    int64_t numel[DTB_MAX_LINEAR];
    for (int l = 0; l < cfg->n_linear; l++)
        numel[l] = cfg->dims[l + 1] * cfg->dims[l] + cfg->dims[l + 1];
    stage_expected(spec, stage, world, STEPS, numel, cfg->n_linear, -1, calls, bytes, mem);
}

static int same_on_all_ranks(const float *x, int64_t n)
{
    return test_same_on_all_ranks(x, (size_t)n * sizeof *x);
}

static void check_correct(int stage, int precision, int optimizer)
{
    const int prefetch = stage == 3 ? (optimizer == DTB_OPT_ADAMW ? 0 : 2) : -1;
    dtb_run_spec spec = make_spec(optimizer, precision, prefetch);
    const char *what = precision == DTB_PREC_BF16_MIXED ? "bf16" : "fp32";
    outcome z = train(&spec, stage, ZERO_BUG_NONE);
    outcome d = train(&spec, 0, ZERO_BUG_NONE);
    EXPECT(z.ok && d.ok, "zero%d %s: training failed", stage, what);
    if (z.ok && d.ok) {
        /* Same math as DDP, other summation orders (and, under bf16, rare
         * compute-parameter roundings that go the other way). */
        const double dev = deviation(z.params, d.params, spec.model->n_params);
        /* Adam divides by sqrt(v): where a gradient is near zero, a last-bit
         * difference in it moves the update most, hence the looser bound. */
        const double tol =
            precision == DTB_PREC_BF16_MIXED || optimizer == DTB_OPT_ADAMW ? 1e-4 : 1e-5;
        EXPECT(dev <= tol, "zero%d %s opt %d: deviation from DDP %.3g > %.1g", stage, what,
               optimizer, dev, tol);
        EXPECT(same_on_all_ranks(z.params, spec.model->n_params), "zero%d %s: params differ by rank",
               stage, what);
        int64_t calls[DTB_COLL_KIND_COUNT], bytes[DTB_COLL_KIND_COUNT];
        int64_t mem[DTB_MEM_CATEGORY_COUNT];
        expected(&spec, stage, calls, bytes, mem);
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
            EXPECT((int64_t)z.counters.calls[k] == calls[k] &&
                       (int64_t)z.counters.bytes[k] == bytes[k],
                   "zero%d %s collective %d: %llu calls %llu bytes, expected %lld, %lld", stage,
                   what, k, (unsigned long long)z.counters.calls[k],
                   (unsigned long long)z.counters.bytes[k], (long long)calls[k],
                   (long long)bytes[k]);
        for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++)
            if (c != DTB_MEM_ACTIVATIONS)
                EXPECT(z.mem[c] == mem[c], "zero%d %s memory category %d: %lld, expected %lld",
                       stage, what, c, (long long)z.mem[c], (long long)mem[c]);
        EXPECT(z.facts.stage == DTB_STAGE_ZERO1 + stage - 1 && z.facts.precision == precision &&
                   z.facts.prefetch_depth == (stage == 3 ? prefetch : -1),
               "zero%d %s: facts", stage, what);
    }
    free(z.params);
    free(d.params);
}

/* A bug must move the parameters at least 10 times further from the
 * correct run than the correct run is from DDP (other summation orders). */
static void check_bug(int stage, int precision, zero_bug bug, const char *name)
{
    dtb_run_spec spec = make_spec(DTB_OPT_SGD_MOMENTUM, precision, -1);
    outcome good = train(&spec, stage, ZERO_BUG_NONE);
    outcome bad = train(&spec, stage, bug);
    outcome ddp = train(&spec, 0, ZERO_BUG_NONE);
    EXPECT(good.ok && bad.ok && ddp.ok, "%s: training failed", name);
    if (good.ok && bad.ok && ddp.ok) {
        const double dev = deviation(bad.params, good.params, spec.model->n_params);
        const double noise = fmax(deviation(good.params, ddp.params, spec.model->n_params), 1e-7);
        EXPECT(dev > 10 * noise, "%s: deviates %.3g from the correct run, which is %.3g from DDP",
               name, dev, noise);
        if (rank == 0)
            printf("zoo %s (stage %d, N=%d): deviation %.3g, correct vs DDP %.3g\n", name,
                   stage, world, dev, noise);
    }
    free(good.params);
    free(bad.params);
    free(ddp.params);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    for (int stage = 1; stage <= 3; stage++)
        for (int prec = DTB_PREC_FP32; prec <= DTB_PREC_BF16_MIXED; prec++)
            for (int opt = DTB_OPT_SGD_MOMENTUM; opt <= DTB_OPT_ADAMW; opt++)
                check_correct(stage, prec, opt);
    check_bug(3, DTB_PREC_FP32, ZERO_BUG_STALE_PARAMS, "zero3 stale params");
    check_bug(2, DTB_PREC_BF16_MIXED, ZERO_BUG_BF16_ACCUM, "zero2 bf16 accumulation");
    check_bug(1, DTB_PREC_BF16_MIXED, ZERO_BUG_BF16_ACCUM, "zero1 bf16 accumulation");
    if (world > 1) {
        check_bug(2, DTB_PREC_FP32, ZERO_BUG_LOCAL_CLIP, "zero2 local clip");
        check_bug(1, DTB_PREC_FP32, ZERO_BUG_PADDING, "zero1 padding");
        check_bug(3, DTB_PREC_FP32, ZERO_BUG_PADDING, "zero3 padding");
        check_bug(2, DTB_PREC_FP32, ZERO_BUG_BUCKET_REUSE, "zero2 bucket reuse");
    }
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && all == 0)
        printf("zero_world N=%d: all checks passed\n", world);
    MPI_Finalize();
    return all ? 1 : 0;
}
