/*
 * The benchmark suites' common driver (harness/bench/bench.h) and the peak file
 * (bench_peak.h): sizes parsed and refused, statistics of repetitions
 * against a sorted copy, a case's TAP points and its record built from the
 * same calls, and peak.txt read back, truncated and garbled.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/check.h"
#include "bench.h"
#include "bench_peak.h"

static void test_parse_bytes(void)
{
    static const struct {
        const char *text;
        int64_t bytes;
    } good[] = {{"8G", 8ll << 30},       {"512M", 512ll << 20}, {"2GiB", 2ll << 30},
                {"1.5G", 3ll << 29},     {"300000000", 300000000}, {"64k", 64ll << 10},
                {"1T", 1ll << 40},       {"100B", 100},           {"2gib", 2ll << 30},
                {".5K", 512},            {"08G", 8ll << 30},      {"3.M", 3ll << 20}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -1;
        char err[128];
        CHECK(bench_parse_bytes("--mem-budget", good[i].text, &v, err, sizeof err) == 0);
        CHECK(v == good[i].bytes);
    }
    static const char *const bad[] = {"", "G", "8Q", "-1G", "0", "8 G", " 8G", "8GG", "nan",
                                      "inf", "1e30", "0.1", "8GiBs", "0x10G", "0x10",
                                      "1e3", "1e3M", "+8G", "1..5G", ".G", "8iB", "8G "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 7;
        char err[128] = "";
        CHECK(bench_parse_bytes("--mem-budget", bad[i], &v, err, sizeof err) != 0);
        CHECK(v == 7);
        CHECK_CONTAINS(err, "--mem-budget");
    }
    char buf[32];
    bench_format_bytes(64.0 * 1048576, buf, sizeof buf);
    CHECK(strcmp(buf, "64 MiB") == 0);
    bench_format_bytes(1536.0, buf, sizeof buf);
    CHECK(strcmp(buf, "1.5 KiB") == 0);
    bench_format_bytes(512, buf, sizeof buf);
    CHECK(strcmp(buf, "512 B") == 0);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_summarise(void)
{
    uint64_t s = 42;
    for (int n = 1; n <= 12; n++) {
        double x[12], sorted[12];
        for (int i = 0; i < n; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            x[i] = 0.5 + (double)(s >> 11) * 0x1.0p-53;
            sorted[i] = x[i];
        }
        qsort(sorted, (size_t)n, sizeof *sorted, cmp);
        double copy[12];
        memcpy(copy, x, sizeof copy);
        bench_summary sum = bench_summarise(x, n);
        double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        CHECK(sum.n == n && sum.min == sorted[0] && sum.max == sorted[n - 1]);
        CHECK(sum.median == median);
        CHECK(fabs(sum.spread - (sorted[n - 1] - sorted[0]) / median) < 1e-15);
        CHECK(memcmp(copy, x, sizeof copy) == 0); /* input not modified */
    }
    bench_summary none = bench_summarise(NULL, 0);
    CHECK(none.n == 0 && none.median == 0);
}

/* What the record hook saw. */
typedef struct seen {
    int calls, with_case;
    char key[256], label[256], impl[64], first_check[64], diagnostics[512];
    int n_checks, n_metrics, n_samples0, status1;
    double sample_sum;
    int completed, world_size;
} seen;

static int record_hook(void *ctx, const results_case *c, char *err, size_t err_len)
{
    (void)err, (void)err_len;
    seen *s = ctx;
    s->calls++;
    if (!c)
        return -1;
    s->with_case++;
    snprintf(s->key, sizeof s->key, "%s", c->key);
    snprintf(s->label, sizeof s->label, "%s", c->label);
    snprintf(s->impl, sizeof s->impl, "%s", c->impl);
    s->n_checks = c->n_checks;
    s->n_metrics = c->n_metrics;
    s->completed = c->completed;
    s->world_size = c->world_size;
    if (c->n_checks > 0) {
        snprintf(s->first_check, sizeof s->first_check, "%s", c->checks[0].name);
        snprintf(s->diagnostics, sizeof s->diagnostics, "%s",
                 c->checks[0].diagnostics ? c->checks[0].diagnostics : "");
    }
    if (c->n_checks > 1)
        s->status1 = (int)c->checks[1].status;
    if (c->n_metrics > 0) {
        s->n_samples0 = c->metrics[0].n_samples;
        for (int i = 0; i < c->metrics[0].n_samples; i++)
            s->sample_sum += c->metrics[0].samples[i].value;
    }
    return 0;
}

static void test_case_record(void)
{
    static const dtb_suite suite = {.name = "throughput", .kind = DTB_SUITE_BENCH};
    bench_context *ctx = calloc(1, sizeof *ctx);
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    char *tap_text = NULL;
    size_t tap_len = 0;
    FILE *f = open_memstream(&tap_text, &tap_len);
    tap_writer tw;
    tap_begin(&tw, f);
    seen s = {0};
    ctx->suite = &suite;
    ctx->tap = &tw;
    ctx->record = record_hook;
    ctx->record_ctx = &s;

    bench_case bc;
    bench_case_begin(ctx, &bc, "throughput ddp mlp-1m fp32 np=2", "ref-ddp mlp-1m fp32 np=2",
                     "{\"x\":1}");
    snprintf(bc.impl, sizeof bc.impl, "ref-ddp");
    bc.world_size = 2;
    bc.completed = 1;
    tap_diag d;
    diag_init(&d);
    diag_real(&d, "median_s", 0.25);
    diag_block(&d, "log_tail", "line one\nline two");
    bench_case_check(&bc, "completed", RESULTS_PASS, NULL, -1, &d);
    diag_free(&d);
    bench_case_check(&bc, "overlap measured", RESULTS_FAIL, NULL, -1, NULL);
    bench_case_check(&bc, "skipped one", RESULTS_SKIP, "lacks bf16-mixed", -1, NULL);
    results_sample samples[7];
    double sum = 0;
    for (int i = 0; i < 7; i++) {
        samples[i] = (results_sample){i, RESULTS_NONE, i + 1, i < 2, 0.1 + 0.01 * i};
        sum += samples[i].value;
    }
    bench_case_metric(&bc, "step_seconds", "s", RESULTS_TIMING, 0, samples, 7);
    samples[0].value = -99; /* the metric kept its own copy */
    bench_case_metric(&bc, "comm_bus_bytes", "B", RESULTS_EXACT, 0, samples, 1);
    bench_case_end(&bc);
    tap_end(&tw);
    fclose(f);

    CHECK(s.calls == 1 && s.with_case == 1);
    CHECK(strcmp(s.key, "throughput ddp mlp-1m fp32 np=2") == 0);
    CHECK(strcmp(s.impl, "ref-ddp") == 0 && s.world_size == 2 && s.completed == 1);
    CHECK(s.n_checks == 3 && s.n_metrics == 2 && s.n_samples0 == 7);
    CHECK(fabs(s.sample_sum - sum) < 1e-12);
    CHECK(strcmp(s.first_check, "completed") == 0 && s.status1 == RESULTS_FAIL);
    CHECK_CONTAINS(s.diagnostics, "median_s: 0.25");
    CHECK_CONTAINS(s.diagnostics, "log_tail: |\n  line one\n  line two\n");
    CHECK(ctx->cases == 1 && ctx->points == 3 && ctx->passed == 1 && ctx->failed == 1 &&
          ctx->skipped == 1);
    CHECK_CONTAINS(tap_text, "ok 1 - ref-ddp mlp-1m fp32 np=2: completed");
    CHECK_CONTAINS(tap_text, "not ok 2 - ref-ddp mlp-1m fp32 np=2: overlap measured");
    CHECK_CONTAINS(tap_text, "ok 3 - ref-ddp mlp-1m fp32 np=2: skipped one # SKIP lacks bf16-mixed");
    CHECK_CONTAINS(tap_text, "1..3");
    free(tap_text);

    /* An allocation failure is reported to the hook as a NULL case. */
    seen s2 = {0};
    ctx->record_ctx = &s2;
    bench_case_begin(ctx, &bc, "k", "l", NULL);
    bc.oom = 1;
    bench_case_end(&bc);
    CHECK(s2.calls == 1 && s2.with_case == 0);
    free(ctx);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_peak_file(void)
{
    char dir[] = "/tmp/dtbench-peak-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/peak.txt", dir);
    bench_peak_result *r = calloc(1, sizeof *r);
    CHECK(r != NULL);
    if (!r)
        return;
    char err[256];
    write_file(path, "dtbench-peak 1\nworld 2 n 1024\nrep 0 1 1.5e-01\nrep 1 0 1.25e-01\n"
                     "rep 2 0 1.0e-01\nend\n");
    CHECK(bench_peak_read(path, r, err, sizeof err) == 0);
    CHECK(r->world_size == 2 && r->n == 1024 && r->n_reps == 3 && r->warmup[0] == 1 &&
          r->warmup[1] == 0);
    /* 2 ranks x 2 * 1024^3 FLOP in 0.1 s */
    CHECK(fabs(bench_peak_gflops(r, 2) - 2.0 * 2.0 * 1073741824.0 / 0.1 * 1e-9) < 1e-9);

    static const char *const broken[] = {
        "dtbench-peak 1\nworld 2 n 1024\nrep 0 1 1.5e-01\n",                /* no end */
        "dtbench-peak 2\nworld 2 n 1024\nrep 0 0 1.5e-01\nend\n",           /* version */
        "dtbench-peak 1\nworld 0 n 1024\nrep 0 0 1.5e-01\nend\n",           /* world */
        "dtbench-peak 1\nworld 2 n 1024\nrep 1 0 1.5e-01\nend\n",           /* order */
        "dtbench-peak 1\nworld 2 n 1024\nrep 0 0 -1\nend\n",                /* time */
        "dtbench-peak 1\nworld 2 n 1024\nend\n",                            /* empty */
        "garbage\n",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        write_file(path, broken[i]);
        err[0] = '\0';
        CHECK(bench_peak_read(path, r, err, sizeof err) != 0);
        CHECK_CONTAINS(err, path);
    }
    unlink(path);
    CHECK(bench_peak_read(path, r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "cannot read");
    rmdir(dir);
    free(r);
}

int main(void)
{
    test_parse_bytes();
    test_summarise();
    test_case_record();
    test_peak_file();
    return check_report("bench_unit");
}
