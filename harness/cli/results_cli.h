/*
 * What the results commands (runs, show, compare, gate, tag, export,
 * report) share on the command line: positional arguments next to options,
 * and the statistics options of compare and gate. Which database they open
 * is results_location.h's.
 */
#ifndef DTB_HARNESS_RESULTS_CLI_H
#define DTB_HARNESS_RESULTS_CLI_H

#include <stddef.h>

#include "cli_parse.h"
#include "results_location.h"
#include "results_stats.h"

/* Separates positional arguments from options: argv's options (and the
 * values of value options) go to rest, in order, for cli_parse_options;
 * up to max_pos positionals to pos. More positionals than max_pos is an
 * error naming the first extra one; so is an argv longer than
 * RESULTS_CLI_MAX_ARGS (rest holds that many). */
#define RESULTS_CLI_MAX_ARGS 64
int results_cli_split(const char *command, int argc, char **argv, const cli_option *opts,
                      size_t n_opts, const char **pos, int max_pos, int *n_pos,
                      char *rest[RESULTS_CLI_MAX_ARGS], int *n_rest, char *err, size_t err_len);

/* The default policy with --min-effect PCT and --alpha P applied (NULL:
 * default). */
int results_cli_policy(const char *min_effect, const char *alpha, stats_policy *p, char *err,
                       size_t err_len);

#endif
