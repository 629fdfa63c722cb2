/*
 * Invariants of launch_run:
 *  - the child is the leader of its own process group (setpgid in both
 *    parent and child, so neither order of scheduling leaves a window);
 *  - the leader is detected as finished with waitid(WNOWAIT), so its pid,
 *    and therefore the group id, stays allocated (a zombie) while we signal
 *    the group: we can never signal an unrelated, recycled group;
 *  - exec failure is reported through a close-on-exec pipe, so "could not
 *    start" is never confused with a command that exited 127.
 */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "strays.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* In the child, after fork: only async-signal-safe calls until exec. */
static void child_exec(const char *file, char *const argv[], char *const envp[], int log_fd,
                       int err_pipe, pid_t parent)
{
    setpgid(0, 0);
    /* Dies with dtbench, however dtbench ends (SIGKILL included): a world
     * never outlives its run. The parent may already be gone. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
    execve(file, argv, envp);
    int e = errno;
    ssize_t w = write(err_pipe, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* argv[0] as execvp would find it, resolved before fork (execvp may
 * allocate, which is not safe in the child of a threaded process). */
/* A file exec can run: a regular file with execute permission (a directory
 * has X_OK too, and exec fails on it with EACCES). */
static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int launch_find_executable(const char *name, char *out, size_t out_len)
{
    if (strchr(name, '/')) {
        snprintf(out, out_len, "%s", name);
        return is_executable_file(out) ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        size_t len = strcspn(p, ":");
        int w = snprintf(out, out_len, "%.*s/%s", (int)len, len ? p : ".", name);
        if (w > 0 && (size_t)w < out_len && is_executable_file(out))
            return 0;
        if (p[len] == '\0')
            return -1;
        p += len + 1;
    }
}

extern char **environ;

/* environ with env_set's KEY=VALUE entries replacing or added to it; the
 * strings are shared, only the array is malloc'd. */
static char **build_envp(char *const env_set[])
{
    size_t n_env = 0, n_set = 0;
    while (environ && environ[n_env])
        n_env++;
    while (env_set && env_set[n_set])
        n_set++;
    char **envp = malloc((n_env + n_set + 1) * sizeof *envp);
    if (!envp)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        int overridden = 0;
        for (size_t j = 0; j < n_set && !overridden; j++) {
            size_t key = strcspn(env_set[j], "=");
            overridden = strncmp(environ[i], env_set[j], key + 1) == 0;
        }
        if (!overridden)
            envp[n++] = environ[i];
    }
    for (size_t j = 0; j < n_set; j++)
        envp[n++] = env_set[j];
    envp[n] = NULL;
    return envp;
}

/* Non-blocking: 1 when the leader has finished (not reaped), 0 if running. */
static int leader_finished(pid_t pid)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
            return info.si_pid == pid;
        if (errno != EINTR)
            return 1; /* ECHILD: nothing left to wait for */
    }
}

/* Polls until the leader finishes or `deadline` (monotonic seconds) passes. */
/* Waits for pid until the deadline (0: none). Every STRAY_POLL polls, kills
 * the processes this process adopted meanwhile (strays.h), counting them in
 * *strays. */
#define STRAY_POLL 50
static int wait_until(pid_t pid, double deadline, int *strays)
{
    for (int polls = 1; !leader_finished(pid); polls++) {
        if (deadline > 0 && monotonic_seconds() >= deadline)
            return 0;
        if (polls % STRAY_POLL == 0)
            *strays += strays_reap(pid);
        sleep_ms(10);
    }
    return 1;
}

static int launch_forked(const char *file, char *const argv[], char *const envp[],
                         const char *log_path, double timeout_s, launch_result *out);

int launch_run(char *const argv[], char *const env_set[], const char *log_path,
               double timeout_s, launch_result *out)
{
    memset(out, 0, sizeof *out);
    char file[4096];
    if (launch_find_executable(argv[0], file, sizeof file) != 0) {
        snprintf(out->error, sizeof out->error, "cannot run %s: not found or not executable%s",
                 argv[0], strchr(argv[0], '/') ? "" : " in PATH");
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    char **envp = build_envp(env_set);
    if (!envp) {
        snprintf(out->error, sizeof out->error, "out of memory building the environment");
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    int rc = launch_forked(file, argv, envp, log_path, timeout_s, out);
    free(envp);
    return rc;
}

static int launch_forked(const char *file, char *const argv[], char *const envp[],
                         const char *log_path, double timeout_s, launch_result *out)
{
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        snprintf(out->error, sizeof out->error, "cannot open log %s: %s", log_path,
                 strerror(errno));
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    int pipefd[2];
    if (pipe(pipefd) != 0 || fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno));
        close(log_fd);
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    double start = monotonic_seconds();
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
        close(log_fd);
        close(pipefd[0]);
        close(pipefd[1]);
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        /* log_fd is O_CLOEXEC but dup2'd copies are not. */
        child_exec(file, argv, envp, log_fd, pipefd[1], parent);
    }
    setpgid(pid, pid); /* EACCES after the child's exec is fine: it did it itself */
    close(log_fd);
    close(pipefd[1]);
    int exec_errno = 0;
    ssize_t got;
    do {
        got = read(pipefd[0], &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);
    close(pipefd[0]);

    double deadline = timeout_s > 0 ? start + timeout_s : 0;
    int finished = wait_until(pid, deadline, &out->strays);
    if (!finished) {
        out->kind = LAUNCH_TIMED_OUT;
        kill(-pid, SIGTERM);
        if (!wait_until(pid, monotonic_seconds() + LAUNCH_TERM_GRACE_S, &out->strays)) {
            out->needed_sigkill = 1;
            kill(-pid, SIGKILL);
        }
    }
    /* Whatever the leader left behind in its group goes with it. */
    kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(out->error, sizeof out->error, "waitpid: %s", strerror(errno));
            out->kind = LAUNCH_FAILED;
            return -1;
        }
    }
    out->seconds = monotonic_seconds() - start;
    if (got == (ssize_t)sizeof exec_errno) {
        snprintf(out->error, sizeof out->error, "cannot run %s: %s", argv[0],
                 strerror(exec_errno));
        out->kind = LAUNCH_FAILED;
        return -1;
    }
    if (out->kind == LAUNCH_TIMED_OUT)
        return 0;
    if (WIFEXITED(status)) {
        out->kind = LAUNCH_EXITED;
        out->exit_code = WEXITSTATUS(status);
    } else {
        out->kind = LAUNCH_SIGNALED;
        out->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    return 0;
}

const char *launch_signal_name(int sig, char *buf, size_t len)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

void launch_describe(const launch_result *r, double timeout_s, char *buf, size_t len)
{
    char tmp[32];
    switch (r->kind) {
    case LAUNCH_EXITED:
        snprintf(buf, len, "exited with status %d", r->exit_code);
        break;
    case LAUNCH_SIGNALED:
        snprintf(buf, len, "killed by signal %d (%s)", r->signal,
                 launch_signal_name(r->signal, tmp, sizeof tmp));
        break;
    case LAUNCH_TIMED_OUT:
        snprintf(buf, len, "timed out after %g s%s", timeout_s,
                 r->needed_sigkill ? " (ignored SIGTERM, killed)" : "");
        break;
    default:
        snprintf(buf, len, "could not start: %s", r->error);
        break;
    }
}

char *launch_log_tail(const char *path, int max_lines, size_t max_bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long start = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > (long)max_bytes)
            start = size - (long)max_bytes;
    }
    if (fseek(f, start, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    char *buf = malloc(max_bytes + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, max_bytes, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\0' || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            buf[i] = '?';
    }
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    /* Keep the last max_lines lines; drop a partial first line we cut into. */
    char *p = buf + n;
    int lines = 0;
    while (p > buf) {
        if (p[-1] == '\n' && ++lines == max_lines)
            break;
        p--;
    }
    if (p == buf && start > 0) {
        char *nl = strchr(buf, '\n');
        p = nl ? nl + 1 : buf;
    }
    memmove(buf, p, strlen(p) + 1);
    return buf;
}

void launch_mpirun_prefix(const mpirun_opts *o, int np, strvec *v)
{
    strvec_push(v, o->mpirun ? o->mpirun : "mpirun");
    strvec_push(v, "--oversubscribe");
    strvec_push(v, "--bind-to");
    strvec_push(v, "none");
    strvec_push(v, "-np");
    strvec_pushf(v, "%d", np);
    if (o->as_root)
        strvec_push(v, "--allow-run-as-root");
    if (o->hostfile) {
        strvec_push(v, "--hostfile");
        strvec_push(v, o->hostfile);
    }
    /* One compute thread per rank: a world of N ranks already has N processes. */
    strvec_push(v, "-x");
    strvec_push(v, "OPENBLAS_NUM_THREADS=1");
    strvec_push(v, "-x");
    strvec_push(v, "OMP_NUM_THREADS=1");
}

char *const *launch_mpirun_env(const mpirun_opts *o)
{
    static char *const root_env[] = {"OMPI_ALLOW_RUN_AS_ROOT=1",
                                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                                     "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
    return o->as_root ? root_env : root_env + 2;
}
