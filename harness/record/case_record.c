#include "case_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const MEM_NAMES[DTB_MEM_CATEGORY_COUNT] = {
    "params", "grads", "optim", "activations", "comm", "other"};

/* The case's label with the suite's name where the implementation's is:
 * whatever tells the suite's cases apart tells them apart across runs. */
void case_record_key(const dtb_case *cs, char *buf, size_t len)
{
    case_label(cs, cs->suite->name, buf, len);
}

/* A JSON string literal of s. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The whole case configuration, doubles in the fewest digits that read
 * back exactly (%.17g). */
static char *config_json(const dtb_case *cs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const case_config *c = &cs->cfg;
    fprintf(f, "{\"suite\":");
    json_string(f, cs->suite->name);
    fprintf(f, ",\"model\":");
    json_string(f, c->model->name);
    fprintf(f, ",\"recipe\":");
    json_string(f, cs->recipe->name);
    fprintf(f, ",\"world_size\":%d,\"optimizer\":{\"name\":", cs->world_size);
    json_string(f, c->opt.name ? c->opt.name : "");
    fprintf(f, ",\"kind\":");
    json_string(f, optimizer_kind_name(c->opt.kind));
    fprintf(f, ",\"lr\":%.17g,\"momentum\":%.17g,\"beta1\":%.17g,\"beta2\":%.17g,\"eps\":%.17g,"
               "\"weight_decay\":%.17g}",
            c->opt.lr, c->opt.momentum, c->opt.beta1, c->opt.beta2, c->opt.eps,
            c->opt.weight_decay);
    fprintf(f, ",\"global_batch\":%lld,\"micro_batches\":%d,\"steps\":%lld,\"seed\":%llu,"
               "\"clip_norm\":%.17g,\"bucket_bytes\":%lld,\"stage\":",
            (long long)c->global_batch, (int)c->micro_batches, (long long)c->steps,
            (unsigned long long)c->seed, c->clip_norm, (long long)c->bucket_bytes);
    json_string(f, stage_name(c->stage));
    fprintf(f, ",\"precision\":");
    json_string(f, precision_name(c->precision));
    fprintf(f, ",\"check_steps\":[");
    for (int i = 0; i < c->n_checks; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)c->check_steps[i]);
    fprintf(f, "]}");
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A check's YAML diagnostics as text: "key: value" lines, blocks as
 * "key: |" and their lines indented two spaces. NULL when empty. */
static char *diag_to_text(const tap_diag *d, int *oom)
{
    *oom = 0;
    if (d->n == 0)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        *oom = 1;
        return NULL;
    }
    for (int i = 0; i < d->n; i++) {
        const diag_item *it = &d->items[i];
        switch (it->kind) {
        case DIAG_TEXT:
            fprintf(f, "%s: %s\n", it->key, it->text ? it->text : "");
            break;
        case DIAG_INT:
            fprintf(f, "%s: %lld\n", it->key, (long long)it->i);
            break;
        case DIAG_REAL:
            fprintf(f, "%s: %.17g\n", it->key, it->r);
            break;
        case DIAG_BLOCK: {
            fprintf(f, "%s: |\n", it->key);
            for (const char *p = it->text ? it->text : ""; *p;) {
                size_t n = strcspn(p, "\n");
                fprintf(f, "  %.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
            }
            break;
        }
        }
    }
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(buf);
        *oom = 1;
        return NULL;
    }
    return buf;
}

/* Metric i of rec: its name and the slice of samples it owns. */
static results_metric *add_metric(case_record *rec, const char *name, const char *unit,
                                  results_kind kind, results_sample **next)
{
    results_metric *m = &rec->metrics[rec->n_metrics];
    snprintf(rec->metric_names[rec->n_metrics], sizeof rec->metric_names[0], "%s", name);
    m->name = rec->metric_names[rec->n_metrics];
    m->unit = unit;
    m->kind = kind;
    m->higher_is_better = 0;
    m->samples = *next;
    m->n_samples = 0;
    rec->n_metrics++;
    return m;
}

static void push_sample(results_metric *m, results_sample **next, int rep, int rank, int step,
                        int warmup, double value)
{
    **next = (results_sample){rep, rank, step, warmup, value};
    (*next)++;
    m->n_samples++;
}

/* Per rank exact metrics: comm calls and bytes per collective, peak memory
 * per category and in total. */
#define EXACT_METRICS (2 * DTB_COLL_KIND_COUNT + DTB_MEM_CATEGORY_COUNT + 1)

static void build_metrics(const case_result *r, case_record *rec, results_sample *next)
{
    results_metric *m = add_metric(rec, "case_seconds", "s", RESULTS_TIMING, &next);
    push_sample(m, &next, RESULTS_NONE, RESULTS_NONE, RESULTS_NONE, 0, r->seconds);
    if (!r->completed)
        return;
    const world_outcome *runs[2] = {&r->run1, &r->run2};
    m = add_metric(rec, "step_seconds", "s", RESULTS_TIMING, &next);
    for (int w = 0; w < 2; w++) {
        if (!runs[w]->completed)
            continue;
        for (int k = 0; k < runs[w]->world_size; k++) {
            const rank_result *rk = &runs[w]->ranks[k];
            for (int64_t s = 0; s < rk->steps; s++)
                if (!isnan(rk->loss[s])) /* NaN: a resumed world did not train that step */
                    push_sample(m, &next, w + 1, k, (int)(s + 1), s == 0, rk->step_seconds[s]);
        }
    }
    const world_outcome *w1 = &r->run1;
    char name[48];
    for (int c = 0; c < DTB_COLL_KIND_COUNT; c++) {
        snprintf(name, sizeof name, "comm_calls.%s", theory_collective_name(c));
        m = add_metric(rec, name, "calls", RESULTS_EXACT, &next);
        for (int k = 0; k < w1->world_size; k++)
            push_sample(m, &next, 1, k, RESULTS_NONE, 0, (double)w1->ranks[k].counters.calls[c]);
        snprintf(name, sizeof name, "comm_bytes.%s", theory_collective_name(c));
        m = add_metric(rec, name, "B", RESULTS_EXACT, &next);
        for (int k = 0; k < w1->world_size; k++)
            push_sample(m, &next, 1, k, RESULTS_NONE, 0, (double)w1->ranks[k].counters.bytes[c]);
    }
    for (int c = 0; c <= DTB_MEM_CATEGORY_COUNT; c++) {
        snprintf(name, sizeof name, "mem_peak.%s",
                 c < DTB_MEM_CATEGORY_COUNT ? MEM_NAMES[c] : "total");
        m = add_metric(rec, name, "B", RESULTS_EXACT, &next);
        for (int k = 0; k < w1->world_size; k++)
            push_sample(m, &next, 1, k, RESULTS_NONE, 0,
                        (double)(c < DTB_MEM_CATEGORY_COUNT ? w1->ranks[k].mem_peak[c]
                                                            : w1->ranks[k].mem_total_peak));
    }
}

/* Upper bound of the samples build_metrics writes. */
static size_t sample_count(const case_result *r)
{
    size_t n = 1;
    if (!r->completed)
        return n;
    const world_outcome *runs[2] = {&r->run1, &r->run2};
    for (int w = 0; w < 2; w++)
        if (runs[w]->completed)
            for (int k = 0; k < runs[w]->world_size; k++)
                n += (size_t)runs[w]->ranks[k].steps;
    return n + (size_t)EXACT_METRICS * (size_t)r->run1.world_size;
}

int case_record_build(const case_result *r, const char *impl_version, case_record *rec)
{
    memset(rec, 0, sizeof *rec);
    const dtb_case *cs = r->cs;
    case_record_key(cs, rec->key, sizeof rec->key);
    int n_metrics_max = 2 + EXACT_METRICS;
    rec->config = config_json(cs);
    rec->metrics = calloc((size_t)n_metrics_max, sizeof *rec->metrics);
    rec->metric_names = calloc((size_t)n_metrics_max, sizeof *rec->metric_names);
    rec->samples = calloc(sample_count(r), sizeof *rec->samples);
    int oom = !rec->config || !rec->metrics || !rec->metric_names || !rec->samples;
    for (int i = 0; i < r->checks.n && !oom; i++) {
        const check_result *k = &r->checks.items[i];
        rec->diagnostics[i] = diag_to_text(&k->diag, &oom);
        rec->checks[i] = (results_check){
            .name = k->name,
            .status = k->status == CHECK_PASS   ? RESULTS_PASS
                      : k->status == CHECK_SKIP ? RESULTS_SKIP
                                                : RESULTS_FAIL,
            .skip_reason = k->status == CHECK_SKIP ? k->skip_reason : NULL,
            .ratio = k->ratio,
            .ratio_where = k->ratio >= 0 ? k->ratio_where : NULL,
            .diagnostics = rec->diagnostics[i],
        };
    }
    if (oom) {
        case_record_free(rec);
        return -1;
    }
    build_metrics(r, rec, rec->samples);
    rec->c = (results_case){
        .index = cs->index,
        .key = rec->key,
        .label = r->label,
        .suite = cs->suite->name,
        .impl = r->impl_name,
        .impl_version = impl_version,
        .model = cs->cfg.model->name,
        .precision = precision_name(cs->cfg.precision),
        .stage = stage_name(cs->cfg.stage),
        .recipe = cs->recipe->name,
        .optimizer = optimizer_kind_name(cs->cfg.opt.kind),
        .world_size = cs->world_size,
        .config = rec->config,
        .completed = r->completed,
        .seconds = r->seconds,
        .checks = rec->checks,
        .n_checks = r->checks.n,
        .metrics = rec->metrics,
        .n_metrics = rec->n_metrics,
    };
    return 0;
}

void case_record_free(case_record *rec)
{
    free(rec->config);
    for (int i = 0; i < CHECKS_MAX; i++)
        free(rec->diagnostics[i]);
    free(rec->metrics);
    free(rec->metric_names);
    free(rec->samples);
    memset(rec, 0, sizeof *rec);
}
