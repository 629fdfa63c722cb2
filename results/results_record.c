#include "results_record.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

/* ISO 8601 UTC with milliseconds, from SQLite's clock. */
#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

const char *results_status_name(results_status s)
{
    switch (s) {
    case RESULTS_PASS:
        return "pass";
    case RESULTS_FAIL:
        return "fail";
    case RESULTS_SKIP:
        return "skip";
    }
    return "fail";
}

/* ---- runs ------------------------------------------------------------------ */

typedef struct run_begin_ctx {
    const results_run_info *info;
    int64_t run_id;
} run_begin_ctx;

static int run_begin_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    run_begin_ctx *c = ctx;
    const results_run_info *in = c->info;
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "INSERT INTO runs (started_at, status, suite, impl, impl_version, "
                            "backend, git_commit, git_dirty, dtbench_version, host, cpu_model, "
                            "gpu, command_line, pid, cpu_cores, blas, blas_threads, mpi_version) "
                            "VALUES (" NOW_SQL ", 'running', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                            "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                            &st, err, err_len);
    if (r)
        return r;
    int b = SQLITE_OK;
    results_bind_text(st, 1, in->suite, &b);
    results_bind_text(st, 2, in->impl, &b);
    results_bind_text(st, 3, in->impl_version, &b);
    results_bind_text(st, 4, in->backend, &b);
    results_bind_text(st, 5, in->git_commit, &b);
    if (in->git_dirty == 0 || in->git_dirty == 1)
        results_bind_int64(st, 6, in->git_dirty, &b);
    else
        results_bind_null(st, 6, &b);
    results_bind_text(st, 7, results_dtbench_version(), &b);
    results_bind_text(st, 8, in->host, &b);
    results_bind_text(st, 9, in->cpu_model, &b);
    results_bind_text(st, 10, in->gpu, &b);
    results_bind_text(st, 11, in->command_line ? in->command_line : "", &b);
    results_bind_int64(st, 12, in->pid, &b);
    if (in->cpu_cores > 0)
        results_bind_int64(st, 13, in->cpu_cores, &b);
    else
        results_bind_null(st, 13, &b);
    results_bind_text(st, 14, in->blas, &b);
    if (in->blas_threads > 0)
        results_bind_int64(st, 15, in->blas_threads, &b);
    else
        results_bind_null(st, 15, &b);
    results_bind_text(st, 16, in->mpi_version, &b);
    r = results_step_done(db, st, b, "recording the run", err, err_len);
    sqlite3_finalize(st);
    if (r == 0)
        c->run_id = sqlite3_last_insert_rowid(db->db);
    return r;
}

int results_run_begin(results_db *db, const results_run_info *info, int64_t *run_id,
                      char *err, size_t err_len)
{
    if (!info->suite || !info->impl || !info->backend) {
        snprintf(err, err_len, "a run needs a suite, an implementation and a backend");
        return -1;
    }
    run_begin_ctx c = {info, 0};
    if (results_write(db, run_begin_body, &c, err, err_len))
        return -1;
    *run_id = c.run_id;
    return 0;
}

typedef struct run_finish_ctx {
    int64_t run_id;
    int complete;
} run_finish_ctx;

static int run_finish_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    run_finish_ctx *c = ctx;
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "UPDATE runs SET status = ?1, ended_at = " NOW_SQL
                            " WHERE id = ?2 AND status = 'running'",
                            &st, err, err_len);
    if (r)
        return r;
    int b = SQLITE_OK;
    results_bind_text(st, 1, c->complete ? "complete" : "incomplete", &b);
    results_bind_int64(st, 2, c->run_id, &b);
    r = results_step_done(db, st, b, "ending the run", err, err_len);
    sqlite3_finalize(st);
    return r;
}

int results_run_finish(results_db *db, int64_t run_id, int complete, char *err, size_t err_len)
{
    run_finish_ctx c = {run_id, complete};
    return results_write(db, run_finish_body, &c, err, err_len);
}

/* Seconds since the epoch at which process pid started: its start in clock
 * ticks after boot (/proc/PID/stat, field 22) plus the boot time (btime of
 * /proc/stat, whole seconds). -1 when unknown. */
static double process_started(int64_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold
     * anything: state is field 3, start time field 22. */
    const char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
        return -1;
    f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long btime = 0;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    const long hz = sysconf(_SC_CLK_TCK);
    return btime && hz > 0 ? (double)btime + (double)ticks / (double)hz : -1;
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC), -1 if not. */
static double iso8601_seconds(const char *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    double sec = 0;
    if (!t || sscanf(t, "%d-%d-%dT%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = (int)sec;
    const time_t whole = timegm(&tm);
    return whole == (time_t)-1 ? -1 : (double)whole + (sec - (double)(int)sec);
}

/* How much earlier than the run's start its process may seem to have
 * started (boot time has whole seconds, the run's clock reading came
 * after the process began). */
#define RUN_START_SLACK_S 2.0

int results_run_is_dead(const char *status, const char *run_host, int64_t pid,
                        const char *started_at)
{
    if (!status || strcmp(status, "running") != 0 || !run_host || pid <= 0)
        return 0;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || strcmp(host, run_host) != 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    /* Alive: unless the pid was reused, by a process that started after
     * the run did (the run's own process began before its started_at). */
    const double began = process_started(pid), run_began = iso8601_seconds(started_at);
    return began > 0 && run_began > 0 && began > run_began + RUN_START_SLACK_S;
}

typedef struct dead_ctx {
    const char *host;
    int n_marked;
} dead_ctx;

static int mark_dead_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    dead_ctx *c = ctx;
    c->n_marked = 0;
    sqlite3_stmt *sel, *upd;
    int r = results_prepare(db, "SELECT id, pid, started_at FROM runs WHERE status = 'running' AND "
                            "host = ?1",
                            &sel, err, err_len);
    if (r)
        return r;
    if ((r = results_prepare(db,
                             "UPDATE runs SET status = 'incomplete' WHERE id = ?1 AND "
                             "status = 'running'",
                             &upd, err, err_len))) {
        sqlite3_finalize(sel);
        return r;
    }
    int b = SQLITE_OK;
    results_bind_text(sel, 1, c->host, &b);
    if (b != SQLITE_OK) {
        results_error(db, b, "reading runs", err, err_len);
        sqlite3_finalize(sel);
        sqlite3_finalize(upd);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);
        if (sqlite3_column_type(sel, 1) == SQLITE_NULL ||
            !results_run_is_dead("running", c->host, sqlite3_column_int64(sel, 1),
                                 (const char *)sqlite3_column_text(sel, 2)))
            continue;
        b = SQLITE_OK;
        results_bind_int64(upd, 1, id, &b);
        if ((r = results_step_done(db, upd, b, "marking a dead run incomplete", err, err_len)))
            break;
        c->n_marked++;
    }
    if (r == 0 && rc != SQLITE_DONE) {
        results_error(db, rc, "reading runs", err, err_len);
        r = results_rc_busy(rc) ? RESULTS_RETRY : -1;
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return r;
}

int results_mark_dead_runs(results_db *db, const char *host, int *n_marked, char *err,
                           size_t err_len)
{
    dead_ctx c = {host, 0};
    *n_marked = 0;
    if (!host)
        return 0;
    if (results_write(db, mark_dead_body, &c, err, err_len))
        return -1;
    *n_marked = c.n_marked;
    return 0;
}

/* ---- cases ----------------------------------------------------------------- */

typedef struct case_ctx {
    int64_t run_id;
    const results_case *c;
} case_ctx;

static void bind_optional_int(sqlite3_stmt *st, int idx, int v, int *b)
{
    if (v == RESULTS_NONE)
        results_bind_null(st, idx, b);
    else
        results_bind_int64(st, idx, v, b);
}

static int insert_checks(results_db *db, int64_t case_id, const results_case *c, char *err,
                         size_t err_len)
{
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "INSERT INTO checks (case_id, seq, name, status, skip_reason, ratio, "
                            "ratio_where, diagnostics) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            &st, err, err_len);
    if (r)
        return r;
    for (int i = 0; i < c->n_checks && r == 0; i++) {
        const results_check *k = &c->checks[i];
        int b = SQLITE_OK;
        results_bind_int64(st, 1, case_id, &b);
        results_bind_int64(st, 2, i, &b);
        results_bind_text(st, 3, k->name ? k->name : "", &b);
        results_bind_text(st, 4, results_status_name(k->status), &b);
        results_bind_text(st, 5, k->skip_reason && *k->skip_reason ? k->skip_reason : NULL, &b);
        if (isfinite(k->ratio) && k->ratio >= 0)
            results_bind_double(st, 6, k->ratio, &b);
        else
            results_bind_null(st, 6, &b);
        results_bind_text(st, 7, k->ratio_where && *k->ratio_where ? k->ratio_where : NULL, &b);
        results_bind_text(st, 8, k->diagnostics && *k->diagnostics ? k->diagnostics : NULL, &b);
        r = results_step_done(db, st, b, "recording a check", err, err_len);
    }
    sqlite3_finalize(st);
    return r;
}

static int insert_samples(results_db *db, sqlite3_stmt *st, int64_t metric_id,
                          const results_metric *m, char *err, size_t err_len)
{
    int r = 0;
    int seq = 0;
    for (int i = 0; i < m->n_samples && r == 0; i++) {
        const results_sample *s = &m->samples[i];
        if (!isfinite(s->value))
            continue; /* a non-finite time is no measurement */
        int b = SQLITE_OK;
        results_bind_int64(st, 1, metric_id, &b);
        results_bind_int64(st, 2, seq++, &b);
        bind_optional_int(st, 3, s->rep, &b);
        bind_optional_int(st, 4, s->rank, &b);
        bind_optional_int(st, 5, s->step, &b);
        results_bind_int64(st, 6, s->warmup ? 1 : 0, &b);
        results_bind_double(st, 7, s->value, &b);
        r = results_step_done(db, st, b, "recording a sample", err, err_len);
    }
    return r;
}

static int insert_metrics(results_db *db, int64_t case_id, const results_case *c, char *err,
                          size_t err_len)
{
    sqlite3_stmt *met, *smp;
    int r = results_prepare(db,
                            "INSERT INTO metrics (case_id, name, unit, kind, better) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)",
                            &met, err, err_len);
    if (r)
        return r;
    if ((r = results_prepare(db,
                             "INSERT INTO samples (metric_id, seq, rep, rank, step, warmup, "
                             "value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             &smp, err, err_len))) {
        sqlite3_finalize(met);
        return r;
    }
    for (int i = 0; i < c->n_metrics && r == 0; i++) {
        const results_metric *m = &c->metrics[i];
        int b = SQLITE_OK;
        results_bind_int64(met, 1, case_id, &b);
        results_bind_text(met, 2, m->name, &b);
        results_bind_text(met, 3, m->unit ? m->unit : "", &b);
        results_bind_text(met, 4, m->kind == RESULTS_EXACT ? "exact" : "timing", &b);
        results_bind_text(met, 5, m->higher_is_better ? "higher" : "lower", &b);
        r = results_step_done(db, met, b, "recording a metric", err, err_len);
        if (r == 0)
            r = insert_samples(db, smp, sqlite3_last_insert_rowid(db->db), m, err, err_len);
    }
    sqlite3_finalize(met);
    sqlite3_finalize(smp);
    return r;
}

static int case_body(results_db *db, void *ctx, char *err, size_t err_len)
{
    case_ctx *cc = ctx;
    const results_case *c = cc->c;
    sqlite3_stmt *st;
    int r = results_prepare(db,
                            "INSERT INTO cases (run_id, case_index, case_key, label, suite, impl, "
                            "impl_version, model, world_size, precision, stage, recipe, "
                            "optimizer, config, completed, seconds) VALUES (?1, ?2, ?3, ?4, ?5, "
                            "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                            &st, err, err_len);
    if (r)
        return r;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, cc->run_id, &b);
    results_bind_int64(st, 2, c->index, &b);
    results_bind_text(st, 3, c->key, &b);
    results_bind_text(st, 4, c->label ? c->label : c->key, &b);
    results_bind_text(st, 5, c->suite, &b);
    results_bind_text(st, 6, c->impl, &b);
    results_bind_text(st, 7, c->impl_version, &b);
    results_bind_text(st, 8, c->model, &b);
    results_bind_int64(st, 9, c->world_size, &b);
    results_bind_text(st, 10, c->precision, &b);
    results_bind_text(st, 11, c->stage, &b);
    results_bind_text(st, 12, c->recipe, &b);
    results_bind_text(st, 13, c->optimizer, &b);
    results_bind_text(st, 14, c->config ? c->config : "{}", &b);
    results_bind_int64(st, 15, c->completed ? 1 : 0, &b);
    results_bind_double(st, 16, isfinite(c->seconds) ? c->seconds : 0.0, &b);
    r = results_step_done(db, st, b, "recording a case", err, err_len);
    sqlite3_finalize(st);
    if (r)
        return r;
    int64_t case_id = sqlite3_last_insert_rowid(db->db);
    if ((r = insert_checks(db, case_id, c, err, err_len)))
        return r;
    return insert_metrics(db, case_id, c, err, err_len);
}

int results_record_case(results_db *db, int64_t run_id, const results_case *c, char *err,
                        size_t err_len)
{
    if (!c->key || !c->suite || !c->impl || !c->model || !c->precision || !c->stage ||
        !c->recipe || !c->optimizer) {
        snprintf(err, err_len, "case %d lacks a key, suite, implementation, model, precision, "
                 "stage, recipe or optimizer", c->index);
        return -1;
    }
    case_ctx cc = {run_id, c};
    return results_write(db, case_body, &cc, err, err_len);
}
