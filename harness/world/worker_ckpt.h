/*
 * The training worker's side of canonical checkpoints (docs/checkpoint.md):
 * the options that ask for them, the collective save around the plugin's
 * save_checkpoint, and the load before the first step of a resumed world.
 *
 *   --ckpt-root DIR          where checkpoints go: DIR/step-<S>
 *   --ckpt-save-steps LIST   save after these steps (ascending, within 1..steps)
 *   --ckpt-resume DIR        load this committed checkpoint after create and
 *                            train from its step + 1
 *
 * A save whose files cannot be committed because of what the plugin stored
 * (an element no rank saved) does not end the world: the reason goes to
 * <out>/WORKER_CKPT_ERROR_FILE (one line per failed save) and training goes
 * on, so the harness can fail the save on its own check. A plugin error or
 * an I/O error ends the world as any other failure does.
 */
#ifndef DTB_HARNESS_WORKER_CKPT_H
#define DTB_HARNESS_WORKER_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "case_config.h"
#include "dtbench/plugin.h"

#define WORKER_CKPT_MAX_SAVES 64
#define WORKER_CKPT_ERROR_FILE "ckpt-errors.txt"
/* <root>/WORKER_CKPT_PID_FMT: the pid of each rank of a world that saves,
 * for the harness's crash-recovery mode, which kills one of them. */
#define WORKER_CKPT_PID_FMT ".rank-%d.pid"
/* <root>/WORKER_CKPT_TRAINED: made by rank 0 when its last step is done, so
 * that the harness can time a world's training after its first checkpoint. */
#define WORKER_CKPT_TRAINED ".trained"
/* <root>/WORKER_CKPT_TIMING: one line per save and per load (rank 0's view,
 * worker_ckpt.c), e.g. "save step=4 bytes=62772 first_s=0.0012 second_s=
 * 0.0009 total_s=0.0021". */
#define WORKER_CKPT_TIMING ".timing"

typedef struct worker_ckpt {
    const char *root;                      /* NULL: no saves */
    int n_saves;
    int64_t save_steps[WORKER_CKPT_MAX_SAVES];
    const char *resume;                    /* NULL: train from step 1 */
} worker_ckpt;

/* The option names (for the worker's option table) and their parsing: the
 * values as collected (NULL when absent). 0, or -1 with one line. */
#define WORKER_CKPT_N_OPTIONS 3
extern const char *const worker_ckpt_option_names[WORKER_CKPT_N_OPTIONS];
int worker_ckpt_parse(const char *const values[WORKER_CKPT_N_OPTIONS], const case_config *cfg,
                      worker_ckpt *out, char *err, size_t err_len);

/* When saving: this rank's pid into <root>/.rank-<rank>.pid. 0 or -1. */
int worker_ckpt_write_pid(const worker_ckpt *c, int rank, char *err, size_t err_len);

/* Rank 0 of a world that saves, after its last step: <root>/.trained. */
int worker_ckpt_mark_trained(const worker_ckpt *c, int rank, char *err, size_t err_len);

/* Whether to save after `step`. */
int worker_ckpt_saves_at(const worker_ckpt *c, int64_t step);

/* Who the checkpoint says wrote it (the manifest's writer). */
typedef struct worker_ckpt_writer {
    const char *impl;                      /* plugin name */
    int32_t stage;
    int32_t world_size;
} worker_ckpt_writer;

/* Collective over MPI_COMM_WORLD: prepares the staging directory (rank 0),
 * calls the plugin's save_checkpoint on every rank and commits; rank 0
 * times it into <root>/WORKER_CKPT_TIMING. Returns 0 when saved or when the
 * commit was refused for what the plugin stored (the reason appended to
 * out_dir's WORKER_CKPT_ERROR_FILE); -2 when the plugin's save failed (err:
 * the harness's refusal it may have met, or ""); -1 with one line in err
 * otherwise (the caller ends the world). */
int worker_ckpt_save(const worker_ckpt *c, const dtb_plugin *plugin, dtb_state *state,
                     const dtb_run_spec *spec, const worker_ckpt_writer *writer, int64_t step,
                     const char *out_dir, int rank, char *err, size_t err_len);

/* Opens and verifies c->resume (every rank), checks it fits spec (model,
 * tensor table, optimizer, a step below spec->steps) and calls the plugin's
 * load_checkpoint. Sets *step to the checkpoint's step. 0, or -1 with one
 * line: a torn or foreign checkpoint is refused before the plugin sees it;
 * -2 when the plugin's load failed (err: the harness's refusal it may have
 * met, or ""). With --ckpt-root, rank 0 times the load into its .timing. */
int worker_ckpt_load(const worker_ckpt *c, const dtb_plugin *plugin, dtb_state *state,
                     const dtb_run_spec *spec, int rank, int64_t *step, char *err,
                     size_t err_len);

#endif
