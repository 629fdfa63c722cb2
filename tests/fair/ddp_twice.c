/*
 * fair-ddp-twice: BROKEN on purpose. examples/ddp_simple, except that after
 * each step the gradient is allreduced once more (a leftover "check that
 * every rank holds the same gradient" whose result nobody reads). The
 * numbers are exactly the example's and the counters are honest; the rank
 * moves twice DDP's minimum traffic, which the communication check must
 * catch at N > 1.
 */
#define DDP_SIMPLE_NAME "fair-ddp-twice"
#define DDP_SIMPLE_NO_ENTRY
#include "ddp_simple.c"

static int twice_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    if (ddp_train_step(s, step, report) != 0)
        return -1;
    return ddp_allreduce_gradient(s); /* the bug: a second allreduce of Psi floats */
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = DDP_SIMPLE_NAME,
        .version = "1.0.0",
        .description = "BROKEN on purpose: DDP allreducing its gradient twice per step",
        .caps = KIT_CAPS | DTB_CAP_DDP | DTB_CAP_CHECKPOINT,
        .create = ddp_create,
        .train_step = twice_train_step,
        .get_params = kit_get_params,
        .get_counters = kit_get_counters,
        .get_facts = ddp_get_facts,
        .destroy = kit_destroy,
        .get_compute_params = kit_get_compute_params,
        .save_checkpoint = ddp_save_checkpoint,
        .load_checkpoint = ddp_load_checkpoint,
    };
    return &table;
}
