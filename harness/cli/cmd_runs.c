/* `dtbench runs`: the recorded runs, newest first. */
#include <stdint.h>
#include <stdio.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_query.h"

void usage_runs(FILE *f)
{
    fprintf(f, "usage: dtbench runs [--db FILE] [--limit N]\n"
               "\n"
               "Lists the runs in the results database, newest first: id, start time (UTC),\n"
               "status (running, complete, incomplete), git commit ('+': dirty tree), suite,\n"
               "implementation, backend, cases, passed/failed/skipped checks and tags.\n"
               "\n"
               "  --db FILE   results database (default: $DTBENCH_DB, else\n"
               "              ./dtbench-results.db)\n"
               "  --limit N   at most N runs (default 20; 0 for all)\n");
}

int cmd_runs(int argc, char **argv)
{
    const char *db_opt = NULL, *limit_opt = NULL;
    int help = 0;
    const cli_option opts[] = {
        {"db", &db_opt, NULL}, {"limit", &limit_opt, NULL}, {"help", NULL, &help}};
    char err[1536];
    int64_t limit = 20;
    if (cli_parse_options("runs", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err) ||
        (limit_opt && cli_parse_i64("--limit", limit_opt, 0, 1000000000, &limit, err,
                                    sizeof err))) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_runs(stdout);
        return 0;
    }
    results_db db;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        results_print_runs(&db, (int)limit, stdout, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    return 0;
}
