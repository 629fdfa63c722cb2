#include "show_case.h"

#include <string.h>

#include "cli_parse.h"
#include "json_lines.h"

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

/* Lines of text, each indented. */
static void print_indented(FILE *out, const char *text, int indent)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        fprintf(out, "%*s%.*s\n", indent, "", (int)n, text);
        text += n + (text[n] == '\n');
    }
}

static int print_checks(results_db *db, int64_t case_id, FILE *out, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT name, status, skip_reason, ratio, ratio_where, diagnostics FROM "
                        "checks WHERE case_id = ?1 ORDER BY seq",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc, n = 0;
    results_bind_int64(st, 1, case_id, &b);
    fprintf(out, "checks:\n");
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        n++;
        const char *status = text_or(st, 1, "?");
        fprintf(out, "  %-4s %s", strcmp(status, "pass") == 0   ? "ok"
                                  : strcmp(status, "skip") == 0 ? "skip"
                                                                : "FAIL",
                text_or(st, 0, ""));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            fprintf(out, " (skipped: %s)", text_or(st, 2, ""));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            fprintf(out, "  [error/tolerance %.3g at %s]", sqlite3_column_double(st, 3),
                    text_or(st, 4, "?"));
        fputc('\n', out);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            print_indented(out, text_or(st, 5, ""), 7);
    }
    if (rc == SQLITE_DONE && n == 0)
        fprintf(out, "  (none recorded)\n");
    return finish(db, st, rc, "reading checks", err, err_len);
}

/* Columns of the case query below. */
enum { C_ID, C_INDEX, C_KEY, C_LABEL, C_SUITE, C_IMPL, C_VERSION, C_MODEL, C_WORLD,
       C_PRECISION, C_STAGE, C_RECIPE, C_OPTIMIZER, C_CONFIG, C_COMPLETED, C_SECONDS };

static void print_case(sqlite3_stmt *st, int64_t run_id, FILE *out)
{
    fprintf(out, "run %lld, case %lld: %s\n", (long long)run_id,
            (long long)sqlite3_column_int64(st, C_INDEX), text_or(st, C_KEY, ""));
    fprintf(out, "  label           %s\n", text_or(st, C_LABEL, ""));
    fprintf(out, "  implementation  %s %s\n", text_or(st, C_IMPL, "-"),
            text_or(st, C_VERSION, ""));
    fprintf(out, "  suite           %s\n", text_or(st, C_SUITE, "-"));
    fprintf(out, "  model           %s, stage %s, precision %s, world size %lld\n",
            text_or(st, C_MODEL, "-"), text_or(st, C_STAGE, "-"), text_or(st, C_PRECISION, "-"),
            (long long)sqlite3_column_int64(st, C_WORLD));
    fprintf(out, "  recipe          %s (optimizer %s)\n", text_or(st, C_RECIPE, "-"),
            text_or(st, C_OPTIMIZER, "-"));
    fprintf(out, "  completed       %s in %.2f s\n",
            sqlite3_column_int(st, C_COMPLETED) ? "yes," : "NO,",
            sqlite3_column_double(st, C_SECONDS));
    const char *config = text_or(st, C_CONFIG, "");
    char why[256];
    fprintf(out, "config:\n");
    if (json_lines_print(config, 2, out, why, sizeof why) != 0) {
        fprintf(out, "  (not a JSON object: %s; as recorded:)\n", why);
        print_indented(out, config, 2);
    }
}

/* "0, 3, 7" into buf: the indices of the cases whose key is `key`. */
static int key_indices(results_db *db, int64_t run_id, const char *key, char *buf, size_t len,
                       int *n, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT case_index FROM cases WHERE run_id = ?1 AND case_key = ?2 "
                        "ORDER BY case_index",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK, rc;
    size_t used = 0;
    buf[0] = '\0';
    *n = 0;
    results_bind_int64(st, 1, run_id, &b);
    results_bind_text(st, 2, key, &b);
    while ((rc = b == SQLITE_OK ? sqlite3_step(st) : b) == SQLITE_ROW) {
        if (used < len) {
            int w = snprintf(buf + used, len - used, "%s%lld", *n ? ", " : "",
                             (long long)sqlite3_column_int64(st, 0));
            used += w > 0 ? (size_t)w : 0;
        }
        (*n)++;
    }
    return finish(db, st, rc, "reading cases", err, err_len);
}

/* The number of cases the run recorded, for a message. */
static int64_t case_count(results_db *db, int64_t run_id)
{
    sqlite3_stmt *st;
    char err[256];
    if (results_prepare(db, "SELECT count(*) FROM cases WHERE run_id = ?1", &st, err,
                        sizeof err))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, run_id, &b);
    int64_t n = b == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
                                                                 : -1;
    sqlite3_finalize(st);
    return n;
}

int show_case_print(results_db *db, int64_t run_id, const char *which, FILE *out, char *err,
                    size_t err_len)
{
    int64_t index = -1;
    char scratch[64];
    int by_index = which[0] != '\0' && strspn(which, "0123456789") == strlen(which);
    if (by_index && cli_parse_i64("--case", which, 0, INT64_MAX, &index, scratch,
                                  sizeof scratch) != 0) {
        snprintf(err, err_len, "--case: '%s' is not a case index", which);
        return -1;
    }
    if (!by_index) {
        char list[256];
        int n;
        if (key_indices(db, run_id, which, list, sizeof list, &n, err, err_len))
            return -1;
        if (n > 1) {
            snprintf(err, err_len, "--case: %d cases of run %lld have the key '%s' (indices "
                     "%s): give an index", n, (long long)run_id, which, list);
            return -1;
        }
    }
    sqlite3_stmt *st;
    if (results_prepare(db,
                        "SELECT id, case_index, case_key, label, suite, impl, impl_version, "
                        "model, world_size, precision, stage, recipe, optimizer, config, "
                        "completed, seconds FROM cases WHERE run_id = ?1 AND "
                        "(case_index = ?2 OR (?2 IS NULL AND case_key = ?3))",
                        &st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(st, 1, run_id, &b);
    if (by_index)
        results_bind_int64(st, 2, index, &b);
    else
        results_bind_null(st, 2, &b);
    results_bind_text(st, 3, which, &b);
    int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        int64_t n = case_count(db, run_id);
        if (by_index && n > 0)
            snprintf(err, err_len, "run %lld has no case %s (its cases are 0..%lld)",
                     (long long)run_id, which, (long long)n - 1);
        else if (n == 0)
            snprintf(err, err_len, "run %lld recorded no case", (long long)run_id);
        else
            snprintf(err, err_len, "run %lld has no case with the key '%s' (dtbench show %lld "
                     "lists them)", (long long)run_id, which, (long long)run_id);
        return -1;
    }
    if (rc != SQLITE_ROW)
        return finish(db, st, rc, "reading a case", err, err_len);
    int64_t case_id = sqlite3_column_int64(st, C_ID);
    print_case(st, run_id, out);
    sqlite3_finalize(st);
    return print_checks(db, case_id, out, err, err_len);
}
