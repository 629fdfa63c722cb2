/* Minimal assertions for the harness unit tests: print and count, exit 1 at the end. */
#ifndef DTB_TESTS_HARNESS_CHECK_H
#define DTB_TESTS_HARNESS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);  \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                              \
    do {                                                                              \
        const char *h_ = (haystack), *n_ = (needle);                                  \
        if (!h_ || !strstr(h_, n_)) {                                                 \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, \
                    h_ ? h_ : "(null)", n_);                                          \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

static int check_report(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures ? 1 : 0;
}

#endif
