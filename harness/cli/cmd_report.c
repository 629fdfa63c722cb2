/* `dtbench report [--run REF]... --out DIR [--db FILE] [--format md|html]`:
 * benchmark results as tables and gnuplot SVGs (docs/benchmarks.md). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_results.h"
#include "commands.h"
#include "report.h"
#include "results_cli.h"
#include "results_refs.h"

#define REPORT_MAX_RUNS 32

void usage_report(FILE *f)
{
    fprintf(f,
            "usage: dtbench report [--run REF]... --out DIR [--db FILE] [--format md|html]\n"
            "\n"
            "Writes a report of benchmark results into DIR: report.md (or report.html) with\n"
            "tables, and SVG plots drawn by gnuplot (its script report.gp and the data files\n"
            "stay next to them). Without --run: the latest complete run of each benchmark\n"
            "suite (throughput, memory, comm). A conformance run (ddp, zero1..3) named with\n"
            "--run gets a pass/fail summary. Needs gnuplot (apt-get install gnuplot-nox).\n"
            "\n"
            "  --run REF       a run id, a tag or latest; repeat for several runs\n"
            "  --out DIR       where to write (created if missing)\n"
            "  --format FMT    md (default) or html (one self-contained page)\n"
            "  --db FILE       results database, opened read-only (default: $DTBENCH_DB,\n"
            "                  else ./dtbench-results.db)\n");
}

/* Takes every "--run REF" / "--run=REF" out of argv (--run repeats; the
 * common parser refuses a repeated option), leaving the rest in rest. */
static int split_runs(int argc, char **argv, const char **refs, int *n_refs, char **rest,
                      int *n_rest, char *err, size_t err_len)
{
    static const char *const value_options[] = {"--out", "--db", "--format"};
    *n_refs = *n_rest = 0;
    for (int i = 0; i < argc; i++) {
        const char *ref = NULL;
        if (strcmp(argv[i], "--run") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                snprintf(err, err_len, "report: --run needs a value (a run id, a tag or latest)");
                return -1;
            }
            ref = argv[++i];
        } else if (strncmp(argv[i], "--run=", 6) == 0) {
            ref = argv[i] + 6;
            if (!*ref) {
                snprintf(err, err_len, "report: --run needs a value (a run id, a tag or latest)");
                return -1;
            }
        }
        if (ref) {
            if (*n_refs == REPORT_MAX_RUNS) {
                snprintf(err, err_len, "report: at most %d --run options", REPORT_MAX_RUNS);
                return -1;
            }
            refs[(*n_refs)++] = ref;
            continue;
        }
        rest[(*n_rest)++] = argv[i];
        for (size_t k = 0; k < sizeof value_options / sizeof value_options[0]; k++)
            if (strcmp(argv[i], value_options[k]) == 0 && i + 1 < argc)
                rest[(*n_rest)++] = argv[++i];
    }
    return 0;
}

/* mkdir -p DIR, then DIR must be a directory we can write into. */
static int prepare_out_dir(const char *dir, char *err, size_t err_len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, err_len, "report: --out path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(err, err_len, "report: cannot create --out directory %.1500s: %s", path,
                     strerror(errno));
            return -1;
        }
        *p = saved;
        if (!saved)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "report: --out %s is not a directory", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, err_len, "report: cannot write into --out directory %s: %s", dir,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* The runs to report: those named, else the latest complete benchmark runs;
 * note says which. */
static int choose_runs(results_db *db, const char **refs, int n_refs, int64_t *ids, int *n_ids,
                       char *note, size_t note_len, char *err, size_t err_len)
{
    *n_ids = 0;
    if (n_refs > 0) {
        int w = snprintf(note, note_len, "Runs named with --run:");
        for (int i = 0; i < n_refs; i++) {
            int64_t id;
            if (results_resolve_ref(db, refs[i], &id, err, err_len))
                return -1;
            int dup = 0;
            for (int j = 0; j < *n_ids; j++)
                dup |= ids[j] == id;
            if (dup)
                continue;
            ids[(*n_ids)++] = id;
            if (w > 0 && (size_t)w < note_len)
                w += snprintf(note + w, note_len - (size_t)w, "%s %s (run %lld)",
                              *n_ids > 1 ? "," : "", refs[i], (long long)id);
        }
        if (w > 0 && (size_t)w < note_len)
            snprintf(note + w, note_len - (size_t)w, ".");
        return 0;
    }
    static const char *const suites[3] = {"throughput", "memory", "comm"};
    int64_t latest[3];
    if (report_latest_benchmark_runs(db, latest, err, err_len))
        return -1;
    int w = snprintf(note, note_len, "The latest complete run of each benchmark suite in %s:",
                     db->path);
    for (int i = 0; i < 3; i++) {
        if (latest[i])
            ids[(*n_ids)++] = latest[i];
        if (w > 0 && (size_t)w < note_len) {
            if (latest[i])
                w += snprintf(note + w, note_len - (size_t)w, "%s %s run %lld", i ? ";" : "",
                              suites[i], (long long)latest[i]);
            else
                w += snprintf(note + w, note_len - (size_t)w, "%s no complete %s run",
                              i ? ";" : "", suites[i]);
        }
    }
    if (w > 0 && (size_t)w < note_len)
        snprintf(note + w, note_len - (size_t)w, ".");
    if (*n_ids == 0) {
        snprintf(err, err_len,
                 "report: %.1500s holds no complete run of a benchmark suite (throughput, memory, "
                 "comm); record one (dtbench run --suite throughput) or name runs with --run REF",
                 db->path);
        return -1;
    }
    return 0;
}

static int load_runs(const char *db_opt, const char **refs, int n_refs, report_run *runs,
                     int *n_runs, int *machine_columns, char *note, size_t note_len,
                     char *db_path, size_t db_path_len, char *err, size_t err_len)
{
    results_db db;
    int64_t ids[REPORT_MAX_RUNS];
    int n_ids;
    *n_runs = 0;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, err_len)) {
        results_close(&db);
        return -1;
    }
    snprintf(db_path, db_path_len, "%s", db.path);
    int rc = report_has_machine_columns(&db, machine_columns, err, err_len) ||
             choose_runs(&db, refs, n_refs, ids, &n_ids, note, note_len, err, err_len);
    for (int i = 0; !rc && i < n_ids; i++) {
        rc = report_load_run(&db, ids[i], *machine_columns, &runs[i], err, err_len);
        if (!rc)
            (*n_runs)++;
    }
    results_close(&db);
    return rc ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
    const char *db_opt = NULL, *out = NULL, *format = NULL;
    int help = 0;
    const cli_option opts[] = {{"db", &db_opt, NULL},
                               {"out", &out, NULL},
                               {"format", &format, NULL},
                               {"help", NULL, &help}};
    char err[2048];
    const char *refs[REPORT_MAX_RUNS];
    int n_refs, n_rest;
    char **rest = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *rest);
    if (!rest) {
        fprintf(stderr, "dtbench: report: out of memory\n");
        return EXIT_BAD_INPUT;
    }
    if (split_runs(argc, argv, refs, &n_refs, rest, &n_rest, err, sizeof err) ||
        cli_parse_options("report", n_rest, rest, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err)) {
        free(rest);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    free(rest);
    if (help) {
        usage_report(stdout);
        return 0;
    }
    report_format fmt = REPORT_MD;
    if (format && strcmp(format, "html") == 0) {
        fmt = REPORT_HTML;
    } else if (format && strcmp(format, "md") != 0) {
        fprintf(stderr, "dtbench: report: unknown --format '%s' (md or html)\n", format);
        return EXIT_BAD_INPUT;
    }
    if (!out) {
        fprintf(stderr, "dtbench: report: --out DIR is required (where the report goes)\n");
        return EXIT_BAD_INPUT;
    }

    report_run *runs = calloc(REPORT_MAX_RUNS, sizeof *runs);
    if (!runs) {
        fprintf(stderr, "dtbench: report: out of memory\n");
        return EXIT_BAD_INPUT;
    }
    int n_runs = 0, machine_columns = 0, status = EXIT_BAD_INPUT;
    char note[1024] = "", db_path[4096] = "";
    report_doc doc;
    report_plots plots = {0};
    int doc_open = 0;
    if (load_runs(db_opt, refs, n_refs, runs, &n_runs, &machine_columns, note, sizeof note,
                  db_path, sizeof db_path, err, sizeof err))
        goto done;

    /* Everything is built in memory first: nothing is written unless gnuplot
     * is there and the directory can be made. */
    report_input in = {runs, n_runs, machine_columns, db_path, note};
    if (report_doc_open(&doc, fmt, "dtbench report", err, sizeof err))
        goto done;
    doc_open = 1;
    if (report_build(&in, &doc, &plots, err, sizeof err))
        goto done;
    int n_plots = 0;
    for (int i = 0; i < plots.n; i++)
        n_plots += report_plot_points(&plots.items[i]) > 0;
    char gnuplot[4096] = "";
    if (n_plots > 0 && report_find_gnuplot(gnuplot, sizeof gnuplot, err, sizeof err))
        goto done;
    if (prepare_out_dir(out, err, sizeof err) ||
        report_plots_render(&plots, out, gnuplot, err, sizeof err))
        goto done;
    char path[4200];
    snprintf(path, sizeof path, "%s/report.%s", out, fmt == REPORT_HTML ? "html" : "md");
    doc_open = 0;
    if (report_doc_save(&doc, path, err, sizeof err))
        goto done;
    printf("report: wrote %s (%d run%s, %d plot%s)\n", path, n_runs, n_runs == 1 ? "" : "s",
           n_plots, n_plots == 1 ? "" : "s");
    status = 0;
done:
    if (status != 0)
        fprintf(stderr, "dtbench: %s\n", err);
    if (doc_open)
        report_doc_discard(&doc);
    report_plots_free(&plots);
    for (int i = 0; i < n_runs; i++)
        report_run_free(&runs[i]);
    free(runs);
    return status;
}
