/*
 * `dtbench report`: what its files share.
 *
 *   report_query.c     reads runs, cases and metric summaries (read-only)
 *   report_sections.c  turns them into the report's sections: tables and plots
 *   report_plot.c      plot specifications -> data files, a gnuplot script, SVGs
 *   report_write.c     the document: Markdown or self-contained HTML
 *   cmd_report.c       the command line
 *
 * The cases follow the database contract of docs/benchmarks.md: each case's
 * key is parsed into its kind and fields ("throughput zero2 mlp-8m fp32 np=4",
 * "memory budget zero3 fp32 np=4 8G", "comm allreduce 1048576 np=2 mpi").
 * Every function returning int returns 0, or -1 with one line in err.
 */
#ifndef DTB_HARNESS_REPORT_H
#define DTB_HARNESS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results_db.h"

/* ---- what was read ------------------------------------------------------------ */

/* A metric's samples outside warm-up. For an exact per-rank metric the
 * figure is max (the worst rank); for a timing, median with [min, max]. */
typedef struct report_stat {
    int n;
    double median, min, max;
} report_stat;

typedef struct report_metric {
    char name[64];
    int exact;                     /* kind 'exact' (else 'timing') */
    report_stat s;
} report_metric;

typedef enum report_case_kind {
    REPORT_OTHER = 0,              /* a conformance case, or a key off the contract */
    REPORT_TP_PEAK,                /* throughput peak np=N */
    REPORT_TP_STEP,                /* throughput <stage> <model> <precision> np=N */
    REPORT_MEM,                    /* memory <stage> <model> <precision> np=N */
    REPORT_MEM_BUDGET,             /* memory budget <stage> <precision> np=N <budget> */
    REPORT_COMM                    /* comm <collective> <bytes> np=N <side> */
} report_case_kind;

typedef struct report_case {
    int64_t id;
    int index;
    report_case_kind kind;
    char key[256], label[256], impl[64];
    char stage[32], model[64], precision[32];
    char budget[32];               /* memory budget: the key's budget token */
    char collective[32], side[16]; /* comm */
    int64_t bytes;                 /* comm: message size */
    int world_size;
    int64_t n_params;              /* model parameters; 0 when unknown */
    int completed;
    int n_checks, n_failed, n_skipped;
    double worst_ratio;            /* largest error/tolerance; NAN: none */
    /* Throughput cases: the implementation's latest conformance run of the
     * suite of its stage in the same database, "PASS 99/112 (run 7)", "FAIL
     * 8/112 (run 9)" (failed points of all), or "" when none is recorded. */
    char verdict[64];
    report_metric *metrics;
    int n_metrics, cap_metrics;
} report_case;

#define REPORT_MAX_FAILURES 20

typedef struct report_run {
    int64_t id;
    char suite[32], impl[256], impl_version[64], status[32];
    char started_at[40], ended_at[40], git_commit[64];
    int git_dirty;                 /* 0, 1, -1 unknown */
    char backend[16], dtbench_version[32], host[128], cpu_model[256], gpu[256];
    /* Schema 3 (when the columns exist; has_machine_columns says so). */
    char cpu_cores[32], blas[128], blas_threads[32], mpi_version[256];
    report_case *cases;
    int n_cases, cap_cases;
    int n_checks, n_failed, n_skipped;
    double worst_ratio;
    char failures[REPORT_MAX_FAILURES][384]; /* "label: check (ratio)" of failed checks */
    int n_failures_listed;
} report_run;

/* 1 for throughput, memory and comm. */
int report_suite_is_benchmark(const char *suite);

/* 1 when the runs table has schema 3's machine columns (cpu_cores, blas,
 * blas_threads, mpi_version). */
int report_has_machine_columns(results_db *db, int *has, char *err, size_t err_len);

/* The latest complete run of each benchmark suite, in the order throughput,
 * memory, comm (ids[i] = 0 where a suite has none). */
int report_latest_benchmark_runs(results_db *db, int64_t ids[3], char *err, size_t err_len);

/* Reads one run whole: fields, cases (sorted for reading: by kind, model,
 * precision, stage, world size, size), metric summaries, check counts. */
int report_load_run(results_db *db, int64_t run_id, int machine_columns, report_run *out,
                    char *err, size_t err_len);
void report_run_free(report_run *run);

/* The metric of a case by name, or NULL. */
const report_metric *report_metric_find(const report_case *c, const char *name);

/* Sort rank of a stage name: ddp, zero1, zero2, zero3, then the rest. */
int report_stage_rank(const char *stage);

/* ---- plots ------------------------------------------------------------------------ */

typedef enum report_style {
    REPORT_LINES = 0,              /* solid lines with points */
    REPORT_DASHED,                 /* dashed lines (theory, the raw side) */
    REPORT_ERRORBARS               /* solid lines with points and [min, max] bars */
} report_style;

typedef struct report_series {
    char title[128];
    report_style style;
    int color;                     /* index into the palette */
    double *x, *y, *ylo, *yhi;
    int n, cap;
} report_series;

typedef struct report_plot {
    char name[128];                /* file stem: <name>.svg, <name>.dat */
    char title[256], xlabel[96], ylabel[96];
    int logx, logy;                /* log scale base (2 or 10), 0 linear */
    int x_bytes;                   /* x tics in binary units (1 KB = 1024 B), log 2 */
    int x_si, y_bytes;             /* tics with SI prefixes (1M, 1 GB), log 10 */
    int x_integer;                 /* integer tics (world sizes) */
    report_series *series;
    int n_series, cap_series;
} report_plot;

typedef struct report_plots {
    report_plot *items;
    int n, cap;
} report_plots;

/* A new plot (name is sanitised to [A-Za-z0-9._-]); NULL when out of memory. */
report_plot *report_plot_add(report_plots *plots, const char *name, const char *title,
                             const char *xlabel, const char *ylabel);
/* The series of a plot titled `title`, created on first use; NULL: no memory. */
report_series *report_plot_series(report_plot *p, const char *title, report_style style,
                                  int color);
/* Appends a point (ylo, yhi used by REPORT_ERRORBARS); -1 when out of memory. */
int report_series_point(report_series *s, double x, double y, double ylo, double yhi);
/* Points in the plot over all its series. */
int report_plot_points(const report_plot *p);
void report_plots_free(report_plots *plots);

/* The gnuplot executable on $PATH, into path; -1 with the one-line
 * "gnuplot not found" error (how to install it) when there is none. */
int report_find_gnuplot(char *path, size_t path_len, char *err, size_t err_len);

/* Writes <name>.dat per plot and report.gp into dir, runs gnuplot there and
 * checks that each <name>.svg was made. */
int report_plots_render(const report_plots *plots, const char *dir, const char *gnuplot,
                        char *err, size_t err_len);

/* ---- the document ----------------------------------------------------------------- */

typedef enum report_format { REPORT_MD = 0, REPORT_HTML = 1 } report_format;

typedef struct report_doc {
    FILE *f;                       /* an open_memstream: written to disk at the end */
    char *buf;
    size_t len;
    report_format format;
    int table_cols;
    char align[32];                /* of the open table */
    int in_list;
} report_doc;

int report_doc_open(report_doc *doc, report_format format, const char *title, char *err,
                    size_t err_len);
void report_doc_heading(report_doc *doc, int level, const char *text);
/* A paragraph of plain text (escaped); `code` spans are not interpreted. */
void report_doc_para(report_doc *doc, const char *text);
void report_doc_table(report_doc *doc, int n_cols, const char *const *headers,
                      const char *align); /* align: one 'l' or 'r' per column */
void report_doc_row(report_doc *doc, const char *const *cells);
void report_doc_table_end(report_doc *doc);
void report_doc_image(report_doc *doc, const char *alt, const char *file);
void report_doc_list_item(report_doc *doc, const char *text);
void report_doc_list_end(report_doc *doc);
/* Ends the document and writes it to path (under a temporary name, then
 * renamed); frees the buffer either way. */
int report_doc_save(report_doc *doc, const char *path, char *err, size_t err_len);
void report_doc_discard(report_doc *doc);

/* ---- number formatting (shared with the tests' expectations) ------------------------ */

/* 4 significant digits without an exponent for 1e-3 <= |v| < 1e7 ("12346",
 * "123.5", "1.235", "0.01235"), else "%.3e"; "-" for NaN. */
void report_fmt_sig(double v, char *buf, size_t len);
/* Bytes in the largest binary unit keeping the value >= 1: "8.016 MiB". */
void report_fmt_bytes(double bytes, char *buf, size_t len);
/* A time in s, ms or us chosen by `scale` (the median): "12.35 ms". */
const char *report_time_unit(double scale, double *factor);

/* ---- sections ------------------------------------------------------------------------ */

typedef struct report_input {
    report_run *runs;
    int n_runs;
    int machine_columns;
    const char *db_path;
    const char *note;              /* a line about how the runs were chosen, or NULL */
} report_input;

/* Writes every section into doc and the plots they show into plots. */
int report_build(const report_input *in, report_doc *doc, report_plots *plots, char *err,
                 size_t err_len);

#endif
