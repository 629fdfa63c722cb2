/*
 * Strict command-line parsing for dtbench. Every parser either fills its
 * output and returns 0, or writes one line (no "dtbench: " prefix, no
 * newline) into err and returns -1; the caller prints "dtbench: <err>" and
 * exits 2. Nothing here prints or exits.
 */
#ifndef DTB_HARNESS_CLI_PARSE_H
#define DTB_HARNESS_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Rank counts accepted by --np. */
#define DTB_NP_MIN 1
#define DTB_NP_MAX 64
/* At most this many distinct world sizes in one --np list. */
#define DTB_NP_LIST_MAX 64

/* Decimal integer in [min, max]: optional leading '-', digits only, nothing
 * else (no spaces, no "0x", no trailing text). */
int cli_parse_i64(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out,
                  char *err, size_t err_len);
/* Unsigned decimal integer, the whole uint64_t range. */
int cli_parse_u64(const char *opt, const char *text, uint64_t *out, char *err, size_t err_len);
/* Finite decimal or exponent floating-point number in [min, max]. */
int cli_parse_double(const char *opt, const char *text, double min, double max, double *out,
                     char *err, size_t err_len);
/* Comma-separated rank counts and inclusive ranges ("1,2,4", "1-4", "2,5-6"),
 * each in DTB_NP_MIN..DTB_NP_MAX; duplicates are dropped, first order kept. */
int cli_parse_np_list(const char *opt, const char *text, int *out, int cap, int *n_out,
                      char *err, size_t err_len);
/* Comma-separated list of int64 values in [min, max], kept in order. */
int cli_parse_i64_list(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out,
                       int cap, int *n_out, char *err, size_t err_len);

/* Long options "--name VALUE", "--name=VALUE" or a flag "--name". A value
 * option stores argv's string (not copied) in *value; a flag sets *flag = 1.
 * An option given twice (with the same or another value, or a flag
 * repeated) is an error. */
typedef struct cli_option {
    const char *name;       /* without the leading "--" */
    const char **value;     /* non-NULL for options that take a value */
    int *flag;              /* non-NULL for flags */
} cli_option;

/* Parses argv[0..argc-1] (after the subcommand). `command` names the
 * subcommand in messages ("run: unknown option '--x' (see dtbench run --help)").
 * Positional arguments are errors. */
int cli_parse_options(const char *command, int argc, char **argv, const cli_option *opts,
                      size_t n_opts, char *err, size_t err_len);

#endif
