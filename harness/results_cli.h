/*
 * What the results commands (run, runs, show, compare, gate, tag, export)
 * share on the command line: which database (--db FILE, else $DTBENCH_DB,
 * else ./dtbench-results.db), how long to wait for a locked one
 * ($DTBENCH_DB_TIMEOUT seconds, default 30), positional arguments next to
 * options, and the statistics options of compare and gate.
 */
#ifndef DTB_HARNESS_RESULTS_CLI_H
#define DTB_HARNESS_RESULTS_CLI_H

#include <stddef.h>

#include "cli.h"
#include "results_db.h"
#include "results_stats.h"

#define DTB_DB_ENV "DTBENCH_DB"
#define DTB_DB_TIMEOUT_ENV "DTBENCH_DB_TIMEOUT"

/* --db's value if given, else $DTBENCH_DB if set and non-empty, else
 * RESULTS_DEFAULT_FILE (in the current directory). */
const char *results_cli_db_path(const char *db_opt);

/* Opens that database (results_open) with the timeout from the environment. */
int results_cli_open(const char *db_opt, results_mode mode, results_db *db, char *err,
                     size_t err_len);

/* The lock timeout in milliseconds from $DTBENCH_DB_TIMEOUT (seconds). */
int results_cli_timeout_ms(int *ms, char *err, size_t err_len);

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
