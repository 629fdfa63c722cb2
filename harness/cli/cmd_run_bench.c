/*
 * `dtbench run` of a benchmark suite: every input validated up front (one
 * line and exit 2 before any world starts), the run recorded like any other
 * (implementations joined by commas in runs.impl), then the suite's driver.
 * Exit status: 0 every check passed, 1 a check failed, 2 bad input or the
 * run could not be recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli_parse.h"
#include "commands.h"
#include "plugin_loader.h"
#include "plugin_probe.h"
#include "cmd_run_bench.h"
#include "run_record.h"
#include "world_probe.h"

static int bad(const char *msg)
{
    fprintf(stderr, "dtbench: %s\n", msg);
    return EXIT_BAD_INPUT;
}

/* The stage a plugin runs: its highest stage capability. */
static int32_t impl_stage(uint64_t caps)
{
    if (caps & DTB_CAP_ZERO3)
        return DTB_STAGE_ZERO3;
    if (caps & DTB_CAP_ZERO2)
        return DTB_STAGE_ZERO2;
    if (caps & DTB_CAP_ZERO1)
        return DTB_STAGE_ZERO1;
    if (caps & DTB_CAP_DDP)
        return DTB_STAGE_DDP;
    return DTB_STAGE_SINGLE;
}

/* Splits a comma-separated list into at most cap items of item_len bytes. */
static int split_list(const char *opt, const char *text, char (*items)[PATH_MAX], int cap,
                      int *n, char *err, size_t err_len)
{
    *n = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= PATH_MAX || *n == cap) {
            snprintf(err, err_len, "%s: '%s' is not a list of at most %d names", opt, text, cap);
            return -1;
        }
        memcpy(items[*n], p, len);
        items[*n][len] = '\0';
        (*n)++;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

/* The implementations named by --impl (else the suite's), loaded and vetted
 * into o->impls; names is scratch for the list. */
static int load_impl_names(const dtb_suite *suite, const run_args *a, const char *plugins_dir,
                           bench_options *o, char (*names)[PATH_MAX], char *err, size_t err_len)
{
    int n = 0;
    if (a->impl) {
        if (suite->n_bench_impls == 0) {
            snprintf(err, err_len, "--impl does not apply to the %s suite (it benchmarks the "
                     "communicator)", suite->name);
            return -1;
        }
        if (split_list("--impl", a->impl, names, BENCH_MAX_IMPLS, &n, err, err_len))
            return -1;
    } else {
        for (int i = 0; i < suite->n_bench_impls && i < BENCH_MAX_IMPLS; i++)
            snprintf(names[n++], PATH_MAX, "%s", suite->bench_impls[i]);
    }
    /* The model kind is each case's to require: a case of a kind the
     * implementation does not declare is skipped, saying so. */
    uint64_t need = suite->required_caps | DTB_CAP_CPU;
    for (int i = 0; i < n; i++) {
        bench_impl *b = &o->impls[i];
        plugin_probe p;
        char why[1024];
        if (plugin_resolve(names[i], plugins_dir, b->path, sizeof b->path, why, sizeof why) ||
            plugin_probe_vet(b->path, need, &p, why, sizeof why)) {
            snprintf(err, err_len, "--impl: %s", why);
            return -1;
        }
        snprintf(b->name, sizeof b->name, "%.63s", p.name);
        snprintf(b->version, sizeof b->version, "%.63s", p.version);
        b->caps = p.caps;
        b->stage = impl_stage(b->caps);
        for (int j = 0; j < i; j++) {
            if (strcmp(o->impls[j].name, b->name) == 0) {
                snprintf(err, err_len, "--impl: %s is listed twice", b->name);
                return -1;
            }
        }
    }
    o->n_impls = n;
    return 0;
}

static int load_impls(const dtb_suite *suite, const run_args *a, const char *plugins_dir,
                      bench_options *o, char *err, size_t err_len)
{
    char (*names)[PATH_MAX] = calloc(BENCH_MAX_IMPLS, sizeof *names);
    if (!names) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = load_impl_names(suite, a, plugins_dir, o, names, err, err_len);
    free(names);
    return rc;
}

/* --sizes of a suite that takes message sizes: "4K,1M,64MiB". */
static int parse_message_sizes(const run_args *a, bench_options *o, char *err, size_t err_len)
{
    o->n_message_sizes = 0;
    if (a->model) {
        snprintf(err, err_len, "--model does not apply to the comm suite (--sizes takes "
                 "message sizes)");
        return -1;
    }
    if (!a->sizes)
        return 0;
    char (*items)[PATH_MAX] = calloc(BENCH_MAX_SIZES, sizeof *items);
    int n = 0, rc = items ? 0 : -1;
    if (!items)
        snprintf(err, err_len, "out of memory");
    if (rc == 0)
        rc = split_list("--sizes", a->sizes, items, BENCH_MAX_SIZES, &n, err, err_len);
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t *v = &o->message_sizes[i];
        rc = bench_parse_bytes("--sizes", items[i], v, err, err_len);
        for (int j = 0; rc == 0 && j < i; j++) {
            if (o->message_sizes[j] == *v) {
                snprintf(err, err_len, "--sizes: %lld bytes listed twice", (long long)*v);
                rc = -1;
            }
        }
    }
    free(items);
    if (rc == 0)
        o->n_message_sizes = n;
    return rc;
}

static int parse_sizes(const dtb_suite *suite, const run_args *a, bench_options *o, char *err,
                       size_t err_len)
{
    if (suite->bench_sizes_are_bytes)
        return parse_message_sizes(a, o, err, err_len);
    if (a->sizes && a->model) {
        snprintf(err, err_len, "--sizes and --model: give one of them");
        return -1;
    }
    const char *list = a->sizes ? a->sizes : a->model;
    char (*names)[PATH_MAX] = calloc(BENCH_MAX_SIZES, sizeof *names);
    int n = 0;
    if (!names) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (list) {
        if (split_list(a->sizes ? "--sizes" : "--model", list, names, BENCH_MAX_SIZES, &n, err,
                       err_len)) {
            free(names);
            return -1;
        }
    } else {
        for (int i = 0; i < suite->n_models && i < BENCH_MAX_SIZES; i++)
            snprintf(names[n++], PATH_MAX, "%s", suite->models[i]);
    }
    for (int i = 0; i < n; i++) {
        case_config probe;
        if (strlen(names[i]) >= sizeof o->sizes[i] || case_config_set_model(&probe, names[i]) != 0) {
            snprintf(err, err_len, "%s: unknown model '%s' (a name from dtbench list, "
                     "mlp-w<WIDTH> with WIDTH in %d..%d, or gpt2-w<C> with C in %d..%d by %d)",
                     a->sizes ? "--sizes" : "--model", names[i], MLP_WIDTH_FAMILY_MIN,
                     MLP_WIDTH_FAMILY_MAX, GPT2_WIDTH_FAMILY_MIN, GPT2_WIDTH_FAMILY_MAX,
                     GPT2_WIDTH_FAMILY_STEP);
            free(names);
            return -1;
        }
        snprintf(o->sizes[i], sizeof o->sizes[i], "%s", names[i]);
    }
    free(names);
    o->n_sizes = n;
    return 0;
}

static int parse_precisions(const dtb_suite *suite, const char *text, bench_options *o,
                            char *err, size_t err_len)
{
    o->n_precisions = 0;
    if (text && suite->n_precisions == 0) {
        snprintf(err, err_len, "--precision does not apply to the %s suite", suite->name);
        return -1;
    }
    if (!text) {
        for (int i = 0; i < suite->n_precisions && i < 2; i++)
            o->precisions[o->n_precisions++] = suite->precisions[i];
        return 0;
    }
    if (strcmp(text, "fp32") == 0) {
        o->precisions[o->n_precisions++] = DTB_PREC_FP32;
    } else if (strcmp(text, "bf16") == 0 || strcmp(text, "bf16-mixed") == 0) {
        o->precisions[o->n_precisions++] = DTB_PREC_BF16_MIXED;
    } else if (strcmp(text, "fp32,bf16") == 0 || strcmp(text, "fp32,bf16-mixed") == 0) {
        o->precisions[o->n_precisions++] = DTB_PREC_FP32;
        o->precisions[o->n_precisions++] = DTB_PREC_BF16_MIXED;
    } else {
        snprintf(err, err_len, "--precision: '%s' is not fp32, bf16 or fp32,bf16", text);
        return -1;
    }
    return 0;
}

/* MemAvailable of /proc/meminfo in bytes; -1 when unknown. */
static int64_t memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    char line[256];
    long long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
            break;
    fclose(f);
    return kib >= 0 ? (int64_t)kib * 1024 : -1;
}

/* Every rank of the largest world may use the whole budget at once: the
 * machine must have that much memory available, or the search would measure
 * swapping or the OOM killer instead of the implementation. */
static int check_budget_fits(const bench_options *o, char *err, size_t err_len)
{
    int np = 1;
    for (int i = 0; i < o->n_world_sizes; i++)
        np = o->world_sizes[i] > np ? o->world_sizes[i] : np;
    const int64_t avail = memory_available();
    if (avail > 0 && (double)o->mem_budget * np > 0.9 * (double)avail) {
        char b[32], a[32], need[32];
        bench_format_bytes((double)o->mem_budget, b, sizeof b);
        bench_format_bytes((double)o->mem_budget * np, need, sizeof need);
        bench_format_bytes((double)avail, a, sizeof a);
        snprintf(err, err_len, "--mem-budget %s per rank x %d ranks = %s, more than 90%% of the "
                 "%s this machine has available", b, np, need, a);
        return -1;
    }
    return 0;
}

static int parse_options(const dtb_suite *suite, const run_args *a, bench_options *o,
                         char *err, size_t err_len)
{
    if (a->steps) {
        snprintf(err, err_len, "--steps does not apply to benchmark suites (use --warmup and "
                 "--reps)");
        return -1;
    }
    if (a->strict || a->no_strict) {
        snprintf(err, err_len, "--%s applies to the conformance suites, not to %s",
                 a->strict ? "strict" : "no-strict", suite->name);
        return -1;
    }
    if (a->np) {
        if (cli_parse_np_list("--np", a->np, o->world_sizes, DTB_NP_LIST_MAX, &o->n_world_sizes,
                              err, err_len))
            return -1;
    } else {
        for (int i = 0; i < suite->n_world_sizes && i < DTB_NP_LIST_MAX; i++)
            o->world_sizes[o->n_world_sizes++] = suite->world_sizes[i];
    }
    int64_t v;
    o->warmup = BENCH_DEFAULT_WARMUP;
    if (a->warmup) {
        if (cli_parse_i64("--warmup", a->warmup, 0, BENCH_MAX_WARMUP, &v, err, err_len))
            return -1;
        o->warmup = (int)v;
    }
    o->reps = BENCH_DEFAULT_REPS;
    if (a->reps) {
        if (cli_parse_i64("--reps", a->reps, BENCH_MIN_REPS, BENCH_MAX_REPS, &v, err, err_len))
            return -1;
        o->reps = (int)v;
    }
    o->mem_budget = 0;
    if (a->mem_budget && !suite->bench_mem_budget) {
        snprintf(err, err_len, "--mem-budget applies to the memory suite, not to %s",
                 suite->name);
        return -1;
    }
    if (a->mem_budget &&
        (bench_parse_bytes("--mem-budget", a->mem_budget, &o->mem_budget, err, err_len) ||
         check_budget_fits(o, err, err_len)))
        return -1;
    o->seed = suite->seed;
    if (a->seed && cli_parse_u64("--seed", a->seed, &o->seed, err, err_len))
        return -1;
    return parse_precisions(suite, a->precision, o, err, err_len);
}

/* "ref-ddp,ref-zero1,..." for runs.impl; "dtbench-comm" when none. */
static void join_impls(const bench_options *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", o->n_impls ? "" : "dtbench-comm");
    size_t used = strlen(buf);
    for (int i = 0; i < o->n_impls && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", o->impls[i].name);
}

int cmd_run_bench(const dtb_suite *suite, const run_args *a, int argc, char **argv)
{
    char err[1536];
    bench_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return bad("out of memory");
    ctx->suite = suite;
    char plugins_dir[PATH_MAX], mpirun[PATH_MAX], why[1024];
    plugin_probe base;
    int rc = EXIT_BAD_INPUT;
    if (parse_options(suite, a, &ctx->opt, err, sizeof err) ||
        plugin_dir(plugins_dir, sizeof plugins_dir, err, sizeof err) ||
        load_impls(suite, a, plugins_dir, &ctx->opt, err, sizeof err) ||
        parse_sizes(suite, a, &ctx->opt, err, sizeof err) ||
        run_args_setup_env(a, &ctx->env, mpirun, sizeof mpirun, err, sizeof err)) {
        free(ctx);
        return bad(err);
    }
    if (plugin_resolve("baseline", plugins_dir, ctx->opt.baseline_path,
                       sizeof ctx->opt.baseline_path, why, sizeof why) ||
        plugin_probe_vet(ctx->opt.baseline_path, DTB_CAP_SINGLE_DEVICE | DTB_CASE_BASE_CAPS,
                         &base, why, sizeof why)) {
        snprintf(err, sizeof err, "the single-device baseline plugin is unusable: %s", why);
        free(ctx);
        return bad(err);
    }
    if ((suite->bench_plan && suite->bench_plan(ctx, err, sizeof err)) ||
        world_probe(&ctx->env, err, sizeof err)) {
        free(ctx);
        return bad(err);
    }
    run_recording rec;
    if (run_recording_open(&rec, a->db, err, sizeof err)) {
        free(ctx);
        return bad(err);
    }
    FILE *tap = stdout;
    if (a->tap && !(tap = fopen(a->tap, "w"))) {
        snprintf(err, sizeof err, "--tap: cannot write %s: %s", a->tap, strerror(errno));
        run_recording_abandon(&rec);
        free(ctx);
        return bad(err);
    }
    char impls[BENCH_MAX_IMPLS * 66];
    join_impls(&ctx->opt, impls, sizeof impls);
    if (run_recording_begin(&rec, suite->name, impls, NULL, argc, argv, err, sizeof err)) {
        run_recording_abandon(&rec);
        if (tap != stdout)
            fclose(tap);
        free(ctx);
        return bad(err);
    }
    tap_writer tw;
    tap_begin(&tw, tap);
    ctx->tap = &tw;
    ctx->record = run_recording_record;
    ctx->record_ctx = &rec;
    double start = monotonic_seconds();
    int driver_rc = suite->bench_main(ctx);
    tap_end(&tw);
    int record_failed = run_recording_finish(&rec, ctx->n_planned, stderr) != 0;
    run_recording_close(&rec);
    int write_failed = ferror(tap);
    if (tap != stdout && fclose(tap) != 0)
        write_failed = 1;
    fprintf(stderr, "dtbench: suite %s (%s): %d case%s, %d test points: %d passed, %d failed, "
                    "%d skipped in %.1f s\n",
            suite->name, impls, ctx->cases, ctx->cases == 1 ? "" : "s", ctx->points, ctx->passed,
            ctx->failed, ctx->skipped, monotonic_seconds() - start);
    /* "all passed" needs something measured: a driver whose plan ran no
     * case has checked nothing. */
    int nothing = ctx->points == 0;
    fprintf(stderr, "dtbench: %s\n", ctx->failed || driver_rc ? "FAILED"
                                     : nothing                ? "nothing was measured"
                                                              : "all passed");
    if (write_failed)
        fprintf(stderr, "dtbench: writing the TAP output failed\n");
    if (record_failed || driver_rc || nothing)
        rc = EXIT_BAD_INPUT;
    else if (ctx->failed || write_failed)
        rc = EXIT_CHECKS_FAILED;
    else
        rc = 0;
    free(ctx);
    return rc;
}
