/*
 * Writes a computed trajectory and its envelope into a staging directory as
 * the folder of trajectory_layout.h: the data of every step and micro-batch
 * (from the host API of reference/model_host.h, exactly as a plugin's
 * sample_batch call receives it), the initial parameters, both references'
 * scalars and parameters after every step, the envelope, and recipe.json
 * last. The caller commits or aborts the staging directory.
 */
#ifndef DTB_HARNESS_TRAJECTORY_FILES_H
#define DTB_HARNESS_TRAJECTORY_FILES_H

#include <stddef.h>

#include "case_config.h"
#include "trajectory_bounds.h"
#include "staged_dir.h"
#include "trajectory.h"
#include "trajectory_recipe.h"

/* 0, or -1 with a one-line message naming the file. */
int trajectory_write(staged_dir *dir, const case_config *c, const trajectory_names *names,
                     const trajectory *t, const trajectory_bounds *e, char *err, size_t err_len);

#endif
