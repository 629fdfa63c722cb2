/* `dtbench compare BASE HEAD`: per case and metric, both values, the ratio
 * and whether the change is beyond noise; the checks whose outcome changed. */
#include <stdint.h>
#include <stdio.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_compare.h"
#include "results_refs.h"

void usage_compare(FILE *f)
{
    stats_policy p;
    stats_policy_default(&p);
    fprintf(f,
            "usage: dtbench compare BASE HEAD [--db FILE] [--min-effect PCT] [--alpha P] [--all]\n"
            "\n"
            "Compares two recorded runs case by case (cases match by suite, model, recipe,\n"
            "world size and micro-batches). For each metric: BASE and HEAD medians (timings)\n"
            "or maxima over ranks (exact counters and memory), HEAD/BASE, and a verdict:\n"
            "regressed or improved (beyond noise and the minimum effect), unchanged, or\n"
            "inconclusive. Then the checks that fail in HEAD or failed in BASE.\n"
            "BASE and HEAD are run ids, tags or latest. Method: docs/results.md.\n"
            "\n"
            "  --db FILE         results database (default: $DTBENCH_DB, else\n"
            "                    ./dtbench-results.db)\n"
            "  --min-effect PCT  smallest change that counts, in percent (default %.0f)\n"
            "  --alpha P         Mann-Whitney significance level (default %g)\n"
            "  --all             also show counters that are zero in both runs\n",
            100 * p.min_effect, p.alpha);
}

int cmd_compare(int argc, char **argv)
{
    const char *db_opt = NULL, *effect = NULL, *alpha = NULL;
    int help = 0, all = 0;
    const cli_option opts[] = {{"db", &db_opt, NULL},         {"min-effect", &effect, NULL},
                               {"alpha", &alpha, NULL},       {"all", NULL, &all},
                               {"help", NULL, &help}};
    const size_t n_opts = sizeof opts / sizeof opts[0];
    char err[1536];
    const char *pos[2];
    int n_pos, n_rest;
    char *rest[RESULTS_CLI_MAX_ARGS];
    stats_policy policy;
    if (results_cli_split("compare", argc, argv, opts, n_opts, pos, 2, &n_pos, rest, &n_rest,
                          err, sizeof err) ||
        cli_parse_options("compare", n_rest, rest, opts, n_opts, err, sizeof err) ||
        results_cli_policy(effect, alpha, &policy, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_compare(stdout);
        return 0;
    }
    if (n_pos != 2) {
        fprintf(stderr, "dtbench: compare: needs BASE and HEAD (run ids, tags or latest)\n");
        return EXIT_BAD_INPUT;
    }
    results_db db;
    int64_t base, head;
    results_comparison cmp;
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        results_resolve_ref(&db, pos[0], &base, err, sizeof err) ||
        results_resolve_ref(&db, pos[1], &head, err, sizeof err) ||
        results_compare(&db, base, head, &policy, &cmp, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_comparison_print(&cmp, &policy, all, stdout);
    results_comparison_free(&cmp);
    results_close(&db);
    return 0;
}
