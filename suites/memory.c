/*
 * memory: what each implementation keeps per rank, by category, against the
 * ZeRO formulas, over model sizes spanning more than two orders of magnitude
 * (docs/benchmarks.md, docs/zero.md "Theory the suites check").
 *
 * Sweep, per implementation x model x precision x world size N: two training
 * steps; each rank's peak bytes per category (the host API's accounting);
 * model states = peak(params) + peak(grads) + peak(optim), against
 *   theory  formula(Psi, Psi/N) of the recipe's p, g, K (+ padding, + ZeRO-3's
 *           (d+1) materialised units: the bound a rank must stay within),
 *   paper   the same formula with the paper's 2-byte p and g.
 *
 * Budget (--mem-budget B), per implementation x precision x N: the widest
 * model of a width family whose measured per-rank peak, every category
 * included, stays within B: the paper's "N times larger model", measured.
 * The family is the first --sizes model's kind's: mlp-w<W> (Psi = 6 W^2 +
 * 2055 W + 1024, W in steps of 16) or gpt2-w<C> (GPT-2 small's vocabulary,
 * context and 12 blocks at width C, Psi = 144 C^2 + 51439 C, C in steps of
 * 64). The search is exact to the step:
 *   1. W_max: the widest W whose formula alone fits (a rank keeps at least
 *      its formula, so no wider W can fit);
 *   2. probe (a one-step world) W_max, then W predicted from the measured /
 *      formula ratio of the last probe that did not fit, then bisect between
 *      the widest fit and the narrowest miss. A probe the kernel kills for
 *      memory (SIGKILL) is a miss: the run is refused unless budget x N fits
 *      in 90% of the available memory, so such a world had a rank over the
 *      budget; its peak is unknown, so the next probe bisects.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_train.h"
#include "theory.h"

#define SWEEP_STEPS 2
#define MAX_PROBES 12

/* A family of models by width, as the budget search walks it. */
typedef struct width_family {
    const char *prefix;        /* name = prefix + width */
    const char *pattern;       /* as records and messages show it */
    int64_t step, min, max;    /* widths searched: multiples of step in min..max */
    int64_t (*params)(int64_t width);
} width_family;

static const width_family MLP_FAMILY = {"mlp-w", "mlp-w<W>", 16, 16,
                                        MLP_WIDTH_FAMILY_MAX / 16 * 16, mlp_width_family_params};
static const width_family GPT2_FAMILY = {"gpt2-w", "gpt2-w<C>", GPT2_WIDTH_FAMILY_STEP,
                                         GPT2_WIDTH_FAMILY_MIN, GPT2_WIDTH_FAMILY_MAX,
                                         gpt2_width_family_params};

/* The family of the first --sizes model's kind. */
static const width_family *budget_family(const bench_context *ctx)
{
    case_config c;
    const int gpt = ctx->opt.n_sizes > 0 && case_config_set_model(&c, ctx->opt.sizes[0]) == 0 &&
                    c.gpt != NULL;
    return gpt ? &GPT2_FAMILY : &MLP_FAMILY;
}

static int memory_main(bench_context *ctx);

static const char *const IMPLS[] = {"ref-ddp", "ref-zero1", "ref-zero2", "ref-zero3"};
static const char *const MODELS[] = {"mlp-100k", "mlp-1m", "mlp-8m", "mlp-20m"};
static const int WORLDS[] = {2, 4};
static const int32_t PRECISIONS[] = {DTB_PREC_FP32, DTB_PREC_BF16_MIXED};

const dtb_suite dtb_suite_memory = {
    .name = "memory",
    .kind = DTB_SUITE_BENCH,
    .bench_main = memory_main,
    .description = "per-rank peak memory by category vs the ZeRO formulas across model sizes; "
                   "largest model per stage within --mem-budget",
    .required_caps = DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP,
    .bench_impls = IMPLS,
    .n_bench_impls = 4,
    .bench_mem_budget = 1,
    .models = MODELS,
    .n_models = 4,
    .world_sizes = WORLDS,
    .n_world_sizes = 2,
    .precisions = PRECISIONS,
    .n_precisions = 2,
    .global_batch = 32,
    /* GPT models: sequences (at GPT-2's context, one per rank at 4 ranks). */
    .gpt_global_batch = 4,
    .micro_batches = 1,
    .steps = SWEEP_STEPS,
    .seed = 2024,
};

static const char *const CATEGORY[DTB_MEM_CATEGORY_COUNT] = {
    "params", "grads", "optim", "activations", "comm", "other"};

static int64_t model_states(const rank_result *r)
{
    return r->mem_peak[DTB_MEM_PARAMS] + r->mem_peak[DTB_MEM_GRADS] + r->mem_peak[DTB_MEM_OPTIM];
}

/* One sweep case: the world, per-rank metrics, "memory within theory". */
static void sweep_case(bench_context *ctx, const bench_impl *impl, const char *model,
                       int32_t precision, int np)
{
    case_config cfg;
    bench_train_config(ctx, impl, model, precision, SWEEP_STEPS, &cfg);
    bench_case bc;
    bench_train_case_begin(ctx, &bc, impl, &cfg, np);
    if (bench_skip_unrunnable(&bc, impl, cfg.required_caps, np, "completed")) {
        bench_case_end(&bc);
        return;
    }
    world_outcome w;
    world_run(&ctx->env, impl->path, &cfg, np, &w);
    bc.completed = bench_check_world(&bc, "completed", &w);
    results_sample *s = calloc((size_t)np, sizeof *s);
    if (bc.completed && !s) {
        bc.oom = 1;
    } else if (bc.completed) {
        char name[48];
        for (int c = 0; c <= DTB_MEM_CATEGORY_COUNT; c++) {
            for (int r = 0; r < np; r++)
                s[r] = (results_sample){RESULTS_NONE, r, RESULTS_NONE, 0,
                                        (double)(c < DTB_MEM_CATEGORY_COUNT
                                                     ? w.ranks[r].mem_peak[c]
                                                     : w.ranks[r].mem_total_peak)};
            snprintf(name, sizeof name, "mem_peak.%s", c < DTB_MEM_CATEGORY_COUNT ? CATEGORY[c]
                                                                                 : "total");
            bench_case_metric(&bc, name, "B", RESULTS_EXACT, 0, s, np);
        }
        int worst = 0;
        for (int r = 0; r < np; r++) {
            s[r] = (results_sample){RESULTS_NONE, r, RESULTS_NONE, 0,
                                    (double)model_states(&w.ranks[r])};
            if (model_states(&w.ranks[r]) > model_states(&w.ranks[worst]))
                worst = r;
        }
        bench_case_metric(&bc, "model_states_bytes", "B", RESULTS_EXACT, 0, s, np);

        theory_case tc;
        case_config_theory(&cfg, np, w.ranks[0].facts.prefetch_depth, &tc);
        theory_memory th;
        const double states = (double)model_states(&w.ranks[worst]);
        if (theory_memory_bounds(&tc, &th) != 0) {
            tap_diag d;
            diag_init(&d);
            diag_text(&d, "message", "no theory for stage %s, precision %s, prefetch depth %d",
                      stage_name(cfg.stage), precision_name(cfg.precision),
                      (int)w.ranks[0].facts.prefetch_depth);
            bench_case_check(&bc, "memory within theory", RESULTS_FAIL, NULL, -1, &d);
            diag_free(&d);
        } else {
            const struct {
                const char *name, *unit;
                double value;
            } exact[] = {{"theory_bytes", "B", th.formula},
                         {"paper_bytes", "B", th.paper},
                         {"bound_bytes", "B", (double)th.bound},
                         {"measured_over_theory", "ratio", states / th.formula},
                         {"measured_over_paper", "ratio", states / th.paper}};
            for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
                s[0] = (results_sample){RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0,
                                        exact[i].value};
                bench_case_metric(&bc, exact[i].name, exact[i].unit, RESULTS_EXACT, 0, s, 1);
            }
            tap_diag d;
            diag_init(&d);
            diag_int(&d, "worst_rank", worst);
            for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++) {
                char key[32];
                snprintf(key, sizeof key, "%s_bytes", CATEGORY[c]);
                diag_int(&d, key, w.ranks[worst].mem_peak[c]);
            }
            diag_int(&d, "model_states_bytes", model_states(&w.ranks[worst]));
            diag_real(&d, "theory_bytes", th.formula);
            diag_real(&d, "padding_bytes", th.padding);
            diag_int(&d, "materialised_bytes", th.materialised);
            diag_int(&d, "bound_bytes", th.bound);
            diag_real(&d, "paper_bytes", th.paper);
            diag_real(&d, "measured_over_theory", states / th.formula);
            diag_real(&d, "measured_over_paper", states / th.paper);
            int within = states <= (double)th.bound;
            bench_case_check(&bc, "memory within theory", within ? RESULTS_PASS : RESULTS_FAIL,
                             NULL, states / (double)th.bound, &d);
            diag_free(&d);
            fprintf(stderr, "dtbench: %-34s states %10.4g B  theory %10.4g  x%.3f  paper x%.3f\n",
                    bc.label, states, th.formula, states / th.formula, states / th.paper);
        }
    }
    free(s);
    world_outcome_free(&w);
    bench_case_end(&bc);
}

/* ---- budget search ------------------------------------------------------- */

typedef struct probe {
    int64_t width;
    int ok;                    /* the world completed, or was killed for memory */
    int killed;                /* SIGKILL: counted as a miss, peak unknown */
    int64_t peak;              /* max over ranks of the total tracked peak */
    double formula;            /* formula(Psi(W)) per rank */
    char reason[256];
} probe;

typedef struct budget_search {
    bench_context *ctx;
    const width_family *family;
    const bench_impl *impl;
    int32_t precision;
    int np;
    probe probes[MAX_PROBES];
    int n_probes;
} budget_search;

/* The config of a one-step world at width W. The generated model lives in
 * cfg->model_storage: cfg must not be copied. */
static void family_config(const budget_search *b, int64_t width, case_config *cfg)
{
    char name[32];
    snprintf(name, sizeof name, "%s%lld", b->family->prefix, (long long)width);
    bench_train_config(b->ctx, b->impl, name, b->precision, 1, cfg);
}

/* formula(Psi(W)) per rank, bytes; negative when the theory has none. */
static double family_formula(const budget_search *b, int64_t width)
{
    case_config cfg;
    family_config(b, width, &cfg);
    theory_case tc;
    case_config_theory(&cfg, b->np, 1, &tc);
    theory_memory th;
    return theory_memory_bounds(&tc, &th) == 0 ? th.formula : -1;
}

/* A one-step world at width W. */
static const probe *run_probe(budget_search *b, int64_t width)
{
    probe *p = &b->probes[b->n_probes++];
    memset(p, 0, sizeof *p);
    p->width = width;
    p->formula = family_formula(b, width);
    case_config cfg;
    family_config(b, width, &cfg);
    world_outcome w;
    if (world_run(&b->ctx->env, b->impl->path, &cfg, b->np, &w) == 0) {
        p->ok = 1;
        for (int r = 0; r < b->np; r++)
            if (w.ranks[r].mem_total_peak > p->peak)
                p->peak = w.ranks[r].mem_total_peak;
    } else if (strstr(w.reason, "killed by signal 9 (SIGKILL)") != NULL) {
        /* The kernel's out-of-memory killer: the run was refused unless the
         * budget times N fits in 90% of the machine's available memory, so
         * a world the machine could not hold has a rank over the budget (a
         * width chosen from the formula alone can be far over it when the
         * activations are large: GPT-2 shapes). */
        p->ok = 1;
        p->killed = 1;
        p->peak = INT64_MAX;
        snprintf(p->reason, sizeof p->reason, "killed (SIGKILL, out of memory): a miss");
    } else {
        snprintf(p->reason, sizeof p->reason, "%.250s", w.reason);
    }
    world_outcome_free(&w);
    fprintf(stderr, "dtbench: budget %s %s np=%d: %s%lld (%lld params) %s%.4g B per rank\n",
            b->impl->name, bench_precision_label(b->precision), b->np, b->family->prefix,
            (long long)width, (long long)b->family->params(width),
            p->ok && !p->killed ? "peak " : "failed: ",
            p->ok && !p->killed ? (double)p->peak : 0.0);
    if (!p->ok || p->killed)
        fprintf(stderr, "dtbench:   %s\n", p->reason);
    return p;
}

/* The widest W (multiple of the family's step) whose per-rank bytes
 * f(W) * scale stay within budget, in [lo, hi]; lo - step when none. */
static int64_t widest_within(const budget_search *b, int64_t lo, int64_t hi, double scale)
{
    const double budget = (double)b->ctx->opt.mem_budget;
    const int64_t step = b->family->step;
    int64_t best = lo - step;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2 / step * step;
        if (mid < lo)
            mid = lo;
        double f = family_formula(b, mid);
        if (f >= 0 && f * scale <= budget) {
            best = mid;
            lo = mid + step;
        } else {
            hi = mid - step;
        }
    }
    return best;
}

/* 0 and *fit (the widest fitting width, 0 when even the narrowest misses),
 * *miss (the narrowest measured miss, 0 when none); -1 when a probe failed
 * to run (reason in the last probe). Invariant: every width <= lo fits (as
 * far as measured), every width >= hi misses. */
static int search(budget_search *b, int64_t *fit, int64_t *miss)
{
    const int64_t budget = b->ctx->opt.mem_budget;
    const int64_t step = b->family->step, lo0 = b->family->min, hi0 = b->family->max;
    const int64_t w_max = widest_within(b, lo0, hi0, 1.0);
    *fit = 0;
    *miss = 0;
    if (w_max < lo0)
        return 0; /* not even the formula of the narrowest fits */
    int64_t lo = lo0 - step, hi = w_max + step;
    int64_t next = w_max;
    int predicted = 0; /* the last probe was a prediction */
    while (b->n_probes < MAX_PROBES) {
        const probe *p = run_probe(b, next);
        if (!p->ok)
            return -1;
        const int fits = p->peak <= budget;
        if (fits)
            lo = next;
        else
            hi = next;
        const int64_t a = lo + step, z = hi - step;
        if (a > z)
            break;
        if (!fits && p->formula > 0 && !p->killed) {
            /* Predict from this miss: the formula scaled by measured/formula. */
            int64_t g = widest_within(b, a, z, (double)p->peak / p->formula);
            next = g < a ? a : g;
            predicted = 1;
        } else if (fits && predicted) {
            next = a; /* confirm the boundary right above the prediction */
            predicted = 0;
        } else {
            next = (a + z) / 2 / step * step;
            if (next < a)
                next = a;
            predicted = 0;
        }
    }
    *fit = lo >= lo0 ? lo : 0;
    *miss = hi <= w_max ? hi : 0;
    return 0;
}

static void budget_case(bench_context *ctx, const bench_impl *impl, int32_t precision, int np,
                        int64_t *largest_params)
{
    char budget_text[32], key[256], label[256], json[512];
    const width_family *fam = budget_family(ctx);
    const int gpt = fam == &GPT2_FAMILY;
    bench_format_bytes((double)ctx->opt.mem_budget, budget_text, sizeof budget_text);
    /* The MLP family's key predates the GPT's: it stays as recorded. */
    snprintf(key, sizeof key, "memory budget %s %s np=%d %lld%s", stage_name(impl->stage),
             bench_precision_label(precision), np, (long long)ctx->opt.mem_budget,
             gpt ? " gpt2-w" : "");
    snprintf(label, sizeof label, "%s %s np=%d within %s per rank", impl->name,
             bench_precision_label(precision), np, budget_text);
    snprintf(json, sizeof json,
             "{\"suite\":\"memory\",\"what\":\"budget\",\"impl\":\"%s\",\"stage\":\"%s\","
             "\"precision\":\"%s\",\"world_size\":%d,\"budget_bytes\":%lld,\"family\":"
             "\"%s\",\"width_step\":%lld,\"global_batch\":%lld}",
             impl->name, stage_name(impl->stage), precision_name(precision), np,
             (long long)ctx->opt.mem_budget, fam->pattern, (long long)fam->step,
             (long long)(gpt ? ctx->suite->gpt_global_batch : ctx->suite->global_batch));
    bench_case bc;
    bench_case_begin(ctx, &bc, key, label, json);
    snprintf(bc.impl, sizeof bc.impl, "%s", impl->name);
    snprintf(bc.impl_version, sizeof bc.impl_version, "%s", impl->version);
    snprintf(bc.model, sizeof bc.model, "%s*", fam->prefix);
    snprintf(bc.precision, sizeof bc.precision, "%s", precision_name(precision));
    snprintf(bc.stage, sizeof bc.stage, "%s", stage_name(impl->stage));
    snprintf(bc.recipe, sizeof bc.recipe, "%s", BENCH_RECIPE.name);
    snprintf(bc.optimizer, sizeof bc.optimizer, "adamw");
    bc.world_size = np;
    *largest_params = 0;

    uint64_t need = DTB_CAP_CPU | (gpt ? DTB_CAP_MODEL_GPT : DTB_CAP_MODEL_MLP) |
                    stage_cap(impl->stage) | recipe_caps(&BENCH_RECIPE) | precision_cap(precision);
    if (bench_skip_unrunnable(&bc, impl, need, np, "largest model found")) {
        bench_case_end(&bc);
        return;
    }
    budget_search *b = calloc(1, sizeof *b);
    if (!b) {
        bc.oom = 1;
        bench_case_end(&bc);
        return;
    }
    *b = (budget_search){.ctx = ctx, .family = fam, .impl = impl, .precision = precision,
                         .np = np};
    int64_t fit = 0, miss = 0;
    int rc = search(b, &fit, &miss);
    tap_diag d;
    diag_init(&d);
    diag_int(&d, "budget_bytes", ctx->opt.mem_budget);
    for (int i = 0; i < b->n_probes && i < 8; i++) {
        char k[16];
        snprintf(k, sizeof k, "probe_%d", i);
        const probe *pr = &b->probes[i];
        if (pr->killed)
            diag_text(&d, k, "%s%lld %lld params: misses (%s)", fam->prefix, (long long)pr->width,
                      (long long)fam->params(pr->width), pr->reason);
        else
            diag_text(&d, k, "%s%lld %lld params: %s %lld B", fam->prefix, (long long)pr->width,
                      (long long)fam->params(pr->width),
                      !pr->ok                             ? "failed"
                      : pr->peak <= ctx->opt.mem_budget ? "fits"
                                                        : "misses",
                      (long long)pr->peak);
    }
    if (rc != 0) {
        diag_text(&d, "message", "probe %s%lld failed: %s", fam->prefix,
                  (long long)b->probes[b->n_probes - 1].width, b->probes[b->n_probes - 1].reason);
        bench_case_check(&bc, "largest model found", RESULTS_FAIL, NULL, -1, &d);
    } else if (fit == 0) {
        char why[128];
        snprintf(why, sizeof why, "no %s model fits %s per rank", fam->prefix, budget_text);
        bench_case_check(&bc, "largest model found", RESULTS_SKIP, why, -1, &d);
    } else {
        const probe *pf = NULL;
        for (int i = 0; i < b->n_probes; i++)
            if (b->probes[i].width == fit)
                pf = &b->probes[i];
        bc.completed = 1;
        *largest_params = fam->params(fit);
        diag_text(&d, "largest", "%s%lld", fam->prefix, (long long)fit);
        diag_int(&d, "largest_params", *largest_params);
        diag_int(&d, "largest_peak_bytes", pf ? pf->peak : -1);
        diag_int(&d, "probes", b->n_probes);
        if (miss)
            diag_text(&d, "next_wider_misses", "%s%lld", fam->prefix, (long long)miss);
        results_sample s[2] = {
            {RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0, (double)*largest_params},
            {RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0, (double)fit}};
        bench_case_metric(&bc, "largest_params", "params", RESULTS_EXACT, 1, &s[0], 1);
        bench_case_metric(&bc, "largest_width", "width", RESULTS_EXACT, 1, &s[1], 1);
        if (pf) {
            s[0].value = (double)pf->peak;
            bench_case_metric(&bc, "largest_total_bytes", "B", RESULTS_EXACT, 0, &s[0], 1);
        }
        bench_case_check(&bc, "largest model found", RESULTS_PASS, NULL, -1, &d);
    }
    diag_free(&d);
    free(b);
    bench_case_end(&bc);
}

static int memory_main(bench_context *ctx)
{
    const bench_options *o = &ctx->opt;
    const int n_budget = o->mem_budget ? o->n_impls * o->n_precisions * o->n_world_sizes : 0;
    ctx->n_planned = o->n_impls * o->n_sizes * o->n_precisions * o->n_world_sizes + n_budget;
    for (int m = 0; m < o->n_sizes; m++)
        for (int p = 0; p < o->n_precisions; p++)
            for (int w = 0; w < o->n_world_sizes; w++)
                for (int i = 0; i < o->n_impls; i++)
                    sweep_case(ctx, &o->impls[i], o->sizes[m], o->precisions[p],
                               o->world_sizes[w]);
    if (!o->mem_budget)
        return 0;
    int64_t *largest = calloc((size_t)n_budget, sizeof *largest);
    if (!largest) {
        fprintf(stderr, "dtbench: memory: out of memory\n");
        return -1;
    }
    int k = 0;
    for (int p = 0; p < o->n_precisions; p++)
        for (int w = 0; w < o->n_world_sizes; w++)
            for (int i = 0; i < o->n_impls; i++, k++)
                budget_case(ctx, &o->impls[i], o->precisions[p], o->world_sizes[w], &largest[k]);
    char budget_text[32];
    bench_format_bytes((double)o->mem_budget, budget_text, sizeof budget_text);
    fprintf(stderr, "\nlargest %s model within %s per rank:\n", budget_family(ctx)->prefix,
            budget_text);
    k = 0;
    for (int p = 0; p < o->n_precisions; p++) {
        for (int w = 0; w < o->n_world_sizes; w++) {
            const int64_t first = largest[k];
            for (int i = 0; i < o->n_impls; i++, k++)
                fprintf(stderr, "  %-10s %-5s np=%d  %12lld params  x%.2f vs %s\n",
                        o->impls[i].name, bench_precision_label(o->precisions[p]),
                        o->world_sizes[w], (long long)largest[k],
                        first > 0 ? (double)largest[k] / (double)first : 0.0, o->impls[0].name);
        }
    }
    free(largest);
    return 0;
}
