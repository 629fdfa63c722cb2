/*
 * Small helpers shared by the tests of reference/: a check counter that
 * prints every check it is given, and a seeded splitmix64 generator for test
 * inputs (independent of the Philox generator under test).
 */
#ifndef DTB_TESTS_REF_UTIL_H
#define DTB_TESTS_REF_UTIL_H

#include <stdint.h>

typedef struct ref_checker {
    const char *test;   /* test name, prefix of the summary line */
    int checks;
    int failures;
} ref_checker;

/* Prints "ok   <what>" or "FAIL <what>" and counts a failure when !ok.
 * Returns ok, so a caller can skip work that depends on it. */
int ref_check(ref_checker *c, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints the summary; returns the process exit status (0 only if all passed). */
int ref_finish(const ref_checker *c);

/* splitmix64: test inputs from fixed seeds. */
typedef struct ref_rand {
    uint64_t state;
} ref_rand;

uint64_t ref_rand_u64(ref_rand *r);
/* Uniform double in [lo, hi). */
double ref_rand_uniform(ref_rand *r, double lo, double hi);
/* Uniform integer in [0, n), n >= 1. */
int64_t ref_rand_below(ref_rand *r, int64_t n);
/* Fills x[0..n) with float-representable values uniform in [lo, hi). */
void ref_fill_f32(ref_rand *r, float *x, int64_t n, double lo, double hi);

/* The named GPT configuration (reference/gpt_configs.h); exits with a message
 * when the table lacks it. */
struct gpt_config;
const struct gpt_config *ref_gpt_config(const char *name);

#endif
