/* `dtbench export --format csv [--run REF] --out FILE`: long-format CSV,
 * one row per case x metric x sample, verified by reading it back. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_csv.h"
#include "results_refs.h"

void usage_export(FILE *f)
{
    fprintf(f, "usage: dtbench export --format csv --out FILE [--run REF] [--db FILE]\n"
               "\n"
               "Writes every sample of every metric (one row per case x metric x sample, a\n"
               "header row first) as CSV through libcsv, reads the file back and compares it\n"
               "with the database before putting it in place. Columns: docs/results.md.\n"
               "\n"
               "  --format csv   the only format\n"
               "  --out FILE     where to write (replaced only when the export succeeded)\n"
               "  --run REF      one run (a run id, a tag or latest; default: every run)\n"
               "  --db FILE      results database (default: $DTBENCH_DB, else\n"
               "                 ./dtbench-results.db)\n");
}

int cmd_export(int argc, char **argv)
{
    const char *db_opt = NULL, *format = NULL, *out = NULL, *run_ref = NULL;
    int help = 0;
    const cli_option opts[] = {{"db", &db_opt, NULL},  {"format", &format, NULL},
                               {"out", &out, NULL},    {"run", &run_ref, NULL},
                               {"help", NULL, &help}};
    char err[1536];
    if (cli_parse_options("export", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_export(stdout);
        return 0;
    }
    if (!format || strcmp(format, "csv") != 0) {
        fprintf(stderr, "dtbench: export: --format csv is required (the only format)\n");
        return EXIT_BAD_INPUT;
    }
    if (!out) {
        fprintf(stderr, "dtbench: export: --out FILE is required\n");
        return EXIT_BAD_INPUT;
    }
    results_db db;
    int64_t run_id = 0, rows;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        (run_ref && results_resolve_ref(&db, run_ref, &run_id, err, sizeof err)) ||
        results_export_csv(&db, run_id, out, &rows, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    printf("exported %lld sample rows to %s (read back and verified)\n", (long long)rows, out);
    return 0;
}
