#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bench_fill_uniform(float *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0);
    }
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static void set_field(char *dst, size_t len, const char *value)
{
    snprintf(dst, len, "%s", value && *value ? value : "-");
}

void bench_case_begin(bench_context *ctx, bench_case *bc, const char *key, const char *label,
                      const char *config_json)
{
    memset(bc, 0, sizeof *bc);
    bc->ctx = ctx;
    bc->start = monotonic_seconds();
    snprintf(bc->key, sizeof bc->key, "%s", key);
    snprintf(bc->label, sizeof bc->label, "%s", label);
    set_field(bc->impl, sizeof bc->impl, NULL);
    set_field(bc->model, sizeof bc->model, NULL);
    set_field(bc->precision, sizeof bc->precision, NULL);
    set_field(bc->stage, sizeof bc->stage, NULL);
    set_field(bc->recipe, sizeof bc->recipe, NULL);
    set_field(bc->optimizer, sizeof bc->optimizer, NULL);
    bc->world_size = 1;
    bc->config = dup_or_null(config_json ? config_json : "{}", &bc->oom);
}

/* Grows an array of `size`-byte items to hold one more; 0 or -1. */
static int grow(void **items, int n, int *cap, size_t size)
{
    if (n < *cap)
        return 0;
    int c = *cap ? 2 * *cap : 8;
    void *p = realloc(*items, (size_t)c * size);
    if (!p)
        return -1;
    *items = p;
    *cap = c;
    return 0;
}

void bench_case_check(bench_case *bc, const char *name, results_status status,
                      const char *skip_reason, double ratio, const tap_diag *diag)
{
    bench_context *ctx = bc->ctx;
    char desc[400];
    snprintf(desc, sizeof desc, "%s: %s", bc->label, name);
    tap_point(ctx->tap, status != RESULTS_FAIL, desc,
              status == RESULTS_SKIP ? (skip_reason ? skip_reason : "skipped") : NULL, diag);
    ctx->points++;
    ctx->passed += status == RESULTS_PASS;
    ctx->failed += status == RESULTS_FAIL;
    ctx->skipped += status == RESULTS_SKIP;

    /* The record keeps name, skip reason and diagnostics as owned strings:
     * three per check in check_texts. */
    if (grow((void **)&bc->checks, bc->n_checks, &bc->cap_checks, sizeof *bc->checks)) {
        bc->oom = 1;
        return;
    }
    char **texts = realloc(bc->check_texts, (size_t)bc->cap_checks * 3 * sizeof *texts);
    if (!texts) {
        bc->oom = 1;
        return;
    }
    bc->check_texts = texts;
    char *diag_text = NULL;
    if (diag && diag->n > 0) {
        size_t len = 0;
        FILE *f = open_memstream(&diag_text, &len);
        if (!f) {
            bc->oom = 1;
            return;
        }
        for (int i = 0; i < diag->n; i++) {
            const diag_item *it = &diag->items[i];
            if (it->kind == DIAG_INT)
                fprintf(f, "%s: %lld\n", it->key, (long long)it->i);
            else if (it->kind == DIAG_REAL)
                fprintf(f, "%s: %.17g\n", it->key, it->r);
            else if (it->kind == DIAG_TEXT)
                fprintf(f, "%s: %s\n", it->key, it->text ? it->text : "");
            else { /* a block: "key: |" and its lines indented two spaces */
                fprintf(f, "%s: |\n", it->key);
                for (const char *p = it->text ? it->text : ""; *p;) {
                    size_t len = strcspn(p, "\n");
                    fprintf(f, "  %.*s\n", (int)len, p);
                    p += len + (p[len] == '\n');
                }
            }
        }
        if (fclose(f) != 0 || !diag_text) {
            free(diag_text);
            bc->oom = 1;
            return;
        }
    }
    char **t = &bc->check_texts[3 * bc->n_checks];
    t[0] = dup_or_null(name, &bc->oom);
    t[1] = dup_or_null(status == RESULTS_SKIP ? skip_reason : NULL, &bc->oom);
    t[2] = diag_text;
    bc->checks[bc->n_checks] = (results_check){
        .name = t[0] ? t[0] : "",
        .status = status,
        .skip_reason = t[1],
        .ratio = ratio >= 0 ? ratio : -1.0,
        .ratio_where = NULL,
        .diagnostics = t[2],
    };
    bc->n_checks++;
}

void bench_case_metric(bench_case *bc, const char *name, const char *unit, results_kind kind,
                       int higher_is_better, const results_sample *samples, int n_samples)
{
    if (grow((void **)&bc->metrics, bc->n_metrics, &bc->cap_metrics, sizeof *bc->metrics)) {
        bc->oom = 1;
        return;
    }
    results_sample *copy = malloc((size_t)(n_samples > 0 ? n_samples : 1) * sizeof *copy);
    char *n = strdup(name), *u = strdup(unit);
    if (!copy || !n || !u) {
        free(copy), free(n), free(u);
        bc->oom = 1;
        return;
    }
    memcpy(copy, samples, (size_t)n_samples * sizeof *copy);
    bc->metrics[bc->n_metrics++] = (results_metric){
        .name = n,
        .unit = u,
        .kind = kind,
        .higher_is_better = higher_is_better,
        .samples = copy,
        .n_samples = n_samples,
    };
}

static void bench_case_free(bench_case *bc)
{
    for (int i = 0; i < 3 * bc->n_checks; i++)
        free(bc->check_texts[i]);
    free(bc->check_texts);
    free(bc->checks);
    for (int i = 0; i < bc->n_metrics; i++) {
        free((void *)bc->metrics[i].name);
        free((void *)bc->metrics[i].unit);
        free((void *)bc->metrics[i].samples);
    }
    free(bc->metrics);
    free(bc->config);
    memset(bc, 0, sizeof *bc);
}

void bench_case_end(bench_case *bc)
{
    bench_context *ctx = bc->ctx;
    ctx->cases++;
    if (ctx->record) {
        char err[1024];
        if (bc->oom) {
            snprintf(err, sizeof err, "out of memory building the case record");
            ctx->record(ctx->record_ctx, NULL, err, sizeof err);
        } else {
            results_case c = {
                .index = ctx->cases - 1,
                .key = bc->key,
                .label = bc->label,
                .suite = ctx->suite->name,
                .impl = bc->impl,
                .impl_version = bc->impl_version[0] ? bc->impl_version : NULL,
                .model = bc->model,
                .precision = bc->precision,
                .stage = bc->stage,
                .recipe = bc->recipe,
                .optimizer = bc->optimizer,
                .world_size = bc->world_size,
                .config = bc->config,
                .completed = bc->completed,
                .seconds = monotonic_seconds() - bc->start,
                .checks = bc->checks,
                .n_checks = bc->n_checks,
                .metrics = bc->metrics,
                .n_metrics = bc->n_metrics,
            };
            ctx->record(ctx->record_ctx, &c, err, sizeof err);
        }
    }
    bench_case_free(bc);
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_summary bench_summarise(const double *x, int n)
{
    bench_summary s = {0};
    if (n <= 0)
        return s;
    double *v = malloc((size_t)n * sizeof *v);
    if (!v) { /* no copy: min and max still exact, the median from a scan is not */
        s.n = n;
        s.min = s.max = x[0];
        for (int i = 1; i < n; i++)
            s.min = fmin(s.min, x[i]), s.max = fmax(s.max, x[i]);
        s.median = 0.5 * (s.min + s.max);
        s.spread = s.median > 0 ? (s.max - s.min) / s.median : 0.0;
        return s;
    }
    memcpy(v, x, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    s.n = n;
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.spread = s.median > 0 ? (s.max - s.min) / s.median : 0.0;
    free(v);
    return s;
}

