/*
 * throughput: how fast each implementation trains, per model size and world
 * size, against what the machine can do (docs/benchmarks.md).
 *
 * Once per world size N: the BLAS peak, N ranks each running a 1024^3 sgemm
 * at once (bench_peak.h), aggregate GFLOP/s per repetition.
 *
 * Per implementation x model x precision x N, three worlds:
 *   step      the implementation, warmup + reps steps, each step entered
 *             through a barrier; the step's time is the slowest rank's;
 *   compute   the single-device baseline on every rank at once ("solo"),
 *             each training the largest per-rank share of the global batch:
 *             the same arithmetic with no communication at all;
 *   comm      the step's collectives alone: the implementation's own
 *             counters per step, replayed through the communicator
 *             (comm_bench.h). None for N = 1.
 * and the figures, per timed repetition:
 *   samples/s        B / t_step
 *   tokens/s         B T / t_step (GPT models: B sequences of T tokens)
 *   achieved GFLOP/s the model's training FLOPs / t_step: MLP 6 B sum(in*out)
 *                    (mlp_step_flops), GPT (6 Psi + 12 L C T) B T as nanoGPT
 *                    and llm.c count them (gpt_step_flops)
 *   peak_fraction    achieved / median(peak at N)
 * Several implementations are measured side by side: their step worlds run
 * in ROUNDS interleaved rounds per model, precision and N (A B C, A B C,
 * ...), each round warmup + reps steps, the timed steps of all rounds
 * pooled, so a machine that slows down for a while slows every
 * implementation alike. Beside the times, per implementation:
 *   states/formula   the largest rank's peak model states (params + grads +
 *                    optim) over the stage's formula (theory_neutral.h)
 *   bus/minimum      the largest rank's bus bytes per training step (what
 *                    create moved once left out) over the stage's minimum
 * and from medians, the overlap of communication with computation:
 *   overlap_ratio    t_step / (t_compute + t_comm)   (< 1: some overlap)
 *   hidden_fraction  (t_compute + t_comm - t_step) / min(t_compute, t_comm)
 *                    (1: the shorter of the two entirely hidden; <= 0: none)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_peak.h"
#include "bench_train.h"
#include "comm_bench.h"
#include "theory.h"
#include "theory_neutral.h"

#define PEAK_N 1024

static int throughput_main(bench_context *ctx);

static const char *const IMPLS[] = {"ref-ddp", "ref-zero1", "ref-zero2", "ref-zero3"};
static const char *const MODELS[] = {"mlp-1m", "mlp-8m"};
static const int WORLDS[] = {1, 2, 4};
static const int32_t PRECISIONS[] = {DTB_PREC_FP32};

const dtb_suite dtb_suite_throughput = {
    .name = "throughput",
    .kind = DTB_SUITE_BENCH,
    .bench_main = throughput_main,
    .description = "step time, samples/s, FLOP/s vs the BLAS peak and comm/compute overlap of "
                   "DDP and ZeRO-1/2/3 per model and world size",
    .required_caps = DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP,
    .bench_impls = IMPLS,
    .n_bench_impls = 4,
    .models = MODELS,
    .n_models = 2,
    .world_sizes = WORLDS,
    .n_world_sizes = 3,
    .precisions = PRECISIONS,
    .n_precisions = 1,
    .global_batch = 256,
    /* GPT-2 124M: one sequence of 1024 tokens per rank at 4 ranks (about
     * 1.4 GB of activations per sequence on the CPU reference). */
    .gpt_global_batch = 4,
    .micro_batches = 1,
    .seed = 2024,
};

/* Interleaved rounds of the step worlds when several implementations are
 * compared; one round for one implementation. */
#define ROUNDS 3

/* One row of the closing table. */
typedef struct throughput_row {
    char label[256];
    bench_summary step;
    double samples_per_s, tokens_per_s, gflops, peak_fraction, overlap_ratio;
    double states_over_formula, bus_over_minimum; /* NAN: not measured */
} throughput_row;

/* The peak case of world size np; *median_gflops 0 when it failed. */
static void peak_case(bench_context *ctx, int np, double *median_gflops)
{
    char key[64], label[64], json[160];
    snprintf(key, sizeof key, "throughput peak np=%d", np);
    snprintf(label, sizeof label, "blas sgemm %d^3 np=%d", PEAK_N, np);
    snprintf(json, sizeof json, "{\"suite\":\"throughput\",\"what\":\"peak\",\"n\":%d,"
             "\"world_size\":%d}", PEAK_N, np);
    bench_case bc;
    bench_case_begin(ctx, &bc, key, label, json);
    snprintf(bc.impl, sizeof bc.impl, "blas");
    snprintf(bc.stage, sizeof bc.stage, "peak");
    snprintf(bc.precision, sizeof bc.precision, "fp32");
    bc.world_size = np;
    *median_gflops = 0;
    bench_peak_result *r = calloc(1, sizeof *r);
    char err[1024] = "out of memory";
    if (r && bench_peak_measure(&ctx->env, np, PEAK_N, ctx->opt.warmup, ctx->opt.reps, r, err,
                                sizeof err) == 0) {
        results_sample *s = calloc((size_t)r->n_reps, sizeof *s);
        double *timed = calloc((size_t)r->n_reps, sizeof *timed);
        int n_timed = 0;
        if (s && timed) {
            for (int i = 0; i < r->n_reps; i++) {
                double g = bench_peak_gflops(r, i);
                s[i] = (results_sample){i, RESULTS_NONE, RESULTS_NONE, r->warmup[i], g};
                if (!r->warmup[i])
                    timed[n_timed++] = g;
            }
            bench_summary sum = bench_summarise(timed, n_timed);
            *median_gflops = sum.median;
            bc.completed = 1;
            tap_diag d;
            diag_init(&d);
            diag_real(&d, "median_gflops", sum.median);
            diag_real(&d, "min_gflops", sum.min);
            diag_real(&d, "max_gflops", sum.max);
            bench_case_check(&bc, "completed", RESULTS_PASS, NULL, -1, &d);
            diag_free(&d);
            bench_case_metric(&bc, "peak_gflops", "GFLOP/s", RESULTS_TIMING, 1, s, r->n_reps);
            fprintf(stderr, "dtbench: peak np=%d: sgemm %d^3 on %d rank%s at once: %.1f GFLOP/s "
                            "(min %.1f, max %.1f)\n",
                    np, PEAK_N, np, np == 1 ? "" : "s", sum.median, sum.min, sum.max);
        } else {
            snprintf(err, sizeof err, "out of memory");
        }
        free(s);
        free(timed);
    }
    if (!bc.completed) {
        tap_diag d;
        diag_init(&d);
        diag_text(&d, "message", "%s", err);
        bench_case_check(&bc, "completed", RESULTS_FAIL, NULL, -1, &d);
        diag_free(&d);
    }
    free(r);
    bench_case_end(&bc);
}

/* Timed repetitions of a world (warm-ups skipped), slowest rank each. */
static void timed_steps(const world_outcome *w, int warmup, int reps, double *out)
{
    for (int i = 0; i < reps; i++)
        out[i] = bench_world_step_seconds(w, warmup + i);
}

/* The timed repetitions of every round, pooled: rounds x reps. */
static void pooled_steps(const world_outcome *w, int rounds, int warmup, int reps, double *out)
{
    for (int r = 0; r < rounds; r++)
        timed_steps(&w[r], warmup, reps, out + (size_t)r * (size_t)reps);
}

/* samples[i] for every repetition of every round (warm-ups flagged) of
 * f(step seconds); sample r * S + i is step i + 1 of round r. */
static void per_rep(const world_outcome *w, int rounds, int warmup, int reps, double scale,
                    int invert, results_sample *out)
{
    const int S = warmup + reps;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < S; i++) {
            double t = bench_world_step_seconds(&w[r], i);
            out[r * S + i] = (results_sample){r * S + i, RESULTS_NONE, i + 1, i < warmup,
                                              invert ? scale / t : scale * t};
        }
}

/* The largest rank's model states over the formula, and its bus bytes per
 * training step over the stage's minimum (NAN at N = 1, where the minimum
 * is 0), by the neutral checks' rules. */
static void theory_ratios(const case_config *cfg, const world_outcome *w, throughput_row *row)
{
    row->states_over_formula = row->bus_over_minimum = NAN;
    double states = 0, bus = 0, formula = 0, minimum = 0;
    for (int r = 0; r < w->world_size; r++) {
        const rank_result *rr = &w->ranks[r];
        theory_case tc;
        theory_neutral nb;
        case_config_theory(cfg, w->world_size, rr->facts.prefetch_depth, &tc);
        if (theory_neutral_bounds(&tc, &nb) != 0)
            return;
        const double st = (double)(rr->mem_peak[DTB_MEM_PARAMS] + rr->mem_peak[DTB_MEM_GRADS] +
                                   rr->mem_peak[DTB_MEM_OPTIM]);
        if (st / nb.formula > (formula > 0 ? states / formula : -1))
            states = st, formula = nb.formula;
        const dtb_counters k = rank_step_traffic(rr, NULL);
        const double b = theory_bus_bytes_per_step(&k, w->world_size, cfg->steps);
        if (b >= bus)
            bus = b, minimum = nb.min_bus_per_step;
    }
    if (formula > 0)
        row->states_over_formula = states / formula;
    if (minimum > 0)
        row->bus_over_minimum = bus / minimum;
}

/* The compute-only world: the baseline, solo on each of np ranks. */
static int compute_only(bench_context *ctx, const case_config *train, int np, world_outcome *w)
{
    case_config c = *train;
    c.global_batch = split_max_rank_share(train->global_batch, 1, np);
    c.stage = DTB_STAGE_SINGLE;
    c.required_caps = case_config_base_caps(train) | DTB_CAP_SINGLE_DEVICE |
                      recipe_caps(&BENCH_RECIPE) | precision_cap(train->precision);
    c.solo = 1;
    return world_run(&ctx->env, ctx->opt.baseline_path, &c, np, w);
}

/* The step worlds of one implementation at one model, precision and N: a
 * round each (world_outcome, zeroed until run). */
typedef struct impl_worlds {
    world_outcome rounds[ROUNDS];
    int n_run, completed;
} impl_worlds;

/* Round `round` of an implementation's step world, when it can run. */
static void run_round(bench_context *ctx, const bench_impl *impl, const char *model,
                      int32_t precision, int np, impl_worlds *w)
{
    const int S = ctx->opt.warmup + ctx->opt.reps;
    case_config cfg;
    bench_train_config(ctx, impl, model, precision, S, &cfg);
    /* what bench_skip_unrunnable reports is not run; a failed round ends them */
    const int unrunnable = (cfg.required_caps & ~impl->caps) != 0 ||
                           (impl->stage == DTB_STAGE_SINGLE && np > 1);
    if (unrunnable || (w->n_run > 0 && !w->completed))
        return;
    world_outcome *o = &w->rounds[w->n_run++];
    world_run(&ctx->env, impl->path, &cfg, np, o);
    w->completed = o->completed;
}

static void impl_case(bench_context *ctx, const bench_impl *impl, const char *model,
                      int32_t precision, int np, double peak, impl_worlds *worlds,
                      throughput_row *row)
{
    const int W = ctx->opt.warmup, R = ctx->opt.reps, S = W + R;
    case_config cfg;
    bench_train_config(ctx, impl, model, precision, S, &cfg);
    bench_case bc;
    bench_train_case_begin(ctx, &bc, impl, &cfg, np);
    snprintf(row->label, sizeof row->label, "%s", bc.label);
    row->step.n = 0;
    row->states_over_formula = row->bus_over_minimum = NAN;
    if (bench_skip_unrunnable(&bc, impl, cfg.required_caps, np, "completed")) {
        bench_case_end(&bc);
        return;
    }
    world_outcome compute;
    memset(&compute, 0, sizeof compute);
    /* the first round that failed (or the last) speaks for the case */
    const int K = worlds->n_run;
    const world_outcome *last = &worlds->rounds[K > 0 ? K - 1 : 0];
    const world_outcome *step0 = &worlds->rounds[0];
    bc.completed = K > 0 && bench_check_world(&bc, "completed", last);
    /* samples of one metric: every repetition of every round, or one per rank */
    const int KS = K * S > np ? K * S : np;
    results_sample *s = calloc((size_t)KS + 1, sizeof *s);
    double *t_step = calloc((size_t)(K * R) + 1, sizeof *t_step);
    double *t_comp = calloc((size_t)S, sizeof *t_comp), *t_comm = calloc((size_t)S, sizeof *t_comm);
    if (bc.completed && (!s || !t_step || !t_comp || !t_comm)) {
        bench_case_check(&bc, "overlap measured", RESULTS_FAIL, NULL, -1, NULL);
        bc.oom = 1;
    } else if (bc.completed) {
        const world_outcome *step = worlds->rounds;
        const double B = (double)cfg.global_batch;
        const double flops = case_config_step_flops(&cfg, cfg.global_batch);
        const double tokens = B * (double)case_config_positions(&cfg);
        per_rep(step, K, W, R, 1.0, 0, s);
        bench_case_metric(&bc, "step_seconds", "s", RESULTS_TIMING, 0, s, K * S);
        per_rep(step, K, W, R, B, 1, s);
        bench_case_metric(&bc, "samples_per_second", "samples/s", RESULTS_TIMING, 1, s, K * S);
        if (cfg.gpt != NULL) {
            per_rep(step, K, W, R, tokens, 1, s);
            bench_case_metric(&bc, "tokens_per_second", "tokens/s", RESULTS_TIMING, 1, s, K * S);
        }
        per_rep(step, K, W, R, flops * 1e-9, 1, s);
        bench_case_metric(&bc, "achieved_gflops", "GFLOP/s", RESULTS_TIMING, 1, s, K * S);
        if (peak > 0) {
            per_rep(step, K, W, R, flops * 1e-9 / peak, 1, s);
            bench_case_metric(&bc, "peak_fraction", "ratio", RESULTS_TIMING, 1, s, K * S);
        }
        theory_ratios(&cfg, step0, row);
        s[0] = (results_sample){RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0,
                                row->states_over_formula};
        if (!isnan(row->states_over_formula))
            bench_case_metric(&bc, "model_states_over_formula", "ratio", RESULTS_EXACT, 0, s, 1);
        s[0].value = row->bus_over_minimum;
        if (!isnan(row->bus_over_minimum))
            bench_case_metric(&bc, "bus_bytes_over_minimum", "ratio", RESULTS_EXACT, 0, s, 1);
        /* Bus bytes per step of rank 0 (every rank the same for ours): the
         * steps' traffic, without what create moved once (PyTorch DDP's
         * broadcast of the initial parameters). */
        const dtb_counters traffic = rank_step_traffic(&step0->ranks[0], NULL);
        const dtb_counters *cnt = &traffic;
        s[0] = (results_sample){RESULTS_NONE, 0, RESULTS_NONE, 0,
                                theory_bus_bytes_per_step(cnt, np, S)};
        bench_case_metric(&bc, "comm_bus_bytes", "B", RESULTS_EXACT, 0, s, 1);
        for (int r = 0; r < np; r++)
            s[r] = (results_sample){RESULTS_NONE, r, RESULTS_NONE, 0,
                                    (double)step0->ranks[r].mem_total_peak};
        bench_case_metric(&bc, "mem_peak.total", "B", RESULTS_EXACT, 0, s, np);

        pooled_steps(step, K, W, R, t_step);
        row->step = bench_summarise(t_step, K * R);
        row->samples_per_s = B / row->step.median;
        row->tokens_per_s = tokens / row->step.median;
        row->gflops = flops * 1e-9 / row->step.median;
        row->peak_fraction = peak > 0 ? row->gflops / peak : NAN;
        row->overlap_ratio = NAN;

        /* compute-only and comm-only */
        char why[1024] = "";
        int ok = compute_only(ctx, &cfg, np, &compute) == 0;
        if (!ok)
            snprintf(why, sizeof why, "compute-only world: %.990s", compute.reason);
        dtb_counters per_step;
        memset(&per_step, 0, sizeof per_step);
        int has_comm = 0;
        /* The average step's calls, rounded: a collective issued less than
         * once every two steps (PyTorch DDP's first-step broadcasts) is not
         * part of the average step and is left out of the replay. */
        for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
            per_step.calls[k] = (cnt->calls[k] + (uint64_t)S / 2) / (uint64_t)S;
            per_step.bytes[k] = per_step.calls[k] ? cnt->bytes[k] / (uint64_t)S : 0;
            has_comm |= per_step.calls[k] > 0;
        }
        if (ok && has_comm && np > 1 &&
            comm_bench_replay(&ctx->env, np, &per_step, W, R, t_comm, why, sizeof why) != 0)
            ok = 0;
        if (ok) {
            timed_steps(&compute, W, R, t_comp);
            if (!(has_comm && np > 1))
                memset(t_comm, 0, (size_t)R * sizeof *t_comm);
            for (int i = 0; i < S; i++)
                s[i] = (results_sample){i, RESULTS_NONE, i + 1, i < W,
                                        bench_world_step_seconds(&compute, i)};
            bench_case_metric(&bc, "compute_only_seconds", "s", RESULTS_TIMING, 0, s, S);
            for (int i = 0; i < R; i++)
                s[i] = (results_sample){W + i, RESULTS_NONE, RESULTS_NONE, 0, t_comm[i]};
            bench_case_metric(&bc, "comm_only_seconds", "s", RESULTS_TIMING, 0, s, R);
            const double tc = bench_summarise(t_comp, R).median;
            const double tm = bench_summarise(t_comm, R).median;
            const double ts = row->step.median;
            row->overlap_ratio = ts / (tc + tm);
            s[0] = (results_sample){RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0,
                                    row->overlap_ratio};
            bench_case_metric(&bc, "overlap_ratio", "ratio", RESULTS_TIMING, 0, s, 1);
            tap_diag d;
            diag_init(&d);
            diag_real(&d, "step_median_s", ts);
            diag_real(&d, "step_min_s", row->step.min);
            diag_real(&d, "step_max_s", row->step.max);
            diag_real(&d, "compute_only_s", tc);
            diag_real(&d, "comm_only_s", tm);
            diag_real(&d, "overlap_ratio", row->overlap_ratio);
            if (tm > 0) {
                const double hidden = (tc + tm - ts) / fmin(tc, tm);
                s[0].value = hidden;
                bench_case_metric(&bc, "hidden_fraction", "ratio", RESULTS_TIMING, 1, s, 1);
                diag_real(&d, "hidden_fraction", hidden);
            }
            diag_real(&d, "samples_per_s", row->samples_per_s);
            if (cfg.gpt != NULL)
                diag_real(&d, "tokens_per_s", row->tokens_per_s);
            diag_real(&d, "achieved_gflops", row->gflops);
            if (peak > 0)
                diag_real(&d, "peak_fraction", row->peak_fraction);
            bench_case_check(&bc, "overlap measured", RESULTS_PASS, NULL, -1, &d);
            diag_free(&d);
        } else {
            tap_diag d;
            diag_init(&d);
            diag_text(&d, "message", "%s", why);
            if (!compute.completed && compute.log_tail && compute.log_tail[0])
                diag_block(&d, "log_tail", compute.log_tail);
            bench_case_check(&bc, "overlap measured", RESULTS_FAIL, NULL, -1, &d);
            diag_free(&d);
        }
    }
    free(s), free(t_step), free(t_comp), free(t_comm);
    world_outcome_free(&compute);
    bench_case_end(&bc);
}

static void print_table(const throughput_row *rows, int n)
{
    fprintf(stderr, "\n%-36s %10s %10s %10s %11s %11s %9s %7s %8s %8s %8s\n", "case", "step ms",
            "min ms", "max ms", "samples/s", "tokens/s", "GFLOP/s", "%peak", "overlap",
            "states/f", "bus/min");
    for (int i = 0; i < n; i++) {
        const throughput_row *r = &rows[i];
        if (r->step.n == 0) {
            fprintf(stderr, "%-36s %10s\n", r->label, "-");
            continue;
        }
        fprintf(stderr,
                "%-36s %10.2f %10.2f %10.2f %11.0f %11.0f %9.2f %6.0f%% %8.2f %8.2f %8.2f\n",
                r->label, 1e3 * r->step.median, 1e3 * r->step.min, 1e3 * r->step.max,
                r->samples_per_s, r->tokens_per_s, r->gflops, 100.0 * r->peak_fraction,
                r->overlap_ratio, r->states_over_formula, r->bus_over_minimum);
    }
}

static int throughput_main(bench_context *ctx)
{
    const bench_options *o = &ctx->opt;
    const int n_rows = o->n_impls * o->n_sizes * o->n_precisions * o->n_world_sizes;
    ctx->n_planned = o->n_world_sizes + n_rows;
    throughput_row *rows = calloc((size_t)(n_rows ? n_rows : 1), sizeof *rows);
    double *peaks = calloc((size_t)o->n_world_sizes, sizeof *peaks);
    if (!rows || !peaks) {
        free(rows), free(peaks);
        fprintf(stderr, "dtbench: throughput: out of memory\n");
        return -1;
    }
    for (int w = 0; w < o->n_world_sizes; w++)
        peak_case(ctx, o->world_sizes[w], &peaks[w]);
    /* Per model, precision and N: the implementations' step worlds in
     * interleaved rounds, then each one's case; rows stay in the order
     * model, precision, implementation, N. */
    const int rounds = o->n_impls > 1 ? ROUNDS : 1;
    impl_worlds *worlds = calloc((size_t)o->n_impls, sizeof *worlds);
    if (!worlds) {
        free(rows), free(peaks);
        fprintf(stderr, "dtbench: throughput: out of memory\n");
        return -1;
    }
    for (int m = 0; m < o->n_sizes; m++)
        for (int p = 0; p < o->n_precisions; p++)
            for (int w = 0; w < o->n_world_sizes; w++) {
                const int np = o->world_sizes[w];
                memset(worlds, 0, (size_t)o->n_impls * sizeof *worlds);
                for (int r = 0; r < rounds; r++)
                    for (int i = 0; i < o->n_impls; i++)
                        run_round(ctx, &o->impls[i], o->sizes[m], o->precisions[p], np,
                                  &worlds[i]);
                for (int i = 0; i < o->n_impls; i++) {
                    const int k = ((m * o->n_precisions + p) * o->n_impls + i) *
                                      o->n_world_sizes + w;
                    impl_case(ctx, &o->impls[i], o->sizes[m], o->precisions[p], np, peaks[w],
                              &worlds[i], &rows[k]);
                    for (int r = 0; r < worlds[i].n_run; r++)
                        world_outcome_free(&worlds[i].rounds[r]);
                }
            }
    print_table(rows, n_rows);
    free(worlds);
    free(rows);
    free(peaks);
    return 0;
}
