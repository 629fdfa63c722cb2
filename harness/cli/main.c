/*
 * dtbench: conformance and benchmark suites for data-parallel training.
 *
 *   dtbench run --suite NAME [options]   run a suite, TAP on stdout
 *   dtbench list [--suite NAME]          suites, models, implementations; a suite's recipe
 *   dtbench plugin-check PLUGIN          does a plugin work? its first problem, in seconds
 *   dtbench bench-step [options]         the baseline step's FLOP rate vs sgemm
 *   dtbench runs|show|compare|gate|tag|export   the results database
 *   dtbench report --out DIR [--run REF]...     benchmark results: tables and plots
 *   dtbench trajectory --model M --recipe R --out DIR   golden trajectory as .npy files
 *   dtbench checkpoint DIR... | --latest ROOT    verify canonical checkpoints
 *   dtbench help [COMMAND]               usage
 *   dtbench worker ...                   (internal) one rank, under mpirun
 *   dtbench worker-comm ...              (internal) one rank of a comm benchmark
 *   dtbench worker-probe --out DIR       (internal) can the launcher start a rank?
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_peak.h"
#include "cmd_results.h"
#include "commands.h"
#include "comm_worker.h"
#include "step_bench.h"
#include "worker.h"
#include "world_probe.h"

void usage_main(FILE *f)
{
    fprintf(f, "usage: dtbench COMMAND [options]\n"
               "\n"
               "commands:\n"
               "  run           run a suite against an implementation (dtbench run --help)\n"
               "  list          list suites, models and implementations; a suite's recipe\n"
               "  plugin-check  load a plugin safely and run one small case per capability\n"
               "  bench-step    time the fp32 baseline step against the BLAS's sgemm\n"
               "  runs          list the runs recorded in the results database\n"
               "  show          show one recorded run: cases, checks, metrics\n"
               "  compare       compare two recorded runs, metric by metric\n"
               "  gate          exit 1 when a run regressed against a baseline run\n"
               "  tag           name a recorded run (e.g. a baseline)\n"
               "  export        write recorded samples as CSV\n"
               "  report        write a report of benchmark results: tables, gnuplot plots\n"
               "  trajectory    write a golden trajectory (data, references, tolerance) as .npy\n"
               "  checkpoint    verify a canonical checkpoint and say what it holds\n"
               "  help          show the usage of a command: dtbench help run\n"
               "\n"
               "Every run is recorded in ./dtbench-results.db (--db FILE or DTBENCH_DB choose\n"
               "another); see docs/results.md.\n"
               "Exit status: 0 all passed, 1 a check failed (gate: a regression), 2 bad input.\n");
}

static int is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

static int cmd_help(int argc, char **argv)
{
    if (argc == 0) {
        usage_main(stdout);
        return 0;
    }
    /* Checked first: every branch below reads argv[0] alone. */
    if (argc > 1) {
        fprintf(stderr, "dtbench: help: unexpected extra argument '%s' (usage: dtbench help "
                        "[COMMAND])\n", argv[1]);
        return EXIT_BAD_INPUT;
    }
    if (argc == 1 && strcmp(argv[0], "run") == 0) {
        usage_run(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        usage_list(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "plugin-check") == 0) {
        usage_plugin_check(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "bench-step") == 0) {
        char *help[] = {"--help"};
        return step_bench_main(1, help);
    }
    if (argc == 1 && strcmp(argv[0], "report") == 0) {
        usage_report(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "trajectory") == 0) {
        usage_trajectory(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "checkpoint") == 0) {
        usage_checkpoint(stdout);
        return 0;
    }
    static const struct {
        const char *name;
        void (*usage)(FILE *);
    } results_commands[] = {{"runs", usage_runs},   {"show", usage_show},
                            {"compare", usage_compare}, {"gate", usage_gate},
                            {"tag", usage_tag},     {"export", usage_export}};
    for (size_t i = 0; argc == 1 && i < sizeof results_commands / sizeof results_commands[0];
         i++)
        if (strcmp(argv[0], results_commands[i].name) == 0) {
            results_commands[i].usage(stdout);
            return 0;
        }
    fprintf(stderr, "dtbench: help: unknown command '%s' (commands: run, list, plugin-check, "
                    "bench-step, runs, show, compare, gate, tag, export, report, trajectory, "
                    "checkpoint)\n",
            argv[0]);
    return EXIT_BAD_INPUT;
}

/* OpenBLAS's pthreads and the OpenMP threads of the CPU backend's
 * element-wise loops share the cores; libgomp's default of spinning while it
 * waits steals them from the BLAS (measured: the mlp-1m step 1.8x slower on
 * 2 cores). libgomp reads OMP_WAIT_POLICY only when it loads, so when the
 * user has not chosen one, dtbench sets "passive" and re-executes itself
 * once. Rank workers inherit it through mpirun. */
static void prefer_passive_openmp(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") != NULL)
        return;
    if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with the default policy, just slower */
}

int main(int argc, char **argv)
{
    prefer_passive_openmp(argv);
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    if (strcmp(cmd, "plugin-check") == 0)
        return cmd_plugin_check(argc - 2, argv + 2);
    if (strcmp(cmd, "bench-step") == 0)
        return step_bench_main(argc - 2, argv + 2);
    if (strcmp(cmd, "worker") == 0)
        return worker_main(argc - 2, argv + 2);
    if (strcmp(cmd, "worker-peak") == 0)
        return bench_peak_worker_main(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 2, argv + 2);
    if (strcmp(cmd, "trajectory") == 0)
        return cmd_trajectory(argc - 2, argv + 2);
    if (strcmp(cmd, "checkpoint") == 0)
        return cmd_checkpoint(argc - 2, argv + 2);
    if (strcmp(cmd, "worker-comm") == 0)
        return comm_worker_main(argc - 2, argv + 2);
    if (strcmp(cmd, "worker-probe") == 0)
        return world_probe_main(argc - 2, argv + 2);
    static const struct {
        const char *name;
        int (*main)(int, char **);
    } results_commands[] = {{"runs", cmd_runs}, {"show", cmd_show}, {"compare", cmd_compare},
                            {"gate", cmd_gate}, {"tag", cmd_tag},   {"export", cmd_export}};
    for (size_t i = 0; i < sizeof results_commands / sizeof results_commands[0]; i++)
        if (strcmp(cmd, results_commands[i].name) == 0)
            return results_commands[i].main(argc - 2, argv + 2);
    if (is_help(cmd))
        return cmd_help(argc - 2, argv + 2);
    fprintf(stderr, "dtbench: unknown command '%s' (see dtbench --help)\n", cmd);
    return EXIT_BAD_INPUT;
}
