#include "references.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void references_init(reference_cache *c)
{
    c->items = NULL;
    c->n = c->cap = 0;
}

void references_free(reference_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        reference_entry *e = c->items[i];
        if (e->baseline_ok)
            rank_result_free(&e->baseline);
        if (e->oracle_ok)
            oracle_trace_free(&e->oracle);
        free(e);
    }
    free(c->items);
    references_init(c);
}

static void compute_baseline(reference_entry *e, const world_env *env, const char *path)
{
    world_outcome w;
    if (world_run(env, path, &e->cfg, 1, &w) == 0) {
        e->baseline = w.ranks[0];
        w.ranks[0] = (rank_result){0};
        e->baseline_ok = 1;
    } else {
        snprintf(e->baseline_reason, sizeof e->baseline_reason, "baseline %.300s: %.700s", path,
                 w.reason);
    }
    world_outcome_free(&w);
}

static void compute_oracle(reference_entry *e)
{
    dtb_run_spec spec;
    mlp_model_desc model;
    case_config_to_spec(&e->cfg, 0, 1, &model, &spec);
    char err[512] = "";
    if (oracle_train_f64(&spec, e->cfg.check_steps, e->cfg.n_checks, &e->oracle, err,
                         sizeof err) == 0) {
        e->oracle_ok = 1;
    } else {
        snprintf(e->oracle_reason, sizeof e->oracle_reason, "oracle_train_f64: %s", err);
    }
}

const reference_entry *references_get(reference_cache *c, const world_env *env,
                                      const char *baseline_path, const case_config *baseline_cfg)
{
    for (int i = 0; i < c->n; i++)
        if (case_config_same_training(&c->items[i]->cfg, baseline_cfg))
            return c->items[i];
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        reference_entry **items = realloc(c->items, (size_t)cap * sizeof *items);
        if (!items)
            return NULL;
        c->items = items;
        c->cap = cap;
    }
    reference_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *baseline_cfg;
    compute_baseline(e, env, baseline_path);
    compute_oracle(e);
    c->items[c->n++] = e;
    return e;
}
