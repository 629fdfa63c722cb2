#include "results_gate.h"

#include <math.h>
#include <string.h>

int results_gate_usable(const results_comparison *c, char *err, size_t err_len)
{
    const results_run_brief *runs[2] = {&c->base, &c->head};
    const char *roles[2] = {"BASE", "HEAD"};
    for (int i = 0; i < 2; i++)
        if (strcmp(runs[i]->status, "complete") != 0) {
            snprintf(err, err_len, "gate: %s run %lld is %s, not complete (interrupted or still "
                     "running); gate complete runs only", roles[i], (long long)runs[i]->id,
                     runs[i]->status);
            return -1;
        }
    if (c->n_common == 0) {
        snprintf(err, err_len, "gate: runs %lld and %lld have no case in common (suite %s vs "
                 "%s); nothing to judge", (long long)c->base.id, (long long)c->head.id,
                 c->base.suite, c->head.suite);
        return -1;
    }
    return 0;
}

int results_gate_judge(const results_comparison *c, const stats_policy *pol,
                       int per_case_timing, FILE *out, results_gate_outcome *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < c->n_checks; i++) {
        const results_check_change *k = &c->checks[i];
        if (k->kind != RESULTS_CHECK_REGRESSED)
            continue;
        o->check_regressions++;
        fprintf(out, "REGRESSION check: %s: '%s' passed in BASE run %lld and fails in HEAD run "
                     "%lld%s%s\n",
                k->case_key, k->check, (long long)c->base.id, (long long)c->head.id,
                k->head_message[0] ? ": " : "", k->head_message);
    }
    for (int i = 0; i < c->n_metrics; i++) {
        const results_metric_cmp *m = &c->metrics[i];
        o->compared_metrics++;
        if (m->s.verdict == STATS_INCONCLUSIVE)
            o->inconclusive++;
        if (m->s.verdict != STATS_REGRESSED)
            continue;
        int gates = m->exact || per_case_timing;
        if (gates)
            o->perf_regressions++;
        else
            o->case_timing_notes++;
        const char *tag = gates ? "REGRESSION" : "note: not gating, one case:";
        char bv[32], hv[32];
        results_format_value(m->s.base_value, m->unit, bv, sizeof bv);
        results_format_value(m->s.head_value, m->unit, hv, sizeof hv);
        if (m->exact)
            fprintf(out, "%s %s: %s: %s -> %s (x%.3f; %s)\n", tag, m->metric, m->case_key, bv,
                    hv, m->s.ratio, m->s.why);
        else
            fprintf(out, "%s %s: %s: median %s -> %s (x%.3f, %.0f%% interval %.3f-%.3f, "
                         "p=%.2g, n %d/%d; minimum effect %.0f%%)\n",
                    tag, m->metric, m->case_key, bv, hv, m->s.ratio, 100 * pol->confidence,
                    m->s.ci_lo, m->s.ci_hi, m->s.p, m->s.n_base, m->s.n_head,
                    100 * pol->min_effect);
    }
    for (int i = 0; i < c->n_suite; i++) {
        const results_suite_cmp *s = &c->suite[i];
        if (s->s.verdict != STATS_REGRESSED)
            continue;
        o->perf_regressions++;
        fprintf(out, "REGRESSION %s over the suite: x%.3f in the median case (%s; minimum "
                     "effect %.0f%%)\n",
                s->metric, s->s.ratio, s->s.why, 100 * pol->min_effect);
    }
    int regressed = o->check_regressions + o->perf_regressions > 0;
    if (regressed)
        fprintf(out, "gate: FAIL: HEAD run %lld regressed against BASE run %lld: %d check(s) "
                     "that passed now fail, %d metric(s) worse beyond noise and %.0f%%\n",
                (long long)c->head.id, (long long)c->base.id, o->check_regressions,
                o->perf_regressions, 100 * pol->min_effect);
    else
        fprintf(out, "gate: PASS: HEAD run %lld vs BASE run %lld: no check that passed fails, no "
                     "metric worse beyond noise and %.0f%% (%d cases, %d metrics, %d "
                     "inconclusive, %d single-case timing notes)\n",
                (long long)c->head.id, (long long)c->base.id, 100 * pol->min_effect,
                c->n_common, o->compared_metrics, o->inconclusive, o->case_timing_notes);
    return regressed;
}
