/*
 * CSV export round trip: export runs with awkward strings (quotes, commas,
 * a newline) and values that need all 17 digits, parse the file back with
 * libcsv here, independently of the exporter, and compare every field with
 * what was recorded; values must read back to the identical double.
 * Unwritable destinations fail with one line and leave no file behind.
 */
#include <csv.h>
#include <sys/stat.h>

#include "results_test.h"

#include "results_csv.h"

#define MAX_ROWS 512

typedef struct parsed {
    char *fields[MAX_ROWS][RESULTS_CSV_COLUMNS];
    int n_fields[MAX_ROWS];
    int rows;
    int overflow;
} parsed;

static void on_field(void *data, size_t len, void *ctx)
{
    parsed *p = ctx;
    if (p->rows >= MAX_ROWS || p->n_fields[p->rows] >= RESULTS_CSV_COLUMNS) {
        p->overflow = 1;
        return;
    }
    char *s = malloc(len + 1);
    if (!s) {
        p->overflow = 1;
        return;
    }
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    p->fields[p->rows][p->n_fields[p->rows]++] = s;
}

static void on_row(int term, void *ctx)
{
    (void)term;
    parsed *p = ctx;
    if (p->rows < MAX_ROWS)
        p->rows++;
}

static int parse_file(const char *path, parsed *p)
{
    memset(p, 0, sizeof *p);
    size_t n;
    unsigned char *data = test_read_file(path, &n);
    if (!data)
        return -1;
    struct csv_parser csv;
    int rc = csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI) == 0 ? 0 : -1;
    if (rc == 0 && csv_parse(&csv, data, n, on_field, on_row, p) != n)
        rc = -1;
    if (rc == 0 && csv_fini(&csv, on_field, on_row, p) != 0)
        rc = -1;
    csv_free(&csv);
    free(data);
    return rc || p->overflow ? -1 : 0;
}

static void parsed_free(parsed *p)
{
    for (int r = 0; r < MAX_ROWS; r++)
        for (int f = 0; f < p->n_fields[r]; f++)
            free(p->fields[r][f]);
}

static int column(const char *name)
{
    const char *const *h = results_csv_header();
    for (int i = 0; i < RESULTS_CSV_COLUMNS; i++)
        if (strcmp(h[i], name) == 0)
            return i;
    return -1;
}

/* Values that print differently at 15 or 16 digits, a subnormal, a huge one. */
static const double AWKWARD[] = {0.1 + 0.2, 1.0 / 3.0, 123456789.123456789, 5e-324, 1e-300,
                                 1.7976931348623157e308, 2.5e-4, 7.0};
#define N_AWKWARD ((int)(sizeof AWKWARD / sizeof AWKWARD[0]))

int main(void)
{
    char dir[4096], path[4200], out[4200], err[1024] = "";
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/csv.db", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);

    results_db db;
    CHECK(results_open(path, RESULTS_WRITE, 5000, &db, err, sizeof err) == 0);
    const char *impl = "zoo \"quoted\", with comma";
    results_run_info info = test_run_info(impl);
    int64_t run1, run2;
    CHECK(results_run_begin(&db, &info, &run1, err, sizeof err) == 0);
    test_case a;
    test_case_make(&a, 0, "ddp mlp-odd \"odd\", key\nwith newline np=2", 5, 1.0, 0, 12);
    a.c.impl = impl;
    for (int i = 0; i < N_AWKWARD; i++)
        a.samples[i].value = AWKWARD[i];
    CHECK(results_record_case(&db, run1, &a.c, err, sizeof err) == 0);
    CHECK(results_run_finish(&db, run1, 1, err, sizeof err) == 0);
    info = test_run_info("ref-ddp");
    info.git_commit = NULL; /* exported as an empty field */
    info.git_dirty = RESULTS_NONE;
    CHECK(results_run_begin(&db, &info, &run2, err, sizeof err) == 0);
    test_case b;
    test_case_make(&b, 0, "ddp mlp-odd sgd fp32 np=1 mb=3", 6, 2.0, 0, 20);
    CHECK(results_record_case(&db, run2, &b.c, err, sizeof err) == 0);
    results_close(&db);

    /* every run */
    CHECK(results_open(path, RESULTS_READ, 5000, &db, err, sizeof err) == 0);
    int64_t rows = 0;
    CHECK(results_export_csv(&db, 0, out, &rows, err, sizeof err) == 0);
    if (err[0])
        fprintf(stderr, "export: %s\n", err);
    int expect = (12 + 2) + (20 + 2);
    CHECK(rows == expect);
    parsed p;
    CHECK(parse_file(out, &p) == 0);
    CHECK(p.rows == expect + 1);
    for (int i = 0; i < RESULTS_CSV_COLUMNS; i++)
        CHECK(p.n_fields[0] == RESULTS_CSV_COLUMNS &&
              strcmp(p.fields[0][i], results_csv_header()[i]) == 0);
    int c_impl = column("impl"), c_key = column("case_key"), c_value = column("value"),
        c_metric = column("metric"), c_commit = column("git_commit"), c_run = column("run_id"),
        c_rank = column("rank"), c_step = column("step"), c_warm = column("warmup");
    CHECK(c_impl >= 0 && c_key >= 0 && c_value >= 0 && c_metric >= 0 && c_commit >= 0);
    for (int r = 1; r < p.rows; r++)
        CHECK(p.n_fields[r] == RESULTS_CSV_COLUMNS);
    /* run 1: the awkward strings and values come back exactly */
    for (int i = 0; i < 12 && p.n_fields[1 + i] == RESULTS_CSV_COLUMNS; i++) {
        char *const *f = p.fields[1 + i];
        CHECK(strcmp(f[c_run], "1") == 0);
        CHECK(strcmp(f[c_impl], impl) == 0);
        CHECK(strcmp(f[c_key], a.key) == 0);
        CHECK(strcmp(f[c_metric], "step_seconds") == 0);
        CHECK(strcmp(f[c_commit], "0123456789abcdef0123456789abcdef01234567") == 0);
        double v = strtod(f[c_value], NULL);
        CHECK(memcmp(&v, &a.samples[i].value, sizeof v) == 0);
        CHECK(atoi(f[c_rank]) == a.samples[i].rank && atoi(f[c_step]) == a.samples[i].step);
        CHECK(atoi(f[c_warm]) == a.samples[i].warmup);
    }
    /* the exact metric after it, then run 2 with an empty commit */
    CHECK(p.n_fields[13] == RESULTS_CSV_COLUMNS &&
          strcmp(p.fields[13][c_metric], "comm_bytes.allreduce") == 0 &&
          strcmp(p.fields[13][c_value], "62532") == 0 && strcmp(p.fields[13][c_step], "") == 0);
    CHECK(p.n_fields[15] == RESULTS_CSV_COLUMNS && strcmp(p.fields[15][c_run], "2") == 0 &&
          strcmp(p.fields[15][c_commit], "") == 0);
    for (int i = 0; i < 20 && p.n_fields[15 + i] == RESULTS_CSV_COLUMNS; i++) {
        double v = strtod(p.fields[15 + i][c_value], NULL);
        CHECK(memcmp(&v, &b.samples[i].value, sizeof v) == 0);
    }
    parsed_free(&p);

    /* one run; an existing file is replaced */
    CHECK(results_export_csv(&db, run2, out, &rows, err, sizeof err) == 0 && rows == 22);
    CHECK(parse_file(out, &p) == 0 && p.rows == 23);
    parsed_free(&p);

    /* unwritable destinations: one line, nothing created, nothing replaced */
    size_t n;
    unsigned char *before = test_read_file(out, &n);
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.csv", dir);
    err[0] = '\0';
    CHECK(results_export_csv(&db, 0, bad, &rows, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot write");
    CHECK(strchr(err, '\n') == NULL);
    CHECK(access(bad, F_OK) != 0);
    CHECK(results_export_csv(&db, 0, dir, &rows, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not a regular file");
    CHECK(test_file_is(out, before, n));
    free(before);
    results_close(&db);

    test_rmdir(dir);
    return check_report("results_unit_csv");
}
