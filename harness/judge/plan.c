#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t plan_required_caps(const dtb_suite *suite)
{
    uint64_t caps = suite->required_caps | DTB_CASE_BASE_CAPS;
    for (int o = 0; o < suite->n_recipes; o++)
        caps |= recipe_caps(&suite->recipes[o]);
    /* A precision is the whole suite's need only when every case has it. */
    uint64_t every = suite->n_precisions > 0 ? ~0ull : 0;
    for (int p = 0; p < suite->n_precisions; p++)
        every &= precision_cap(suite->precisions[p]);
    return caps | every;
}

uint64_t plan_missing_caps(const dtb_case *c, uint64_t impl_caps)
{
    return c->cfg.required_caps & ~impl_caps;
}

/* Check steps: step 1 and the last (once when they coincide). */
static void set_check_steps(case_config *cfg)
{
    cfg->n_checks = 0;
    cfg->check_steps[cfg->n_checks++] = 1;
    if (cfg->steps > 1)
        cfg->check_steps[cfg->n_checks++] = cfg->steps;
}

/* Everything of the suite's matrix that is valid before expanding it. */
static int plan_validate(const dtb_suite *suite, char *err, size_t err_len)
{
    for (int o = 0; o < suite->n_recipes; o++) {
        if (!optimizer_cap(suite->recipes[o].opt.kind)) {
            snprintf(err, err_len, "suite %s has unknown optimizer kind %d", suite->name,
                     (int)suite->recipes[o].opt.kind);
            return -1;
        }
    }
    for (int p = 0; p < suite->n_precisions; p++) {
        if (!precision_cap(suite->precisions[p])) {
            snprintf(err, err_len, "suite %s has unknown precision %d", suite->name,
                     (int)suite->precisions[p]);
            return -1;
        }
    }
    return 0;
}

/* An edge case runs unless the command line's --np or --model leaves it out. */
static int edge_selected(const dtb_edge_case *e, const plan_overrides *ov)
{
    if (ov && ov->model && strcmp(ov->model->name, e->model) != 0)
        return 0;
    if (!ov || !ov->world_sizes)
        return 1;
    for (int w = 0; w < ov->n_world_sizes; w++)
        if (ov->world_sizes[w] == e->world_size)
            return 1;
    return 0;
}

/* The case of edge e, after the suite's defaults and the overrides. */
static int plan_edge(const dtb_suite *suite, const plan_overrides *ov, const dtb_edge_case *e,
                     dtb_case *c, char *err, size_t err_len)
{
    const mlp_config *model = mlp_config_find(e->model);
    if (!model || e->recipe < 0 || e->recipe >= suite->n_recipes || !precision_cap(e->precision)) {
        snprintf(err, err_len, "suite %s: edge case %s names an unknown model, recipe or "
                 "precision", suite->name, e->name);
        return -1;
    }
    const dtb_recipe *recipe = &suite->recipes[e->recipe];
    const int32_t *depths;
    int n_depths;
    suite_model_depths(suite, model->name, &depths, &n_depths);
    c->suite = suite;
    c->recipe = recipe;
    c->edge = e;
    c->sweep_index = -1;
    c->world_size = e->world_size;
    case_config *cfg = &c->cfg;
    cfg->model = model;
    cfg->opt = recipe->opt;
    cfg->global_batch = e->global_batch > 0 ? e->global_batch : suite->global_batch;
    cfg->micro_batches = e->micro_batches > 0 ? e->micro_batches : suite->micro_batches;
    cfg->steps = ov && ov->steps > 0 ? ov->steps : suite->steps;
    cfg->seed = ov && ov->has_seed ? ov->seed : suite->seed;
    cfg->clip_norm = e->clip_norm > 0 ? e->clip_norm : recipe->clip_norm;
    cfg->bucket_bytes = e->bucket_bytes > 0 ? e->bucket_bytes : suite->bucket_bytes;
    cfg->prefetch_depth = depths[0];
    cfg->stage = suite->stage;
    cfg->precision = e->precision;
    cfg->required_caps = suite->required_caps | DTB_CASE_BASE_CAPS | recipe_caps(recipe) |
                         precision_cap(e->precision);
    set_check_steps(cfg);
    return 0;
}

/* A checkpoint transition runs unless --np leaves out one of its worlds. */
static int transition_selected(const dtb_ckpt_transition *t, const plan_overrides *ov)
{
    if (!ov || !ov->world_sizes)
        return 1;
    int from = 0, to = 0;
    for (int w = 0; w < ov->n_world_sizes; w++) {
        from |= ov->world_sizes[w] == t->from_world;
        to |= ov->world_sizes[w] == t->to_world;
    }
    return from && to;
}

/* The checkpoint suite's check steps: the save step S, the last step T and
 * one between (when there is room). A crash case uses the same list: its
 * restart, from whichever save the kill left last, checks those after it. */
static int set_ckpt_check_steps(const dtb_suite *suite, case_config *cfg, char *err,
                                size_t err_len)
{
    const int64_t S = suite->ckpt_save_step, T = cfg->steps;
    if (S < 1 || S >= T || suite->ckpt_crash_every < 1 || suite->ckpt_crash_every >= T) {
        snprintf(err, err_len, "suite %s saves after step %lld (every %lld steps in crash "
                 "cases) of %lld: a checkpoint needs steps after it", suite->name, (long long)S,
                 (long long)suite->ckpt_crash_every, (long long)T);
        return -1;
    }
    cfg->n_checks = 0;
    cfg->check_steps[cfg->n_checks++] = S;
    if (T - S >= 2)
        cfg->check_steps[cfg->n_checks++] = S + (T - S) / 2;
    cfg->check_steps[cfg->n_checks++] = T;
    return 0;
}

int plan_cases(const dtb_suite *suite, const plan_overrides *ov, dtb_case **out, int *n,
               char *err, size_t err_len)
{
    const int *worlds = ov && ov->world_sizes ? ov->world_sizes : suite->world_sizes;
    int n_worlds = ov && ov->world_sizes ? ov->n_world_sizes : suite->n_world_sizes;
    if (suite->n_ckpt_transitions > 0)
        n_worlds = suite->n_ckpt_transitions; /* the innermost axis */
    int n_models = ov && ov->model ? 1 : suite->n_models;
    if (plan_validate(suite, err, err_len))
        return -1;
    size_t max_depths = suite->n_prefetch_depths > 1 ? (size_t)suite->n_prefetch_depths : 1;
    size_t total = (size_t)n_models * (size_t)suite->n_recipes * (size_t)suite->n_precisions *
                       max_depths * (size_t)n_worlds +
                   (size_t)suite->n_edge_cases;
    dtb_case *cases = calloc(total ? total : 1, sizeof *cases);
    if (!cases) {
        snprintf(err, err_len, "out of memory planning %zu cases", total);
        return -1;
    }
    int k = 0;
    for (int m = 0; m < n_models; m++) {
        const mlp_config *model = ov && ov->model ? ov->model : mlp_config_find(suite->models[m]);
        if (!model) {
            snprintf(err, err_len, "suite %s names unknown model '%s'", suite->name,
                     suite->models[m]);
            free(cases);
            return -1;
        }
        const int32_t *depths;
        int n_depths;
        suite_model_depths(suite, model->name, &depths, &n_depths);
        for (int o = 0; o < suite->n_recipes; o++) {
            const dtb_recipe *recipe = &suite->recipes[o];
            for (int p = 0; p < suite->n_precisions; p++) {
                int32_t precision = suite->precisions[p];
                for (int d = 0; d < n_depths; d++) {
                    for (int w = 0; w < n_worlds; w++) {
                        const dtb_ckpt_transition *tr =
                            suite->n_ckpt_transitions > 0 ? &suite->ckpt_transitions[w] : NULL;
                        if (tr && !transition_selected(tr, ov))
                            continue;
                        dtb_case *c = &cases[k];
                        c->index = k++;
                        c->sweep_index = -1;
                        c->suite = suite;
                        c->recipe = recipe;
                        c->is_ckpt = tr != NULL;
                        if (tr)
                            c->ckpt = *tr;
                        c->world_size = tr ? tr->from_world : worlds[w];
                        case_config *cfg = &c->cfg;
                        cfg->model = model;
                        cfg->opt = recipe->opt;
                        cfg->global_batch = suite->global_batch;
                        cfg->micro_batches = suite->micro_batches;
                        cfg->steps = ov && ov->steps > 0 ? ov->steps : suite->steps;
                        cfg->seed = ov && ov->has_seed ? ov->seed : suite->seed;
                        cfg->clip_norm = recipe->clip_norm;
                        cfg->bucket_bytes = suite->bucket_bytes;
                        cfg->prefetch_depth = depths[d];
                        cfg->stage = suite->stage;
                        cfg->precision = precision;
                        cfg->required_caps = suite->required_caps | DTB_CASE_BASE_CAPS |
                                             recipe_caps(recipe) | precision_cap(precision);
                        if (!tr) {
                            set_check_steps(cfg);
                        } else if (set_ckpt_check_steps(suite, cfg, err, err_len) != 0) {
                            free(cases);
                            return -1;
                        }
                    }
                }
            }
        }
    }
    for (int e = 0; e < suite->n_edge_cases; e++) {
        if (!edge_selected(&suite->edge_cases[e], ov))
            continue;
        dtb_case *c = &cases[k];
        c->index = k++;
        if (plan_edge(suite, ov, &suite->edge_cases[e], c, err, err_len) != 0) {
            free(cases);
            return -1;
        }
    }
    *out = cases;
    *n = k;
    return 0;
}

/* " ckpt=self@4>ddp@3 s=4" or " ckpt=crash": which sides, worlds and
 * save step. Returns what snprintf returns. */
static int case_ckpt_label(const dtb_ckpt_transition *t, int64_t save_step, char *buf,
                           size_t len)
{
    if (t->crash)
        return snprintf(buf, len, " ckpt=crash");
    const char *from = t->from_stage == DTB_CKPT_SELF ? "self" : stage_name(t->from_stage);
    const char *to = t->to_stage == DTB_CKPT_SELF ? "self" : stage_name(t->to_stage);
    return snprintf(buf, len, " ckpt=%s@%d>%s@%d s=%lld", from, t->from_world, to, t->to_world,
                    (long long)save_step);
}

void case_label(const dtb_case *c, const char *impl_name, char *buf, size_t len)
{
    const char *precision = c->cfg.precision == DTB_PREC_BF16_MIXED ? "bf16"
                                                                     : precision_name(c->cfg.precision);
    int w = snprintf(buf, len, "%s %s %s %s np=%d mb=%d", impl_name, c->cfg.model->name,
                     c->recipe->name, precision, c->world_size, (int)c->cfg.micro_batches);
    if (c->cfg.prefetch_depth >= 0 && w >= 0 && (size_t)w < len)
        w += snprintf(buf + w, len - (size_t)w, " pf=%d", (int)c->cfg.prefetch_depth);
    if (c->edge && w >= 0 && (size_t)w < len)
        w += snprintf(buf + w, len - (size_t)w, " edge=%s", c->edge->name);
    if (c->is_ckpt && w >= 0 && (size_t)w < len)
        w += case_ckpt_label(&c->ckpt, c->suite->ckpt_save_step, buf + w, len - (size_t)w);
    if (c->sweep_index >= 0 && w >= 0 && (size_t)w < len)
        snprintf(buf + w, len - (size_t)w, " seed=%llu", (unsigned long long)c->cfg.seed);
}

void case_baseline_config(const dtb_case *c, case_config *out)
{
    *out = c->cfg;
    out->micro_batches = 1;
    out->bucket_bytes = 0;
    out->prefetch_depth = -1;
    out->stage = DTB_STAGE_SINGLE;
    out->required_caps = DTB_CAP_SINGLE_DEVICE | DTB_CASE_BASE_CAPS | precision_cap(c->cfg.precision) |
                         optimizer_cap(c->cfg.opt.kind) |
                         (c->cfg.clip_norm > 0 ? DTB_CAP_GRAD_CLIP : 0);
}
