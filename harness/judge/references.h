/*
 * The references every case is compared with, computed once per distinct
 * training configuration within a run: the fp32 single-device baseline (the
 * `baseline` plugin run through the same worker path as any implementation,
 * one rank), the fp64 oracle (reference/oracle.h, in this process) and the
 * envelope (envelope.h): the largest distance to the oracle of the baseline
 * and of every ensemble member (ensemble.h, fp32 runs in this process),
 * value by value. The oracle and the members also record the optimizer
 * state at the check steps, and the envelope covers it (the checkpoint
 * suite judges a checkpoint's state with it).
 */
#ifndef DTB_HARNESS_REFERENCES_H
#define DTB_HARNESS_REFERENCES_H

#include "case_config.h"
#include "envelope.h"
#include "oracle.h"
#include "rank_file.h"
#include "world.h"

typedef struct reference_entry {
    case_config cfg;                 /* the baseline's config: the cache key */
    int32_t micro_batches;           /* the cases' split, for the ensemble: also the key */
    int baseline_ok;
    char baseline_reason[1024];
    rank_result baseline;            /* rank 0 of the baseline world */
    int oracle_ok;
    char oracle_reason[1024];
    oracle_trace oracle;
    int envelope_ok;                 /* needs the oracle; folds in the baseline when it ran */
    char envelope_reason[1024];
    envelope env;
} reference_entry;

typedef struct reference_cache {
    reference_entry **items;
    int n, cap;
} reference_cache;

void references_init(reference_cache *c);
void references_free(reference_cache *c);

/* Entries kept: the oldest is evicted when a new one would exceed it. */
#define REFERENCES_KEEP 16

/* The entry for baseline_cfg and cases of micro_batches micro-batches (the
 * ensemble samples that split too), computing it on first use. NULL only
 * when out of memory. The baseline world runs with env's timeout. The entry
 * stays valid until REFERENCES_KEEP other trajectories have been asked for. */
const reference_entry *references_get(reference_cache *c, const world_env *env,
                                      const char *baseline_path, const case_config *baseline_cfg,
                                      int32_t micro_batches);

#endif
