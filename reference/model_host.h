/*
 * A dtb_host_api backed by the model kinds of net.h: deterministic samples and
 * initial values for one (seed, model), memory accounting with current and
 * peak bytes per category and in total, and the last error message kept.
 * The harness's rank worker, the benchmarks and the tests all use it.
 */
#ifndef DTB_REFERENCE_MODEL_HOST_H
#define DTB_REFERENCE_MODEL_HOST_H

#include <stdint.h>

#include "dtbench/plugin.h"
#include "net.h"

typedef struct model_host {
    uint64_t seed;
    net_config model;                        /* points into the caller's spec */
    int64_t current[DTB_MEM_CATEGORY_COUNT];
    int64_t peak[DTB_MEM_CATEGORY_COUNT];
    int64_t current_total, peak_total;
    char error[512];                         /* last message from the plugin */
    int errors;                              /* how many were reported */
} model_host;

/* Fills *host and *api (api->ctx = host) for the spec's seed and model;
 * -1 with host->error set when the spec's model is none this host serves
 * (an MLP or a GPT in its canonical layout). */
int model_host_init(model_host *host, const dtb_run_spec *spec, dtb_host_api *api);

#endif
