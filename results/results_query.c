#include "results_query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results_compare.h"
#include "results_record.h"

static const char *text_or(sqlite3_stmt *st, int col, const char *fallback)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : fallback;
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

int results_print_runs(results_db *db, int limit, FILE *out, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT r.id, r.started_at, r.status, r.git_commit, r.git_dirty, r.suite, "
                        "r.impl, r.backend, r.host, r.pid, "
                        " (SELECT count(*) FROM cases c WHERE c.run_id = r.id), "
                        " (SELECT count(*) FROM checks k JOIN cases c ON k.case_id = c.id "
                        "   WHERE c.run_id = r.id AND k.status = 'pass'), "
                        " (SELECT count(*) FROM checks k JOIN cases c ON k.case_id = c.id "
                        "   WHERE c.run_id = r.id AND k.status = 'fail'), "
                        " (SELECT count(*) FROM checks k JOIN cases c ON k.case_id = c.id "
                        "   WHERE c.run_id = r.id AND k.status = 'skip'), "
                        " (SELECT group_concat(name, ',') FROM "
                        "   (SELECT name FROM tags t WHERE t.run_id = r.id ORDER BY name)) "
                        "FROM runs r ORDER BY r.id DESC LIMIT ?1",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, limit > 0 ? limit : -1, &b);
    fprintf(out, "%5s  %-20s %-10s %-13s %-6s %-22s %-7s %5s %5s %5s %5s  %s\n", "ID",
            "STARTED (UTC)", "STATUS", "COMMIT", "SUITE", "IMPL", "BACKEND", "CASES", "PASS",
            "FAIL", "SKIP", "TAGS");
    int rc;
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        const char *status = text_or(st, 2, "?");
        if (results_run_is_dead(status, text_or(st, 8, NULL), sqlite3_column_int64(st, 9),
                                text_or(st, 1, NULL)))
            status = "incomplete";
        char commit[16];
        const char *c = text_or(st, 3, "-");
        snprintf(commit, sizeof commit, "%.10s%s", c,
                 sqlite3_column_type(st, 4) != SQLITE_NULL && sqlite3_column_int(st, 4) ? "+"
                                                                                     : "");
        char started[20];
        snprintf(started, sizeof started, "%.19s", text_or(st, 1, "-"));
        fprintf(out, "%5lld  %-20s %-10s %-13s %-6s %-22s %-7s %5lld %5lld %5lld %5lld  %s\n",
                (long long)sqlite3_column_int64(st, 0), started, status, commit,
                text_or(st, 5, "-"), text_or(st, 6, "-"), text_or(st, 7, "-"),
                (long long)sqlite3_column_int64(st, 10), (long long)sqlite3_column_int64(st, 11),
                (long long)sqlite3_column_int64(st, 12), (long long)sqlite3_column_int64(st, 13),
                text_or(st, 14, ""));
    }
    return finish(db, st, rc, "listing runs", err, err_len);
}

static int print_run_header(results_db *db, int64_t run_id, FILE *out, char *err,
                            size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT status, started_at, ended_at, suite, impl, impl_version, backend, "
                        "git_commit, git_dirty, dtbench_version, host, cpu_model, gpu, "
                        "command_line, pid, (SELECT group_concat(name, ', ') FROM tags WHERE "
                        "run_id = runs.id), cpu_cores, blas, blas_threads, mpi_version FROM runs "
                        "WHERE id = ?1",
                        &st, err, err_len))
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
    const char *status = text_or(st, 0, "?");
    if (results_run_is_dead(status, text_or(st, 10, NULL), sqlite3_column_int64(st, 14),
                            text_or(st, 1, NULL)))
        status = "incomplete (its process is gone)";
    const char *dirty = sqlite3_column_type(st, 8) == SQLITE_NULL ? ""
                        : sqlite3_column_int(st, 8)              ? " (dirty tree)"
                                                                 : " (clean tree)";
    fprintf(out, "run %lld: %s\n", (long long)run_id, status);
    fprintf(out, "  suite %s, implementation %s %s, backend %s\n", text_or(st, 3, "-"),
            text_or(st, 4, "-"), text_or(st, 5, ""), text_or(st, 6, "-"));
    fprintf(out, "  started %s, ended %s\n", text_or(st, 1, "-"), text_or(st, 2, "-"));
    fprintf(out, "  commit %s%s, dtbench %s\n", text_or(st, 7, "unknown"), dirty,
            text_or(st, 9, "-"));
    fprintf(out, "  host %s, cpu %s, gpu %s\n", text_or(st, 10, "unknown"),
            text_or(st, 11, "unknown"), text_or(st, 12, "none"));
    if (sqlite3_column_type(st, 16) != SQLITE_NULL)
        fprintf(out, "  cores %lld, blas %s with %lld thread(s) per rank\n",
                (long long)sqlite3_column_int64(st, 16), text_or(st, 17, "unknown"),
                (long long)sqlite3_column_int64(st, 18));
    if (sqlite3_column_type(st, 19) != SQLITE_NULL)
        fprintf(out, "  mpi %s\n", text_or(st, 19, ""));
    fprintf(out, "  command: %s\n", text_or(st, 13, ""));
    if (sqlite3_column_type(st, 15) != SQLITE_NULL)
        fprintf(out, "  tags: %s\n", text_or(st, 15, ""));
    sqlite3_finalize(st);
    return 0;
}

/* The checks of one case: one line each; the diagnostics of failures,
 * indented. */
static int print_checks(results_db *db, int64_t case_id, FILE *out, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT name, status, skip_reason, ratio, ratio_where, diagnostics FROM "
                        "checks WHERE case_id = ?1 ORDER BY seq",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc;
    results_bind_int64(st, 1, case_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        const char *status = text_or(st, 1, "?");
        fprintf(out, "    %-4s %s", strcmp(status, "pass") == 0   ? "ok"
                                    : strcmp(status, "skip") == 0 ? "skip"
                                                                  : "FAIL",
                text_or(st, 0, ""));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            fprintf(out, " (skipped: %s)", text_or(st, 2, ""));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            fprintf(out, "  [error/tolerance %.3g at %s]", sqlite3_column_double(st, 3),
                    text_or(st, 4, "?"));
        fputc('\n', out);
        if (strcmp(status, "fail") == 0 && sqlite3_column_type(st, 5) != SQLITE_NULL) {
            const char *d = text_or(st, 5, "");
            while (*d) {
                size_t n = strcspn(d, "\n");
                fprintf(out, "         %.*s\n", (int)n, d);
                d += n + (d[n] == '\n');
            }
        }
    }
    return finish(db, st, rc, "reading checks", err, err_len);
}

static int print_metrics(results_db *db, int64_t case_id, FILE *out, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT m.name, m.unit, m.kind, "
                        " (SELECT count(*) FROM samples s WHERE s.metric_id = m.id AND warmup = 0),"
                        " (SELECT count(*) FROM samples s WHERE s.metric_id = m.id AND warmup = 1),"
                        " (SELECT min(value) FROM samples s WHERE s.metric_id = m.id AND "
                        "  warmup = 0),"
                        " (SELECT max(value) FROM samples s WHERE s.metric_id = m.id AND "
                        "  warmup = 0),"
                        " m.id FROM metrics m WHERE m.case_id = ?1 ORDER BY m.id",
                        &st, err, err_len))
        return -1;
    sqlite3_stmt *med;
    if (results_prepare(db,
                        "SELECT value FROM samples WHERE metric_id = ?1 AND warmup = 0 ORDER BY "
                        "value LIMIT 2 - (?2 % 2) OFFSET (?2 - 1) / 2",
                        &med, err, err_len)) {
        sqlite3_finalize(st);
        return -1;
    }
    int b = SQLITE_OK, rc, zero = 0;
    results_bind_int64(st, 1, case_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        const char *unit = text_or(st, 1, "");
        int64_t n = sqlite3_column_int64(st, 3), warm = sqlite3_column_int64(st, 4);
        int exact = strcmp(text_or(st, 2, ""), "exact") == 0;
        double lo = sqlite3_column_double(st, 5), hi = sqlite3_column_double(st, 6);
        if (exact && lo == 0 && hi == 0) {
            zero++;
            continue;
        }
        /* median: the middle value, or the mean of the middle two */
        double sum = 0;
        int got = 0, mb = SQLITE_OK, mrc;
        results_bind_int64(med, 1, sqlite3_column_int64(st, 7), &mb);
        results_bind_int64(med, 2, n, &mb);
        while ((mrc = mb == SQLITE_OK ? sqlite3_step(med) : mb) == SQLITE_ROW) {
            sum += sqlite3_column_double(med, 0);
            got++;
        }
        sqlite3_reset(med);
        if (mrc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return finish(db, med, mrc, "reading samples", err, err_len);
        }
        char vmed[32], vlo[32], vhi[32];
        results_format_value(got ? sum / got : NAN, unit, vmed, sizeof vmed);
        results_format_value(n ? lo : NAN, unit, vlo, sizeof vlo);
        results_format_value(n ? hi : NAN, unit, vhi, sizeof vhi);
        char warmup[32] = "";
        if (warm)
            snprintf(warmup, sizeof warmup, " (+%lld warm-up)", (long long)warm);
        fprintf(out, "    %-24s %-6s %4lld samples%-16s median %-12s min %-12s max %s\n",
                text_or(st, 0, ""), exact ? "exact" : "timing", (long long)n, warmup, vmed, vlo,
                vhi);
    }
    sqlite3_finalize(med);
    if (zero && rc == SQLITE_DONE)
        fprintf(out, "    (%d counters zero on every rank not shown)\n", zero);
    return finish(db, st, rc, "reading metrics", err, err_len);
}

int results_print_run(results_db *db, int64_t run_id, FILE *out, char *err, size_t err_len)
{
    if (print_run_header(db, run_id, out, err, err_len))
        return -1;
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, case_index, case_key, impl, impl_version, completed, seconds, "
                        " (SELECT count(*) FROM checks k WHERE k.case_id = cases.id AND "
                        "  k.status = 'pass'),"
                        " (SELECT count(*) FROM checks k WHERE k.case_id = cases.id AND "
                        "  k.status = 'fail'),"
                        " (SELECT count(*) FROM checks k WHERE k.case_id = cases.id AND "
                        "  k.status = 'skip') "
                        "FROM cases WHERE run_id = ?1 ORDER BY case_index",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc, n = 0;
    results_bind_int64(st, 1, run_id, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        n++;
        int64_t case_id = sqlite3_column_int64(st, 0);
        fprintf(out, "case %lld: %s (%s %s)%s: %lld passed, %lld failed, %lld skipped in %.2f s\n",
                (long long)sqlite3_column_int64(st, 1), text_or(st, 2, ""), text_or(st, 3, ""),
                text_or(st, 4, ""), sqlite3_column_int(st, 5) ? "" : " DID NOT COMPLETE",
                (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8),
                (long long)sqlite3_column_int64(st, 9), sqlite3_column_double(st, 6));
        fprintf(out, "  checks:\n");
        if (print_checks(db, case_id, out, err, err_len))
            break;
        fprintf(out, "  metrics:\n");
        if (print_metrics(db, case_id, out, err, err_len))
            break;
    }
    if (rc == SQLITE_ROW) { /* a nested read failed: err is set */
        sqlite3_finalize(st);
        return -1;
    }
    if (finish(db, st, rc, "reading cases", err, err_len))
        return -1;
    if (n == 0)
        fprintf(out, "(no case recorded)\n");
    return 0;
}
