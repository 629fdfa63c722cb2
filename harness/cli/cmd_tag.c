/* `dtbench tag REF NAME`: names a run (a baseline for gate --base NAME). */
#include <stdint.h>
#include <stdio.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_refs.h"

void usage_tag(FILE *f)
{
    fprintf(f, "usage: dtbench tag REF NAME [--db FILE]\n"
               "\n"
               "Names the run REF (a run id, a tag or latest) NAME, e.g. a baseline for\n"
               "dtbench gate --base NAME. A NAME already in use moves to this run.\n"
               "NAME: 1..64 of A-Z a-z 0-9 . _ -, starting with a letter, not latest.\n"
               "\n"
               "  --db FILE   results database (default: $DTBENCH_DB, else\n"
               "              ./dtbench-results.db)\n");
}

int cmd_tag(int argc, char **argv)
{
    const char *db_opt = NULL;
    int help = 0;
    const cli_option opts[] = {{"db", &db_opt, NULL}, {"help", NULL, &help}};
    const size_t n_opts = sizeof opts / sizeof opts[0];
    char err[1536];
    const char *pos[2];
    int n_pos, n_rest;
    char *rest[RESULTS_CLI_MAX_ARGS];
    if (results_cli_split("tag", argc, argv, opts, n_opts, pos, 2, &n_pos, rest, &n_rest, err,
                          sizeof err) ||
        cli_parse_options("tag", n_rest, rest, opts, n_opts, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_tag(stdout);
        return 0;
    }
    if (n_pos != 2) {
        fprintf(stderr, "dtbench: tag: needs REF and NAME (dtbench tag 12 baseline)\n");
        return EXIT_BAD_INPUT;
    }
    /* The name is checked before the database is opened for writing. */
    if (results_tag_name_check(pos[1], err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_db db;
    int64_t id, previous;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        results_resolve_ref(&db, pos[0], &id, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    if (results_location_open(db_opt, RESULTS_WRITE, &db, err, sizeof err) ||
        results_tag(&db, id, pos[1], &previous, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    if (previous && previous != id)
        printf("tagged run %lld as %s (moved from run %lld)\n", (long long)id, pos[1],
               (long long)previous);
    else
        printf("tagged run %lld as %s\n", (long long)id, pos[1]);
    return 0;
}
