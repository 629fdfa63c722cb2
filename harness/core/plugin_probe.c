#include "plugin_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "plugin_loader.h"

/* Built with a sanitizer that ends a faulting process itself (GCC defines
 * __SANITIZE_ADDRESS__; -fsanitize=address,undefined is the sanitize build). */
#ifdef __SANITIZE_ADDRESS__
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* The one message the child writes: a fixed-size struct, so that anything
 * shorter (the child died mid-write) or marked otherwise is recognised. */
#define PROBE_MAGIC 0x64746270u /* "dtbp" */

typedef struct probe_reply {
    uint32_t magic;
    int32_t loaded;            /* 1: info is valid; 0: refused, why holds the reason */
    plugin_probe info;
    char why[1024];
} probe_reply;

static void copy_text(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The child: quiet, default fatal signals (a crash must end it by that
 * signal, whatever handlers the parent installed), load, reply, _exit. */
static void probe_child(const char *path, int fd)
{
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        (void)dup2(null, STDOUT_FILENO);
        (void)dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        (void)sigaction(fatal[i], &dfl, NULL);

    probe_reply r;
    memset(&r, 0, sizeof r);
    r.magic = PROBE_MAGIC;
    dtb_loaded_plugin p;
    if (plugin_load(path, 0, &p, r.why, sizeof r.why) == 0) {
        const dtb_plugin *t = p.table;
        r.loaded = 1;
        copy_text(r.info.name, sizeof r.info.name, t->name);
        copy_text(r.info.version, sizeof r.info.version, t->version);
        copy_text(r.info.description, sizeof r.info.description, t->description);
        r.info.abi_version = t->abi_version;
        r.info.struct_size = t->struct_size;
        r.info.caps = t->caps;
        r.info.has_get_compute_params = DTB_PLUGIN_OPTIONAL(t, get_compute_params) != NULL;
        r.info.has_checkpoint = DTB_PLUGIN_OPTIONAL_CKPT(t);
    }
    _exit(write_all(fd, &r, sizeof r) == 0 ? 0 : 3);
}

/* How the collection of the reply ended. */
typedef struct probe_wait {
    size_t got;                /* bytes of the reply read */
    int read_errno;            /* a read failed: its errno; else 0 */
    int timed_out;             /* the deadline passed first */
    int reaped;                /* the child was reaped here; status is valid */
    int status;
} probe_wait;

/* Reads the reply until it is whole, the pipe reaches EOF, the child is
 * gone (reaped between polls: a grandchild the plugin started may hold the
 * pipe open, so EOF alone is not enough), or the deadline passes. */
static void collect_reply(pid_t pid, int fd, double deadline, probe_reply *r, probe_wait *w)
{
    char *buf = (char *)r;
    memset(w, 0, sizeof *w);
    while (w->got < sizeof *r) {
        double left = deadline - monotonic_seconds();
        if (left <= 0 && !w->reaped) {
            w->timed_out = 1;
            return;
        }
        /* Poll in short slices to notice a child that is gone; once it is,
         * only drain what it wrote (timeout 0). */
        int ms = w->reaped ? 0 : left > 0.1 ? 100 : (int)(left * 1000.0) + 1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w->read_errno = errno;
            return;
        }
        if (n == 0) {
            if (w->reaped)
                return; /* gone, and nothing more in the pipe */
            pid_t done = waitpid(pid, &w->status, WNOHANG);
            if (done == pid)
                w->reaped = 1;
            else if (done < 0 && errno != EINTR) {
                w->read_errno = errno;
                return;
            }
            continue;
        }
        ssize_t k = read(fd, buf + w->got, sizeof *r - w->got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            w->read_errno = errno;
            return;
        }
        if (k == 0)
            return; /* EOF */
        w->got += (size_t)k;
    }
}

static int reap(pid_t pid, int *status)
{
    for (;;) {
        if (waitpid(pid, status, 0) == pid)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int plugin_probe_load(const char *path, double timeout_s, plugin_probe *out, char *err,
                      size_t err_len)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, err_len, "cannot create a pipe to load %s: %s", path, strerror(errno));
        return -1;
    }
    if (fflush(NULL) != 0) {
        snprintf(err, err_len, "cannot flush output before loading %s: %s", path,
                 strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    double deadline = monotonic_seconds() + timeout_s;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot fork to load %s: %s", path, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        probe_child(path, fds[1]);
    }
    close(fds[1]);
    probe_reply r;
    memset(&r, 0, sizeof r);
    probe_wait w;
    collect_reply(pid, fds[0], deadline, &r, &w);
    close(fds[0]);
    /* Whatever happened, the child is reaped before returning; one that is
     * still running past the deadline (or after a failed read) is killed. */
    if (!w.reaped && (w.timed_out || w.read_errno))
        (void)kill(pid, SIGKILL);
    int status = w.status;
    if (!w.reaped && reap(pid, &status) != 0) {
        snprintf(err, err_len, "cannot wait for the process loading %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (w.timed_out) {
        snprintf(err, err_len, "%s did not finish loading within %g s (a constructor or "
                 "%s hangs)", path, timeout_s, DTB_PLUGIN_ENTRY_SYMBOL);
        return -1;
    }
    if (w.read_errno) {
        snprintf(err, err_len, "reading what %s declares failed: %s", path,
                 strerror(w.read_errno));
        return -1;
    }
    size_t got = w.got;
    if (got == sizeof r && r.magic == PROBE_MAGIC) {
        if (!r.loaded) {
            r.why[sizeof r.why - 1] = '\0';
            snprintf(err, err_len, "%s", r.why);
            return -1;
        }
        *out = r.info;
        out->name[sizeof out->name - 1] = '\0';
        out->version[sizeof out->version - 1] = '\0';
        out->description[sizeof out->description - 1] = '\0';
        return 0;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(err, err_len, "%s crashed while loading (in a constructor or %s): killed by "
                 "signal %d (%s)", path, DTB_PLUGIN_ENTRY_SYMBOL, sig, strsignal(sig));
    } else if (WIFEXITED(status) && got == 0 && WEXITSTATUS(status) != 0 && SANITIZED) {
        /* AddressSanitizer and UndefinedBehaviorSanitizer turn a fault into
         * a report and exit(1), whatever signal handler the child sets. */
        snprintf(err, err_len, "%s ended the process while loading with exit status %d: "
                 "exit() called, or this sanitizer build stopped it on a fault (a crash), in "
                 "a constructor or %s", path, WEXITSTATUS(status), DTB_PLUGIN_ENTRY_SYMBOL);
    } else if (WIFEXITED(status) && got == 0) {
        snprintf(err, err_len, "%s ended the process while loading: exit(%d) called from a "
                 "constructor or %s", path, WEXITSTATUS(status), DTB_PLUGIN_ENTRY_SYMBOL);
    } else {
        snprintf(err, err_len, "%s: the process loading it sent a malformed reply (%zu of %zu "
                 "bytes)", path, got, sizeof r);
    }
    return -1;
}

int plugin_probe_vet(const char *path, uint64_t required_caps, plugin_probe *out, char *err,
                     size_t err_len)
{
    if (plugin_probe_load(path, PLUGIN_PROBE_TIMEOUT_S, out, err, err_len) != 0)
        return -1;
    return plugin_caps_require(out->name, path, out->caps, required_caps, err, err_len);
}
