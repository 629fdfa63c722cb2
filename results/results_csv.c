#include "results_csv.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const HEADER[RESULTS_CSV_COLUMNS] = {
    "run_id",     "run_started_at", "git_commit", "git_dirty", "suite",  "impl",
    "impl_version", "backend",      "host",       "case_index", "case_key", "model",
    "world_size", "precision",      "recipe",     "metric",    "unit",   "kind",
    "rep",        "rank",           "step",       "warmup",    "seq",    "value"};

/* Same columns, same order; the value last. */
static const char EXPORT_SQL[] =
    "SELECT r.id, r.started_at, r.git_commit, r.git_dirty, c.suite, c.impl, c.impl_version, "
    " r.backend, r.host, c.case_index, c.case_key, c.model, c.world_size, c.precision, "
    " c.recipe, m.name, m.unit, m.kind, s.rep, s.rank, s.step, s.warmup, s.seq, s.value "
    "FROM runs r JOIN cases c ON c.run_id = r.id JOIN metrics m ON m.case_id = c.id "
    " JOIN samples s ON s.metric_id = m.id "
    "WHERE ?1 = 0 OR r.id = ?1 "
    "ORDER BY r.id, c.case_index, m.id, s.seq";

const char *const *results_csv_header(void)
{
    return HEADER;
}

/* The text of one exported field of the current row (buf for numbers). */
static const char *field_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return "";
    if (col == RESULTS_CSV_COLUMNS - 1) {
        snprintf(buf, len, "%.17g", sqlite3_column_double(st, col));
        return buf;
    }
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static int prepare_export(results_db *db, int64_t run_id, sqlite3_stmt **st, char *err,
                          size_t err_len)
{
    if (results_prepare(db, EXPORT_SQL, st, err, err_len))
        return -1;
    int b = SQLITE_OK;
    results_bind_int64(*st, 1, run_id, &b);
    if (b != SQLITE_OK) {
        results_error(db, b, "exporting", err, err_len);
        sqlite3_finalize(*st);
        return -1;
    }
    return 0;
}

static int write_row(FILE *f, const char *const fields[RESULTS_CSV_COLUMNS])
{
    for (int i = 0; i < RESULTS_CSV_COLUMNS; i++) {
        if (i && fputc(',', f) == EOF)
            return -1;
        if (csv_fwrite(f, fields[i], strlen(fields[i])) != 0)
            return -1;
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

static int write_all(results_db *db, int64_t run_id, FILE *f, int64_t *rows, char *err,
                     size_t err_len)
{
    *rows = 0;
    sqlite3_stmt *st;
    if (prepare_export(db, run_id, &st, err, err_len))
        return -1;
    int rc = 0;
    if (write_row(f, HEADER))
        rc = -2;
    int s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        char num[40];
        const char *fields[RESULTS_CSV_COLUMNS];
        for (int i = 0; i < RESULTS_CSV_COLUMNS; i++)
            fields[i] = field_text(st, i, num, sizeof num);
        if (write_row(f, fields))
            rc = -2;
        else
            (*rows)++;
    }
    if (rc == 0 && s != SQLITE_DONE) {
        results_error(db, s, "exporting", err, err_len);
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- read-back verification --------------------------------------------------- */

typedef struct verify_ctx {
    results_db *db;
    sqlite3_stmt *st;
    int64_t row;          /* rows completed, header included */
    int field;            /* fields seen in the current row */
    int mismatch;         /* first problem, then everything is ignored */
    int db_rc;            /* a database error while stepping */
    char where[160];
} verify_ctx;

static void on_field(void *data, size_t len, void *ctx_p)
{
    verify_ctx *v = ctx_p;
    if (v->mismatch)
        return;
    if (v->field == 0 && v->row > 0) {
        int s = sqlite3_step(v->st);
        if (s != SQLITE_ROW) {
            v->mismatch = 1;
            v->db_rc = s == SQLITE_DONE ? 0 : s;
            snprintf(v->where, sizeof v->where, "row %lld is not in the database",
                     (long long)v->row);
            return;
        }
    }
    if (v->field >= RESULTS_CSV_COLUMNS) {
        v->mismatch = 1;
        snprintf(v->where, sizeof v->where, "row %lld has more than %d fields", (long long)v->row,
                 RESULTS_CSV_COLUMNS);
        return;
    }
    char num[40];
    const char *want = v->row == 0 ? HEADER[v->field] : field_text(v->st, v->field, num,
                                                                  sizeof num);
    if (strlen(want) != len || (len && memcmp(want, data, len) != 0)) {
        v->mismatch = 1;
        snprintf(v->where, sizeof v->where, "row %lld field %s differs", (long long)v->row,
                 HEADER[v->field]);
        return;
    }
    v->field++;
}

static void on_row(int term, void *ctx_p)
{
    (void)term;
    verify_ctx *v = ctx_p;
    if (v->mismatch)
        return;
    if (v->field != RESULTS_CSV_COLUMNS) {
        v->mismatch = 1;
        snprintf(v->where, sizeof v->where, "row %lld has %d fields, not %d", (long long)v->row,
                 v->field, RESULTS_CSV_COLUMNS);
        return;
    }
    v->row++;
    v->field = 0;
}

/* Parses the written file back and compares it with the database. */
static int verify(results_db *db, int64_t run_id, const char *tmp, const char *path,
                  int64_t rows, char *err, size_t err_len)
{
    FILE *f = fopen(tmp, "rb");
    if (!f) {
        snprintf(err, err_len, "--out: cannot read back %s: %s", tmp, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(f);
        snprintf(err, err_len, "out of memory verifying the CSV");
        return -1;
    }
    verify_ctx v;
    memset(&v, 0, sizeof v);
    v.db = db;
    if (prepare_export(db, run_id, &v.st, err, err_len)) {
        csv_free(&p);
        fclose(f);
        return -1;
    }
    char buf[65536];
    size_t n;
    int parse_failed = 0;
    while (!parse_failed && (n = fread(buf, 1, sizeof buf, f)) > 0)
        parse_failed = csv_parse(&p, buf, n, on_field, on_row, &v) != n;
    int read_failed = ferror(f);
    if (!parse_failed && csv_fini(&p, on_field, on_row, &v) != 0)
        parse_failed = 1;
    int s = v.mismatch ? SQLITE_DONE : sqlite3_step(v.st);
    int rc = 0;
    if (read_failed) {
        snprintf(err, err_len, "--out: reading %s back failed", tmp);
        rc = -1;
    } else if (parse_failed) {
        snprintf(err, err_len, "--out: %s does not parse back as CSV: %s", path,
                 csv_strerror(csv_error(&p)));
        rc = -1;
    } else if (v.db_rc) {
        results_error(db, v.db_rc, "verifying the export", err, err_len);
        rc = -1;
    } else if (v.mismatch) {
        snprintf(err, err_len, "--out: %s does not read back as written: %s", path, v.where);
        rc = -1;
    } else if (s != SQLITE_DONE || v.row != rows + 1) {
        snprintf(err, err_len, "--out: %s read back %lld rows, wrote %lld", path,
                 (long long)(v.row - 1), (long long)rows);
        rc = -1;
    }
    sqlite3_finalize(v.st);
    csv_free(&p);
    fclose(f);
    return rc;
}

int results_export_csv(results_db *db, int64_t run_id, const char *path, int64_t *rows,
                       char *err, size_t err_len)
{
    *rows = 0;
    struct stat st;
    if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || access(path, W_OK) != 0)) {
        snprintf(err, err_len, "--out: cannot write %s: %s", path,
                 S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file");
        return -1;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(tmp, len + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_len, "--out: cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    FILE *f = fchmod(fd, 0644) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(err, err_len, "--out: cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    /* One read transaction around writing and verifying: both see the same
     * snapshot even while other processes record runs. */
    int rc = results_exec(db, "BEGIN", "starting a read", err, err_len) ? -1 : 0;
    if (rc == 0)
        rc = write_all(db, run_id, f, rows, err, err_len);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        rc = rc ? rc : -2;
    if (fclose(f) != 0)
        rc = rc ? rc : -2;
    if (rc == -2)
        snprintf(err, err_len, "--out: writing %s failed: %s", path, strerror(errno));
    if (rc == 0)
        rc = verify(db, run_id, tmp, path, *rows, err, err_len);
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, err_len, "--out: cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose */
    free(tmp);
    return rc ? -1 : 0;
}
