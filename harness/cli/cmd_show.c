/* `dtbench show REF`: one run's fields, cases, checks and metrics; with
 * --case N|KEY, one case's whole configuration and checks (show_case.h). */
#include <stdint.h>
#include <stdio.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_query.h"
#include "results_refs.h"
#include "show_case.h"

void usage_show(FILE *f)
{
    fprintf(f, "usage: dtbench show REF [--case N|KEY] [--db FILE]\n"
               "\n"
               "Shows one run: where and from what it ran, then each case with its checks\n"
               "(failures with their diagnostics) and metrics (samples, median, min, max).\n"
               "REF is a run id, a tag or latest.\n"
               "\n"
               "  --case N|KEY  instead, one case in full: its whole configuration as\n"
               "                recorded (one field per line: model, optimizer and its\n"
               "                hyper-parameters, batch, micro-batches, steps, seed, clipping,\n"
               "                buckets, stage, precision, checked steps, ...) and every check\n"
               "                with its diagnostics. N is the case's number as `show REF`\n"
               "                prints it (\"case N: KEY ...\"), KEY its key\n"
               "  --db FILE     results database (default: $DTBENCH_DB, else\n"
               "                ./dtbench-results.db)\n");
}

int cmd_show(int argc, char **argv)
{
    const char *db_opt = NULL, *which = NULL;
    int help = 0;
    const cli_option opts[] = {{"db", &db_opt, NULL}, {"case", &which, NULL},
                               {"help", NULL, &help}};
    const size_t n_opts = sizeof opts / sizeof opts[0];
    char err[1536];
    const char *pos[1];
    int n_pos, n_rest;
    char *rest[RESULTS_CLI_MAX_ARGS];
    if (results_cli_split("show", argc, argv, opts, n_opts, pos, 1, &n_pos, rest, &n_rest, err,
                          sizeof err) ||
        cli_parse_options("show", n_rest, rest, opts, n_opts, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_show(stdout);
        return 0;
    }
    if (n_pos != 1) {
        fprintf(stderr,
                "dtbench: show: which run? (dtbench show REF: a run id, a tag or latest)\n");
        return EXIT_BAD_INPUT;
    }
    results_db db;
    int64_t id;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        results_resolve_ref(&db, pos[0], &id, err, sizeof err) ||
        (which ? show_case_print(&db, id, which, stdout, err, sizeof err)
               : results_print_run(&db, id, stdout, err, sizeof err))) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    return 0;
}
