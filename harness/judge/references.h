/*
 * The references every case is compared with, computed once per distinct
 * training configuration within a run: the fp32 single-device baseline (the
 * `baseline` plugin run through the same worker path as any implementation,
 * one rank) and the fp64 oracle (reference/oracle.h, in this process).
 */
#ifndef DTB_HARNESS_REFERENCES_H
#define DTB_HARNESS_REFERENCES_H

#include "case_config.h"
#include "oracle.h"
#include "rank_file.h"
#include "world.h"

typedef struct reference_entry {
    case_config cfg;                 /* the baseline's config: the cache key */
    int baseline_ok;
    char baseline_reason[1024];
    rank_result baseline;            /* rank 0 of the baseline world */
    int oracle_ok;
    char oracle_reason[1024];
    oracle_trace oracle;
} reference_entry;

typedef struct reference_cache {
    reference_entry **items;
    int n, cap;
} reference_cache;

void references_init(reference_cache *c);
void references_free(reference_cache *c);

/* The entry for baseline_cfg, computing it on first use. NULL only when out
 * of memory. The baseline world runs with env's timeout. */
const reference_entry *references_get(reference_cache *c, const world_env *env,
                                      const char *baseline_path, const case_config *baseline_cfg);

#endif
