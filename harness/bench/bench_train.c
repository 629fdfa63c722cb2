#include "bench_train.h"

#include "plugin_loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const dtb_recipe BENCH_RECIPE = {
    .name = "adamw",
    .opt = {.name = "adamw", .kind = DTB_OPT_ADAMW, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
            .eps = 1e-8, .weight_decay = 0.01},
    .clip_norm = 1.0,
};

const char *bench_precision_label(int32_t precision)
{
    return precision == DTB_PREC_BF16_MIXED ? "bf16" : "fp32";
}

void bench_train_config(const bench_context *ctx, const bench_impl *impl, const char *model,
                        int32_t precision, int64_t steps, case_config *c)
{
    memset(c, 0, sizeof *c);
    case_config_set_model(c, model); /* known: checked when the options were parsed */
    c->opt = BENCH_RECIPE.opt;
    c->global_batch = c->gpt != NULL && ctx->suite->gpt_global_batch > 0
                          ? ctx->suite->gpt_global_batch
                          : ctx->suite->global_batch;
    c->micro_batches = 1;
    c->steps = steps;
    c->seed = ctx->opt.seed;
    c->clip_norm = BENCH_RECIPE.clip_norm;
    c->bucket_bytes = 0;
    c->prefetch_depth = -1;
    c->stage = impl->stage;
    c->precision = precision;
    c->required_caps = case_config_base_caps(c) | stage_cap(impl->stage) |
                       recipe_caps(&BENCH_RECIPE) | precision_cap(precision);
    c->n_checks = 0;
    c->solo = 0;
}

void bench_train_case_begin(bench_context *ctx, bench_case *bc, const bench_impl *impl,
                            const case_config *cfg, int np)
{
    const char *prec = bench_precision_label(cfg->precision);
    char key[256], label[256], json[1024];
    const char *model = case_config_model_name(cfg);
    snprintf(key, sizeof key, "%s %s %s %s np=%d", ctx->suite->name, stage_name(impl->stage),
             model, prec, np);
    snprintf(label, sizeof label, "%s %s %s np=%d", impl->name, model, prec, np);
    snprintf(json, sizeof json,
             "{\"suite\":\"%s\",\"impl\":\"%s\",\"stage\":\"%s\",\"model\":\"%s\","
             "\"n_params\":%lld,\"precision\":\"%s\",\"world_size\":%d,\"optimizer\":\"%s\","
             "\"lr\":%.17g,\"momentum\":%.17g,\"beta1\":%.17g,\"beta2\":%.17g,\"eps\":%.17g,"
             "\"weight_decay\":%.17g,\"clip_norm\":%.17g,\"global_batch\":%lld,"
             "\"micro_batches\":%d,\"steps\":%lld,\"bucket_bytes\":%lld,\"prefetch_depth\":%d,"
             "\"warmup\":%d,\"reps\":%d,\"seed\":%llu}",
             ctx->suite->name, impl->name, stage_name(impl->stage), model,
             (long long)case_config_n_params(cfg), precision_name(cfg->precision), np,
             optimizer_kind_name(cfg->opt.kind), cfg->opt.lr, cfg->opt.momentum, cfg->opt.beta1,
             cfg->opt.beta2, cfg->opt.eps, cfg->opt.weight_decay, cfg->clip_norm,
             (long long)cfg->global_batch, (int)cfg->micro_batches, (long long)cfg->steps,
             (long long)cfg->bucket_bytes, (int)cfg->prefetch_depth, ctx->opt.warmup,
             ctx->opt.reps, (unsigned long long)cfg->seed);
    bench_case_begin(ctx, bc, key, label, json);
    snprintf(bc->impl, sizeof bc->impl, "%s", impl->name);
    snprintf(bc->impl_version, sizeof bc->impl_version, "%s", impl->version);
    snprintf(bc->model, sizeof bc->model, "%s", model);
    snprintf(bc->precision, sizeof bc->precision, "%s", precision_name(cfg->precision));
    snprintf(bc->stage, sizeof bc->stage, "%s", stage_name(impl->stage));
    snprintf(bc->recipe, sizeof bc->recipe, "%s", BENCH_RECIPE.name);
    snprintf(bc->optimizer, sizeof bc->optimizer, "%s", optimizer_kind_name(DTB_OPT_ADAMW));
    bc->world_size = np;
}

int bench_skip_unrunnable(bench_case *bc, const bench_impl *impl, uint64_t need, int np,
                          const char *name)
{
    const uint64_t missing = need & ~impl->caps;
    char caps[256], why[320];
    if (!missing && impl->stage == DTB_STAGE_SINGLE && np > 1) {
        snprintf(why, sizeof why, "%.60s is single-device only: worlds of 1 rank", impl->name);
        bench_case_check(bc, name, RESULTS_SKIP, why, -1, NULL);
        return 1;
    }
    if (!missing)
        return 0;
    plugin_caps_format(missing, caps, sizeof caps);
    snprintf(why, sizeof why, "%.60s lacks capability %.200s", impl->name, caps);
    bench_case_check(bc, name, RESULTS_SKIP, why, -1, NULL);
    return 1;
}

int bench_check_world(bench_case *bc, const char *name, const world_outcome *w)
{
    if (w->completed) {
        bench_case_check(bc, name, RESULTS_PASS, NULL, -1, NULL);
        return 1;
    }
    tap_diag d;
    diag_init(&d);
    diag_text(&d, "message", "%s", w->reason);
    if (w->reproduce)
        diag_text(&d, "reproduce", "%s", w->reproduce);
    if (w->log_tail && w->log_tail[0])
        diag_block(&d, "log_tail", w->log_tail);
    bench_case_check(bc, name, RESULTS_FAIL, NULL, -1, &d);
    diag_free(&d);
    return 0;
}

double bench_world_step_seconds(const world_outcome *w, int64_t s)
{
    double t = 0.0;
    for (int r = 0; r < w->world_size; r++)
        if (w->ranks[r].step_seconds[s] > t)
            t = w->ranks[r].step_seconds[s];
    return t;
}
