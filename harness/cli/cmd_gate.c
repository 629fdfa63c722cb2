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
            "                    [--alpha P] [--per-case] [--cross-machine] [--verbose]\n"
            "\n"
            "The CI gate. HEAD regressed against BASE when a check that passed in BASE fails\n"
            "in HEAD (same case, same check); when an exact counter or memory figure of a case\n"
            "is worse by the minimum effect; or when a timing is worse by the minimum effect\n"
            "and beyond noise over the suite: with launches of rank worlds as replicates and\n"
            "cases as strata, HEAD ranks slower at the 99%% level. Single-case timing\n"
            "regressions are notes unless --per-case. Both runs must be complete, and from\n"
            "the same machine (host, CPU, cores, BLAS, MPI) unless --cross-machine.\n"
            "REF is a run id, a tag or latest. Method and thresholds: docs/results.md.\n"
            "Exit status: 0 no regression, 1 HEAD regressed, 2 bad input.\n"
            "\n"
            "  --base REF        the baseline run\n"
            "  --head REF        the run to judge (default: latest)\n"
            "  --db FILE         results database (default: $DTBENCH_DB, else\n"
            "                    ./dtbench-results.db)\n"
            "  --min-effect PCT  smallest slowdown that fails, in percent (default %.0f)\n"
            "  --alpha P         Mann-Whitney significance level (default %g)\n"
            "  --per-case        single-case timing regressions fail the gate too (for a\n"
            "                    quiet, dedicated machine)\n"
            "  --cross-machine   judge runs from different machines anyway (warned: their\n"
            "                    timings are not comparable)\n"
            "  --verbose         print the whole comparison first\n",
            100 * p.min_effect, p.alpha);
}

int cmd_gate(int argc, char **argv)
{
    const char *db_opt = NULL, *base_ref = NULL, *head_ref = NULL, *effect = NULL,
               *alpha = NULL;
    int help = 0, verbose = 0, per_case = 0, cross_machine = 0;
    const cli_option opts[] = {
        {"db", &db_opt, NULL},       {"base", &base_ref, NULL},    {"head", &head_ref, NULL},
        {"min-effect", &effect, NULL}, {"alpha", &alpha, NULL},    {"verbose", NULL, &verbose},
        {"per-case", NULL, &per_case}, {"cross-machine", NULL, &cross_machine},
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
    if (results_location_open(db_opt, RESULTS_READ, &db, err, sizeof err) ||
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
    char machines[768];
    if (results_machines_differ(&cmp.base, &cmp.head, machines, sizeof machines)) {
        if (!cross_machine) {
            fprintf(stderr, "dtbench: gate: BASE run %lld and HEAD run %lld ran on different "
                            "machines (%s): their timings are not comparable; give "
                            "--cross-machine to judge them anyway\n",
                    (long long)cmp.base.id, (long long)cmp.head.id, machines);
            results_comparison_free(&cmp);
            return EXIT_BAD_INPUT;
        }
        fprintf(stderr, "dtbench: gate: WARNING: BASE and HEAD ran on different machines (%s): "
                        "judged anyway (--cross-machine)\n",
                machines);
    }
    if (verbose)
        results_comparison_print(&cmp, &policy, 0, stdout);
    results_gate_outcome outcome;
    int regressed = results_gate_judge(&cmp, &policy, per_case, stdout, &outcome);
    results_comparison_free(&cmp);
    return regressed ? EXIT_CHECKS_FAILED : 0;
}
