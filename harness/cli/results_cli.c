#include "results_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option *find(const cli_option *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int results_cli_split(const char *command, int argc, char **argv, const cli_option *opts,
                      size_t n_opts, const char **pos, int max_pos, int *n_pos,
                      char *rest[RESULTS_CLI_MAX_ARGS], int *n_rest, char *err, size_t err_len)
{
    *n_pos = *n_rest = 0;
    if (argc > RESULTS_CLI_MAX_ARGS) {
        snprintf(err, err_len, "%s: too many arguments (%d)", command, argc);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            rest[(*n_rest)++] = argv[i];
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            const cli_option *o = find(opts, n_opts, name, eq ? (size_t)(eq - name)
                                                              : strlen(name));
            if (o && o->value && !eq && i + 1 < argc)
                rest[(*n_rest)++] = argv[++i];
            continue;
        }
        if (*n_pos == max_pos) {
            snprintf(err, err_len, "%s: unexpected argument '%s' (see dtbench %s --help)",
                     command, arg, command);
            return -1;
        }
        pos[(*n_pos)++] = arg;
    }
    return 0;
}

int results_cli_policy(const char *min_effect, const char *alpha, stats_policy *p, char *err,
                       size_t err_len)
{
    stats_policy_default(p);
    double pct;
    if (min_effect) {
        if (cli_parse_double("--min-effect", min_effect, 0.1, 1000, &pct, err, err_len))
            return -1;
        p->min_effect = pct / 100.0;
    }
    if (alpha && cli_parse_double("--alpha", alpha, 1e-12, 0.5, &p->alpha, err, err_len))
        return -1;
    return 0;
}
