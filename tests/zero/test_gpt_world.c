/*
 * The GPT family through the reference implementations on a real MPI world
 * (run with 1..4 ranks): gpt-odd (V 67, T 7, 2 blocks, 5 heads, C 35, so no
 * rank count divides a unit), 6 sequences in 3 micro-batches (at 4 ranks
 * some shares are empty), clipping that bites, fp32 and bf16-mixed, SGD and
 * AdamW. Checked:
 *  - the replica's single-device step through unit hooks is bit for bit
 *    reference/gpt_train.c's independent trainer (flat buffers, its own
 *    optimizer loop with weight decay on the 2-D tensors only);
 *  - DDP and ZeRO-1/2/3 follow that baseline to within summation-order
 *    rounding, with bitwise identical parameters on every rank;
 *  - the collectives are exactly docs/zero.md's over the GPT's units (the
 *    embeddings with ln_f, then one per block; each gathered twice per pass
 *    by ZeRO-3) and DDP's one allreduce per bucket;
 *  - the memory each ZeRO stage holds is its formula over those units, the
 *    open unit's own gradient bucket included, and every byte comes back;
 *  - the zoo's transformer bugs (the tied embedding reduced twice, LayerNorm
 *    left out of the reduction, ZeRO-3 gathering the wrong block) move the
 *    parameters far beyond the correct run's rounding where they can show.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "ddp.h"
#include "gpt_configs.h"
#include "gpt_train.h"
#include "model_host.h"
#include "net_desc.h"
#include "replica.h"
#include "zero.h"
#include "stage_train.h"
#include "test_world.h"

#define STEPS 3
#define BATCH 6
#define MICRO 3
static int failures, rank, world;
static net_desc model;

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL rank %d/%d %s:%d: ", rank, world, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

static dtb_run_spec make_spec(int optimizer, int precision)
{
    dtb_run_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.model = model.desc;
    s.optimizer = optimizer;
    s.lr = optimizer == DTB_OPT_ADAMW ? 3e-3 : 0.1;
    s.momentum = 0.9;
    s.beta1 = 0.9;
    s.beta2 = 0.95;
    s.eps = 1e-8;
    s.weight_decay = 0.1;
    s.clip_norm = 0.3;
    s.precision = precision;
    s.global_batch = BATCH;
    s.micro_batches = MICRO;
    s.steps = STEPS;
    s.seed = 20261205;
    s.rank = rank;
    s.world_size = world;
    s.mpi_comm_fortran = (int64_t)MPI_Comm_c2f(MPI_COMM_WORLD);
    s.device_kind = DTB_DEVICE_CPU;
    s.device_index = -1;
    s.bucket_bytes = 8192;
    s.prefetch_depth = 1;
    return s;
}

static const char *recipe_name(int precision, int optimizer)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "%s %s", precision == DTB_PREC_BF16_MIXED ? "bf16" : "fp32",
             optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd");
    return buf;
}

/* ---- the baseline against the independent trainer ---------------------------- */

/* The baseline plugin's step (reference/baseline_plugin.c) over a replica. */
static int baseline_step(replica *r, int64_t step, double *loss, double *norm, double *coef)
{
    const double positions = replica_step_positions(r);
    double sum = 0.0;
    if (replica_zero_grads(r) != 0 ||
        replica_forward_backward(r, NULL, step, 0, r->spec.global_batch,
                                 (float)(1.0 / positions), &sum) != 0 ||
        replica_grad_norm(r, norm) != 0 || replica_clip(r, *norm, r->spec.clip_norm, coef) != 0 ||
        replica_optimizer_step(r, step) != 0)
        return -1;
    *loss = sum / positions;
    return 0;
}

/* Parameters after STEPS baseline steps (NULL on failure); *clipped counts
 * the steps whose clip coefficient was below 1. */
static float *baseline_params(const dtb_run_spec *asked, int *clipped)
{
    dtb_run_spec spec = *asked;
    spec.rank = 0, spec.world_size = 1, spec.stage = DTB_STAGE_SINGLE;
    model_host h;
    dtb_host_api host;
    replica r = {0};
    float *out = malloc((size_t)spec.model->n_params * sizeof(float));
    int rc = out == NULL || model_host_init(&h, &spec, &host) != 0 ||
             replica_init(&r, "baseline", &spec, &host, spec.global_batch) != 0;
    *clipped = 0;
    for (int64_t s = 1; s <= STEPS && rc == 0; s++) {
        double loss, norm, coef;
        rc = baseline_step(&r, s, &loss, &norm, &coef);
        *clipped += rc == 0 && coef < 1.0;
    }
    if (rc == 0)
        rc = replica_get_params(&r, out, spec.model->n_params);
    if (rc != 0) {
        fprintf(stderr, "baseline failed: %s\n", h.error);
        free(out);
        out = NULL;
    }
    replica_release(&r);
    return out;
}

/* Baseline and gpt_train.c, one micro-batch each, step by step: loss, norm,
 * clip coefficient and every parameter bit for bit. */
static void check_baseline_is_trainer(int precision, int optimizer)
{
    dtb_run_spec spec = make_spec(optimizer, precision);
    spec.rank = 0, spec.world_size = 1, spec.stage = DTB_STAGE_SINGLE;
    const gpt_config cfg = gpt_config_find("gpt-odd")->cfg;
    const gpt_train_optim opt = {.optimizer = optimizer, .lr = spec.lr,
                                 .momentum = spec.momentum, .beta1 = spec.beta1,
                                 .beta2 = spec.beta2, .eps = spec.eps,
                                 .weight_decay = spec.weight_decay,
                                 .clip_norm = spec.clip_norm, .precision = precision};
    model_host h;
    dtb_host_api host;
    replica r = {0};
    dtb_backend *be = NULL;
    gpt_trainer *tr = NULL;
    int ok = model_host_init(&h, &spec, &host) == 0 &&
             replica_init(&r, "baseline", &spec, &host, spec.global_batch) == 0 &&
             backend_cpu_create(&be) == 0 &&
             gpt_trainer_create(be, &cfg, spec.seed, BATCH, 1, &opt, &tr) == 0;
    EXPECT(ok, "%s: setup failed: %s %s", recipe_name(precision, optimizer), h.error,
           be ? be->error : "");
    const int64_t n = spec.model->n_params;
    int64_t differ = 0;
    int same_report = 1, clipped = 0;
    float *mine = malloc((size_t)n * sizeof(float));
    for (int64_t s = 1; s <= STEPS && ok && mine != NULL; s++) {
        double loss, norm, coef;
        gpt_step_result want;
        ok = baseline_step(&r, s, &loss, &norm, &coef) == 0 &&
             gpt_trainer_step(tr, s, &want) == 0 && replica_get_params(&r, mine, n) == 0;
        if (!ok)
            break;
        same_report = same_report && loss == want.loss && norm == want.grad_norm &&
                      coef == want.clip_coef;
        clipped += coef < 1.0;
        const float *theirs = gpt_trainer_params(tr);
        for (int64_t i = 0; i < n; i++)
            differ += memcmp(&mine[i], &theirs[i], sizeof(float)) != 0;
    }
    EXPECT(ok && same_report && differ == 0 && clipped > 0,
           "%s: baseline through unit hooks vs gpt_train: %lld of %lld parameters differ, "
           "reports %s, %d of %d steps clipped",
           recipe_name(precision, optimizer), (long long)differ, (long long)n,
           same_report ? "equal" : "differ", clipped, STEPS);
    free(mine);
    gpt_trainer_destroy(tr);
    backend_destroy(be);
    replica_release(&r);
}

/* ---- the data-parallel stages ------------------------------------------------ */

typedef stage_outcome outcome;

static outcome train(const dtb_run_spec *spec, int stage)
{
    return stage_train(spec, stage, DDP_BUG_NONE, ZERO_BUG_NONE);
}

static double deviation(const float *a, const float *b, int64_t n)
{
    return test_deviation(a, b, n);
}

static int same_on_all_ranks(const float *x, int64_t n)
{
    return test_same_on_all_ranks(x, (size_t)n * sizeof *x);
}

/* docs/zero.md over the GPT's units, from the sizes alone: unit 0 =
 * (V + T + 2) C, with its own gradient bucket, each block 12 C^2 + 13 C. */
static void expected(const dtb_run_spec *spec, int stage, int64_t *calls, int64_t *bytes,
                     int64_t mem[DTB_MEM_CATEGORY_COUNT])
{
    const gpt_config g = gpt_config_find("gpt-odd")->cfg;
    const int64_t C = g.d_model;
    int64_t numel[8];
    numel[0] = (g.vocab + g.context + 2) * C;
    for (int64_t l = 1; l <= g.n_layer; l++)
        numel[l] = 12 * C * C + 13 * C;
    stage_expected(spec, stage, world, STEPS, numel, (int)g.n_layer + 1, 0, calls, bytes, mem);
}

static void check_stage(int stage, int precision, int optimizer, const float *base)
{
    const dtb_run_spec spec = make_spec(optimizer, precision);
    const int64_t n = spec.model->n_params;
    const char *what = recipe_name(precision, optimizer);
    outcome o = train(&spec, stage);
    EXPECT(o.ok, "stage %d %s: training failed", stage, what);
    if (o.ok && base != NULL) {
        /* Summation orders differ (micro-batches, ranks, reductions); Adam's
         * division by sqrt(v) and bf16's rounding of the compute copies
         * magnify last-bit differences where a gradient is near zero. */
        const double dev = deviation(o.params, base, n);
        const double tol = precision == DTB_PREC_BF16_MIXED || optimizer == DTB_OPT_ADAMW
                               ? 1e-4 : 1e-6;
        EXPECT(dev <= tol, "stage %d %s: deviation from the baseline %.3g > %.1g", stage, what,
               dev, tol);
        EXPECT(same_on_all_ranks(o.params, n), "stage %d %s: parameters differ by rank", stage,
               what);
        if (rank == 0)
            printf("gpt-odd N=%d %s %s: deviation from the baseline %.3g\n", world,
                   stage == 0 ? "ddp" : stage == 1 ? "zero1" : stage == 2 ? "zero2" : "zero3",
                   what, dev);
    }
    dtb_counters want;
    if (o.ok && stage == 0 && test_ddp_expected_counters(&spec, world, STEPS, &want) == 0)
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
            EXPECT(o.counters.calls[k] == want.calls[k] && o.counters.bytes[k] == want.bytes[k],
                   "ddp %s collective %d: %llu calls %llu bytes, want %llu %llu", what, k,
                   (unsigned long long)o.counters.calls[k],
                   (unsigned long long)o.counters.bytes[k],
                   (unsigned long long)want.calls[k], (unsigned long long)want.bytes[k]);
    if (o.ok && stage > 0) {
        int64_t calls[DTB_COLL_KIND_COUNT], bytes[DTB_COLL_KIND_COUNT];
        int64_t mem[DTB_MEM_CATEGORY_COUNT];
        expected(&spec, stage, calls, bytes, mem);
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
            EXPECT((int64_t)o.counters.calls[k] == calls[k] &&
                       (int64_t)o.counters.bytes[k] == bytes[k],
                   "zero%d %s collective %d: %llu calls %llu bytes, expected %lld, %lld", stage,
                   what, k, (unsigned long long)o.counters.calls[k],
                   (unsigned long long)o.counters.bytes[k], (long long)calls[k],
                   (long long)bytes[k]);
        for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++)
            if (c != DTB_MEM_ACTIVATIONS)
                EXPECT(o.mem[c] == mem[c], "zero%d %s memory category %d: %lld, expected %lld",
                       stage, what, c, (long long)o.mem[c], (long long)mem[c]);
    }
    free(o.params);
}

/* The zoo's transformer bugs. Each must move the parameters at least 10
 * times further from the correct run than the correct run is from the
 * baseline where it can show (a world of one reduces nothing: the DDP bugs
 * are exact there), and the LayerNorm bug must make the ranks disagree. */
static void check_bug(int stage, ddp_bug dbug, zero_bug zbug, const char *name, int shows_at_1)
{
    const dtb_run_spec spec = make_spec(DTB_OPT_SGD_MOMENTUM, DTB_PREC_FP32);
    const int64_t n = spec.model->n_params;
    int clipped = 0;
    float *base = baseline_params(&spec, &clipped);
    outcome good = train(&spec, stage), bad = stage_train(&spec, stage, dbug, zbug);
    EXPECT(base && good.ok && bad.ok, "%s: training failed", name);
    if (base && good.ok && bad.ok) {
        const double dev = deviation(bad.params, good.params, n);
        const double noise = fmax(deviation(good.params, base, n), 1e-7);
        const int shows = world > 1 || shows_at_1;
        if (shows)
            EXPECT(dev > 10 * noise, "%s: deviates %.3g from the correct run, which is %.3g "
                   "from the baseline", name, dev, noise);
        else
            EXPECT(dev == 0, "%s: a world of one must be exact, deviates %.3g", name, dev);
        if (dbug == DDP_BUG_SKIP_LAYERNORM && world > 1)
            EXPECT(!same_on_all_ranks(bad.params, n), "%s: the ranks still agree", name);
        else
            same_on_all_ranks(bad.params, n); /* collective: every rank calls it */
        if (rank == 0)
            printf("zoo %s (N=%d): deviation %.3g, correct vs baseline %.3g\n", name, world, dev,
                   noise);
    }
    free(base);
    free(good.params);
    free(bad.params);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    char err[256];
    if (net_desc_for_name("gpt-odd", &model, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (world == 1)
        for (int prec = DTB_PREC_FP32; prec <= DTB_PREC_BF16_MIXED; prec++)
            for (int opt = DTB_OPT_SGD_MOMENTUM; opt <= DTB_OPT_ADAMW; opt++)
                check_baseline_is_trainer(prec, opt);
    for (int prec = DTB_PREC_FP32; prec <= DTB_PREC_BF16_MIXED; prec++) {
        for (int opt = DTB_OPT_SGD_MOMENTUM; opt <= DTB_OPT_ADAMW; opt++) {
            int clipped = 0;
            const dtb_run_spec spec = make_spec(opt, prec);
            float *base = baseline_params(&spec, &clipped);
            EXPECT(base != NULL && clipped > 0, "%s: baseline failed or never clipped (%d)",
                   recipe_name(prec, opt), clipped);
            for (int stage = 0; stage <= 3; stage++)
                check_stage(stage, prec, opt, base);
            free(base);
        }
    }
    check_bug(0, DDP_BUG_TIED_TWICE, ZERO_BUG_NONE, "ddp tied weight reduced twice", 0);
    check_bug(0, DDP_BUG_SKIP_LAYERNORM, ZERO_BUG_NONE, "ddp LayerNorm not reduced", 0);
    check_bug(3, DDP_BUG_NONE, ZERO_BUG_WRONG_BLOCK, "zero3 wrong block gathered", 1);
    net_desc_free(&model);
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && all == 0)
        printf("gpt_world N=%d: all checks passed\n", world);
    MPI_Finalize();
    return all ? 1 : 0;
}
