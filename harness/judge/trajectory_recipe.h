/*
 * recipe.json of a trajectory folder: every hyper-parameter of the run
 * (model and tensor table, optimizer, clipping, batch and micro-batch split,
 * steps, seed, precision), the dtbench version, the sections of
 * docs/model-spec.md that define each formula, the folder's file names and
 * scalar columns (trajectory_layout.h), and the envelope's model. Plain JSON
 * (RFC 8259): doubles in the fewest digits that read back exactly.
 */
#ifndef DTB_HARNESS_TRAJECTORY_RECIPE_H
#define DTB_HARNESS_TRAJECTORY_RECIPE_H

#include <stdio.h>

#include "case_config.h"
#include "trajectory_bounds.h"
#include "trajectory.h"

/* Where the configuration came from, for the record. */
typedef struct trajectory_names {
    const char *suite;   /* "ddp" */
    const char *recipe;  /* as the suite names it: "sgd noclip" */
} trajectory_names;

/* Writes recipe.json's text to f. 0, or -1 when a write failed. */
int trajectory_recipe_write(FILE *f, const case_config *c, const trajectory_names *names,
                            const trajectory *t, const trajectory_bounds *e);

#endif
