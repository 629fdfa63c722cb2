/*
 * One rank world: `mpirun -np N dtbench worker ...` in a fresh temporary
 * directory, under the case timeout, and the rank files it leaves read back
 * and validated. A world that did not complete (a rank crashed, hung, exited
 * early, reported an error, or left a bad file) comes back with a one-line
 * reason, the tail of the mpirun log and the command line to reproduce it.
 */
#ifndef DTB_HARNESS_WORLD_H
#define DTB_HARNESS_WORLD_H

#include "case_config.h"
#include "launcher.h"
#include "plugin_loader.h"
#include "rank_file.h"
#include "strvec.h"

typedef struct world_env {
    char exe[PATH_MAX];        /* this dtbench (/proc/self/exe) */
    mpirun_opts mpirun;
    double timeout_s;          /* per world */
    int keep;                  /* keep the temporary directories (and say where) */
    char tmp_root[PATH_MAX];   /* $TMPDIR or /tmp */
} world_env;

typedef struct world_outcome {
    int completed;
    char reason[1024];         /* when not completed */
    int world_size;
    rank_result *ranks;        /* [world_size] when completed, else NULL */
    launch_result launch;
    double timeout_s;          /* the deadline the world ran under */
    char *log_tail;            /* malloc'd; NULL when the log is empty or unreadable */
    char *reproduce;           /* malloc'd shell command line; may be NULL */
    char dir[PATH_MAX];        /* the kept directory, "" when removed */
    int strays;                /* processes left running after the world ended, killed
                                  (strays.h); a world with any did not complete */
    /* A world that saved checkpoints: the saves the harness refused to commit
     * for what the plugin stored (worker_ckpt.h), one line each, malloc'd;
     * NULL when none was refused. */
    char *ckpt_errors;
    /* Crash injection (world_ckpt.kill_rank): whether the signal was sent,
     * how long after the first committed checkpoint (observing: the time the
     * world trained after it), and whether a save was in progress then (a
     * staging directory existed). */
    int killed;
    double killed_after_s;
    int killed_during_save;
} world_outcome;

/* A world's checkpoints (worker_ckpt.h) and crash injection. */
typedef struct world_ckpt {
    const char *root;          /* --ckpt-root; NULL: no checkpoints */
    const char *save_steps;    /* --ckpt-save-steps, e.g. "4" or "2,4,6"; NULL: none */
    const char *resume;        /* --ckpt-resume DIR; NULL: train from step 1 */
    /* Crash recovery: once root holds a committed checkpoint, wait
     * kill_delay_s and SIGKILL rank kill_rank (its pid from root's
     * .rank-<r>.pid); -1: no kill; WORLD_KILL_OBSERVE (-2): no kill, but
     * killed_after_s gets the time from the first committed checkpoint to
     * the end of training (world_kill.h). */
    int kill_rank;
    double kill_delay_s;
} world_ckpt;

/* Fills env->exe and env->tmp_root ($TMPDIR, else /tmp), which must be a
 * directory this process can create directories in; -1 with one line. */
int world_env_init(world_env *env, char *err, size_t err_len);

/* Runs plugin_path over np ranks for cfg. Always fills out (free it with
 * world_outcome_free); returns 0 when the world completed. */
int world_run(const world_env *env, const char *plugin_path, const case_config *cfg, int np,
              world_outcome *out);
/* world_run with checkpoints (ck may be NULL: world_run). */
int world_run_ckpt(const world_env *env, const char *plugin_path, const case_config *cfg, int np,
                   const world_ckpt *ck, world_outcome *out);
void world_outcome_free(world_outcome *out);

/* For an interrupt (record/run_signals.c), after the rank worlds were
 * killed: removes the case folder of the world in flight (unless --keep)
 * and makes every later world_launch fail, so that none is left behind. */
void world_interrupted(void);
/* The interrupt's first step, before the worlds are killed: from now on no
 * world starts and world_was_interrupted says so, so that the run loop
 * reports no case the interrupt cut short. */
void world_interrupt_begin(void);
int world_was_interrupted(void);

/* Any dtbench worker command as a rank world: `mpirun -np np <dtbench>
 * <args...> --out DIR` in a fresh directory out->dir. Returns 0 when mpirun
 * exited 0; otherwise out->reason (from the launch, error-<r>.txt files and
 * the log) and out->log_tail are set. out->reproduce is the command line.
 * The directory stays for the caller to read until world_dir_done. */
int world_launch(const world_env *env, int np, const strvec *args, world_outcome *out);
/* Removes dir and everything below it (links are removed, not followed);
 * best effort: what cannot be removed stays. */
void world_remove_tree(const char *dir);
/* Removes out->dir, or keeps it (env->keep) and says where on stderr. */
void world_dir_done(const world_env *env, world_outcome *out);

/* Why a world that left rank files missing failed, from its artefacts: the
 * launcher's result, error-<r>.txt files, mpirun's or a sanitizer's report
 * in the log, and for a training world (`missing_rank` >= 0, the first rank
 * without a valid file) the worker's markers (worker.h): the rank that
 * exit()ed, else "no rank started" when none reached its rank. */
void world_failure_reason(const launch_result *launch, double timeout_s, const char *dir,
                          const char *log_path, int missing_rank, char *reason, size_t len);

#endif
