#include "suite_recipe.h"

#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_train.h"
#include "cli_parse.h"
#include "comm_ops.h"
#include "model.h"
#include "plan.h"
#include "plugin_loader.h"

#define ROW "  %-17s "

static void print_caps(FILE *f, const char *what, uint64_t caps, const char *note)
{
    char names[512];
    plugin_caps_format(caps, names, sizeof names);
    fprintf(f, ROW "%s%s\n", what, names, note ? note : "");
}

static void print_ints(FILE *f, const char *what, const int *v, int n, const char *note)
{
    fprintf(f, ROW, what);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? "," : "", v[i]);
    fprintf(f, "%s\n", note ? note : "");
}

static void print_models(FILE *f, const char *what, const dtb_suite *s, const char *note)
{
    fprintf(f, ROW, what);
    for (int m = 0; m < s->n_models; m++) {
        const mlp_config *c = mlp_config_find(s->models[m]);
        fprintf(f, "%s%s", m ? ", " : "", s->models[m]);
        if (c)
            fprintf(f, " (%lld params)", (long long)mlp_param_count(c));
        else
            fprintf(f, " (unknown model)");
    }
    fprintf(f, "%s\n", note ? note : "");
}

static void print_precisions(FILE *f, const char *what, const dtb_suite *s, const char *note)
{
    fprintf(f, ROW, what);
    for (int p = 0; p < s->n_precisions; p++)
        fprintf(f, "%s%s", p ? ", " : "", precision_name(s->precisions[p]));
    fprintf(f, "%s\n", note ? note : "");
}

/* "sgd-momentum  lr 0.05  momentum 0.9  weight decay 0.0001  clip norm 0.05":
 * the hyper-parameters of the recipe's optimizer kind. */
static void print_recipe(FILE *f, const dtb_recipe *r)
{
    const dtb_optimizer_config *o = &r->opt;
    fprintf(f, "    %-15s %s  lr %g", r->name,
            plugin_cap_name(optimizer_cap(o->kind)) ? plugin_cap_name(optimizer_cap(o->kind))
                                                    : optimizer_kind_name(o->kind),
            o->lr);
    if (o->kind == DTB_OPT_SGD_MOMENTUM)
        fprintf(f, "  momentum %g", o->momentum);
    else
        fprintf(f, "  betas %g, %g  eps %g", o->beta1, o->beta2, o->eps);
    fprintf(f, "  weight decay %g  clip norm %g%s\n", o->weight_decay, r->clip_norm,
            r->clip_norm > 0 ? "" : " (off)");
}

static void print_prefetch(FILE *f, const dtb_suite *s)
{
    if (!s->prefetch_depths || s->n_prefetch_depths < 1) {
        fprintf(f, ROW "the plugin's default\n", "prefetch depths");
        return;
    }
    fprintf(f, ROW, "prefetch depths");
    for (int d = 0; d < s->n_prefetch_depths; d++)
        fprintf(f, "%s%d", d ? "," : "", (int)s->prefetch_depths[d]);
    if (s->extra_depth_models && s->n_prefetch_depths > 1) {
        fprintf(f, " (after %d only with ", (int)s->prefetch_depths[0]);
        for (int m = 0; m < s->n_extra_depth_models; m++)
            fprintf(f, "%s%s", m ? ", " : "", s->extra_depth_models[m]);
        fputc(')', f);
    }
    fputc('\n', f);
}

/* The checkpoint suite's shapes (docs/checkpoint.md), one line each. */
static void print_transitions(FILE *f, const dtb_suite *s)
{
    if (s->n_ckpt_transitions == 0)
        return;
    fprintf(f, "  checkpoints (each recipe and precision; a stage side runs the implementation "
               "when it declares that stage, else ref-<stage>)\n");
    for (int t = 0; t < s->n_ckpt_transitions; t++) {
        const dtb_ckpt_transition *c = &s->ckpt_transitions[t];
        if (c->crash) {
            fprintf(f, "    crash           self at %d ranks saving every %lld steps, one rank "
                       "killed, restarted from the latest checkpoint\n",
                    c->from_world, (long long)s->ckpt_crash_every);
            continue;
        }
        const char *from = c->from_stage == DTB_CKPT_SELF ? "self" : stage_name(c->from_stage);
        const char *to = c->to_stage == DTB_CKPT_SELF ? "self" : stage_name(c->to_stage);
        char shape[64];
        snprintf(shape, sizeof shape, "%s@%d>%s@%d", from, c->from_world, to, c->to_world);
        fprintf(f, "    %-15s saved after step %lld at %d rank(s), resumed at %d%s\n", shape,
                (long long)s->ckpt_save_step, c->from_world, c->to_world,
                c->from_stage == c->to_stage && c->from_world == c->to_world ? " (bit for bit)"
                                                                             : "");
    }
}

static int print_conformance(const dtb_suite *s, FILE *f, char *err, size_t err_len)
{
    dtb_case *cases = NULL;
    int n = 0;
    if (plan_cases(s, NULL, &cases, &n, err, err_len))
        return -1;
    uint64_t required = plan_required_caps(s), per_case = 0;
    for (int p = 0; p < s->n_precisions; p++)
        per_case |= precision_cap(s->precisions[p]) & ~required;
    fprintf(f, ROW "%s (default; --impl)\n", "implementation", s->default_impl);
    if (s->n_ckpt_transitions > 0)
        fprintf(f, ROW "each side's own: self is the lowest of ddp, zero1-3 the "
                       "implementation declares\n", "stage");
    else
        fprintf(f, ROW "%s\n", "stage", stage_name(s->stage));
    print_caps(f, "requires", required, NULL);
    if (per_case)
        print_caps(f, "per case", per_case,
                   ": a case whose precision the implementation lacks is skipped");
    print_models(f, "models", s, NULL);
    print_precisions(f, "precisions", s, NULL);
    if (s->n_ckpt_transitions == 0) {
        print_ints(f, "world sizes", s->world_sizes, s->n_world_sizes, NULL);
    } else { /* the worlds the shapes use, ascending */
        int worlds[DTB_NP_LIST_MAX], n = 0;
        for (int w = 1; w <= DTB_NP_MAX && n < DTB_NP_LIST_MAX; w++)
            for (int t = 0; t < s->n_ckpt_transitions; t++)
                if (s->ckpt_transitions[t].from_world == w || s->ckpt_transitions[t].to_world == w) {
                    worlds[n++] = w;
                    break;
                }
        print_ints(f, "world sizes", worlds, n, " (of the shapes below; --np keeps a shape "
                                                "whose two worlds it lists)");
    }
    fprintf(f, ROW "%lld\n", "global batch", (long long)s->global_batch);
    fprintf(f, ROW "%d\n", "micro-batches", (int)s->micro_batches);
    fprintf(f, ROW "%lld\n", "steps", (long long)s->steps);
    fprintf(f, ROW, "checked steps");
    for (int i = 0; n > 0 && i < cases[0].cfg.n_checks; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)cases[0].cfg.check_steps[i]);
    fputc('\n', f);
    fprintf(f, ROW "%llu\n", "seed", (unsigned long long)s->seed);
    if (s->bucket_bytes > 0)
        fprintf(f, ROW "%lld\n", "bucket bytes", (long long)s->bucket_bytes);
    else
        fprintf(f, ROW "the plugin's default\n", "bucket bytes");
    print_prefetch(f, s);
    fprintf(f, ROW "%d\n", "cases", n);
    fprintf(f, "  recipes\n");
    for (int r = 0; r < s->n_recipes; r++)
        print_recipe(f, &s->recipes[r]);
    print_transitions(f, s);
    if (s->n_edge_cases > 0)
        fprintf(f, "  edge cases (after the matrix, labelled edge=NAME)\n");
    for (int e = 0; e < s->n_edge_cases; e++) {
        const dtb_edge_case *ec = &s->edge_cases[e];
        const dtb_case *c = NULL;
        for (int k = 0; k < n && !c; k++)
            if (cases[k].edge == ec)
                c = &cases[k];
        if (!c)
            continue;
        /* What the edge case sets beyond the matrix's parameters. */
        char extra[96] = "";
        int w = 0;
        if (ec->clip_norm > 0)
            w += snprintf(extra, sizeof extra, ", clip norm %g", c->cfg.clip_norm);
        if (ec->bucket_bytes > 0 && w >= 0 && (size_t)w < sizeof extra)
            snprintf(extra + w, sizeof extra - (size_t)w, ", bucket bytes %lld",
                     (long long)c->cfg.bucket_bytes);
        fprintf(f, "    %-14s  %s, %s, %s, np=%d, batch %lld in %d micro-batches%s: %s\n",
                ec->name, ec->model, c->recipe->name, precision_name(ec->precision),
                ec->world_size, (long long)c->cfg.global_batch, (int)c->cfg.micro_batches,
                extra, ec->why);
    }
    free(cases);
    return 0;
}

static void print_message_sizes(FILE *f, const dtb_suite *s)
{
    fprintf(f, ROW, "sizes");
    for (int i = 0; i < s->n_bench_message_sizes; i++) {
        char b[32];
        bench_format_bytes((double)s->bench_message_sizes[i], b, sizeof b);
        fprintf(f, "%s%s", i ? ", " : "", b);
    }
    fprintf(f, " (--sizes)\n");
    fprintf(f, ROW, "collectives");
    for (int i = 0; i < COMM_OPS_COUNT; i++)
        fprintf(f, "%s%s", i ? ", " : "", comm_op_name((dtb_collective)i));
    fprintf(f, ", each through impl/comm and as the raw MPI call (fp32)\n");
}

/* The training config a benchmark suite's worlds use (bench_train.h), as
 * its driver plans it for its first size and precision. */
static int bench_training(const dtb_suite *s, case_config *cfg, char *err, size_t err_len)
{
    case_config probe;
    const char *model = s->n_models > 0 && case_config_set_model(&probe, s->models[0]) == 0
                            ? s->models[0]
                            : NULL;
    bench_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !model) {
        snprintf(err, err_len, "%s", ctx ? "the suite names no known model" : "out of memory");
        free(ctx);
        return -1;
    }
    ctx->suite = s;
    ctx->opt.seed = s->seed;
    bench_impl impl;
    memset(&impl, 0, sizeof impl);
    impl.stage = DTB_STAGE_DDP;
    bench_train_config(ctx, &impl, model, s->n_precisions ? s->precisions[0] : DTB_PREC_FP32,
                       s->steps, cfg);
    free(ctx);
    return 0;
}

static int print_bench(const dtb_suite *s, FILE *f, char *err, size_t err_len)
{
    if (s->n_bench_impls > 0) {
        fprintf(f, ROW, "implementations");
        for (int i = 0; i < s->n_bench_impls; i++)
            fprintf(f, "%s%s", i ? "," : "", s->bench_impls[i]);
        fprintf(f, " (--impl LIST)\n");
        print_caps(f, "requires", s->required_caps | DTB_CASE_BASE_CAPS,
                   "; the stage run is the highest declared, a single-device implementation "
                   "runs at np 1 only");
        uint64_t per_case = 0;
        for (int p = 0; p < s->n_precisions; p++)
            per_case |= precision_cap(s->precisions[p]);
        print_caps(f, "per case", per_case,
                   ": a case whose precision the implementation lacks is skipped");
    } else {
        fprintf(f, ROW "none: impl/comm's collectives against the raw MPI calls\n",
                "implementations");
    }
    if (s->bench_sizes_are_bytes)
        print_message_sizes(f, s);
    else
        print_models(f, "sizes", s, " (--sizes: these, mlp-w<W> or a GPT of dtbench list)");
    print_ints(f, "world sizes", s->world_sizes, s->n_world_sizes, " (--np)");
    if (s->n_precisions > 0)
        print_precisions(f, "precisions", s, " (--precision)");
    if (s->steps == 0) { /* a suite that times repetitions; else its steps are fixed */
        fprintf(f, ROW "%d (--warmup)\n", "warm-up", BENCH_DEFAULT_WARMUP);
        fprintf(f, ROW "%d (--reps, at least %d)\n", "repetitions", BENCH_DEFAULT_REPS,
                BENCH_MIN_REPS);
    }
    fprintf(f, ROW "%llu (--seed)\n", "seed", (unsigned long long)s->seed);
    if (s->bench_mem_budget)
        fprintf(f, ROW "none (--mem-budget SIZE: the widest mlp-w<W>, or gpt2-w<C> when the "
                   "first --sizes model is a GPT, per stage within it, by one-step worlds)\n",
                "memory budget");
    if (s->n_bench_impls == 0)
        return 0;
    case_config cfg;
    if (bench_training(s, &cfg, err, err_len))
        return -1;
    if (cfg.steps > 0)
        fprintf(f, ROW "%lld per world\n", "steps", (long long)cfg.steps);
    else
        fprintf(f, ROW "warm-up + repetitions per world\n", "steps");
    fprintf(f, ROW "%lld\n", "global batch", (long long)cfg.global_batch);
    if (s->gpt_global_batch > 0)
        fprintf(f, ROW "%lld sequences\n", "GPT batch", (long long)s->gpt_global_batch);
    fprintf(f, ROW "%d\n", "micro-batches", (int)cfg.micro_batches);
    fprintf(f, "  recipe\n");
    const dtb_recipe trained = {.name = BENCH_RECIPE.name, .opt = cfg.opt,
                                .clip_norm = cfg.clip_norm};
    print_recipe(f, &trained);
    return 0;
}

int suite_recipe_print(const dtb_suite *s, FILE *f, char *err, size_t err_len)
{
    fprintf(f, "suite %s: %s\n", s->name,
            s->kind == DTB_SUITE_BENCH ? "benchmark" : "conformance");
    fprintf(f, ROW "%s\n", "description", s->description);
    if (s->kind == DTB_SUITE_BENCH)
        return print_bench(s, f, err, err_len);
    return print_conformance(s, f, err, err_len);
}
