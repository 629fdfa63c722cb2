#include "cli_parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int cli_parse_i64(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out,
                  char *err, size_t err_len)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (!all_digits(digits, strlen(digits))) {
        snprintf(err, err_len, "%s: '%s' is not an integer", opt, text);
        return -1;
    }
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE || v < min || v > max) {
        snprintf(err, err_len, "%s: %s is out of range (%lld..%lld)", opt, text, (long long)min,
                 (long long)max);
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int cli_parse_u64(const char *opt, const char *text, uint64_t *out, char *err, size_t err_len)
{
    if (!all_digits(text, strlen(text))) {
        snprintf(err, err_len, "%s: '%s' is not a non-negative integer", opt, text);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(text, NULL, 10);
    if (errno == ERANGE) {
        snprintf(err, err_len, "%s: %s is out of range (0..%llu)", opt, text,
                 (unsigned long long)UINT64_MAX);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_double(const char *opt, const char *text, double min, double max, double *out,
                     char *err, size_t err_len)
{
    /* strtod accepts leading spaces, hex, "inf" and "nan": allow only
     * [-+]digits[.digits][e[-+]digits]. */
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    size_t mant = strspn(p, "0123456789.");
    int dots = 0;
    for (size_t i = 0; i < mant; i++)
        dots += p[i] == '.';
    int ok = mant > (size_t)dots && dots <= 1;
    p += mant;
    if (ok && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        size_t ex = strspn(p, "0123456789");
        ok = ex > 0;
        p += ex;
    }
    if (!ok || *p != '\0') {
        snprintf(err, err_len, "%s: '%s' is not a number", opt, text);
        return -1;
    }
    errno = 0;
    double v = strtod(text, NULL);
    if (errno == ERANGE || !isfinite(v) || v < min || v > max) {
        snprintf(err, err_len, "%s: %s is out of range (%g..%g)", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* One token of an --np list: "N" or "A-B" with A <= B. */
static int parse_np_token(const char *tok, size_t len, int *lo, int *hi)
{
    const char *dash = memchr(tok, '-', len);
    size_t a_len = dash ? (size_t)(dash - tok) : len;
    if (!all_digits(tok, a_len) || a_len > 2)
        return -1;
    int a = atoi(tok);
    int b = a;
    if (dash) {
        size_t b_len = len - a_len - 1;
        if (!all_digits(dash + 1, b_len) || b_len > 2)
            return -1;
        b = atoi(dash + 1);
    }
    if (a < DTB_NP_MIN || b > DTB_NP_MAX || a > b)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

int cli_parse_np_list(const char *opt, const char *text, int *out, int cap, int *n_out,
                      char *err, size_t err_len)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        int lo, hi;
        if (parse_np_token(p, len, &lo, &hi) != 0) {
            snprintf(err, err_len, "%s: '%s' is not a list of rank counts (%d..%d)", opt, text,
                     DTB_NP_MIN, DTB_NP_MAX);
            return -1;
        }
        for (int v = lo; v <= hi; v++) {
            int seen = 0;
            for (int i = 0; i < n; i++)
                seen |= out[i] == v;
            if (seen)
                continue;
            if (n == cap) {
                snprintf(err, err_len, "%s: '%s' lists more than %d rank counts", opt, text, cap);
                return -1;
            }
            out[n++] = v;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *n_out = n;
    return 0;
}

int cli_parse_i64_list(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out,
                       int cap, int *n_out, char *err, size_t err_len)
{
    int n = 0;
    const char *p = text;
    char tok[32];
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok || n == cap) {
            snprintf(err, err_len, "%s: '%s' is not a list of at most %d integers", opt, text,
                     cap);
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (cli_parse_i64(opt, tok, min, max, &out[n], err, err_len) != 0)
            return -1;
        n++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *n_out = n;
    return 0;
}

static const cli_option *find_option(const cli_option *opts, size_t n_opts, const char *name,
                                     size_t name_len)
{
    for (size_t i = 0; i < n_opts; i++)
        if (strlen(opts[i].name) == name_len && strncmp(opts[i].name, name, name_len) == 0)
            return &opts[i];
    return NULL;
}

/* One occurrence of option o (argv[*i], value if any after it), which has not
 * been seen before. Advances *i past a separate value. */
static int take_option(const char *command, int argc, char **argv, int *i, const cli_option *o,
                       const char *eq, char *err, size_t err_len)
{
    if (o->flag) {
        if (eq) {
            snprintf(err, err_len, "%s: --%s takes no value", command, o->name);
            return -1;
        }
        *o->flag = 1;
        return 0;
    }
    if (eq) {
        *o->value = eq + 1;
    } else if (*i + 1 < argc) {
        *o->value = argv[++*i];
    } else {
        snprintf(err, err_len, "%s: --%s needs a value", command, o->name);
        return -1;
    }
    if ((*o->value)[0] == '\0') {
        snprintf(err, err_len, "%s: --%s needs a non-empty value", command, o->name);
        return -1;
    }
    return 0;
}

static int parse_with_seen(const char *command, int argc, char **argv, const cli_option *opts,
                           size_t n_opts, unsigned char *seen, char *err, size_t err_len)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            snprintf(err, err_len, "%s: unexpected argument '%s' (see dtbench %s --help)",
                     command, arg, command);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_option *o = find_option(opts, n_opts, name, name_len);
        if (!o) {
            snprintf(err, err_len, "%s: unknown option '--%.*s' (see dtbench %s --help)",
                     command, (int)name_len, name, command);
            return -1;
        }
        /* Which of two values the user meant is a guess either way: refuse. */
        size_t k = (size_t)(o - opts);
        if (seen[k]) {
            snprintf(err, err_len, "%s: --%s is given twice (give it once)", command, o->name);
            return -1;
        }
        seen[k] = 1;
        if (take_option(command, argc, argv, &i, o, eq, err, err_len))
            return -1;
    }
    return 0;
}

int cli_parse_options(const char *command, int argc, char **argv, const cli_option *opts,
                      size_t n_opts, char *err, size_t err_len)
{
    unsigned char *seen = calloc(n_opts ? n_opts : 1, 1);
    if (!seen) {
        snprintf(err, err_len, "%s: out of memory parsing the options", command);
        return -1;
    }
    int rc = parse_with_seen(command, argc, argv, opts, n_opts, seen, err, err_len);
    free(seen);
    return rc;
}
