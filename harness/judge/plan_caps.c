#include "plan_caps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_loader.h"

/* The stages in the order their cases run; the first declared one also
 * carries the capability cases. */
static const struct {
    uint64_t cap;
    int32_t stage;
} STAGES[] = {
    {DTB_CAP_SINGLE_DEVICE, DTB_STAGE_SINGLE}, {DTB_CAP_DDP, DTB_STAGE_DDP},
    {DTB_CAP_ZERO1, DTB_STAGE_ZERO1},          {DTB_CAP_ZERO2, DTB_STAGE_ZERO2},
    {DTB_CAP_ZERO3, DTB_STAGE_ZERO3},
};
#define N_STAGES (sizeof STAGES / sizeof STAGES[0])


/* What the base of every case uses, chosen from the template. */
typedef struct base_choice {
    const mlp_config *model;
    int32_t precision;
    const dtb_recipe *recipe;      /* without clipping */
    const dtb_recipe *clip_recipe; /* same optimizer with clipping, or NULL */
} base_choice;

static int choose_base(const dtb_suite *t, uint64_t caps, base_choice *b, char *err,
                       size_t err_len)
{
    memset(b, 0, sizeof *b);
    if (t->n_models < 1 || !(b->model = mlp_config_find(t->models[0]))) {
        snprintf(err, err_len, "template %s names no known model", t->name);
        return -1;
    }
    int has_precision = 0;
    for (int p = 0; p < t->n_precisions && !has_precision; p++) {
        if (caps & precision_cap(t->precisions[p])) {
            b->precision = t->precisions[p];
            has_precision = 1;
        }
    }
    for (int r = 0; r < t->n_recipes && !b->recipe; r++)
        if (t->recipes[r].clip_norm <= 0 && (caps & optimizer_cap(t->recipes[r].opt.kind)))
            b->recipe = &t->recipes[r];
    for (int r = 0; b->recipe && r < t->n_recipes && !b->clip_recipe; r++)
        if (t->recipes[r].clip_norm > 0 && t->recipes[r].opt.kind == b->recipe->opt.kind)
            b->clip_recipe = &t->recipes[r];

    char names[256];
    uint64_t lacking = DTB_CASE_BASE_CAPS & ~caps;
    if (lacking) {
        plugin_caps_format(lacking, names, sizeof names);
        snprintf(err, err_len, "it lacks capability %s, which every case needs", names);
        return -1;
    }
    uint64_t any = 0;
    for (size_t i = 0; i < N_STAGES; i++)
        any |= STAGES[i].cap;
    if (!(caps & any)) {
        plugin_caps_format(any, names, sizeof names);
        snprintf(err, err_len, "it declares no stage to run (one of %s)", names);
        return -1;
    }
    if (!has_precision) {
        uint64_t all = 0;
        for (int p = 0; p < t->n_precisions; p++)
            all |= precision_cap(t->precisions[p]);
        plugin_caps_format(all, names, sizeof names);
        snprintf(err, err_len, "it declares no precision to run (one of %s)", names);
        return -1;
    }
    if (!b->recipe) {
        uint64_t all = 0;
        for (int r = 0; r < t->n_recipes; r++)
            all |= optimizer_cap(t->recipes[r].opt.kind);
        plugin_caps_format(all, names, sizeof names);
        snprintf(err, err_len, "it declares no optimizer to run (one of %s)", names);
        return -1;
    }
    return 0;
}

/* One case of the plan, appended at cases[*k]. */
static void add_case(const dtb_suite *t, const base_choice *b, int32_t stage, int32_t precision,
                     const dtb_recipe *recipe, int32_t micro_batches, int uneven, int np,
                     dtb_case *cases, int *k)
{
    dtb_case *c = &cases[*k];
    memset(c, 0, sizeof *c);
    c->index = (*k)++;
    c->suite = t;
    c->recipe = recipe;
    c->world_size = np;
    case_config *cfg = &c->cfg;
    cfg->model = b->model;
    cfg->opt = recipe->opt;
    cfg->micro_batches = micro_batches;
    cfg->global_batch = t->global_batch * np * micro_batches + (uneven ? 1 : 0);
    cfg->steps = t->steps;
    cfg->seed = t->seed;
    cfg->clip_norm = recipe->clip_norm;
    cfg->bucket_bytes = stage == DTB_STAGE_DDP ? t->bucket_bytes : 0;
    cfg->prefetch_depth = -1;
    cfg->stage = stage;
    cfg->precision = precision;
    cfg->required_caps = stage_cap(stage) | DTB_CASE_BASE_CAPS | precision_cap(precision) |
                         recipe_caps(recipe) | (micro_batches > 1 ? DTB_CAP_GRAD_ACCUM : 0) |
                         (uneven ? DTB_CAP_UNEVEN_BATCH : 0);
    cfg->n_checks = 0;
    cfg->check_steps[cfg->n_checks++] = 1;
    if (cfg->steps > 1)
        cfg->check_steps[cfg->n_checks++] = cfg->steps;
}

/* The cases of world size np (pass 0: the first world size, where the
 * single-device stage runs). */
static void plan_world(const dtb_suite *t, uint64_t caps, const base_choice *b, int np,
                       int first_world, dtb_case *cases, int *k)
{
    int32_t lead = -1;
    for (size_t i = 0; i < N_STAGES; i++) {
        if (!(caps & STAGES[i].cap))
            continue;
        int single = STAGES[i].stage == DTB_STAGE_SINGLE;
        if (lead < 0)
            lead = STAGES[i].stage;
        if (single && !first_world)
            continue;
        add_case(t, b, STAGES[i].stage, b->precision, b->recipe, 1, 0, single ? 1 : np, cases,
                 k);
    }
    if (lead == DTB_STAGE_SINGLE) {
        if (!first_world)
            return;
        np = 1;
    }
    for (int p = 0; p < t->n_precisions; p++)
        if (t->precisions[p] != b->precision && (caps & precision_cap(t->precisions[p])))
            add_case(t, b, lead, t->precisions[p], b->recipe, 1, 0, np, cases, k);
    uint64_t done = optimizer_cap(b->recipe->opt.kind);
    for (int r = 0; r < t->n_recipes; r++) {
        const dtb_recipe *rc = &t->recipes[r];
        uint64_t o = optimizer_cap(rc->opt.kind);
        if (rc->clip_norm <= 0 && (caps & o) && !(done & o)) {
            add_case(t, b, lead, b->precision, rc, 1, 0, np, cases, k);
            done |= o;
        }
    }
    if ((caps & DTB_CAP_GRAD_CLIP) && b->clip_recipe)
        add_case(t, b, lead, b->precision, b->clip_recipe, 1, 0, np, cases, k);
    if ((caps & DTB_CAP_GRAD_ACCUM) && t->micro_batches > 1)
        add_case(t, b, lead, b->precision, b->recipe, t->micro_batches, 0, np, cases, k);
    if ((caps & DTB_CAP_UNEVEN_BATCH) && np > 1)
        add_case(t, b, lead, b->precision, b->recipe, 1, 1, np, cases, k);
    if ((caps & DTB_CAP_CHECKPOINT) && lead != DTB_STAGE_SINGLE && t->ckpt_save_step > 0 &&
        t->ckpt_save_step < t->steps) {
        /* Save after ckpt_save_step, load in a fresh world of the same
         * size: the resumed run must be the uninterrupted one, bit for bit
         * (docs/checkpoint.md); resharding is the checkpoint suite's. */
        add_case(t, b, lead, b->precision, b->recipe, 1, 0, np, cases, k);
        dtb_case *c = &cases[*k - 1];
        c->is_ckpt = 1;
        c->ckpt = (dtb_ckpt_transition){np, np, DTB_CKPT_SELF, DTB_CKPT_SELF, 0};
        c->cfg.required_caps |= DTB_CAP_CHECKPOINT;
        c->cfg.n_checks = 0;
        c->cfg.check_steps[c->cfg.n_checks++] = t->ckpt_save_step;
        c->cfg.check_steps[c->cfg.n_checks++] = t->steps;
    }
}

int plan_capability_cases(const dtb_suite *tmpl, uint64_t caps, const int *worlds,
                          int n_worlds, dtb_case **out, int *n, char *err, size_t err_len)
{
    *out = NULL;
    *n = 0;
    base_choice b;
    if (choose_base(tmpl, caps, &b, err, err_len))
        return -1;
    uint64_t distributed = DTB_CAP_DDP | DTB_CAP_ZERO1 | DTB_CAP_ZERO2 | DTB_CAP_ZERO3;
    if (worlds && !(caps & distributed)) {
        for (int w = 0; w < n_worlds; w++) {
            if (worlds[w] != 1) {
                snprintf(err, err_len, "--np %d: the plugin's only stage is single-device, "
                         "which runs at np 1", worlds[w]);
                return -1;
            }
        }
    }
    if (!worlds) {
        worlds = tmpl->world_sizes;
        n_worlds = tmpl->n_world_sizes;
    }
    if (n_worlds < 1) {
        snprintf(err, err_len, "no world size to run");
        return -1;
    }
    /* Per world: at most every stage, every other precision and recipe,
     * and the clip, accumulation, uneven and checkpoint cases. */
    size_t per_world = N_STAGES + (size_t)tmpl->n_precisions + (size_t)tmpl->n_recipes + 4;
    dtb_case *cases = calloc(per_world * (size_t)n_worlds, sizeof *cases);
    if (!cases) {
        snprintf(err, err_len, "out of memory planning the cases");
        return -1;
    }
    int k = 0;
    for (int w = 0; w < n_worlds; w++)
        plan_world(tmpl, caps, &b, worlds[w], w == 0, cases, &k);
    *out = cases;
    *n = k;
    return 0;
}

void capability_case_label(const dtb_case *c, char *buf, size_t len)
{
    const case_config *cfg = &c->cfg;
    char extra[64] = "";
    int64_t even = (int64_t)c->world_size * cfg->micro_batches;
    if (cfg->micro_batches > 1)
        snprintf(extra, sizeof extra, " accum mb=%d", (int)cfg->micro_batches);
    else if (even > 0 && cfg->global_batch % even != 0)
        snprintf(extra, sizeof extra, " uneven batch=%lld", (long long)cfg->global_batch);
    else if (c->is_ckpt)
        snprintf(extra, sizeof extra, " checkpoint s=%lld", (long long)cfg->check_steps[0]);
    snprintf(buf, len, "%s %s %s%s np=%d", stage_name(cfg->stage),
             cfg->precision == DTB_PREC_BF16_MIXED ? "bf16" : precision_name(cfg->precision),
             c->recipe->name, extra, c->world_size);
}
