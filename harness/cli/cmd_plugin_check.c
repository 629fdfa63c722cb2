/*
 * `dtbench plugin-check PLUGIN`: whether a plugin works, and its first
 * problem, in seconds. Every input is validated up front (one line, exit 2);
 * the plugin is loaded and vetted in a child process only (plugin_probe.h),
 * so one that crashes or exits while loading is one line and exit 2, and
 * this process never loads it; then what it declares is printed, one small
 * case per declared capability is planned (plan_caps.h, from the template
 * suites/plugin_check.c) and run through the judge's run loop, one line per
 * case, and a last line: passed, or the first problem again. No results
 * database; TAP only with --tap FILE. Exit: 0 every case passed, 1 a check
 * failed, 2 bad input or a plugin that does not load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "commands.h"
#include "plan_caps.h"
#include "plugin_check.h"
#include "plugin_declaration.h"
#include "plugin_loader.h"
#include "plugin_probe.h"
#include "results_cli.h"
#include "run.h"
#include "run_args.h"

/* Per rank world (and for loading the plugin), unless --timeout. */
#define PLUGIN_CHECK_TIMEOUT_S 60.0

void usage_plugin_check(FILE *f)
{
    fprintf(f,
            "usage: dtbench plugin-check PLUGIN [options]\n"
            "\n"
            "Tells whether a plugin works and what its first problem is. PLUGIN is a path\n"
            "to a .so or a name from the plugins directory (as --impl takes). The plugin is\n"
            "loaded and vetted in a child process (a plugin that crashes or exits while\n"
            "loading is one line and exit 2); what it declares is printed (name, version,\n"
            "ABI, capabilities, optional functions, which suites would take it); then one\n"
            "small case per declared capability runs through the same checks as\n"
            "`dtbench run`: each stage, then on the first stage each other precision and\n"
            "optimizer, clipping that bites, gradient accumulation (2 micro-batches) and an\n"
            "uneven batch, each as declared; mlp-odd, 3 steps, 4 samples per rank and\n"
            "micro-batch, np 2 (a single-device stage at np 1). One line per case, then\n"
            "\"plugin-check: NAME passed N cases in T s\" or the first problem again. A\n"
            "world that hangs past --timeout ends the check (the later cases would hang\n"
            "too). Nothing is recorded in the results database.\n"
            "Exit status: 0 every case passed, 1 a check failed, 2 bad input or a plugin\n"
            "that does not load.\n"
            "\n"
            "  --np LIST          world sizes of the distributed stages instead of 2:\n"
            "                     1,2,4 or 1-4 (1..%d)\n"
            "  --timeout SEC      limit per rank world and for loading (default %.0f)\n"
            "  --strict           also the reference's exact communication and memory checks\n"
            "                     (the default for dtbench's own plugins, as `dtbench run`)\n"
            "  --no-strict        the implementation-neutral checks only\n"
            "  --keep             keep each world's directory (rank files, log) and print it\n"
            "  --tap FILE         write the TAP stream, with every diagnostic, to FILE\n"
            "  --hostfile FILE    passed to mpirun, to spread ranks over machines\n"
            "  --mpirun PATH      mpirun to use (default: $DTB_MPIRUN, else mpirun in PATH)\n"
            "  --help             this text\n",
            DTB_NP_MAX, PLUGIN_CHECK_TIMEOUT_S);
}

static int bad(const char *msg)
{
    fprintf(stderr, "dtbench: plugin-check: %s\n", msg);
    return EXIT_BAD_INPUT;
}

/* What the observer keeps across cases. */
typedef struct check_progress {
    FILE *out;
    int passed, failed;
    char first_problem[1400];      /* "<case>: <check>: <message>" of the first failure */
    /* Set once a case's world hung past the timeout: every later case would
     * most likely hang too, each costing a whole timeout (run.h's stop). */
    int stop;
} check_progress;

/* The message of a failed check on one line (newlines as spaces). */
static void problem_text(const check_result *c, char *buf, size_t len)
{
    const char *msg = diag_get_text(&c->diag, "message");
    snprintf(buf, len, "%s: %s", c->name, msg ? msg : "failed");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* One line per finished case: "ok  LABEL  (T s)" or "FAIL LABEL  (T s)  first
 * problem: CHECK: MESSAGE"; checks skipped by the checks themselves (say, a
 * plugin that reports no gradient norm) are named after an ok. */
static void observe_case(void *ctx, const case_result *r)
{
    check_progress *pr = ctx;
    char label[192], problem[1100] = "";
    capability_case_label(r->cs, label, sizeof label);
    const check_result *first_fail = NULL, *first_skip = NULL;
    int skipped = 0;
    for (int i = 0; i < r->checks.n; i++) {
        const check_result *c = &r->checks.items[i];
        if (c->status == CHECK_FAIL && !first_fail)
            first_fail = c;
        if (c->status == CHECK_SKIP) {
            skipped++;
            if (!first_skip)
                first_skip = c;
        }
    }
    if (first_fail) {
        problem_text(first_fail, problem, sizeof problem);
        fprintf(pr->out, "FAIL %s  (%.1f s)  first problem: %s\n", label, r->seconds, problem);
        if (pr->failed++ == 0)
            snprintf(pr->first_problem, sizeof pr->first_problem, "%s: %s", label, problem);
        pr->stop = r->run1.launch.kind == LAUNCH_TIMED_OUT ||
                   (r->completed && r->run2.launch.kind == LAUNCH_TIMED_OUT);
    } else {
        fprintf(pr->out, "ok  %s  (%.1f s)", label, r->seconds);
        if (first_skip)
            fprintf(pr->out, "  [%d check%s skipped: %s: %s]", skipped, skipped == 1 ? "" : "s",
                    first_skip->name, first_skip->skip_reason);
        fputc('\n', pr->out);
        pr->passed++;
    }
    fflush(pr->out);
}

/* The fp32 baseline the references come from: ours, vetted in a child. */
static int load_baseline(const char *plugins_dir, char *path, size_t path_len, char *err,
                         size_t err_len)
{
    char why[1024];
    plugin_probe p;
    if (plugin_resolve("baseline", plugins_dir, path, path_len, why, sizeof why) != 0 ||
        plugin_probe_vet(path, DTB_CAP_SINGLE_DEVICE | DTB_CASE_BASE_CAPS | DTB_CAP_FP32, &p,
                         why, sizeof why) != 0) {
        snprintf(err, err_len, "the fp32 baseline plugin is unusable: %s", why);
        return -1;
    }
    return 0;
}

/* Runs the planned cases, TAP into tap (closed here); the exit status. */
static int run_cases(const plugin_probe *probe, const char *impl_path,
                     const char *baseline_path, const world_env *env, int strict, FILE *tap,
                     const char *tap_path, const dtb_case *cases, int n_cases)
{
    check_progress pr = {.out = stdout, .passed = 0, .failed = 0, .first_problem = "", .stop = 0};
    run_config rc;
    memset(&rc, 0, sizeof rc);
    rc.suite = &dtb_suite_plugin_check;
    rc.strict = strict;
    rc.cases = cases;
    rc.n_cases = n_cases;
    rc.impl_path = impl_path;
    rc.impl_name = probe->name;
    rc.impl_caps_known = 1;
    rc.impl_caps = probe->caps;
    rc.baseline_path = baseline_path;
    rc.env = *env;
    rc.tap = tap;
    rc.observer = observe_case;
    rc.observer_ctx = &pr;
    rc.stop = &pr.stop;
    run_summary s;
    run_suite(&rc, &s);
    int write_failed = ferror(tap) != 0;
    if (fclose(tap) != 0)
        write_failed = 1;
    int not_run = n_cases - s.cases;
    if (not_run > 0)
        printf("(%d more case%s not run: a world hung past the timeout, and every later case "
               "would most likely hang too)\n", not_run, not_run == 1 ? "" : "s");
    char planned[48] = "";
    if (not_run > 0)
        snprintf(planned, sizeof planned, " run (%d planned)", n_cases);
    if (pr.failed)
        printf("plugin-check: %s FAILED %d of %d cases%s in %.1f s; first problem: %s\n",
               probe->name, pr.failed, s.cases, planned, s.seconds, pr.first_problem);
    else if (s.skipped)
        printf("plugin-check: %s passed %d case%s in %.1f s, but %d check%s skipped (first: "
               "%s): not everything was judged\n", probe->name, pr.passed,
               pr.passed == 1 ? "" : "s", s.seconds, s.skipped, s.skipped == 1 ? " was" : "s were",
               s.first_skip);
    else
        printf("plugin-check: %s passed %d case%s in %.1f s\n", probe->name, pr.passed,
               pr.passed == 1 ? "" : "s", s.seconds);
    if (write_failed && tap_path) {
        fprintf(stderr, "dtbench: plugin-check: writing the TAP output to %s failed\n",
                tap_path);
        return EXIT_CHECKS_FAILED;
    }
    return pr.failed ? EXIT_CHECKS_FAILED : 0;
}

int cmd_plugin_check(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    const cli_option opts[] = {
        {"np", &a.np, NULL},         {"timeout", &a.timeout, NULL},   {"keep", NULL, &a.keep},
        {"tap", &a.tap, NULL},       {"hostfile", &a.hostfile, NULL}, {"mpirun", &a.mpirun, NULL},
        {"strict", NULL, &a.strict}, {"no-strict", NULL, &a.no_strict}, {"help", NULL, &a.help},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    char err[1536];
    const char *pos[1];
    int n_pos, n_rest;
    char *rest[RESULTS_CLI_MAX_ARGS];
    /* The positional PLUGIN beside options, as the results commands take REF. */
    if (results_cli_split("plugin-check", argc, argv, opts, n_opts, pos, 1, &n_pos, rest,
                          &n_rest, err, sizeof err) ||
        cli_parse_options("plugin-check", n_rest, rest, opts, n_opts, err, sizeof err)) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (a.help) {
        usage_plugin_check(stdout);
        return 0;
    }
    if (n_pos != 1)
        return bad("which plugin? (dtbench plugin-check PLUGIN: a path to a .so or a name "
                   "from dtbench list)");
    if (a.strict && a.no_strict)
        return bad("--strict and --no-strict contradict each other");
    int np_buf[DTB_NP_LIST_MAX], n_np = 0;
    if (a.np &&
        cli_parse_np_list("--np", a.np, np_buf, DTB_NP_LIST_MAX, &n_np, err, sizeof err))
        return bad(err);

    char plugins_dir[PATH_MAX], impl_path[PATH_MAX], baseline_path[PATH_MAX];
    char mpirun[PATH_MAX];
    world_env env;
    if (plugin_dir(plugins_dir, sizeof plugins_dir, err, sizeof err) ||
        plugin_resolve(pos[0], plugins_dir, impl_path, sizeof impl_path, err, sizeof err) ||
        run_args_setup_env(&a, &env, mpirun, sizeof mpirun, err, sizeof err))
        return bad(err);
    if (!a.timeout)
        env.timeout_s = PLUGIN_CHECK_TIMEOUT_S;
    /* The child is forked before this process dlopens anything more (the
     * baseline): the fewer threads and locks there are, the safer a fork. */
    plugin_probe probe;
    if (plugin_probe_load(impl_path, env.timeout_s, &probe, err, sizeof err) ||
        load_baseline(plugins_dir, baseline_path, sizeof baseline_path, err, sizeof err))
        return bad(err);
    dtb_case *cases = NULL;
    int n_cases = 0;
    char why[1024];
    if (plan_capability_cases(&dtb_suite_plugin_check, probe.caps, a.np ? np_buf : NULL, n_np,
                              &cases, &n_cases, why, sizeof why)) {
        char caps[512];
        plugin_caps_format(probe.caps, caps, sizeof caps);
        snprintf(err, sizeof err, "plugin '%.128s' (%.512s) cannot be checked: %.400s; it "
                 "declares %.300s",
                 probe.name, impl_path, why, caps);
        return bad(err);
    }

    /* No TAP unless asked: the run loop writes it, to /dev/null by default. */
    FILE *tap = fopen(a.tap ? a.tap : "/dev/null", "w");
    if (!tap) {
        free(cases);
        snprintf(err, sizeof err, "--tap: cannot write %.1400s", a.tap ? a.tap : "/dev/null");
        return bad(err);
    }
    plugin_declaration_print(impl_path, &probe, stdout);
    uint64_t exercised = 0;
    for (int i = 0; i < n_cases; i++)
        exercised |= cases[i].cfg.required_caps;
    plugin_unexercised_print(probe.caps, exercised, stdout);
    const dtb_suite *t = &dtb_suite_plugin_check;
    /* As `dtbench run` judges: ours strictly, anyone's by the neutral checks. */
    int strict = a.strict || (!a.no_strict && plugin_is_ours(impl_path, plugins_dir));
    printf("cases: %s, %lld steps, seed %llu, timeout %g s per world, %s checks%s\n",
           t->models[0], (long long)t->steps, (unsigned long long)t->seed, env.timeout_s,
           strict ? "strict" : "neutral", a.tap ? "" : " (--tap FILE for every diagnostic)");
    int rc = run_cases(&probe, impl_path, baseline_path, &env, strict, tap, a.tap, cases,
                       n_cases);
    free(cases);
    return rc;
}
