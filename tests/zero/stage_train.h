/*
 * One run of reference DDP (stage 0) or ZeRO (stages 1..3) on a spec, with
 * an optional deliberate bug, for the world tests of tests/zero: the
 * parameters after spec->steps steps, the counters, the facts, the memory
 * held after create, and whether every byte came back. Header-only.
 */
#ifndef DTB_TESTS_STAGE_TRAIN_H
#define DTB_TESTS_STAGE_TRAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddp.h"
#include "model_host.h"
#include "zero.h"

typedef struct stage_outcome {
    int ok;
    float *params;                       /* [n_params], the caller frees it */
    dtb_counters counters;
    dtb_facts facts;                     /* ZeRO only */
    int64_t mem[DTB_MEM_CATEGORY_COUNT]; /* after create */
} stage_outcome;

static inline stage_outcome stage_train(const dtb_run_spec *asked, int stage, ddp_bug dbug,
                                        zero_bug zbug)
{
    stage_outcome o = {0};
    dtb_run_spec spec = *asked;
    spec.stage = stage == 0 ? DTB_STAGE_DDP : DTB_STAGE_ZERO1 + stage - 1;
    const int64_t n = spec.model->n_params;
    model_host h;
    dtb_host_api host;
    dtb_state *st = NULL;
    o.params = malloc((size_t)n * sizeof(float));
    int rc = o.params == NULL || model_host_init(&h, &spec, &host) != 0 ? -1
             : stage == 0 ? ddp_create(&spec, &host, "ref-ddp", dbug, &st)
                          : zero_create(&spec, &host, "ref-zero", stage, zbug, &st);
    if (rc != 0) {
        fprintf(stderr, "create failed: %s\n", h.error);
        return o;
    }
    memcpy(o.mem, h.current, sizeof h.current);
    for (int64_t s = 1; s <= spec.steps && rc == 0; s++) {
        dtb_step_report r;
        rc = stage == 0 ? ddp_train_step(st, s, &r) : zero_train_step(st, s, &r);
    }
    if (rc == 0)
        rc = stage == 0 ? ddp_get_params(st, o.params, n) || ddp_get_counters(st, &o.counters)
                        : zero_get_params(st, o.params, n) || zero_get_counters(st, &o.counters) ||
                              zero_get_facts(st, &o.facts);
    if (rc != 0)
        fprintf(stderr, "training failed: %s\n", h.error);
    if (stage == 0)
        ddp_destroy(st);
    else
        zero_destroy(st);
    o.ok = rc == 0;
    for (int c = 0; c < DTB_MEM_CATEGORY_COUNT; c++)
        if (h.current[c] != 0)
            o.ok = 0, fprintf(stderr, "memory category %d not returned to 0 (%lld)\n", c,
                              (long long)h.current[c]);
    return o;
}

/* docs/zero.md's collectives (totals over `steps` steps) and memory after
 * create, per rank of `world`, for a model of n_units units of
 * unit_numel[u] elements, unit open_unit (-1: none) with a gradient bucket
 * of its own in stages 2 and 3; worked out here from the sizes alone. */
static inline void stage_expected(const dtb_run_spec *spec, int stage, int world, int64_t steps,
                                  const int64_t *unit_numel, int n_units, int open_unit,
                                  int64_t calls[DTB_COLL_KIND_COUNT],
                                  int64_t bytes[DTB_COLL_KIND_COUNT],
                                  int64_t mem[DTB_MEM_CATEGORY_COUNT])
{
    const int64_t N = world, M = spec->micro_batches, U = n_units;
    const int64_t p = spec->precision == DTB_PREC_BF16_MIXED ? 2 : 4;
    int64_t shard = 0, max_unit = 0, ring = 0, open = 0;
    for (int u = 0; u < n_units; u++) {
        const int64_t padded = N * ((unit_numel[u] + N - 1) / N);
        shard += padded / N;
        max_unit = padded > max_unit ? padded : max_unit;
        if (u == open_unit)
            open = padded;
        else
            ring = padded > ring ? padded : ring;
    }
    const int64_t full = N * shard;
    memset(calls, 0, DTB_COLL_KIND_COUNT * sizeof *calls);
    memset(bytes, 0, DTB_COLL_KIND_COUNT * sizeof *bytes);
    if (N > 1) {
        const int64_t rs_per_step = stage == 1 ? 1 : M;
        const int64_t ag_per_step = stage == 3 ? 2 * M : 1;
        calls[DTB_COLL_REDUCE_SCATTER] = steps * rs_per_step * U;
        bytes[DTB_COLL_REDUCE_SCATTER] = steps * rs_per_step * 4 * full;
        calls[DTB_COLL_ALLGATHER] = steps * ag_per_step * U;
        bytes[DTB_COLL_ALLGATHER] = steps * ag_per_step * p * full;
        calls[DTB_COLL_ALLREDUCE] = steps * 2;
        bytes[DTB_COLL_ALLREDUCE] = steps * 16;
    }
    const int64_t moments = (spec->optimizer == DTB_OPT_ADAMW ? 2 : 1) * 4 * shard;
    memset(mem, 0, DTB_MEM_CATEGORY_COUNT * sizeof *mem);
    mem[DTB_MEM_OPTIM] = moments + (p == 2 ? 4 * shard : 0);
    mem[DTB_MEM_PARAMS] =
        stage < 3 ? p * full : p * shard + (spec->prefetch_depth + 1) * p * max_unit;
    mem[DTB_MEM_GRADS] = stage == 1 ? 4 * full : 4 * shard;
    mem[DTB_MEM_COMM] = stage == 1 ? 4 * shard : 4 * (2 * ring + open);
    mem[DTB_MEM_OTHER] = 4 * max_unit * (p == 2 ? 2 : 1);
}

#endif
