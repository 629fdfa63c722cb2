/* Assertions and fixtures shared by the results unit tests. */
#ifndef DTB_TESTS_RESULTS_TEST_H
#define DTB_TESTS_RESULTS_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_db.h"
#include "results_record.h"
#include "results_stats.h"

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

/* A fresh directory under $TMPDIR (or /tmp); exits on failure. */
static inline void test_tmpdir(char *buf, size_t len)
{
    const char *root = getenv("TMPDIR");
    snprintf(buf, len, "%s/dtb-results-XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void test_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* The whole file, malloc'd (NULL when unreadable). */
static unsigned char *test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    size_t cap = 4096;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + *n, 1, cap - *n, f);
        *n += got;
        if (*n < cap)
            break;
        unsigned char *grown = realloc(buf, cap *= 2);
        if (!grown)
            free(buf);
        buf = grown;
    }
    fclose(f);
    return buf;
}

static inline void test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* 1 when the file holds exactly data[0..n-1]. */
static inline int test_file_is(const char *path, const unsigned char *data, size_t n)
{
    size_t m;
    unsigned char *now = test_read_file(path, &m);
    int same = now && m == n && memcmp(now, data, n) == 0;
    free(now);
    return same;
}

/* Lognormal-ish positive samples: exp(mu + sigma z), z ~ N(0,1) by
 * Box-Muller from the fixed-seed generator. */
static inline double test_normal(stats_rng *r)
{
    double u1 = stats_rng_uniform(r), u2 = stats_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A synthetic case: three checks (the second fails when fail_check), a
 * timing metric "step_seconds" (n_steps samples of 1 ms x scale with noise,
 * the first flagged warm-up) and an exact metric "comm_bytes.allreduce". */
#define TEST_MAX_SAMPLES 256
typedef struct test_case {
    results_case c;
    results_check checks[3];
    results_metric metrics[2];
    results_sample samples[TEST_MAX_SAMPLES];
    results_sample bytes[2];
    char key[128];
} test_case;

static inline void test_case_make(test_case *t, int index, const char *key, uint64_t seed,
                           double scale, int fail_check, int n_steps)
{
    memset(t, 0, sizeof *t);
    snprintf(t->key, sizeof t->key, "%s", key);
    t->checks[0] = (results_check){.name = "completed", .status = RESULTS_PASS, .ratio = -1};
    t->checks[1] = (results_check){.name = "loss every step",
                                   .status = fail_check ? RESULTS_FAIL : RESULTS_PASS,
                                   .ratio = fail_check ? 3.5 : 0.25,
                                   .ratio_where = "loss step 2",
                                   .diagnostics = fail_check ? "message: \"loss differs\"\n"
                                                               "step: 2\n"
                                                             : NULL};
    t->checks[2] = (results_check){.name = "every row changed", .status = RESULTS_SKIP,
                                   .skip_reason = "not applicable", .ratio = -1};
    stats_rng rng = {seed};
    if (n_steps > TEST_MAX_SAMPLES)
        n_steps = TEST_MAX_SAMPLES;
    for (int s = 0; s < n_steps; s++)
        t->samples[s] = (results_sample){1 + s % 2, s % 2, 1 + s / 2, s < 2,
                                         1e-3 * scale * exp(0.02 * test_normal(&rng))};
    t->bytes[0] = (results_sample){1, 0, RESULTS_NONE, 0, 62532};
    t->bytes[1] = (results_sample){1, 1, RESULTS_NONE, 0, 62532};
    t->metrics[0] = (results_metric){"step_seconds", "s", RESULTS_TIMING, 0, t->samples, n_steps};
    t->metrics[1] = (results_metric){"comm_bytes.allreduce", "B", RESULTS_EXACT, 0, t->bytes, 2};
    t->c = (results_case){
        .index = index, .key = t->key, .label = t->key, .suite = "ddp", .impl = "ref-ddp",
        .impl_version = "0.1.0", .model = "mlp-odd", .precision = "fp32", .stage = "ddp",
        .recipe = "sgd", .optimizer = "sgd", .world_size = 2,
        .config = "{\"steps\":10}", .completed = 1, .seconds = 1.25,
        .checks = t->checks, .n_checks = 3, .metrics = t->metrics, .n_metrics = 2};
}

static inline results_run_info test_run_info(const char *impl)
{
    return (results_run_info){.suite = "ddp", .impl = impl, .impl_version = "0.1.0",
                              .backend = "cpu", .command_line = "dtbench run --suite ddp",
                              .git_commit = "0123456789abcdef0123456789abcdef01234567",
                              .git_dirty = 1, .host = "test-host", .cpu_model = "test cpu",
                              .gpu = NULL, .pid = 0};
}

/* One integer from a query on a raw connection (-1 on error). */
static inline long long test_query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
