/* `dtbench report`: reading runs, cases and metric summaries (read-only). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "report.h"
#include "results_record.h"

static const char *const BENCHMARK_SUITES[3] = {"throughput", "memory", "comm"};

int report_suite_is_benchmark(const char *suite)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(suite, BENCHMARK_SUITES[i]) == 0)
            return 1;
    return 0;
}

/* fp32 before bf16-mixed, then the rest by name. */
static int precision_order(const char *a, const char *b)
{
    int ra = strcmp(a, "fp32") == 0 ? 0 : strcmp(a, "bf16-mixed") == 0 ? 1 : 2;
    int rb = strcmp(b, "fp32") == 0 ? 0 : strcmp(b, "bf16-mixed") == 0 ? 1 : 2;
    return ra != rb ? ra - rb : strcmp(a, b);
}

int report_stage_rank(const char *stage)
{
    static const char *const order[] = {"single", "ddp", "zero1", "zero2", "zero3"};
    for (int i = 0; i < 5; i++)
        if (strcmp(stage, order[i]) == 0)
            return i;
    return 5;
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t len, const char *fallback)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : fallback);
}

/* Finishes a row loop: 0 when the statement ran to its end. */
static int finish(results_db *db, sqlite3_stmt *st, int rc, const char *what, char *err,
                  size_t err_len)
{
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    results_error(db, rc, what, err, err_len);
    return -1;
}

int report_has_machine_columns(results_db *db, int *has, char *err, size_t err_len)
{
    static const char *const wanted[4] = {"cpu_cores", "blas", "blas_threads", "mpi_version"};
    sqlite3_stmt *st;
    *has = 0;
    if (results_prepare(db, "SELECT name FROM pragma_table_info('runs')", &st, err, err_len))
        return -1;
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (int i = 0; name && i < 4; i++)
            if (strcmp(name, wanted[i]) == 0)
                found |= 1 << i;
    }
    if (finish(db, st, rc, "reading the runs table's columns", err, err_len))
        return -1;
    *has = found == 0xf;
    return 0;
}

int report_latest_benchmark_runs(results_db *db, int64_t ids[3], char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id FROM runs WHERE suite = ?1 AND status = 'complete' "
                        "ORDER BY started_at DESC, id DESC LIMIT 1",
                        &st, err, err_len))
        return -1;
    for (int i = 0; i < 3; i++) {
        int b = SQLITE_OK;
        ids[i] = 0;
        results_bind_text(st, 1, BENCHMARK_SUITES[i], &b);
        int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
        if (rc == SQLITE_ROW) {
            ids[i] = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE)
            return finish(db, st, rc, "finding the latest benchmark runs", err, err_len);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* "np=N" with 1 <= N <= 1e6; 0 otherwise. */
static int parse_np(const char *tok)
{
    if (strncmp(tok, "np=", 3) != 0 || !tok[3])
        return 0;
    char *end;
    long v = strtol(tok + 3, &end, 10);
    return *end == '\0' && v >= 1 && v <= 1000000 ? (int)v : 0;
}

/* The case's kind and fields from its key (docs/benchmarks.md). */
static void parse_key(report_case *c)
{
    char buf[sizeof c->key];
    char *tok[8];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", c->key);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 8;
         t = strtok_r(NULL, " ", &save))
        tok[n++] = t;
    c->kind = REPORT_OTHER;
    if (n == 3 && strcmp(tok[0], "throughput") == 0 && strcmp(tok[1], "peak") == 0 &&
        parse_np(tok[2])) {
        c->kind = REPORT_TP_PEAK;
        c->world_size = parse_np(tok[2]);
    } else if (n == 5 && (strcmp(tok[0], "throughput") == 0 || strcmp(tok[0], "memory") == 0) &&
               parse_np(tok[4])) {
        c->kind = tok[0][0] == 't' ? REPORT_TP_STEP : REPORT_MEM;
        snprintf(c->stage, sizeof c->stage, "%s", tok[1]);
        snprintf(c->model, sizeof c->model, "%s", tok[2]);
        snprintf(c->precision, sizeof c->precision, "%s", tok[3]);
        c->world_size = parse_np(tok[4]);
    } else if (n == 6 && strcmp(tok[0], "memory") == 0 && strcmp(tok[1], "budget") == 0 &&
               parse_np(tok[4])) {
        c->kind = REPORT_MEM_BUDGET;
        snprintf(c->stage, sizeof c->stage, "%s", tok[2]);
        snprintf(c->precision, sizeof c->precision, "%s", tok[3]);
        c->world_size = parse_np(tok[4]);
        snprintf(c->budget, sizeof c->budget, "%s", tok[5]);
    } else if (n == 5 && strcmp(tok[0], "comm") == 0 && parse_np(tok[3])) {
        char *end;
        long long bytes = strtoll(tok[2], &end, 10);
        if (*end == '\0' && bytes > 0) {
            c->kind = REPORT_COMM;
            snprintf(c->collective, sizeof c->collective, "%s", tok[1]);
            c->bytes = bytes;
            c->world_size = parse_np(tok[3]);
            snprintf(c->side, sizeof c->side, "%s", tok[4]);
        }
    }
}

/* Parameters of the case's model: "n_params" in its configuration JSON,
 * else the reference model of that name; 0 when neither knows. */
static int64_t model_params(const char *model, const char *config)
{
    const char *p = config ? strstr(config, "\"n_params\":") : NULL;
    if (p) {
        char *end;
        long long v = strtoll(p + strlen("\"n_params\":"), &end, 10);
        if (end != p + strlen("\"n_params\":") && v > 0)
            return v;
    }
    const mlp_config *cfg = model[0] ? mlp_config_find(model) : NULL;
    return cfg ? mlp_param_count(cfg) : 0;
}

static int load_run_row(results_db *db, int64_t run_id, int machine_columns, report_run *r,
                        char *err, size_t err_len)
{
    sqlite3_stmt *st;
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT suite, impl, impl_version, status, started_at, ended_at, git_commit, "
             "git_dirty, backend, dtbench_version, host, cpu_model, gpu, pid%s FROM runs "
             "WHERE id = ?1",
             machine_columns ? ", cpu_cores, blas, blas_threads, mpi_version" : "");
    if (results_prepare(db, sql, &st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, run_id, &b);
    int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            snprintf(err, err_len, "unknown run %lld in %s", (long long)run_id, db->path);
        else
            results_error(db, rc, "reading a run", err, err_len);
        return -1;
    }
    r->id = run_id;
    copy_text(st, 0, r->suite, sizeof r->suite, "-");
    copy_text(st, 1, r->impl, sizeof r->impl, "-");
    copy_text(st, 2, r->impl_version, sizeof r->impl_version, "");
    copy_text(st, 3, r->status, sizeof r->status, "?");
    copy_text(st, 4, r->started_at, sizeof r->started_at, "-");
    copy_text(st, 5, r->ended_at, sizeof r->ended_at, "-");
    copy_text(st, 6, r->git_commit, sizeof r->git_commit, "unknown");
    r->git_dirty = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 7);
    copy_text(st, 8, r->backend, sizeof r->backend, "-");
    copy_text(st, 9, r->dtbench_version, sizeof r->dtbench_version, "-");
    copy_text(st, 10, r->host, sizeof r->host, "unknown");
    copy_text(st, 11, r->cpu_model, sizeof r->cpu_model, "unknown");
    copy_text(st, 12, r->gpu, sizeof r->gpu, "none");
    if (results_run_is_dead(r->status, r->host, sqlite3_column_int64(st, 13),
                            (const char *)sqlite3_column_text(st, 4)))
        snprintf(r->status, sizeof r->status, "incomplete");
    if (machine_columns) {
        copy_text(st, 14, r->cpu_cores, sizeof r->cpu_cores, "-");
        copy_text(st, 15, r->blas, sizeof r->blas, "-");
        copy_text(st, 16, r->blas_threads, sizeof r->blas_threads, "-");
        copy_text(st, 17, r->mpi_version, sizeof r->mpi_version, "-");
    }
    sqlite3_finalize(st);
    return 0;
}

static int load_cases(results_db *db, report_run *r, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, case_index, case_key, label, impl, model, world_size, "
                        "precision, stage, completed, config, (SELECT count(*) FROM cases "
                        "WHERE run_id = ?1) FROM cases WHERE run_id = ?1 ORDER BY id",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc;
    results_bind_int64(st, 1, r->id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (!r->cases) {
            int64_t total = sqlite3_column_int64(st, 11);
            r->cases = calloc(total > 0 ? (size_t)total : 1, sizeof *r->cases);
            if (!r->cases) {
                sqlite3_finalize(st);
                snprintf(err, err_len, "out of memory reading the cases of run %lld",
                         (long long)r->id);
                return -1;
            }
            r->n_cases = 0;
            /* the count and the rows come from one statement: one snapshot */
            r->cap_cases = (int)total;
        }
        if (r->n_cases >= r->cap_cases)
            break;
        report_case *c = &r->cases[r->n_cases++];
        c->id = sqlite3_column_int64(st, 0);
        c->index = sqlite3_column_int(st, 1);
        copy_text(st, 2, c->key, sizeof c->key, "");
        copy_text(st, 3, c->label, sizeof c->label, "");
        copy_text(st, 4, c->impl, sizeof c->impl, "-");
        copy_text(st, 5, c->model, sizeof c->model, "");
        c->world_size = sqlite3_column_int(st, 6);
        copy_text(st, 7, c->precision, sizeof c->precision, "");
        copy_text(st, 8, c->stage, sizeof c->stage, "");
        c->completed = sqlite3_column_int(st, 9);
        c->worst_ratio = NAN;
        parse_key(c);
        c->n_params = model_params(c->model, (const char *)sqlite3_column_text(st, 10));
    }
    return finish(db, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, "reading cases", err, err_len);
}

static report_case *case_by_id(report_run *r, int64_t id)
{
    /* the cases are in id order until they are sorted */
    int lo = 0, hi = r->n_cases - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (r->cases[mid].id == id)
            return &r->cases[mid];
        if (r->cases[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static report_stat summarise(const double *v, int n)
{
    /* v is sorted ascending */
    report_stat s = {n, NAN, NAN, NAN};
    if (n > 0) {
        s.min = v[0];
        s.max = v[n - 1];
        s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    return s;
}

static int add_metric(report_case *c, const char *name, int exact, const double *v, int n)
{
    if (c->n_metrics == c->cap_metrics) {
        int cap = c->cap_metrics ? 2 * c->cap_metrics : 8;
        report_metric *m = realloc(c->metrics, (size_t)cap * sizeof *m);
        if (!m)
            return -1;
        c->metrics = m;
        c->cap_metrics = cap;
    }
    report_metric *m = &c->metrics[c->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->exact = exact;
    m->s = summarise(v, n);
    return 0;
}

/* Every metric's non-warm-up samples, one pass over the run, sorted by
 * value within each metric. */
static int load_metrics(results_db *db, report_run *r, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT m.case_id, m.id, m.name, m.kind, s.value FROM cases c "
                        "JOIN metrics m ON m.case_id = c.id JOIN samples s ON s.metric_id = m.id "
                        "WHERE c.run_id = ?1 AND s.warmup = 0 ORDER BY m.id, s.value",
                        &st, err, err_len))
        return -1;
    double *v = NULL;
    int n = 0, cap = 0, b = SQLITE_OK, rc, oom = 0;
    int64_t cur_metric = -1;
    report_case *cur_case = NULL;
    char cur_name[64] = "";
    int cur_exact = 0;
    results_bind_int64(st, 1, r->id, &b);
    for (;;) {
        rc = b == SQLITE_OK ? sqlite3_step(st) : b;
        int64_t metric = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : -2;
        if (metric != cur_metric && cur_metric >= 0 && cur_case) {
            if (add_metric(cur_case, cur_name, cur_exact, v, n)) {
                oom = 1;
                break;
            }
        }
        if (rc != SQLITE_ROW)
            break;
        if (metric != cur_metric) {
            cur_metric = metric;
            cur_case = case_by_id(r, sqlite3_column_int64(st, 0));
            copy_text(st, 2, cur_name, sizeof cur_name, "?");
            const unsigned char *kind = sqlite3_column_text(st, 3);
            cur_exact = kind && strcmp((const char *)kind, "exact") == 0;
            n = 0;
        }
        if (n == cap) {
            int ncap = cap ? 2 * cap : 64;
            double *g = realloc(v, (size_t)ncap * sizeof *g);
            if (!g) {
                oom = 1;
                break;
            }
            v = g;
            cap = ncap;
        }
        v[n++] = sqlite3_column_double(st, 4);
    }
    free(v);
    if (oom) {
        sqlite3_finalize(st);
        snprintf(err, err_len, "out of memory reading the metrics of run %lld",
                 (long long)r->id);
        return -1;
    }
    return finish(db, st, rc, "reading metrics", err, err_len);
}

static int load_checks(results_db *db, report_run *r, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT k.case_id, count(*), sum(k.status = 'fail'), "
                        "sum(k.status = 'skip'), max(k.ratio) FROM checks k JOIN cases c ON "
                        "k.case_id = c.id WHERE c.run_id = ?1 GROUP BY k.case_id",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc;
    r->worst_ratio = NAN;
    results_bind_int64(st, 1, r->id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        report_case *c = case_by_id(r, sqlite3_column_int64(st, 0));
        if (!c)
            continue;
        c->n_checks = sqlite3_column_int(st, 1);
        c->n_failed = sqlite3_column_int(st, 2);
        c->n_skipped = sqlite3_column_int(st, 3);
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            c->worst_ratio = sqlite3_column_double(st, 4);
        r->n_checks += c->n_checks;
        r->n_failed += c->n_failed;
        r->n_skipped += c->n_skipped;
        if (!isnan(c->worst_ratio) && (isnan(r->worst_ratio) || c->worst_ratio > r->worst_ratio))
            r->worst_ratio = c->worst_ratio;
    }
    if (finish(db, st, rc, "reading checks", err, err_len))
        return -1;
    if (results_prepare(db,
                        "SELECT c.label, k.name, k.ratio FROM checks k JOIN cases c ON "
                        "k.case_id = c.id WHERE c.run_id = ?1 AND k.status = 'fail' "
                        "ORDER BY c.case_index, k.seq LIMIT ?2",
                        &st, err, err_len))
        return -1;
    b = SQLITE_OK;
    results_bind_int64(st, 1, r->id, &b);
    results_bind_int64(st, 2, REPORT_MAX_FAILURES, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW &&
           r->n_failures_listed < REPORT_MAX_FAILURES) {
        char *line = r->failures[r->n_failures_listed++];
        const char *label = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            snprintf(line, sizeof r->failures[0], "%.200s: %.120s (error/tolerance %.3g)",
                     label ? label : "?", name ? name : "?", sqlite3_column_double(st, 2));
        else
            snprintf(line, sizeof r->failures[0], "%.200s: %.120s", label ? label : "?",
                     name ? name : "?");
    }
    return finish(db, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, "reading failed checks", err,
                  err_len);
}

/* Reading order: kind, then the fields that group a table or a plot. */
static int case_order(const void *pa, const void *pb)
{
    const report_case *a = pa, *b = pb;
    int d;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    switch (a->kind) {
    case REPORT_TP_STEP:
    case REPORT_MEM:
        if (a->kind == REPORT_TP_STEP && (d = strcmp(a->model, b->model)) != 0)
            return a->n_params != b->n_params ? (a->n_params < b->n_params ? -1 : 1) : d;
        if ((d = precision_order(a->precision, b->precision)) != 0)
            return d;
        if (a->kind == REPORT_MEM && a->world_size != b->world_size)
            return a->world_size - b->world_size;
        if ((d = report_stage_rank(a->stage) - report_stage_rank(b->stage)) != 0)
            return d;
        if ((d = strcmp(a->stage, b->stage)) != 0 || (d = strcmp(a->impl, b->impl)) != 0)
            return d;
        if (a->kind == REPORT_MEM && (d = strcmp(a->model, b->model)) != 0)
            return a->n_params != b->n_params ? (a->n_params < b->n_params ? -1 : 1) : d;
        break;
    case REPORT_MEM_BUDGET: {
        /* Budgets are bytes in the key: numeric order, text as a fallback. */
        const double ba = strtod(a->budget, NULL), bb = strtod(b->budget, NULL);
        if (ba != bb)
            return ba < bb ? -1 : 1;
    }
        if ((d = strcmp(a->budget, b->budget)) != 0 ||
            (d = precision_order(a->precision, b->precision)) != 0)
            return d;
        if (a->world_size != b->world_size)
            return a->world_size - b->world_size;
        if ((d = report_stage_rank(a->stage) - report_stage_rank(b->stage)) != 0)
            return d;
        if ((d = strcmp(a->stage, b->stage)) != 0 || (d = strcmp(a->impl, b->impl)) != 0)
            return d;
        break;
    case REPORT_COMM:
        if (a->world_size != b->world_size)
            return a->world_size - b->world_size;
        if ((d = strcmp(a->collective, b->collective)) != 0)
            return d;
        if (a->bytes != b->bytes)
            return a->bytes < b->bytes ? -1 : 1;
        if ((d = strcmp(a->side, b->side)) != 0)
            return d;
        break;
    default:
        break;
    }
    if (a->world_size != b->world_size)
        return a->world_size - b->world_size;
    return a->index - b->index;
}

/* report_case.verdict of every throughput case of r. */
static int load_verdicts(results_db *db, report_run *r, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT r.id, count(*), sum(k.status = 'fail'), "
                        "sum(k.status = 'skip') FROM runs r JOIN cases c ON c.run_id = r.id "
                        "JOIN checks k ON k.case_id = c.id WHERE r.id = (SELECT max(id) FROM "
                        "runs WHERE suite = ?1 AND impl = ?2) GROUP BY r.id",
                        &st, err, err_len))
        return -1;
    int rc = SQLITE_DONE;
    for (int i = 0; i < r->n_cases; i++) {
        report_case *c = &r->cases[i];
        if (c->kind != REPORT_TP_STEP)
            continue;
        sqlite3_reset(st);
        int b = SQLITE_OK;
        results_bind_text(st, 1, c->stage, &b);
        results_bind_text(st, 2, c->impl, &b);
        rc = b == SQLITE_OK ? sqlite3_step(st) : b;
        if (rc == SQLITE_ROW) {
            const int points = sqlite3_column_int(st, 1), failed = sqlite3_column_int(st, 2);
            const int skipped = sqlite3_column_int(st, 3);
            snprintf(c->verdict, sizeof c->verdict, "%s %d/%d (run %lld)",
                     failed ? "FAIL" : "PASS", failed ? failed : points - failed - skipped,
                     points, (long long)sqlite3_column_int64(st, 0));
            rc = SQLITE_DONE;
        } else if (rc != SQLITE_DONE) {
            break;
        }
    }
    return finish(db, st, rc, "reading conformance verdicts", err, err_len);
}

int report_load_run(results_db *db, int64_t run_id, int machine_columns, report_run *out,
                    char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->worst_ratio = NAN;
    if (load_run_row(db, run_id, machine_columns, out, err, err_len) ||
        load_cases(db, out, err, err_len) || load_metrics(db, out, err, err_len) ||
        load_checks(db, out, err, err_len) ||
        (strcmp(out->suite, "throughput") == 0 && load_verdicts(db, out, err, err_len))) {
        report_run_free(out);
        return -1;
    }
    if (out->n_cases > 1)
        qsort(out->cases, (size_t)out->n_cases, sizeof *out->cases, case_order);
    return 0;
}

void report_run_free(report_run *run)
{
    for (int i = 0; run->cases && i < run->n_cases; i++)
        free(run->cases[i].metrics);
    free(run->cases);
    run->cases = NULL;
    run->n_cases = 0;
}

const report_metric *report_metric_find(const report_case *c, const char *name)
{
    for (int i = 0; i < c->n_metrics; i++)
        if (strcmp(c->metrics[i].name, name) == 0)
            return &c->metrics[i];
    return NULL;
}
