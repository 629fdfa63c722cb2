/* nftw (removing a case folder with an Open MPI session folder inside). */
#define _XOPEN_SOURCE 700
#include "world.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rank_check.h"
#include "strays.h"
#include "worker.h"
#include "worker_ckpt.h"
#include "world_kill.h"
#include "cli_parse.h"

#define LOG_TAIL_LINES 30
#define LOG_TAIL_BYTES 8192

int world_env_init(world_env *env, char *err, size_t err_len)
{
    ssize_t n = readlink("/proc/self/exe", env->exe, sizeof env->exe - 1);
    if (n < 0) {
        snprintf(err, err_len, "cannot read /proc/self/exe: %s", strerror(errno));
        return -1;
    }
    env->exe[n] = '\0';
    /* A process a plugin detaches becomes ours when its rank exits, so
     * that it can be found and killed (strays.h). */
    if (strays_adopt(err, err_len) != 0)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(env->tmp_root, sizeof env->tmp_root, "%s", tmp && *tmp ? tmp : "/tmp");
    /* Every world gets a directory there: found unusable now, not per case. */
    struct stat st;
    const char *why = stat(env->tmp_root, &st) != 0 ? strerror(errno)
                      : !S_ISDIR(st.st_mode)        ? "not a directory"
                      : access(env->tmp_root, W_OK | X_OK) != 0 ? strerror(errno)
                                                                : NULL;
    if (why) {
        snprintf(err, err_len, "%s %s is unusable for rank worlds' directories: %s",
                 tmp && *tmp ? "TMPDIR" : "the temporary folder", env->tmp_root, why);
        return -1;
    }
    return 0;
}

/* nftw callback: unlinks files and removes directories, deepest first. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Removes the world's directory and everything in it: rank files, error
 * files, the log, and the Open MPI session folder of a world that was
 * killed before mpirun could remove it (TMPDIR is the case folder). */
void world_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes the Open MPI shared-memory segments of the world whose case
 * folder is dir (WORKER_MPI_JOB_FILE names its job): those of a world that
 * ended cleanly are gone already, those of a killed one would stay in
 * /dev/shm for good. */
static void remove_shm_segments(const char *dir)
{
    char path[PATH_MAX + 32], pattern[128];
    snprintf(path, sizeof path, "%s/%s", dir, WORKER_MPI_JOB_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    unsigned long long job = 0;
    const int got = fscanf(f, "%llu", &job);
    fclose(f);
    if (got != 1 || job == 0 || job > 0xffffffffull)
        return;
    snprintf(pattern, sizeof pattern, "/dev/shm/vader_segment.*.%llx.*", job);
    glob_t g;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
    globfree(&g);
}

/* The case folder of the world in flight, for an interrupt to remove
 * (world_interrupted): file-scope, because the signal watcher thread of
 * record/run_signals.c reads it while the main thread waits on the world.
 * Once interrupted, no new case folder is made. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static char live_dir[PATH_MAX];
static int live_keep, live_closed;

/* Records dir as the world in flight; -1 when the run was interrupted. */
static int live_set(const char *dir, int keep)
{
    pthread_mutex_lock(&live_lock);
    const int closed = live_closed;
    if (!closed) {
        snprintf(live_dir, sizeof live_dir, "%s", dir);
        live_keep = keep;
    }
    pthread_mutex_unlock(&live_lock);
    return closed ? -1 : 0;
}

static void live_clear(const char *dir)
{
    pthread_mutex_lock(&live_lock);
    if (strcmp(live_dir, dir) == 0)
        live_dir[0] = '\0';
    pthread_mutex_unlock(&live_lock);
}

void world_interrupt_begin(void)
{
    pthread_mutex_lock(&live_lock);
    live_closed = 1;
    pthread_mutex_unlock(&live_lock);
}

int world_was_interrupted(void)
{
    pthread_mutex_lock(&live_lock);
    const int closed = live_closed;
    pthread_mutex_unlock(&live_lock);
    return closed;
}

void world_interrupted(void)
{
    pthread_mutex_lock(&live_lock);
    live_closed = 1;
    if (live_dir[0])
        remove_shm_segments(live_dir);
    if (live_dir[0] && !live_keep)
        world_remove_tree(live_dir);
    live_dir[0] = '\0';
    pthread_mutex_unlock(&live_lock);
}

/* First line of error-<r>.txt, for the first rank that has one. */
static int read_error_file(const char *dir, int max_rank, int *rank, char *msg, size_t len)
{
    for (int r = 0; r < max_rank; r++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/error-%d.txt", dir, r);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(msg, (int)len, f))
            msg[0] = '\0';
        fclose(f);
        msg[strcspn(msg, "\n")] = '\0';
        *rank = r;
        return 1;
    }
    return 0;
}

/* The first rank below max_rank whose marker NAME_FMT (worker.h) is in dir;
 * -1 when none is. */
static int first_marked_rank(const char *dir, const char *name_fmt, int max_rank)
{
    for (int r = 0; r < max_rank; r++) {
        char name[64], path[PATH_MAX + 80];
        snprintf(name, sizeof name, name_fmt, r);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, F_OK) == 0)
            return r;
    }
    return -1;
}

/* Finds mpirun's "process rank R with PID P on node H exited on signal S"
 * or a sanitizer's SEGV report in the log. */
static int scan_log(const char *log_path, int *rank, int *sig, int *sanitizer)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return 0;
    char line[1024];
    int found = 0;
    *sanitizer = 0;
    while (!found && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "process rank ");
        const char *q = strstr(line, "exited on signal ");
        if (p && q && sscanf(p, "process rank %d", rank) == 1 &&
            sscanf(q, "exited on signal %d", sig) == 1)
            found = 1;
        else if (strstr(line, "AddressSanitizer: SEGV") || strstr(line, "AddressSanitizer: BUS"))
            *sanitizer = 1;
    }
    fclose(f);
    return found;
}

/* A training world with rank missing_rank's file absent, no error file and
 * no signal in the log: the rank that exit()ed first if one did (the
 * others, killed by mpirun then, leave no marker), else "no rank started"
 * when none got as far as its rank, else the first missing rank. */
static void missing_reason(const char *dir, const char *how, int missing_rank, char *reason,
                           size_t len)
{
    int exited = first_marked_rank(dir, WORKER_EXITED_MARK, DTB_NP_MAX);
    if (exited >= 0)
        snprintf(reason, len, "rank %d exited before finishing (it called exit; no rank "
                 "file; mpirun %s)", exited, how);
    else if (first_marked_rank(dir, WORKER_STARTED_MARK, DTB_NP_MAX) < 0)
        snprintf(reason, len, "no rank started (mpirun %s)", how);
    else
        snprintf(reason, len, "rank %d exited before finishing (no rank file; mpirun %s)",
                 missing_rank, how);
}

void world_failure_reason(const launch_result *launch, double timeout_s, const char *dir,
                          const char *log_path, int missing_rank, char *reason, size_t len)
{
    char how[320], msg[900], signame[32];
    launch_describe(launch, timeout_s, how, sizeof how);
    int rank = -1, sig = 0, sanitizer = 0;
    if (launch->kind == LAUNCH_TIMED_OUT || launch->kind == LAUNCH_FAILED) {
        snprintf(reason, len, "%s", how);
    } else if (read_error_file(dir, DTB_NP_MAX, &rank, msg, sizeof msg)) {
        snprintf(reason, len, "rank %d failed: %s", rank, msg);
    } else if (scan_log(log_path, &rank, &sig, &sanitizer)) {
        snprintf(reason, len, "rank %d killed by signal %d (%s)", rank, sig,
                 launch_signal_name(sig, signame, sizeof signame));
    } else if (sanitizer) {
        snprintf(reason, len, "rank %d killed by signal 11 (SIGSEGV, caught by AddressSanitizer)",
                 missing_rank);
    } else if (missing_rank >= 0) {
        missing_reason(dir, how, missing_rank, reason, len);
    } else {
        snprintf(reason, len, "every rank finished but mpirun %s", how);
    }
}

/* Reads rank-0 .. rank-(np-1); returns the first rank without a valid file
 * (message in msg), or -1 when all are valid. */
static int read_ranks(const char *dir, const case_config *cfg, int np, rank_result *ranks,
                      char *msg, size_t len)
{
    for (int r = 0; r < np; r++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/rank-%d.bin", dir, r);
        if (access(path, F_OK) != 0) {
            snprintf(msg, len, "no rank file for rank %d", r);
            return r;
        }
        if (rank_file_read(path, &ranks[r], msg, len) != 0 ||
            checks_validate_rank(cfg, r, np, &ranks[r], msg, len) != 0)
            return r;
    }
    return -1;
}

/* The longest case folder used as the world's TMPDIR: Unix socket names
 * below it hold at most 107 bytes (Open MPI 4.1 ran 3-rank worlds with a
 * TMPDIR of 100 bytes here; 80 leaves room for a longer host name). */
#define WORLD_TMPDIR_MAX 80

int world_launch(const world_env *env, int np, const strvec *args, world_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->world_size = np;
    out->timeout_s = env->timeout_s;
    char dir[PATH_MAX];
    int w = snprintf(dir, sizeof dir, "%s/dtbench-XXXXXX", env->tmp_root);
    if (w < 0 || (size_t)w >= sizeof dir || !mkdtemp(dir)) {
        snprintf(out->reason, sizeof out->reason, "cannot create a directory in %.600s: %s",
                 env->tmp_root, strerror(errno));
        return -1;
    }
    if (live_set(dir, env->keep) != 0) {
        rmdir(dir);
        snprintf(out->reason, sizeof out->reason, "the run was interrupted");
        return -1;
    }
    snprintf(out->dir, sizeof out->dir, "%s", dir);
    strvec cmd;
    strvec_init(&cmd);
    launch_mpirun_prefix(&env->mpirun, np, &cmd);
    strvec_push(&cmd, env->exe);
    for (size_t i = 0; i < args->n; i++)
        strvec_push(&cmd, args->items[i]);
    strvec_push(&cmd, "--out");
    strvec_push(&cmd, dir);
    if (!strvec_ok(&cmd)) {
        snprintf(out->reason, sizeof out->reason, "out of memory building the rank world");
        strvec_free(&cmd);
        return -1;
    }
    out->reproduce = strvec_shell_join(&cmd);
    char log_path[PATH_MAX + 16];
    snprintf(log_path, sizeof log_path, "%s/mpirun.log", dir);
    /* The world's own TMPDIR, the case folder: Open MPI puts its session
     * folder (ompi.<host>.<uid>) and shared-memory files there, so that two
     * worlds launched at once never race to create the same session folder
     * (seen as "every rank finished but mpirun exited with status 1" when
     * two runs shared /tmp), and removing the case folder removes them.
     * Unix socket names live in the session folder and hold at most 107
     * bytes, so a long case folder (WORLD_TMPDIR_MAX) keeps the inherited
     * TMPDIR. */
    char *child_env[8] = {0};
    char tmpdir[PATH_MAX + 8];
    int n_env = 0;
    for (char *const *e = launch_mpirun_env(&env->mpirun); *e && n_env < 6; e++)
        child_env[n_env++] = *e;
    if (strlen(dir) <= WORLD_TMPDIR_MAX) {
        snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", dir);
        child_env[n_env++] = tmpdir;
    }
    launch_run(cmd.items, child_env, log_path, env->timeout_s, &out->launch);
    strays_settle(1.0);
    out->strays = out->launch.strays + strays_reap(0);
    if (out->launch.kind != LAUNCH_EXITED || out->launch.exit_code != 0)
        remove_shm_segments(dir);
    strvec_free(&cmd);
    if (out->launch.kind == LAUNCH_EXITED && out->launch.exit_code == 0)
        return 0;
    world_failure_reason(&out->launch, env->timeout_s, dir, log_path, -1, out->reason,
                         sizeof out->reason);
    out->log_tail = launch_log_tail(log_path, LOG_TAIL_LINES, LOG_TAIL_BYTES);
    return -1;
}

void world_dir_done(const world_env *env, world_outcome *out)
{
    if (!out->dir[0])
        return;
    live_clear(out->dir);
    if (env->keep) {
        fprintf(stderr, "dtbench: kept %s\n", out->dir);
    } else {
        world_remove_tree(out->dir);
        out->dir[0] = '\0';
    }
}

/* The worker's checkpoint arguments. */
static void push_ckpt_args(const world_ckpt *ck, strvec *args)
{
    if (!ck)
        return;
    if (ck->root) {
        strvec_push(args, "--ckpt-root");
        strvec_push(args, ck->root);
    }
    if (ck->root && ck->save_steps) {
        strvec_push(args, "--ckpt-save-steps");
        strvec_push(args, ck->save_steps);
    }
    if (ck->resume) {
        strvec_push(args, "--ckpt-resume");
        strvec_push(args, ck->resume);
    }
}

/* The whole of a small text file, malloc'd; NULL when absent or empty. */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = malloc(4097);
    size_t n = text ? fread(text, 1, 4096, f) : 0;
    fclose(f);
    if (!text || n == 0) {
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

int world_run(const world_env *env, const char *plugin_path, const case_config *cfg, int np,
              world_outcome *out)
{
    return world_run_ckpt(env, plugin_path, cfg, np, NULL, out);
}

int world_run_ckpt(const world_env *env, const char *plugin_path, const case_config *cfg, int np,
                   const world_ckpt *ck, world_outcome *out)
{
    strvec args;
    strvec_init(&args);
    strvec_push(&args, "worker");
    strvec_push(&args, "--impl");
    strvec_push(&args, plugin_path);
    case_config_to_args(cfg, &args);
    push_ckpt_args(ck, &args);
    if (!strvec_ok(&args)) {
        memset(out, 0, sizeof *out);
        out->world_size = np;
        snprintf(out->reason, sizeof out->reason, "out of memory building the rank world");
        strvec_free(&args);
        return -1;
    }
    world_killer killer;
    const int killing = ck && ck->root && ck->kill_rank != -1 &&
                        world_killer_start(&killer, ck->root, ck->kill_rank, ck->kill_delay_s) == 0;
    int launched = world_launch(env, np, &args, out) == 0;
    if (killing)
        world_killer_stop(&killer, &out->killed, &out->killed_after_s, &out->killed_during_save);
    strvec_free(&args);
    if (!out->dir[0]) /* not even started */
        return -1;
    if (ck && ck->root) {
        char errors[PATH_MAX + 64];
        snprintf(errors, sizeof errors, "%s/%s", out->dir, WORKER_CKPT_ERROR_FILE);
        out->ckpt_errors = read_small_file(errors);
    }
    char log_path[PATH_MAX + 16];
    snprintf(log_path, sizeof log_path, "%s/mpirun.log", out->dir);
    rank_result *ranks = calloc((size_t)np, sizeof *ranks);
    char msg[1024];
    int bad = ranks ? read_ranks(out->dir, cfg, np, ranks, msg, sizeof msg) : 0;
    if (!ranks)
        snprintf(msg, sizeof msg, "out of memory reading %d rank files", np);
    if (bad < 0 && launched && out->strays > 0) {
        /* Training finished, but the plugin left processes behind. */
        for (int r = 0; r < np; r++)
            rank_result_free(&ranks[r]);
        free(ranks);
        snprintf(out->reason, sizeof out->reason,
                 "every rank finished, but the plugin left %d process(es) running after the "
                 "world ended (detached from the ranks; dtbench killed them)", out->strays);
    } else if (bad < 0 && launched) {
        out->completed = 1;
        out->ranks = ranks;
    } else {
        int file_exists = 0;
        if (bad >= 0 && ranks) {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/rank-%d.bin", out->dir, bad);
            file_exists = access(path, F_OK) == 0;
        }
        if ((file_exists || !ranks) && launched)
            snprintf(out->reason, sizeof out->reason, "%s", msg); /* invalid rank file */
        else
            world_failure_reason(&out->launch, env->timeout_s, out->dir, log_path, bad,
                                 out->reason, sizeof out->reason);
        if (ranks)
            for (int r = 0; r < np; r++)
                rank_result_free(&ranks[r]);
        free(ranks);
        if (out->strays > 0) {
            const size_t used = strlen(out->reason);
            snprintf(out->reason + used, sizeof out->reason - used,
                     "; and it left %d process(es) running (killed)", out->strays);
        }
        if (!out->log_tail)
            out->log_tail = launch_log_tail(log_path, LOG_TAIL_LINES, LOG_TAIL_BYTES);
    }
    world_dir_done(env, out);
    return out->completed ? 0 : -1;
}

void world_outcome_free(world_outcome *out)
{
    if (out->ranks) {
        for (int r = 0; r < out->world_size; r++)
            rank_result_free(&out->ranks[r]);
        free(out->ranks);
    }
    free(out->log_tail);
    free(out->reproduce);
    free(out->ckpt_errors);
    memset(out, 0, sizeof *out);
}
