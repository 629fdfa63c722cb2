/*
 * `dtbench run`: validate every input up front (suite, implementation,
 * baseline, model, world sizes, mpirun and a one-rank probe world of it,
 * hostfile, TMPDIR, results database, TAP file), so bad input is one line
 * and exit 2 before any case runs and leaves no new database; then
 * plan, run (recording each case in the results database), summarise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_parse.h"
#include "cmd_run_bench.h"
#include "commands.h"
#include "gpt_configs.h"
#include "plan.h"
#include "plugin_loader.h"
#include "plugin_probe.h"
#include "registry.h"
#include "run.h"
#include "run_args.h"
#include "run_record.h"
#include "sweep.h"
#include "world_probe.h"


void usage_run(FILE *f)
{
    fprintf(f,
            "usage: dtbench run --suite NAME [options]\n"
            "\n"
            "Runs every case of a suite against an implementation and writes TAP version 13\n"
            "(one test point per check) to stdout or --tap FILE, a summary to stderr.\n"
            "Every run is recorded in a SQLite results database (docs/results.md).\n"
            "Exit status: 0 all passed, 1 a check failed, 2 bad input (or the run could not\n"
            "be recorded).\n"
            "\n"
            "  --suite NAME       suite to run (see dtbench list)\n"
            "  --impl NAME|PATH   implementation: a plugin name from the plugins directory,\n"
            "                     a path to a .so, a Python module (py:NAME for the peers\n"
            "                     dtbench ships, or a path to a .py; docs/python.md)\n"
            "                     (default: the suite's, e.g. ref-ddp)\n"
            "  --np LIST          world sizes instead of the suite's: 1,2,4 or 1-4 (1..%d)\n"
            "  --model NAME       run only this model (see dtbench list)\n"
            "  --steps N          optimizer steps per case instead of the suite's\n"
            "  --seed N           data and init seed instead of the suite's\n"
            "  --timeout SEC      limit per rank world (default 120)\n"
            "  --strict           also hold the implementation to the reference's exact\n"
            "                     communication (calls and bytes per collective) and memory\n"
            "                     (its padding and units): the default for dtbench's own\n"
            "                     plugins, found by name; any plugin is judged by volume\n"
            "                     and by the ZeRO formulas (docs/plugins.md)\n"
            "  --no-strict        the neutral checks only, also for dtbench's own plugins\n"
            "  --seeds N          seed sweep: the whole matrix for each of N seeds derived\n"
            "                     from the suite's seed (or --seed's); the summary gives the\n"
            "                     failed cases / cases run (over a correct implementation:\n"
            "                     the false-positive rate), the seeds with a failure and the\n"
            "                     worst error/tolerance ratio (docs/tolerance.md)\n"
            "\n"
            "Benchmark suites (throughput, memory, comm; docs/benchmarks.md) also take:\n"
            "  --impl LIST        implementations, comma-separated (default: the suite's,\n"
            "                     ref-ddp,ref-zero1,ref-zero2,ref-zero3)\n"
            "  --sizes LIST       models, comma-separated, instead of the suite's; named\n"
            "                     configurations or mlp-w<WIDTH> (see dtbench list); for\n"
            "                     comm, message sizes (4K,1M,64MiB)\n"
            "  --precision LIST   fp32, bf16 or fp32,bf16 instead of the suite's\n"
            "  --warmup N         untimed repetitions first (default 2)\n"
            "  --reps N           timed repetitions, at least 5 (default 5)\n"
            "  --mem-budget SIZE  memory: find the largest model per stage within SIZE per\n"
            "                     rank (8G, 512M, 2GiB)\n"
            "  --tap FILE         write TAP to FILE instead of stdout\n"
            "  --db FILE          results database (default: $DTBENCH_DB, else\n"
            "                     ./dtbench-results.db); $DTBENCH_DB_TIMEOUT: seconds to\n"
            "                     wait for a locked database (default 30)\n"
            "  --keep             keep each world's directory (rank files, log) and print it\n"
            "  --hostfile FILE    passed to mpirun, to spread ranks over machines\n"
            "  --mpirun PATH      mpirun to use (default: $DTB_MPIRUN, else mpirun in PATH)\n"
            "  --help             this text\n",
            DTB_NP_MAX);
}

static int bad(const char *msg)
{
    fprintf(stderr, "dtbench: %s\n", msg);
    return EXIT_BAD_INPUT;
}

/* --np, --model, --steps, --seed into plan overrides (storage in np_buf). */
static int parse_overrides(const run_args *a, plan_overrides *ov, int *np_buf, char *err,
                           size_t err_len)
{
    memset(ov, 0, sizeof *ov);
    if (a->np) {
        if (cli_parse_np_list("--np", a->np, np_buf, DTB_NP_LIST_MAX, &ov->n_world_sizes, err,
                              err_len))
            return -1;
        ov->world_sizes = np_buf;
    }
    if (a->model) {
        ov->model = mlp_config_find(a->model);
        if (!ov->model && gpt_config_find(a->model)) {
            snprintf(err, err_len, "--model: %s is a GPT; the conformance suites judge MLPs "
                     "only so far (the throughput and memory suites take GPTs with --sizes)",
                     a->model);
            return -1;
        }
        if (!ov->model) {
            snprintf(err, err_len, "--model: unknown model '%s' (see dtbench list)", a->model);
            return -1;
        }
    }
    if (a->steps && cli_parse_i64("--steps", a->steps, 1, 100000, &ov->steps, err, err_len))
        return -1;
    if (a->seed) {
        if (cli_parse_u64("--seed", a->seed, &ov->seed, err, err_len))
            return -1;
        ov->has_seed = 1;
    }
    return 0;
}

/* The baseline must take every optimizer of the suite, one rank, fp32. */
static int load_baseline(const dtb_suite *suite, const char *plugins_dir, char *path,
                         size_t path_len, char *err, size_t err_len)
{
    char why[1024];
    plugin_probe p;
    uint64_t caps = DTB_CAP_SINGLE_DEVICE | DTB_CASE_BASE_CAPS | DTB_CAP_FP32;
    for (int o = 0; o < suite->n_recipes; o++)
        caps |= recipe_caps(&suite->recipes[o]);
    if (plugin_resolve("baseline", plugins_dir, path, path_len, why, sizeof why) != 0 ||
        plugin_probe_vet(path, caps, &p, why, sizeof why) != 0) {
        snprintf(err, err_len, "the fp32 baseline plugin is unusable: %s", why);
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    const cli_option opts[] = {
        {"suite", &a.suite, NULL},     {"impl", &a.impl, NULL},     {"np", &a.np, NULL},
        {"model", &a.model, NULL},     {"steps", &a.steps, NULL},   {"seed", &a.seed, NULL},
        {"timeout", &a.timeout, NULL}, {"tap", &a.tap, NULL},       {"hostfile", &a.hostfile, NULL},
        {"mpirun", &a.mpirun, NULL},   {"keep", NULL, &a.keep},     {"help", NULL, &a.help},
        {"strict", NULL, &a.strict},   {"no-strict", NULL, &a.no_strict},
        {"db", &a.db, NULL},           {"sizes", &a.sizes, NULL},   {"precision", &a.precision, NULL},
        {"warmup", &a.warmup, NULL},   {"reps", &a.reps, NULL},     {"mem-budget", &a.mem_budget, NULL},
        {"seeds", &a.seeds, NULL},
    };
    char err[1536];
    if (cli_parse_options("run", argc, argv, opts, sizeof opts / sizeof opts[0], err,
                          sizeof err))
        return bad(err);
    if (a.help) {
        usage_run(stdout);
        return 0;
    }
    if (!a.suite)
        return bad("run: --suite NAME is required (see dtbench list)");
    const dtb_suite *suite = suite_find(a.suite);
    if (!suite) {
        snprintf(err, sizeof err, "--suite: unknown suite '%s' (see dtbench list)", a.suite);
        return bad(err);
    }
    if (suite->kind == DTB_SUITE_BENCH) {
        if (a.seeds) {
            snprintf(err, sizeof err, "--seeds applies to the conformance suites, not to %s",
                     suite->name);
            return bad(err);
        }
        return cmd_run_bench(suite, &a, argc, argv);
    }
    const char *bench_only = a.sizes        ? "--sizes"
                             : a.precision  ? "--precision"
                             : a.warmup     ? "--warmup"
                             : a.reps       ? "--reps"
                             : a.mem_budget ? "--mem-budget"
                                            : NULL;
    if (bench_only) {
        snprintf(err, sizeof err, "%s applies to the benchmark suites (throughput, memory, "
                 "comm), not to %s", bench_only, suite->name);
        return bad(err);
    }
    if (a.strict && a.no_strict)
        return bad("--strict and --no-strict contradict each other");
    plan_overrides ov;
    int np_buf[DTB_NP_LIST_MAX];
    if (parse_overrides(&a, &ov, np_buf, err, sizeof err))
        return bad(err);
    int64_t seeds = 0;
    if (a.seeds && cli_parse_i64("--seeds", a.seeds, 1, SWEEP_MAX_SEEDS, &seeds, err, sizeof err))
        return bad(err);

    char plugins_dir[PATH_MAX], impl_path[PATH_MAX], baseline_path[PATH_MAX];
    char mpirun[PATH_MAX];
    plugin_probe impl; /* vetted in a child: this process never runs plugin code */
    const char *impl_arg = a.impl ? a.impl : suite->default_impl;
    run_config rc;
    memset(&rc, 0, sizeof rc);
    if (plugin_dir(plugins_dir, sizeof plugins_dir, err, sizeof err) ||
        plugin_resolve(impl_arg, plugins_dir, impl_path, sizeof impl_path, err, sizeof err) ||
        plugin_probe_vet(impl_path, plan_required_caps(suite), &impl, err, sizeof err) ||
        load_baseline(suite, plugins_dir, baseline_path, sizeof baseline_path, err,
                      sizeof err) ||
        run_args_setup_env(&a, &rc.env, mpirun, sizeof mpirun, err, sizeof err))
        return bad(err);

    dtb_case *cases = NULL;
    int n_cases = 0;
    if (seeds ? plan_sweep(suite, &ov, (int)seeds, &cases, &n_cases, err, sizeof err)
              : plan_cases(suite, &ov, &cases, &n_cases, err, sizeof err))
        return bad(err);
    if (n_cases == 0 || world_probe(&rc.env, err, sizeof err)) {
        if (n_cases == 0)
            snprintf(err, sizeof err, "suite %s has no case for these options: nothing would "
                     "be measured", suite->name);
        free(cases);
        return bad(err);
    }
    run_recording rec;
    if (run_recording_open(&rec, a.db, err, sizeof err)) {
        free(cases);
        return bad(err);
    }
    FILE *tap = stdout;
    if (a.tap && !(tap = fopen(a.tap, "w"))) {
        snprintf(err, sizeof err, "--tap: cannot write %s: %s", a.tap, strerror(errno));
        run_recording_abandon(&rec);
        free(cases);
        return bad(err);
    }
    if (run_recording_begin(&rec, suite->name, impl.name, impl.version, argc,
                            argv, err, sizeof err)) {
        run_recording_abandon(&rec);
        if (tap != stdout)
            fclose(tap);
        free(cases);
        return bad(err);
    }
    rc.suite = suite;
    rc.strict = a.strict || (!a.no_strict && plugin_is_ours(impl_path, plugins_dir));
    rc.sweep_seeds = (int)seeds;
    rc.sweep_base = ov.has_seed ? ov.seed : suite->seed;
    rc.cases = cases;
    rc.n_cases = n_cases;
    rc.impl_path = impl_path;
    rc.impl_name = impl.name;
    rc.impl_caps_known = 1;
    rc.impl_caps = impl.caps;
    rc.baseline_path = baseline_path;
    rc.tap = tap;
    rc.observer = run_recording_observe;
    rc.observer_ctx = &rec;
    run_summary s;
    run_suite(&rc, &s);
    int record_failed = run_recording_finish(&rec, n_cases, stderr) != 0;
    run_recording_close(&rec);
    int write_failed = ferror(tap);
    if (tap != stdout && fclose(tap) != 0)
        write_failed = 1;
    free(cases);
    if (write_failed)
        snprintf(s.caveat, sizeof s.caveat, "the TAP output could not be written");
    else if (record_failed)
        snprintf(s.caveat, sizeof s.caveat,
                 "the results were not all recorded (above): this run is not a pass");
    run_summary_print(&rc, &s, stderr);
    if (write_failed) {
        fprintf(stderr, "dtbench: writing the TAP output failed\n");
        return EXIT_CHECKS_FAILED;
    }
    if (record_failed)
        return EXIT_BAD_INPUT;
    return s.failed ? EXIT_CHECKS_FAILED : 0;
}
