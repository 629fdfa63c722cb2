/*
 * Deliberately malformed plugins for the loader's refusals, one per
 * BAD_PLUGIN_KIND (compile definition):
 *   1 a future ABI version (3)   2 no entry symbol   3 NULL function (get_params)
 *   4 lacks the ddp capability   5 entry returns NULL   6 NULL name
 *   7 ABI version 1              8 a table whose struct_size is too short
 */
#include <stddef.h>

#include "dtbench/plugin.h"

static int create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    (void)spec;
    host->error(host->ctx, "bad plugin: never meant to run");
    *out = NULL;
    return 1;
}
static int train_step(dtb_state *s, int64_t step, dtb_step_report *r)
{
    (void)s;
    (void)step;
    (void)r;
    return 1;
}
static int get_params(dtb_state *s, float *out, int64_t n)
{
    (void)s;
    (void)out;
    (void)n;
    return 1;
}
static int get_counters(dtb_state *s, dtb_counters *out)
{
    (void)s;
    (void)out;
    return 1;
}
static int get_facts(dtb_state *s, dtb_facts *out)
{
    (void)s;
    (void)out;
    return 1;
}
static void destroy(dtb_state *s)
{
    (void)s;
}

#define ALL_DDP_CAPS                                                                          \
    (DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP |   \
     DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH | DTB_CAP_MODEL_MLP | DTB_CAP_CPU)

static const dtb_plugin table = {
    .abi_version = BAD_PLUGIN_KIND == 1 ? 3u : BAD_PLUGIN_KIND == 7 ? 1u : DTB_ABI_VERSION,
    .struct_size = BAD_PLUGIN_KIND == 8 ? 40u : (uint32_t)sizeof(dtb_plugin),
    .name = BAD_PLUGIN_KIND == 6 ? NULL : "bad",
    .version = "0",
    .description = "deliberately malformed",
    .caps = BAD_PLUGIN_KIND == 4 ? (ALL_DDP_CAPS & ~DTB_CAP_DDP) : ALL_DDP_CAPS,
    .create = create,
    .train_step = train_step,
    .get_params = BAD_PLUGIN_KIND == 3 ? NULL : get_params,
    .get_counters = get_counters,
    .get_facts = get_facts,
    .destroy = destroy,
};

#if BAD_PLUGIN_KIND == 2
const dtb_plugin *not_the_entry_point(void);
const dtb_plugin *not_the_entry_point(void)
#else
const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
#endif
{
    return BAD_PLUGIN_KIND == 5 ? NULL : &table;
}
