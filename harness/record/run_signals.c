#include "run_signals.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "results_db.h"
#include "results_record.h"
#include "world.h"

/* The one piece of file-scope state: a signal handler can reach nothing
 * else. It holds the pipe's write end while the handlers are installed and
 * -1 otherwise; only run_signals_start/stop write it, with the handlers
 * not (yet, any more) installed. */
static volatile sig_atomic_t interrupt_fd = -1;

/* The signals that end a run (a closed terminal's SIGHUP included), each
 * handled alike. */
static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_HANDLED (sizeof handled_signals / sizeof handled_signals[0])

struct run_signals {
    run_signals_target t;
    int pipe_rd, pipe_wr;
    pthread_t thread;
    int thread_started;
    struct sigaction old[N_HANDLED]; /* valid where have[i] */
    int have[N_HANDLED];
};

static void on_signal(int sig)
{
    int saved = errno;
    int fd = interrupt_fd;
    unsigned char b = (unsigned char)sig;
    if (fd >= 0) {
        ssize_t w = write(fd, &b, 1);
        (void)w; /* a full pipe already holds a pending interruption */
    }
    errno = saved;
}

/* Each child of this process that leads its own process group is a rank
 * world (launcher.h): SIGTERM the groups, a grace period, then SIGKILL. */
static int kill_child_groups(int sig)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t self = getpid();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[got] = '\0';
        /* "pid (comm) state ppid pgrp ...": comm may hold anything, so
         * parse after its last ')' */
        const char *close_paren = strrchr(stat, ')');
        char state;
        int ppid, pgrp;
        if (!close_paren || sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
            continue;
        int pid = atoi(e->d_name);
        if (ppid == self && pgrp == pid && pid > 1) {
            kill(-pid, sig);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void *watch(void *arg)
{
    run_signals *s = arg;
    unsigned char sig;
    ssize_t got;
    do {
        got = read(s->pipe_rd, &sig, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1)
        return NULL; /* run_signals_stop closed the pipe */

    /* No world starts from now on, and the case in flight is not reported. */
    world_interrupt_begin();
    /* Kept until the process dies: no case is half written, none starts. */
    pthread_mutex_lock(s->t.record_lock);
    int kept = *s->t.n_recorded;
    results_db db;
    char err[1024];
    int marked = results_open(s->t.db_path, RESULTS_WRITE, s->t.timeout_ms, &db, err,
                              sizeof err) == 0 &&
                 results_run_finish(&db, s->t.run_id, 0, err, sizeof err) == 0;
    results_close(&db);
    if (kill_child_groups(SIGTERM) > 0) {
        struct timespec grace = {0, 500000000L};
        nanosleep(&grace, NULL);
        kill_child_groups(SIGKILL);
    }
    world_interrupted();
    char buf[32];
    const char *name = launch_signal_name(sig, buf, sizeof buf);
    if (marked)
        fprintf(stderr, "dtbench: interrupted by %s: run %lld marked incomplete, its %d finished "
                        "case%s kept in %s\n",
                name, (long long)s->t.run_id, kept, kept == 1 ? "" : "s", s->t.db_path);
    else
        fprintf(stderr, "dtbench: interrupted by %s: could not mark run %lld incomplete: %s\n",
                name, (long long)s->t.run_id, err);
    fflush(NULL);
    /* Die of the signal, as without the handler. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* Installs on_signal for sig unless sig was ignored at start. */
static int install(int sig, struct sigaction *old, int *have)
{
    *have = 0;
    if (sigaction(sig, NULL, old) != 0)
        return -1;
    if (old->sa_handler == SIG_IGN)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, NULL) != 0)
        return -1;
    *have = 1;
    return 0;
}

int run_signals_start(run_signals **out, const run_signals_target *target, char *err,
                      size_t err_len)
{
    *out = NULL;
    run_signals *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->t = *target;
    s->pipe_rd = s->pipe_wr = -1;
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        free(s);
        return -1;
    }
    s->pipe_rd = fds[0];
    s->pipe_wr = fds[1];
    if (fcntl(s->pipe_rd, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(s->pipe_wr, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(s->pipe_wr, F_SETFL, O_NONBLOCK) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        run_signals_stop(s);
        return -1;
    }
    /* The watcher takes no signals: they interrupt the main thread's
     * waits, which retry (launcher.c), and reach the handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, watch, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the signal watcher: %s", strerror(rc));
        run_signals_stop(s);
        return -1;
    }
    s->thread_started = 1;
    interrupt_fd = s->pipe_wr;
    for (size_t i = 0; i < N_HANDLED; i++) {
        if (install(handled_signals[i], &s->old[i], &s->have[i])) {
            snprintf(err, err_len, "sigaction: %s", strerror(errno));
            run_signals_stop(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

void run_signals_stop(run_signals *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < N_HANDLED; i++)
        if (s->have[i])
            sigaction(handled_signals[i], &s->old[i], NULL);
    interrupt_fd = -1;
    if (s->pipe_wr >= 0)
        close(s->pipe_wr); /* the watcher reads end-of-file and returns */
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    if (s->pipe_rd >= 0)
        close(s->pipe_rd);
    free(s);
}
