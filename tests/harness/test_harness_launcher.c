/* launcher.h: exit status, signal, timeout (SIGTERM, then SIGKILL for a
 * command that ignores it) within bounded time, the group's stragglers
 * killed, a command that cannot start, log capture and its tail. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "launcher.h"

/* Alive and not a zombie (a container's init may never reap orphans). */
static int process_alive(int pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static char dir[] = "/tmp/dtbench-launcher-XXXXXX";

static void run_sh(const char *script, double timeout, launch_result *r, const char *log)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    char *env[] = {"DTB_LAUNCHER_TEST=yes", NULL};
    launch_run(argv, env, log, timeout, r);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    char log[256], pidfile[256], cmd[512], buf[256];
    snprintf(log, sizeof log, "%s/log", dir);
    snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
    launch_result r;

    run_sh("echo out; echo err >&2; echo $DTB_LAUNCHER_TEST; exit 0", 10, &r, log);
    CHECK(r.kind == LAUNCH_EXITED && r.exit_code == 0);
    char *tail = launch_log_tail(log, 10, 4096);
    CHECK(tail && strcmp(tail, "out\nerr\nyes") == 0);
    free(tail);

    run_sh("exit 3", 10, &r, log);
    CHECK(r.kind == LAUNCH_EXITED && r.exit_code == 3);
    launch_describe(&r, 10, buf, sizeof buf);
    CHECK(strcmp(buf, "exited with status 3") == 0);

    run_sh("kill -SEGV $$", 10, &r, log);
    CHECK(r.kind == LAUNCH_SIGNALED && r.signal == SIGSEGV);
    launch_describe(&r, 10, buf, sizeof buf);
    CHECK(strcmp(buf, "killed by signal 11 (SIGSEGV)") == 0);

    run_sh("sleep 30", 0.5, &r, log);
    CHECK(r.kind == LAUNCH_TIMED_OUT && !r.needed_sigkill);
    CHECK(r.seconds >= 0.5 && r.seconds < 1.5);
    launch_describe(&r, 0.5, buf, sizeof buf);
    CHECK(strcmp(buf, "timed out after 0.5 s") == 0);

    run_sh("trap '' TERM; while :; do sleep 0.1; done", 0.3, &r, log);
    CHECK(r.kind == LAUNCH_TIMED_OUT && r.needed_sigkill);
    CHECK(r.seconds >= 0.3 + LAUNCH_TERM_GRACE_S && r.seconds < 0.3 + LAUNCH_TERM_GRACE_S + 1.5);

    /* A background child left in the group is killed when the leader exits. */
    snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; exit 0", pidfile);
    run_sh(cmd, 10, &r, log);
    CHECK(r.kind == LAUNCH_EXITED && r.exit_code == 0);
    FILE *f = fopen(pidfile, "r");
    int pid = 0;
    CHECK(f && fscanf(f, "%d", &pid) == 1);
    if (f)
        fclose(f);
    usleep(100000);
    CHECK(pid > 0 && !process_alive(pid));

    char *missing[] = {"/nonexistent/dtbench-no-such-command", NULL};
    CHECK(launch_run(missing, NULL, log, 10, &r) != 0);
    CHECK(r.kind == LAUNCH_FAILED);
    CHECK_CONTAINS(r.error, "cannot run /nonexistent/dtbench-no-such-command");
    char *missing_path[] = {"dtbench-no-such-command-in-path", NULL};
    CHECK(launch_run(missing_path, NULL, log, 10, &r) != 0);
    CHECK_CONTAINS(r.error, "in PATH");

    /* Tail: the last lines only, a cut first line dropped, binary made printable. */
    run_sh("i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done; printf 'a\\001b\\n'",
           10, &r, log);
    tail = launch_log_tail(log, 3, 4096);
    CHECK(tail && strcmp(tail, "line98\nline99\na?b") == 0);
    free(tail);
    tail = launch_log_tail(log, 1000, 20);
    CHECK(tail && strncmp(tail, "line", 4) == 0);
    free(tail);
    CHECK(launch_log_tail("/nonexistent/log", 3, 100) == NULL);

    strvec v;
    strvec_init(&v);
    mpirun_opts o = {"mpirun", "hosts.txt", 1};
    launch_mpirun_prefix(&o, 4, &v);
    strvec_push(&v, "it's");
    char *line = strvec_shell_join(&v);
    CHECK(line && strcmp(line, "mpirun --oversubscribe --bind-to none -np 4 --allow-run-as-root "
                               "--hostfile hosts.txt -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 "
                               "'it'\\''s'") == 0);
    free(line);
    strvec_free(&v);

    unlink(log);
    unlink(pidfile);
    rmdir(dir);
    return check_report("test_harness_launcher");
}
