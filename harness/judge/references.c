#include "references.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble.h"

void references_init(reference_cache *c)
{
    c->items = NULL;
    c->n = c->cap = 0;
}

static void entry_free(reference_entry *e)
{
    if (e->baseline_ok)
        rank_result_free(&e->baseline);
    if (e->oracle_ok)
        oracle_trace_free(&e->oracle);
    envelope_free(&e->env);
    free(e);
}

void references_free(reference_cache *c)
{
    for (int i = 0; i < c->n; i++)
        entry_free(c->items[i]);
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
    /* With the optimizer state: the checkpoint suite judges a checkpoint's. */
    if (oracle_train_f64_with_state(&spec, e->cfg.check_steps, e->cfg.n_checks, &e->oracle, err,
                                    sizeof err) == 0) {
        e->oracle_ok = 1;
    } else {
        snprintf(e->oracle_reason, sizeof e->oracle_reason, "oracle_train_f64: %s", err);
    }
}

/* Every ensemble member trained and folded into the envelope, then the
 * baseline (when it ran). Needs the oracle. */
static void compute_envelope(reference_entry *e)
{
    if (!e->oracle_ok) {
        snprintf(e->envelope_reason, sizeof e->envelope_reason, "no fp64 oracle: %.900s",
                 e->oracle_reason);
        return;
    }
    const oracle_trace *o = &e->oracle;
    if (envelope_alloc(&e->env, o->steps, o->n_checks, o->n_params) != 0) {
        envelope_free(&e->env);
        snprintf(e->envelope_reason, sizeof e->envelope_reason,
                 "out of memory for the envelope of %lld parameters", (long long)o->n_params);
        return;
    }
    dtb_run_spec spec;
    mlp_model_desc model;
    case_config_to_spec(&e->cfg, 0, 1, &model, &spec);
    spec.micro_batches = e->micro_batches; /* the members of the cases' own split */
    char err[512];
    if (ensemble_fold(&spec, e->cfg.check_steps, e->cfg.n_checks, o, &e->env, err,
                      sizeof err) != 0) {
        snprintf(e->envelope_reason, sizeof e->envelope_reason, "%s", err);
        envelope_free(&e->env);
        return;
    }
    if (e->baseline_ok)
        envelope_add_run(&e->env, o, e->baseline.loss, e->baseline.grad_norm,
                         e->baseline.params);
    e->envelope_ok = 1;
}

const reference_entry *references_get(reference_cache *c, const world_env *env,
                                      const char *baseline_path, const case_config *baseline_cfg,
                                      int32_t micro_batches)
{
    for (int i = 0; i < c->n; i++)
        if (case_config_same_training(&c->items[i]->cfg, baseline_cfg) &&
            c->items[i]->micro_batches == micro_batches)
            return c->items[i];
    /* Plans keep the cases of one trajectory together, so the oldest entry
     * is done with: a long sweep holds a bounded number of references. */
    if (c->n == REFERENCES_KEEP) {
        entry_free(c->items[0]);
        memmove(c->items, c->items + 1, (size_t)(c->n - 1) * sizeof *c->items);
        c->n--;
    }
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
    e->micro_batches = micro_batches;
    compute_baseline(e, env, baseline_path);
    compute_oracle(e);
    compute_envelope(e);
    c->items[c->n++] = e;
    return e;
}
