/*
 * Test points every case runner writes the same way: a rank world that
 * must have completed, and the case the implementation cannot run.
 */
#ifndef DTB_HARNESS_CASE_POINTS_H
#define DTB_HARNESS_CASE_POINTS_H

#include <stdint.h>

#include "run_types.h"

/* A point `name` that passes when world w completed and otherwise fails
 * with its reason, how mpirun ended, the kept directory, the reproduce
 * line and the log tail. */
void case_world_point(check_list *list, const char *name, const world_outcome *w);
/* The case's one "completed" point, skipped, naming the capabilities
 * `missing` that the implementation lacks; marks r skipped. */
void case_skip_missing(case_result *r, uint64_t missing);

#endif
