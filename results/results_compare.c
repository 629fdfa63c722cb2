#include "results_compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results_record.h"

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

int results_run_brief_load(results_db *db, int64_t run_id, results_run_brief *out, char *err,
                           size_t err_len)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, status, started_at, suite, impl, impl_version, backend, "
                        "git_commit, git_dirty, host, pid, cpu_model, cpu_cores, blas, "
                        "mpi_version FROM runs WHERE id = ?1",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, run_id, &b);
    int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            snprintf(err, err_len, "unknown run %lld in %s", (long long)run_id, db->path);
        else
            results_error(db, rc, "reading a run", err, err_len);
        sqlite3_finalize(st);
        return -1;
    }
    out->id = sqlite3_column_int64(st, 0);
    copy_text(out->status, sizeof out->status, sqlite3_column_text(st, 1));
    if (results_run_is_dead(out->status, (const char *)sqlite3_column_text(st, 9),
                            sqlite3_column_int64(st, 10),
                            (const char *)sqlite3_column_text(st, 2)))
        snprintf(out->status, sizeof out->status, "incomplete");
    copy_text(out->started_at, sizeof out->started_at, sqlite3_column_text(st, 2));
    copy_text(out->suite, sizeof out->suite, sqlite3_column_text(st, 3));
    copy_text(out->impl, sizeof out->impl, sqlite3_column_text(st, 4));
    copy_text(out->impl_version, sizeof out->impl_version, sqlite3_column_text(st, 5));
    copy_text(out->backend, sizeof out->backend, sqlite3_column_text(st, 6));
    copy_text(out->commit, sizeof out->commit, sqlite3_column_text(st, 7));
    out->dirty = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
    copy_text(out->host, sizeof out->host, sqlite3_column_text(st, 9));
    copy_text(out->cpu_model, sizeof out->cpu_model, sqlite3_column_text(st, 11));
    out->cpu_cores = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1
                                                                : sqlite3_column_int64(st, 12);
    copy_text(out->blas, sizeof out->blas, sqlite3_column_text(st, 13));
    copy_text(out->mpi_version, sizeof out->mpi_version, sqlite3_column_text(st, 14));
    sqlite3_finalize(st);
    return 0;
}

/* Appends "name 'a' vs 'b'" to what when both are known and differ. */
static void differ_text(const char *name, const char *a, const char *b, char *what, size_t len,
                        int *n)
{
    if (!a[0] || !b[0] || strcmp(a, b) == 0)
        return;
    const size_t used = strlen(what);
    snprintf(what + used, len - used, "%s%s '%.60s' vs '%.60s'", *n ? ", " : "", name, a, b);
    (*n)++;
}

int results_machines_differ(const results_run_brief *a, const results_run_brief *b, char *what,
                            size_t len)
{
    int n = 0;
    what[0] = '\0';
    differ_text("host", a->host, b->host, what, len, &n);
    differ_text("CPU", a->cpu_model, b->cpu_model, what, len, &n);
    if (a->cpu_cores > 0 && b->cpu_cores > 0 && a->cpu_cores != b->cpu_cores) {
        const size_t used = strlen(what);
        snprintf(what + used, len - used, "%scores %lld vs %lld", n ? ", " : "",
                 (long long)a->cpu_cores, (long long)b->cpu_cores);
        n++;
    }
    differ_text("BLAS", a->blas, b->blas, what, len, &n);
    differ_text("MPI", a->mpi_version, b->mpi_version, what, len, &n);
    return n > 0;
}

/* ---- loading ----------------------------------------------------------------- */

typedef struct case_row {
    int64_t id;
    char key[256];
    char *config;
} case_row;

typedef struct case_list {
    case_row *items;
    int n;
} case_list;

static void case_list_free(case_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i].config);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Makes room for one more element in a growable array of n used of *cap
 * (doubling, from `first`); 0, or -1 out of memory with *items unchanged. */
static int grow_for_one(void **items, int n, int *cap, size_t elem, int first)
{
    if (n < *cap)
        return 0;
    const int want = *cap ? 2 * *cap : first;
    void *grown = realloc(*items, (size_t)want * elem);
    if (grown == NULL)
        return -1;
    *items = grown;
    *cap = want;
    return 0;
}

static int load_cases(results_db *db, int64_t run_id, case_list *out, char *err,
                      size_t err_len)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, case_key, config FROM cases WHERE run_id = ?1 "
                        "ORDER BY case_index",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc, cap = 0;
    results_bind_int64(st, 1, run_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (grow_for_one((void **)&out->items, out->n, &cap, sizeof *out->items, 32)) {
            snprintf(err, err_len, "out of memory reading cases");
            sqlite3_finalize(st);
            case_list_free(out);
            return -1;
        }
        case_row *c = &out->items[out->n];
        c->id = sqlite3_column_int64(st, 0);
        copy_text(c->key, sizeof c->key, sqlite3_column_text(st, 1));
        const unsigned char *cfg = sqlite3_column_text(st, 2);
        c->config = strdup(cfg ? (const char *)cfg : "");
        if (!c->config) {
            snprintf(err, err_len, "out of memory reading cases");
            sqlite3_finalize(st);
            case_list_free(out);
            return -1;
        }
        out->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_error(db, rc, "reading cases", err, err_len);
        case_list_free(out);
        return -1;
    }
    return 0;
}

typedef struct check_row {
    char name[64];
    char status[8];
    char message[200];
} check_row;

/* The first line of the diagnostics (the "message: ..." line comes first),
 * without its key when it is the message. */
static void first_line(char *dst, size_t len, const unsigned char *diag)
{
    const char *s = diag ? (const char *)diag : "";
    if (strncmp(s, "message: ", 9) == 0)
        s += 9;
    size_t n = strcspn(s, "\n");
    snprintf(dst, len, "%.*s", (int)n, s);
}

static int load_checks(results_db *db, int64_t case_id, check_row **out, int *n, char *err,
                       size_t err_len)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT name, status, diagnostics FROM checks WHERE case_id = ?1 "
                        "ORDER BY seq",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc, cap = 0;
    results_bind_int64(st, 1, case_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (grow_for_one((void **)out, *n, &cap, sizeof **out, 16)) {
            snprintf(err, err_len, "out of memory reading checks");
            sqlite3_finalize(st);
            free(*out);
            *out = NULL;
            return -1;
        }
        check_row *k = &(*out)[(*n)++];
        copy_text(k->name, sizeof k->name, sqlite3_column_text(st, 0));
        copy_text(k->status, sizeof k->status, sqlite3_column_text(st, 1));
        first_line(k->message, sizeof k->message, sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_error(db, rc, "reading checks", err, err_len);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

typedef struct metric_row {
    int64_t id;
    char name[64], unit[16];
    int exact, higher_is_better;
} metric_row;

static int load_metrics(results_db *db, int64_t case_id, metric_row **out, int *n, char *err,
                        size_t err_len)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, name, unit, kind, better FROM metrics WHERE case_id = ?1 "
                        "ORDER BY id",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc, cap = 0;
    results_bind_int64(st, 1, case_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (grow_for_one((void **)out, *n, &cap, sizeof **out, 32)) {
            snprintf(err, err_len, "out of memory reading metrics");
            sqlite3_finalize(st);
            free(*out);
            *out = NULL;
            return -1;
        }
        metric_row *m = &(*out)[(*n)++];
        m->id = sqlite3_column_int64(st, 0);
        copy_text(m->name, sizeof m->name, sqlite3_column_text(st, 1));
        copy_text(m->unit, sizeof m->unit, sqlite3_column_text(st, 2));
        const unsigned char *kind = sqlite3_column_text(st, 3);
        const unsigned char *better = sqlite3_column_text(st, 4);
        m->exact = kind && strcmp((const char *)kind, "exact") == 0;
        m->higher_is_better = better && strcmp((const char *)better, "higher") == 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_error(db, rc, "reading metrics", err, err_len);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* The non-warm-up samples of a metric, in recording order, and the launch
 * (world run; -1 when not recorded) of each. */
typedef struct sample_set {
    double *x;
    int *launch;
    int n, cap;
} sample_set;

static void sample_set_free(sample_set *s)
{
    free(s->x);
    free(s->launch);
    memset(s, 0, sizeof *s);
}

static int load_samples(results_db *db, int64_t metric_id, sample_set *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT value, rep FROM samples WHERE metric_id = ?1 AND warmup = 0 "
                        "ORDER BY seq",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc;
    results_bind_int64(st, 1, metric_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (out->n == out->cap) {
            int cap = out->cap ? 2 * out->cap : 64;
            double *x = realloc(out->x, (size_t)cap * sizeof *x);
            if (x)
                out->x = x;
            int *launch = x ? realloc(out->launch, (size_t)cap * sizeof *launch) : NULL;
            if (!launch) {
                snprintf(err, err_len, "out of memory reading samples");
                sqlite3_finalize(st);
                sample_set_free(out);
                return -1;
            }
            out->launch = launch;
            out->cap = cap;
        }
        out->x[out->n] = sqlite3_column_double(st, 0);
        out->launch[out->n] =
            sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1);
        out->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_error(db, rc, "reading samples", err, err_len);
        sample_set_free(out);
        return -1;
    }
    return 0;
}

/* ---- comparing ----------------------------------------------------------------- */

static int push_metric(results_comparison *c, const results_metric_cmp *m)
{
    if (grow_for_one((void **)&c->metrics, c->n_metrics, &c->cap_metrics, sizeof *c->metrics,
                     64))
        return -1;
    c->metrics[c->n_metrics++] = *m;
    return 0;
}

static int push_check(results_comparison *c, const results_check_change *k)
{
    if (grow_for_one((void **)&c->checks, c->n_checks, &c->cap_checks, sizeof *c->checks, 16))
        return -1;
    c->checks[c->n_checks++] = *k;
    return 0;
}

static int compare_checks(results_db *db, const case_row *bc, const case_row *hc,
                          results_comparison *out, char *err, size_t err_len)
{
    check_row *bk = NULL, *hk = NULL;
    int nb = 0, nh = 0;
    if (load_checks(db, bc->id, &bk, &nb, err, err_len) ||
        load_checks(db, hc->id, &hk, &nh, err, err_len)) {
        free(bk);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < nh && rc == 0; i++) {
        const check_row *h = &hk[i], *b = NULL;
        for (int j = 0; j < nb && !b; j++)
            if (strcmp(bk[j].name, h->name) == 0)
                b = &bk[j];
        if (strcmp(h->status, "fail") != 0 && !(b && strcmp(b->status, "fail") == 0))
            continue; /* pass or skip now, and did not fail before */
        results_check_change k;
        memset(&k, 0, sizeof k);
        snprintf(k.case_key, sizeof k.case_key, "%s", hc->key);
        snprintf(k.check, sizeof k.check, "%s", h->name);
        snprintf(k.base_status, sizeof k.base_status, "%s", b ? b->status : "-");
        snprintf(k.head_status, sizeof k.head_status, "%s", h->status);
        snprintf(k.head_message, sizeof k.head_message, "%s", h->message);
        int head_fails = strcmp(h->status, "fail") == 0;
        if (head_fails && b && strcmp(b->status, "pass") == 0)
            k.kind = RESULTS_CHECK_REGRESSED;
        else if (head_fails && b && strcmp(b->status, "fail") == 0)
            k.kind = RESULTS_CHECK_STILL_FAILS;
        else if (head_fails)
            k.kind = RESULTS_CHECK_NEW_FAIL;
        else
            k.kind = RESULTS_CHECK_FIXED;
        if (push_check(out, &k)) {
            snprintf(err, err_len, "out of memory comparing checks");
            rc = -1;
        }
    }
    free(bk);
    free(hk);
    return rc;
}

static int compare_metrics(results_db *db, const case_row *bc, const case_row *hc,
                           const stats_policy *pol, results_comparison *out, char *err,
                           size_t err_len)
{
    metric_row *bm = NULL, *hm = NULL;
    int nb = 0, nh = 0;
    if (load_metrics(db, bc->id, &bm, &nb, err, err_len) ||
        load_metrics(db, hc->id, &hm, &nh, err, err_len)) {
        free(bm);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < nh && rc == 0; i++) {
        const metric_row *h = &hm[i], *b = NULL;
        for (int j = 0; j < nb && !b; j++)
            if (strcmp(bm[j].name, h->name) == 0)
                b = &bm[j];
        if (!b)
            continue;
        sample_set bs, hs;
        if (load_samples(db, b->id, &bs, err, err_len)) {
            rc = -1;
            break;
        }
        if (load_samples(db, h->id, &hs, err, err_len)) {
            sample_set_free(&bs);
            rc = -1;
            break;
        }
        results_metric_cmp m;
        memset(&m, 0, sizeof m);
        snprintf(m.case_key, sizeof m.case_key, "%s", hc->key);
        snprintf(m.metric, sizeof m.metric, "%s", h->name);
        snprintf(m.unit, sizeof m.unit, "%s", h->unit);
        m.exact = h->exact && b->exact;
        m.higher_is_better = h->higher_is_better;
        /* One fixed seed per (case, metric): the same comparison gives the
         * same interval every time it is computed. */
        uint64_t seed = stats_hash(h->name, stats_hash(hc->key, 0));
        if (stats_compare(bs.x, bs.n, hs.x, hs.n, m.exact, m.higher_is_better, pol, seed,
                          &m.s) ||
            (!m.exact && (stats_launches_of(bs.x, bs.launch, bs.n, &m.base_launches) ||
                          stats_launches_of(hs.x, hs.launch, hs.n, &m.head_launches))) ||
            push_metric(out, &m)) {
            snprintf(err, err_len, "out of memory comparing metrics");
            rc = -1;
        }
        sample_set_free(&bs);
        sample_set_free(&hs);
    }
    free(bm);
    free(hm);
    return rc;
}

/* Per timing metric name: the launch noise envelope over every case, applied
 * to each case's verdict, and the suite-level test over the cases whose
 * samples sufficed for a per-case test (those with a p-value). */
static int judge_suite(results_comparison *c, const stats_policy *pol)
{
    stats_stratum *strata = malloc(((size_t)c->n_metrics + 1) * sizeof *strata);
    c->suite = calloc((size_t)c->n_metrics + 1, sizeof *c->suite);
    if (!strata || !c->suite) {
        free(strata);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < c->n_metrics && rc == 0; i++) {
        const results_metric_cmp *first = &c->metrics[i];
        if (first->exact)
            continue;
        int seen = 0;
        for (int k = 0; k < c->n_suite && !seen; k++)
            seen = strcmp(c->suite[k].metric, first->metric) == 0;
        if (seen)
            continue;
        results_suite_cmp *s = &c->suite[c->n_suite++];
        snprintf(s->metric, sizeof s->metric, "%s", first->metric);
        snprintf(s->unit, sizeof s->unit, "%s", first->unit);
        s->higher_is_better = first->higher_is_better;
        int n = 0;
        for (int j = i; j < c->n_metrics; j++) {
            const results_metric_cmp *m = &c->metrics[j];
            if (m->exact || strcmp(m->metric, s->metric) != 0)
                continue;
            if (m->base_launches.spread > s->envelope)
                s->envelope = m->base_launches.spread;
            if (m->head_launches.spread > s->envelope)
                s->envelope = m->head_launches.spread;
            if (isfinite(m->s.p) && m->base_launches.low > 0 && m->head_launches.low > 0)
                strata[n++] = (stats_stratum){&m->base_launches, &m->head_launches,
                                              log(m->head_launches.low / m->base_launches.low)};
        }
        for (int j = i; j < c->n_metrics; j++)
            if (!c->metrics[j].exact && strcmp(c->metrics[j].metric, s->metric) == 0)
                stats_apply_envelope(&c->metrics[j].s, s->envelope, pol);
        rc = stats_suite_test(strata, n, s->higher_is_better, pol, &s->s);
    }
    free(strata);
    return rc;
}

int results_compare(results_db *db, int64_t base, int64_t head, const stats_policy *pol,
                    results_comparison *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (results_run_brief_load(db, base, &out->base, err, err_len) ||
        results_run_brief_load(db, head, &out->head, err, err_len))
        return -1;
    case_list bcs, hcs;
    if (load_cases(db, base, &bcs, err, err_len))
        return -1;
    if (load_cases(db, head, &hcs, err, err_len)) {
        case_list_free(&bcs);
        return -1;
    }
    int rc = 0;
    char *matched = calloc((size_t)bcs.n + 1, 1);
    if (!matched) {
        snprintf(err, err_len, "out of memory comparing runs");
        rc = -1;
    }
    for (int i = 0; i < hcs.n && rc == 0; i++) {
        const case_row *h = &hcs.items[i], *b = NULL;
        for (int j = 0; j < bcs.n && !b; j++)
            if (!matched[j] && strcmp(bcs.items[j].key, h->key) == 0) {
                b = &bcs.items[j];
                matched[j] = 1;
            }
        if (!b) {
            if (out->n_head_only++ == 0)
                snprintf(out->first_head_only, sizeof out->first_head_only, "%s", h->key);
            continue;
        }
        out->n_common++;
        if (strcmp(b->config, h->config) != 0 && out->n_config_differs++ == 0)
            snprintf(out->first_config_differs, sizeof out->first_config_differs, "%s", h->key);
        rc = compare_checks(db, b, h, out, err, err_len);
        if (rc == 0)
            rc = compare_metrics(db, b, h, pol, out, err, err_len);
    }
    for (int j = 0; j < bcs.n && rc == 0; j++)
        if (!matched[j] && out->n_base_only++ == 0)
            snprintf(out->first_base_only, sizeof out->first_base_only, "%s", bcs.items[j].key);
    if (rc == 0 && judge_suite(out, pol) != 0) {
        snprintf(err, err_len, "out of memory comparing runs");
        rc = -1;
    }
    free(matched);
    case_list_free(&bcs);
    case_list_free(&hcs);
    if (rc)
        results_comparison_free(out);
    return rc;
}

void results_comparison_free(results_comparison *c)
{
    free(c->metrics);
    free(c->checks);
    free(c->suite);
    c->metrics = NULL;
    c->checks = NULL;
    c->suite = NULL;
    c->n_suite = 0;
    c->n_metrics = c->n_checks = c->cap_metrics = c->cap_checks = 0;
}

/* ---- printing ------------------------------------------------------------------ */

void results_format_value(double v, const char *unit, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
        return;
    }
    if (strcmp(unit, "s") == 0) {
        double a = fabs(v);
        if (a >= 1.0 || a == 0)
            snprintf(buf, len, "%.3f s", v);
        else if (a >= 1e-3)
            snprintf(buf, len, "%.3f ms", v * 1e3);
        else
            snprintf(buf, len, "%.2f us", v * 1e6);
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f%s%s", v, *unit && strcmp(unit, "calls") ? " " : "",
                 strcmp(unit, "calls") ? unit : "");
    } else {
        snprintf(buf, len, "%.4g %s", v, unit);
    }
}

static void brief_line(const char *role, const results_run_brief *r, FILE *out)
{
    fprintf(out, "%s run %lld: %s %s, suite %s, %s, %s, started %s, commit %s%s\n", role,
            (long long)r->id, r->impl, r->impl_version, r->suite, r->backend, r->status,
            r->started_at, r->commit[0] ? r->commit : "unknown",
            r->dirty == 1 ? " (dirty)" : "");
}

static const char *check_kind_name(results_check_change_kind k)
{
    switch (k) {
    case RESULTS_CHECK_REGRESSED:
        return "REGRESSED";
    case RESULTS_CHECK_FIXED:
        return "fixed";
    case RESULTS_CHECK_NEW_FAIL:
        return "new failure";
    case RESULTS_CHECK_STILL_FAILS:
        return "still fails";
    }
    return "";
}

void results_comparison_print(const results_comparison *c, const stats_policy *pol, int all,
                              FILE *out)
{
    brief_line("BASE", &c->base, out);
    brief_line("HEAD", &c->head, out);
    char machines[768];
    if (results_machines_differ(&c->base, &c->head, machines, sizeof machines))
        fprintf(out, "WARNING: BASE and HEAD ran on different machines (%s): their timings are "
                     "not comparable (their checks and exact counters still are)\n",
                machines);
    fprintf(out, "policy: a timing changes when Mann-Whitney p < %g and the %.0f%% bootstrap "
                 "interval of the median ratio excludes 1, by at least %.0f%%; "
                 "%d+ samples a side\n",
            pol->alpha, 100 * pol->confidence, 100 * pol->min_effect, pol->min_samples);
    int counts[4] = {0, 0, 0, 0}, hidden = 0;
    const char *current = NULL;
    for (int i = 0; i < c->n_metrics; i++) {
        const results_metric_cmp *m = &c->metrics[i];
        counts[m->s.verdict]++;
        if (!all && m->exact && m->s.base_value == 0 && m->s.head_value == 0) {
            hidden++;
            continue;
        }
        if (!current || strcmp(current, m->case_key) != 0) {
            current = m->case_key;
            fprintf(out, "%s\n", current);
        }
        char bv[32], hv[32], ratio[32];
        results_format_value(m->s.base_value, m->unit, bv, sizeof bv);
        results_format_value(m->s.head_value, m->unit, hv, sizeof hv);
        if (isfinite(m->s.ratio))
            snprintf(ratio, sizeof ratio, "x%.3f", m->s.ratio);
        else
            snprintf(ratio, sizeof ratio, "%s", isinf(m->s.ratio) ? "x inf" : "-");
        char detail[96] = "";
        if (!m->exact && isfinite(m->s.ci_lo))
            snprintf(detail, sizeof detail, " [n %d/%d, CI %.3f-%.3f]", m->s.n_base,
                     m->s.n_head, m->s.ci_lo, m->s.ci_hi);
        else if (!m->exact)
            snprintf(detail, sizeof detail, " [n %d/%d]", m->s.n_base, m->s.n_head);
        fprintf(out, "  %-24s %12s %12s %9s  %-12s %s%s\n", m->metric, bv, hv, ratio,
                stats_verdict_name(m->s.verdict), m->s.why, detail);
    }
    if (hidden)
        fprintf(out, "(%d counters zero in both runs not shown; --all shows them)\n", hidden);
    if (c->n_checks) {
        fprintf(out, "checks that fail in HEAD or failed in BASE:\n");
        for (int i = 0; i < c->n_checks; i++) {
            const results_check_change *k = &c->checks[i];
            fprintf(out, "  %s: %s: %s -> %s (%s)%s%s\n", k->case_key, k->check, k->base_status,
                    k->head_status, check_kind_name(k->kind), k->head_message[0] ? ": " : "",
                    k->head_message);
        }
    }
    if (c->n_base_only)
        fprintf(out, "note: %d case(s) of BASE not in HEAD, not compared (first: %s)\n",
                c->n_base_only, c->first_base_only);
    if (c->n_head_only)
        fprintf(out, "note: %d case(s) of HEAD not in BASE, not compared (first: %s)\n",
                c->n_head_only, c->first_head_only);
    if (c->n_config_differs)
        fprintf(out, "note: %d matched case(s) ran a different configuration (first: %s)\n",
                c->n_config_differs, c->first_config_differs);
    for (int i = 0; i < c->n_suite; i++) {
        const results_suite_cmp *s = &c->suite[i];
        if (s->s.n_base == 0)
            continue; /* no case had samples enough to take part */
        char ratio[32] = "-";
        if (isfinite(s->s.ratio))
            snprintf(ratio, sizeof ratio, "x%.3f", s->s.ratio);
        fprintf(out, "suite %-18s %9s  %-12s %s [%d cases; launches of one case differed by "
                     "up to %.0f%%]\n",
                s->metric, ratio, stats_verdict_name(s->s.verdict), s->s.why, s->s.n_base,
                100.0 * (exp(s->envelope) - 1.0));
    }
    int regressed_checks = 0;
    for (int i = 0; i < c->n_checks; i++)
        regressed_checks += c->checks[i].kind == RESULTS_CHECK_REGRESSED;
    fprintf(out, "summary: %d cases compared; metrics: %d regressed, %d improved, %d unchanged, "
                 "%d inconclusive; checks: %d passed in BASE and fail in HEAD\n",
            c->n_common, counts[STATS_REGRESSED], counts[STATS_IMPROVED],
            counts[STATS_UNCHANGED], counts[STATS_INCONCLUSIVE], regressed_checks);
}
