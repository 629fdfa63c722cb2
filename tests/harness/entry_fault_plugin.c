/*
 * Plugins whose entry function itself misbehaves, for the loading that
 * `dtbench plugin-check` does in a child process (ENTRY_FAULT_KIND, a
 * compile definition):
 *   1 entry-segv: dtbench_plugin_entry dereferences a null pointer (SIGSEGV)
 *   2 entry-exit: dtbench_plugin_entry calls exit(0)
 *   3 entry-hang: dtbench_plugin_entry never returns
 * The table they would return is a valid ddp plugin's: only calling the
 * entry function reveals the fault.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "dtbench/plugin.h"

static int create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    (void)spec;
    host->error(host->ctx, "entry fault plugin: never meant to run");
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

static const dtb_plugin table = {
    .abi_version = DTB_ABI_VERSION,
    .struct_size = sizeof(dtb_plugin),
    .name = "entry-fault",
    .version = "0",
    .description = "its entry function crashes, exits or hangs",
    .caps = DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_SGD_MOMENTUM | DTB_CAP_MODEL_MLP | DTB_CAP_CPU,
    .create = create,
    .train_step = train_step,
    .get_params = get_params,
    .get_counters = get_counters,
    .get_facts = get_facts,
    .destroy = destroy,
};

/* Opaque to the optimiser, so the faulting store is really made. */
volatile int *volatile entry_fault_target = NULL;

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
#if ENTRY_FAULT_KIND == 1
    *entry_fault_target = 1;
#elif ENTRY_FAULT_KIND == 2
    exit(0);
#else
    for (;;)
        pause();
#endif
    return &table;
}
