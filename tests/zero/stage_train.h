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

#endif
