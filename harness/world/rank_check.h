/*
 * Whether the result file a rank left is the one its case asked for: the
 * world checks every rank file against the case before anyone judges it.
 */
#ifndef DTB_HARNESS_RANK_CHECK_H
#define DTB_HARNESS_RANK_CHECK_H

#include <stddef.h>

#include "case_config.h"
#include "rank_file.h"

/* 0 when rank file `rank` holds what cfg asked for (rank, world, steps,
 * parameter count, check steps); else -1 with the mismatch in msg. */
int checks_validate_rank(const case_config *cfg, int rank, int world_size, const rank_result *r,
                         char *msg, size_t msg_len);

#endif
