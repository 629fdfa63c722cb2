/*
 * Running a command under a deadline, isolated in its own process group,
 * with stdout and stderr captured to a log file. This is what keeps a plugin
 * that crashes, hangs or exits from taking the harness down: the rank world
 * (mpirun and its ranks) is a child the harness can always kill and reap.
 */
#ifndef DTB_HARNESS_LAUNCHER_H
#define DTB_HARNESS_LAUNCHER_H

/* Every rank runs its BLAS on this many threads (OPENBLAS_NUM_THREADS and
 * OMP_NUM_THREADS in the ranks' environment): ranks, not BLAS threads, are
 * what share the cores. */
#define LAUNCH_BLAS_THREADS_PER_RANK 1

#include <stddef.h>

#include "strvec.h"

/* Grace period between SIGTERM and SIGKILL of a timed-out group. */
#define LAUNCH_TERM_GRACE_S 2.0

typedef enum launch_kind {
    LAUNCH_EXITED = 0,     /* exit_code holds the status */
    LAUNCH_SIGNALED = 1,   /* signal holds the signal that killed it */
    LAUNCH_TIMED_OUT = 2,  /* killed by us at the deadline */
    LAUNCH_FAILED = 3      /* could not be started; error says why */
} launch_kind;

typedef struct launch_result {
    launch_kind kind;
    int exit_code;
    int signal;
    int needed_sigkill;    /* timed out and ignored SIGTERM for the grace period */
    double seconds;        /* wall time from fork to reaping */
    int strays;            /* processes detached from the command's group and
                              adopted by this process (strays.h), killed while it ran */
    char error[256];
} launch_result;

/* Runs argv (argv[0] searched in PATH) with env_set ("KEY=VALUE" strings,
 * NULL-terminated, may be NULL) added to its environment, stdin from
 * /dev/null and stdout+stderr appended to log_path. timeout_s <= 0 means no
 * deadline. On the deadline the whole process group gets SIGTERM, then
 * SIGKILL after LAUNCH_TERM_GRACE_S. After the command ends, whatever it
 * left in its process group is killed. Returns 0 when the command ran
 * (whatever its outcome), -1 with out->error when it could not be started. */
int launch_run(char *const argv[], char *const env_set[], const char *log_path,
               double timeout_s, launch_result *out);

/* The file execvp would run for `name` (searched in PATH unless it holds a
 * '/'), when it exists, is a regular file and is executable. */
int launch_find_executable(const char *name, char *out, size_t out_len);

/* "exited with status 3", "killed by signal 11 (SIGSEGV)",
 * "timed out after 10 s", "could not start: ...". */
void launch_describe(const launch_result *r, double timeout_s, char *buf, size_t len);

/* Conventional name of a signal ("SIGSEGV"), "signal N" when unknown. */
const char *launch_signal_name(int sig, char *buf, size_t len);

/* The last max_lines lines (at most max_bytes bytes) of a file, with
 * non-printable bytes other than newline replaced by '?'; malloc'd, NULL
 * when the file cannot be read. */
char *launch_log_tail(const char *path, int max_lines, size_t max_bytes);

/* The mpirun command line of a rank world. */
typedef struct mpirun_opts {
    const char *mpirun;     /* executable; "mpirun" (searched in PATH) by default */
    const char *hostfile;   /* NULL for the local machine */
    int as_root;            /* add --allow-run-as-root (running as uid 0) */
} mpirun_opts;

/* Pushes "mpirun --oversubscribe --bind-to none -np N [--allow-run-as-root]
 * [--hostfile F] -x OPENBLAS_NUM_THREADS=1" onto v; the caller appends the
 * program and its arguments. */
void launch_mpirun_prefix(const mpirun_opts *o, int np, strvec *v);

/* Environment additions for mpirun: the Open MPI root confirmations when
 * as_root, OPENBLAS_NUM_THREADS=1; NULL-terminated static strings. */
char *const *launch_mpirun_env(const mpirun_opts *o);

#endif
