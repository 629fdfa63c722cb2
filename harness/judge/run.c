#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "plugin_loader.h"
#include "plugin_probe.h"
#include "case_points.h"
#include "ckpt_case.h"
#include "references.h"
#include "tap.h"

/* The "completed" point: pass, or the reason with the log and how to reproduce. */
static void add_completed(case_result *r)
{
    case_world_point(&r->checks, "completed", &r->run1);
}

static void run_case(const run_config *cfg, reference_cache *refs, uint64_t impl_caps,
                     const dtb_case *cs, case_result *r)
{
    if (cs->is_ckpt) {
        ckpt_run_case(cfg, refs, impl_caps, cs, r);
        return;
    }
    double start = monotonic_seconds();
    memset(r, 0, sizeof *r);
    r->cs = cs;
    r->impl_name = cfg->impl_name;
    case_label(cs, cfg->impl_name, r->label, sizeof r->label);
    check_list_init(&r->checks);
    uint64_t missing = plan_missing_caps(cs, impl_caps);
    if (missing) {
        case_skip_missing(r, missing);
        r->seconds = monotonic_seconds() - start;
        return;
    }
    r->completed =
        world_run(&cfg->env, cfg->impl_path, &cs->cfg, cs->world_size, &r->run1) == 0;
    add_completed(r);
    if (r->completed) {
        world_run(&cfg->env, cfg->impl_path, &cs->cfg, cs->world_size, &r->run2);
        case_config base_cfg;
        case_baseline_config(cs, &base_cfg);
        const reference_entry *ref = references_get(refs, &cfg->env, cfg->baseline_path,
                                                    &base_cfg, cs->cfg.micro_batches);
        check_inputs in = {
            .cfg = &cs->cfg,
            .world_size = cs->world_size,
            .run1 = r->run1.ranks,
            .run2 = r->run2.completed ? r->run2.ranks : NULL,
            .run2_reason = r->run2.reason,
            .baseline = ref && ref->baseline_ok ? &ref->baseline : NULL,
            .baseline_reason = ref ? ref->baseline_reason : "out of memory",
            .oracle = ref && ref->oracle_ok ? &ref->oracle : NULL,
            .oracle_reason = ref ? ref->oracle_reason : "out of memory",
            .strict = cfg->strict,
            .envelope = ref && ref->envelope_ok ? &ref->env : NULL,
            .envelope_reason = !ref               ? "out of memory"
                               : ref->envelope_ok ? NULL
                                                  : ref->envelope_reason,
            .clip_mixed = cs->edge && cs->edge->clip_mixed,
        };
        checks_run(&in, &r->checks);
    }
    r->seconds = monotonic_seconds() - start;
}

static void emit_case(tap_writer *tap, const case_result *r, run_summary *s)
{
    int failed = 0, tolerance_failed = 0, single_failed = 0;
    for (int i = 0; i < r->checks.n; i++) {
        const check_result *c = &r->checks.items[i];
        char desc[400];
        snprintf(desc, sizeof desc, "%s: %s", r->label, c->name);
        tap_diag diag = c->diag;
        /* Failed comparisons say how to rerun the world they judged. */
        if (c->status == CHECK_FAIL && i > 0 && r->run1.reproduce && diag.n < DIAG_MAX_ITEMS)
            diag_text(&diag, "reproduce", "%s", r->run1.reproduce);
        tap_point(tap, c->status != CHECK_FAIL,
                  desc, c->status == CHECK_SKIP ? c->skip_reason : NULL, &diag);
        /* Free only what emit_case added: the items past the check's own. */
        for (int k = c->diag.n; k < diag.n; k++)
            free(diag.items[k].text);
        s->points++;
        s->passed += c->status == CHECK_PASS;
        s->failed += c->status == CHECK_FAIL;
        s->skipped += c->status == CHECK_SKIP;
        if (c->status == CHECK_SKIP && !s->first_skip[0])
            snprintf(s->first_skip, sizeof s->first_skip, "%.200s: %.100s", c->name,
                     c->skip_reason);
        if (c->ratio > s->worst_ratio) {
            s->worst_ratio = c->ratio;
            snprintf(s->worst_where, sizeof s->worst_where, "%.250s: %.60s", r->label,
                     c->ratio_where);
        }
        failed |= c->status == CHECK_FAIL;
        tolerance_failed |= c->status == CHECK_FAIL && c->ratio >= 0;
        single_failed |= c->single_ratio > 1;
        if (c->single_ratio > s->worst_single_ratio) {
            s->worst_single_ratio = c->single_ratio;
            snprintf(s->worst_single_where, sizeof s->worst_single_where, "%.250s: %.60s",
                     r->label, c->name);
        }
    }
    s->cases_failed += failed;
    s->cases_tolerance_failed += tolerance_failed;
    s->cases_single_failed += single_failed;
}

/* The implementation's capabilities, for skipping the cases it cannot run:
 * the caller's, or read here. The caller has already loaded and vetted it
 * for the suite; should this load fail anyway, nothing is skipped and each
 * worker refuses its case. */
static uint64_t impl_caps_of(const run_config *cfg)
{
    if (cfg->impl_caps_known)
        return cfg->impl_caps;
    plugin_probe p;
    char err[512];
    if (plugin_probe_vet(cfg->impl_path, 0, &p, err, sizeof err) != 0)
        return ~0ull;
    return p.caps;
}

void run_suite(const run_config *cfg, run_summary *s)
{
    double start = monotonic_seconds();
    memset(s, 0, sizeof *s);
    s->worst_ratio = -1;
    s->worst_single_ratio = -1;
    uint64_t impl_caps = impl_caps_of(cfg);
    /* Which seeds of a sweep had a failed case (calloc failing: none counted). */
    unsigned char *seed_failed = cfg->sweep_seeds > 0 ? calloc((size_t)cfg->sweep_seeds, 1) : NULL;
    tap_writer tap;
    tap_begin(&tap, cfg->tap);
    reference_cache refs;
    references_init(&refs);
    for (int i = 0; i < cfg->n_cases; i++) {
        case_result r;
        run_case(cfg, &refs, impl_caps, &cfg->cases[i], &r);
        if (world_was_interrupted()) {
            /* The interrupt cut this case short: no TAP point, no record;
             * the signal watcher ends the process. */
            check_list_free(&r.checks);
            world_outcome_free(&r.run1);
            world_outcome_free(&r.run2);
            break;
        }
        const int before = s->cases_failed;
        emit_case(&tap, &r, s);
        const int sweep_index = cfg->cases[i].sweep_index;
        if (seed_failed && s->cases_failed > before && sweep_index >= 0 &&
            sweep_index < cfg->sweep_seeds && !seed_failed[sweep_index]) {
            seed_failed[sweep_index] = 1;
            s->seeds_failed++;
        }
        if (cfg->observer)
            cfg->observer(cfg->observer_ctx, &r);
        check_list_free(&r.checks);
        world_outcome_free(&r.run1);
        world_outcome_free(&r.run2);
        s->cases++;
        s->cases_skipped += r.skipped;
        if (cfg->stop && *cfg->stop)
            break;
    }
    tap_end(&tap);
    free(seed_failed);
    references_free(&refs);
    s->seconds = monotonic_seconds() - start;
}

void run_summary_print(const run_config *cfg, const run_summary *s, FILE *f)
{
    fprintf(f, "dtbench: suite %s, impl %s: %d case%s, %d test points: %d passed, %d failed, "
               "%d skipped in %.1f s\n",
            cfg->suite->name, cfg->impl_name, s->cases, s->cases == 1 ? "" : "s", s->points,
            s->passed, s->failed, s->skipped, s->seconds);
    if (s->worst_ratio >= 0)
        fprintf(f, "dtbench: worst error/tolerance ratio %.3g (%s)\n", s->worst_ratio,
                s->worst_where);
    if (cfg->sweep_seeds > 0 && s->cases > 0) {
        fprintf(f, "dtbench: seed sweep of %d seeds from %llu: %d of %d cases failed (%.2f%%; "
                   "%d on a tolerance check), seeds with a failed case: %d of %d\n",
                cfg->sweep_seeds, (unsigned long long)cfg->sweep_base, s->cases_failed, s->cases,
                100.0 * s->cases_failed / s->cases, s->cases_tolerance_failed, s->seeds_failed,
                cfg->sweep_seeds);
        if (s->worst_single_ratio >= 0)
            fprintf(f, "dtbench: the single-baseline model would have failed %d of %d cases "
                       "(%.2f%%) on the tolerance checks; its worst ratio %.3g (%s)\n",
                    s->cases_single_failed, s->cases, 100.0 * s->cases_single_failed / s->cases,
                    s->worst_single_ratio, s->worst_single_where);
    }
    if (s->failed)
        fprintf(f, "dtbench: FAILED\n");
    else if (s->caveat[0])
        fprintf(f, "dtbench: no check failed, but %s\n", s->caveat);
    else if (s->skipped)
        fprintf(f, "dtbench: no check failed, but %d of %d test points were skipped (%d case%s "
                   "not run; first: %s): not everything asked for was judged\n",
                s->skipped, s->points, s->cases_skipped, s->cases_skipped == 1 ? "" : "s",
                s->first_skip);
    else
        fprintf(f, "dtbench: all passed\n");
}
