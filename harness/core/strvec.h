/*
 * A growable, NULL-terminated vector of owned strings: the argv of a command
 * being built (mpirun ... dtbench worker ...). Allocation failures are sticky:
 * after one, every push is a no-op and strvec_ok() returns 0, so a builder can
 * push everything and check once.
 */
#ifndef DTB_HARNESS_STRVEC_H
#define DTB_HARNESS_STRVEC_H

#include <stddef.h>

typedef struct strvec {
    char **items;   /* items[n] == NULL */
    size_t n, cap;
    int failed;
} strvec;

void strvec_init(strvec *v);
void strvec_free(strvec *v);
void strvec_push(strvec *v, const char *s);
void strvec_pushf(strvec *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strvec_ok(const strvec *v);
/* The vector as one shell command line, each item single-quoted when it holds
 * anything beyond [A-Za-z0-9_./=,:+-]; malloc'd, NULL on allocation failure. */
char *strvec_shell_join(const strvec *v);

#endif
