/* `dtbench gate --base REF [--head REF]`: exit 1 when HEAD regressed
 * against BASE, 0 when not, 2 on bad input; prints why either way. */
#include <stdint.h>
#include <stdio.h>

#include "cmd_results.h"
#include "commands.h"
#include "results_cli.h"
#include "results_compare.h"
#include "results_gate.h"
#include "results_refs.h"

void usage_gate(FILE *f)
{
    stats_policy p;
    stats_policy_default(&p);
    fprintf(f,
            "usage: dtbench gate --base REF [--head REF] [--db FILE] [--min-effect PCT]\n"
            "                    [--alpha P] [--verbose]\n"
            "\n"
            "The CI gate. HEAD regressed against BASE when a check that passed in BASE fails\n"
            "in HEAD (same case, same check), or a metric is worse by at least the minimum\n"
            "effect and beyond noise. A timing is beyond noise in one case when Mann-Whitney\n"
            "p < alpha, a 99%% bootstrap interval of the ratio of medians lies above 1 and the\n"
            "change exceeds how far two launches of one case differed within a run; or over\n"
            "the suite when the median case's ratio has a 99%% interval above 1. Exact\n"
            "counters and memory need only the effect. Both runs must be complete.\n"
            "REF is a run id, a tag or latest. Method and thresholds: docs/results.md.\n"
            "Exit status: 0 no regression, 1 HEAD regressed, 2 bad input.\n"
            "\n"
            "  --base REF        the baseline run\n"
            "  --head REF        the run to judge (default: latest)\n"
            "  --db FILE         results database (default: $DTBENCH_DB, else\n"
            "                    ./dtbench-results.db)\n"
            "  --min-effect PCT  smallest slowdown that fails, in percent (default %.0f)\n"
            "  --alpha P         Mann-Whitney significance level (default %g)\n"
            "  --verbose         print the whole comparison first\n",
            100 * p.min_effect, p.alpha);
}

int cmd_gate(int argc, char **argv)
{
    const char *db_opt = NULL, *base_ref = NULL, *head_ref = NULL, *effect = NULL,
               *alpha = NULL;
    int help = 0, verbose = 0;
    const cli_option opts[] = {
        {"db", &db_opt, NULL},       {"base", &base_ref, NULL},    {"head", &head_ref, NULL},
        {"min-effect", &effect, NULL}, {"alpha", &alpha, NULL},    {"verbose", NULL, &verbose},
        {"help", NULL, &help}};
    char err[1536];
    stats_policy policy;
    if (cli_parse_options("gate", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err) ||
        results_cli_policy(effect, alpha, &policy, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (help) {
        usage_gate(stdout);
        return 0;
    }
    if (!base_ref) {
        fprintf(stderr, "dtbench: gate: --base REF is required (a run id, a tag or latest)\n");
        return EXIT_BAD_INPUT;
    }
    results_db db;
    int64_t base, head;
    results_comparison cmp;
    if (results_cli_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
        results_resolve_ref(&db, base_ref, &base, err, sizeof err) ||
        results_resolve_ref(&db, head_ref ? head_ref : "latest", &head, err, sizeof err) ||
        results_compare(&db, base, head, &policy, &cmp, err, sizeof err)) {
        results_close(&db);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    results_close(&db);
    if (results_gate_usable(&cmp, err, sizeof err)) {
        results_comparison_free(&cmp);
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (verbose)
        results_comparison_print(&cmp, &policy, 0, stdout);
    results_gate_outcome outcome;
    int regressed = results_gate_judge(&cmp, &policy, stdout, &outcome);
    results_comparison_free(&cmp);
    return regressed ? EXIT_CHECKS_FAILED : 0;
}
