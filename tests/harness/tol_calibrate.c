/*
 * Calibration data for the envelope tolerance's constants (docs/tolerance.md),
 * in process, without rank worlds. For each trajectory (seed x model x
 * recipe x precision) it trains the fp64 oracle, the baseline's arithmetic,
 * the ensemble, and held-out fp32 runs the ensemble does not contain (the
 * reference DDP's splits at 1-4 ranks, PyTorch-like arithmetic), then judges
 *   - each held-out run against the envelope of baseline + ensemble, and
 *   - each ensemble member against the envelope of the baseline and the
 *     other members (leave one out: a new legitimate arithmetic against
 *     one run fewer than the harness uses).
 * For each judged run it prints the smallest MULT with which none of its
 * compared values would fail, under several candidate envelope statistics
 * (below), with the floors of envelope.h; and the old single-baseline
 * model's worst ratio on the same run. Per trajectory it prints the
 * sensitivity: the median over the final parameters of
 * floor(log2(|p_T - p_0| / tol)) at the precision's MULT, the k for which
 * scaling an element's updates by (1 + 2^-k) just reaches its tolerance.
 * tests/harness/tol_calibrate_summary.py condenses the output.
 *
 * Candidate statistics for the parameters (CANDS below): max(env, pool x M)
 * with env the per-element envelope and M its maximum over the tensor (t/..)
 * or over the layer (l/..), optionally plus rho x |o - p0| (mv..); the
 * first, "dtbench", is envelope.h's statistic for the precision.
 *
 * usage: tol_calibrate SEEDS [BASE_SEED [MODEL...]]
 *   CAL_PRECISION=0|1 restricts to fp32 or bf16-mixed; CAL_SEED=S judges seed S
 *   (with SEEDS 1), e.g. to look at a case a seed sweep found close to its bound;
 *   CAL_WHERE=i prints the worst element of candidate i instead of the first's.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_config.h"
#include "conformance.h"
#include "ensemble.h"
#include "envelope.h"
#include "oracle.h"
#include "tolerance.h"

#define HELD_OUT 7
static const ensemble_member HELD[HELD_OUT] = {
    {"baseline", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 1, 1, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"ddp-like n1 m3", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 1, 3, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"ddp-like n2 m3", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 2, 3, ENS_REDUCE_SEQUENTIAL,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"ddp-like n3 m3", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 3, 3, ENS_REDUCE_RING,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"ddp-like n4 m3", {ENS_MATMUL_BLAS, ENS_EW_REF, ENS_OPT_REF}, 4, 3, ENS_REDUCE_TREE,
     ENS_ACC_DIRECT, ENS_NORM_F64, 0},
    {"torch-like n2 m1", {ENS_MATMUL_FMA, ENS_EW_TORCH, ENS_OPT_TORCH}, 2, 1,
     ENS_REDUCE_SEQUENTIAL, ENS_ACC_DIRECT, ENS_NORM_F32, 0},
    {"torch-like n3 m3", {ENS_MATMUL_DOT4, ENS_EW_TORCH, ENS_OPT_TORCH}, 3, 3, ENS_REDUCE_RING,
     ENS_ACC_CHUNK, ENS_NORM_F32, 0},
};
#define RUNS (HELD_OUT + ENSEMBLE_MEMBERS)

/* Candidates: max(env, pool * tmax) + rho * |o - p0| (the latter added to
 * the floors, not multiplied by MULT). */
typedef struct candidate {
    const char *name;
    double pool, rho;
    int layer;                /* pool over the layer (W_l and b_l), not the tensor */
} candidate;
static const candidate CANDS[] = {
    {"dtbench", -1, 0, 1},  {"elem", 0, 0, 0},        {"t/64", 1.0 / 64, 0, 0},
    {"t/1", 1, 0, 0},       {"l/256", 1.0 / 256, 0, 1}, {"l/64", 1.0 / 64, 0, 1},
    {"l/16", 1.0 / 16, 0, 1}, {"l/4", 1.0 / 4, 0, 1}, {"l/1", 1, 0, 1},
    {"mv8", 0, 0x1p-8, 0},
};
#define N_STATS ((int)(sizeof CANDS / sizeof CANDS[0]))

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* One trajectory: the oracle and every run (held out first, run 0 the
 * baseline's arithmetic, then the ensemble members). */
typedef struct traj {
    oracle_trace o;
    ensemble_trace t[RUNS];
    mlp_layout lay;
    const float *p0;
    char label[200];
} traj;

static const ensemble_member *run_member(int r)
{
    return r < HELD_OUT ? &HELD[r] : ensemble_member_at(r - HELD_OUT);
}

/* Does run r enter the envelope judging run j? Baseline and members do. */
static int in_envelope(int r, int j)
{
    return r != j && (r == 0 || r >= HELD_OUT);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "tol_calibrate: out of memory\n");
        exit(2);
    }
    return p;
}

/* (err - floor) / stat: the MULT this value needs. */
static double need(double err, double stat, double floor)
{
    if (err <= floor)
        return 0;
    return stat > 0 ? (err - floor) / stat : INFINITY;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Per-element envelope of runs entering the judgement of j, check c. */
static void envelope_of(const traj *T, int j, int c, double *env)
{
    const int64_t n = T->lay.n_params;
    const double *o = T->o.params + (size_t)c * n;
    for (int64_t i = 0; i < n; i++)
        env[i] = 0;
    for (int r = 0; r < RUNS; r++) {
        if (!in_envelope(r, j))
            continue;
        const float *e = T->t[r].params + (size_t)c * n;
        for (int64_t i = 0; i < n; i++)
            env[i] = fmax(env[i], fabs((double)e[i] - o[i]));
    }
}

static void judge_run(const traj *T, int j, const envelope_constants *k, const char *cls)
{
    const int64_t n = T->lay.n_params;
    double *env = xmalloc((size_t)n * sizeof *env);
    double worst[N_STATS] = {0}, old_worst = 0, loss_need = 0, norm_need = 0, ratio = 0;
    char where[N_STATS][160];
    memset(where, 0, sizeof where);
    for (int c = 0; c < T->o.n_checks; c++) {
        const double *o = T->o.params + (size_t)c * n;
        const float *x = T->t[j].params + (size_t)c * n;
        const float *b = T->t[0].params + (size_t)c * n;
        envelope_of(T, j, c, env);
        for (int t = 0; t < T->lay.n_tensors; t++) {
            const int64_t off = T->lay.offset[t], m = T->lay.numel[t];
            double scale = 0, base_err = 0, tmax = 0, lmax = 0;
            for (int64_t i = off; i < off + m; i++) {
                scale = fmax(scale, fabs(o[i]));
                base_err = fmax(base_err, fabs((double)b[i] - o[i]));
                tmax = fmax(tmax, env[i]);
            }
            const int t0 = t & ~1;
            for (int64_t i = T->lay.offset[t0]; i < T->lay.offset[t0 + 2]; i++)
                lmax = fmax(lmax, env[i]);
            const double old_tol = tol_bound(base_err, scale);
            for (int64_t i = off; i < off + m; i++) {
                const double err = fabs((double)x[i] - o[i]);
                const double fl = envelope_bound(k, 0, 0, o[i], scale);
                const double moved = fabs(o[i] - (double)T->p0[i]);
                for (int s = 0; s < N_STATS; s++) {
                    const double pool = CANDS[s].pool < 0 ? k->pool : CANDS[s].pool;
                    const double q =
                        need(err, fmax(env[i], pool * (CANDS[s].layer ? lmax : tmax)),
                             fl + CANDS[s].rho * moved);
                    if (q > worst[s]) {
                        worst[s] = q;
                        snprintf(where[s], sizeof where[s],
                                 "%s[%lld]@%lld env=%.3g err=%.3g o=%.4g", T->lay.name[t],
                                 (long long)(i - off), (long long)T->o.check_steps[c], env[i],
                                 err, o[i]);
                    }
                }
                old_worst = fmax(old_worst, err / old_tol);
                ratio = fmax(ratio, err / envelope_bound(k, env[i], lmax, o[i], scale));
            }
        }
    }
    for (int which = 0; which < 2; which++) {
        const double *o = which ? T->o.grad_norm : T->o.loss;
        const double *x = which ? T->t[j].grad_norm : T->t[j].loss;
        const double *bb = which ? T->t[0].grad_norm : T->t[0].loss;
        double running = 0, base_run = 0, *out = which ? &norm_need : &loss_need;
        for (int64_t s = 0; s < T->o.steps; s++) {
            for (int r = 0; r < RUNS; r++) {
                const double *e = which ? T->t[r].grad_norm : T->t[r].loss;
                if (in_envelope(r, j))
                    running = fmax(running, fabs(e[s] - o[s]));
            }
            base_run = fmax(base_run, fabs(bb[s] - o[s]));
            const double err = fabs(x[s] - o[s]);
            *out = fmax(*out, need(err, running, k->step_floor_ulps * FLT_EPSILON * fabs(o[s])));
            ratio = fmax(ratio, err / (k->mult * running + k->step_floor_ulps * FLT_EPSILON *
                                                                fabs(o[s])));
            old_worst = fmax(old_worst, err / tol_bound(base_run, fabs(o[s])));
        }
    }
    printf("R\t%s\t%s\t%s\t%s", T->label, cls, j < HELD_OUT ? "held" : "loo", run_member(j)->name);
    for (int s = 0; s < N_STATS; s++)
        printf("\t%.4g", worst[s]);
    const int show = getenv("CAL_WHERE") ? atoi(getenv("CAL_WHERE")) : 0;
    printf("\t%.4g\t%.4g\t%.4g\t%.4g\t%s\n", loss_need, norm_need, old_worst, ratio,
           where[show >= 0 && show < N_STATS ? show : 0]);
    free(env);
}

/* Median over the final parameters of floor(log2(|p_T - p_0| / tol)), each
 * statistic at the precision's MULT with envelope.h's floors (baseline + ensemble),
 * and the old model's. */
static void sensitivity(const traj *T, const envelope_constants *k, const char *cls)
{
    const int64_t n = T->lay.n_params;
    const int c = T->o.n_checks - 1;
    const double *o = T->o.params + (size_t)c * n;
    double *env = xmalloc((size_t)n * sizeof *env);
    int *ks[N_STATS + 1];
    for (int s = 0; s <= N_STATS; s++)
        ks[s] = xmalloc((size_t)n * sizeof *ks[s]);
    int64_t count = 0;
    envelope_of(T, -1, c, env);
    for (int t = 0; t < T->lay.n_tensors; t++) {
        const int64_t off = T->lay.offset[t], m = T->lay.numel[t];
        double scale = 0, base_err = 0, tmax = 0, lmax = 0;
        for (int64_t i = off; i < off + m; i++) {
            scale = fmax(scale, fabs(o[i]));
            base_err = fmax(base_err, fabs((double)T->t[0].params[(size_t)c * n + i] - o[i]));
            tmax = fmax(tmax, env[i]);
        }
        const int t0 = t & ~1;
        for (int64_t i = T->lay.offset[t0]; i < T->lay.offset[t0 + 2]; i++)
            lmax = fmax(lmax, env[i]);
        for (int64_t i = off; i < off + m; i++) {
            const double moved = fabs(o[i] - (double)T->p0[i]);
            if (!(moved > 0))
                continue;
            const double fl = envelope_bound(k, 0, 0, o[i], scale);
            for (int s = 0; s < N_STATS; s++)
                ks[s][count] = (int)floor(log2(
                    moved / (k->mult * fmax(env[i], (CANDS[s].pool < 0 ? k->pool : CANDS[s].pool) *
                                                        (CANDS[s].layer ? lmax : tmax)) +
                             fl +
                             CANDS[s].rho * moved)));
            ks[N_STATS][count] = (int)floor(log2(moved / tol_bound(base_err, scale)));
            count++;
        }
    }
    printf("K\t%s\t%s", T->label, cls);
    for (int s = 0; s <= N_STATS; s++) {
        qsort(ks[s], (size_t)count, sizeof *ks[s], cmp_int);
        printf("\t%d", count ? ks[s][count / 2] : -1);
        free(ks[s]);
    }
    printf("\n");
    free(env);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tol_calibrate SEEDS [BASE_SEED [MODEL...]]\n");
        return 2;
    }
    const int seeds = atoi(argv[1]);
    const uint64_t base = argc > 2 ? strtoull(argv[2], NULL, 0) : 20261123ull;
    const char *default_models[] = {"mlp-odd", "mlp-small"};
    const char *const *models = argc > 3 ? (const char *const *)argv + 3 : default_models;
    const int n_models = argc > 3 ? argc - 3 : 2;
    const char *only = getenv("CAL_PRECISION");
    printf("#R\ttrajectory\tclass\tkind\trun");
    for (int s = 0; s < N_STATS; s++)
        printf("\t%s", CANDS[s].name);
    printf("\tloss\tnorm\told_ratio\tratio\tworst_elem\n#K\ttrajectory\tclass");
    for (int s = 0; s < N_STATS; s++)
        printf("\t%s", CANDS[s].name);
    printf("\told\n");
    static traj T;
    for (int si = 0; si < seeds; si++) {
        const uint64_t seed = getenv("CAL_SEED") ? strtoull(getenv("CAL_SEED"), NULL, 0)
                                                 : mix(base + (uint64_t)si) & 0xffffffffffull;
        for (int mi = 0; mi < n_models; mi++) {
            for (int ri = 0; ri < CONFORMANCE_N_RECIPES; ri++) {
                for (int pi = 0; pi < CONFORMANCE_N_PRECISIONS; pi++) {
                    if (only && atoi(only) != pi)
                        continue;
                    case_config cc;
                    memset(&cc, 0, sizeof cc);
                    cc.model = mlp_config_find(models[mi]);
                    if (!cc.model) {
                        fprintf(stderr, "unknown model %s\n", models[mi]);
                        return 2;
                    }
                    cc.opt = conformance_recipes[ri].opt;
                    cc.clip_norm = conformance_recipes[ri].clip_norm;
                    cc.global_batch = 30;
                    cc.micro_batches = 3; /* the suites' split, for the ensemble's mM members */
                    cc.steps = 10;
                    cc.seed = seed;
                    cc.stage = DTB_STAGE_SINGLE;
                    cc.precision = conformance_precisions[pi];
                    cc.n_checks = 2;
                    cc.check_steps[0] = 1;
                    cc.check_steps[1] = 10;
                    mlp_model_desc md;
                    dtb_run_spec spec;
                    case_config_to_spec(&cc, 0, 1, &md, &spec);
                    char err[512], cls[64];
                    snprintf(T.label, sizeof T.label, "%llu %s %s", (unsigned long long)seed,
                             cc.model->name, conformance_recipes[ri].name);
                    snprintf(cls, sizeof cls, "%s %s", cc.opt.name,
                             pi ? "bf16" : "fp32");
                    mlp_layout_init(cc.model, &T.lay);
                    float *p0 = xmalloc((size_t)T.lay.n_params * sizeof *p0);
                    for (int t = 0; t < T.lay.n_tensors; t++)
                        mlp_init_values(seed, cc.model, t, 0, T.lay.numel[t],
                                        p0 + T.lay.offset[t]);
                    T.p0 = p0;
                    if (oracle_train_f64(&spec, cc.check_steps, 2, &T.o, err, sizeof err)) {
                        fprintf(stderr, "%s\n", err);
                        return 1;
                    }
                    for (int r = 0; r < RUNS; r++)
                        if (ensemble_train(run_member(r), &spec, cc.check_steps, 2, &T.t[r], err,
                                           sizeof err)) {
                            fprintf(stderr, "%s\n", err);
                            return 1;
                        }
                    const envelope_constants k = envelope_constants_for(cc.precision);
                    for (int j = 1; j < RUNS; j++)
                        judge_run(&T, j, &k, cls);
                    sensitivity(&T, &k, cls);
                    for (int r = 0; r < RUNS; r++)
                        ensemble_trace_free(&T.t[r]);
                    oracle_trace_free(&T.o);
                    free(p0);
                }
            }
        }
        fprintf(stderr, "seed %d/%d done\n", si + 1, seeds);
    }
    return 0;
}
