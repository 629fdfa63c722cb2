/*
 * fair-ddp-underreport: BROKEN on purpose. examples/ddp_simple, except that
 * get_counters reports half the calls and bytes it issued. Training and
 * traffic are exactly the example's; only what it says about its traffic is
 * wrong, and within every bound a plugin's own figures are judged by. The
 * harness's own count of MPI traffic (PMPI) must catch it at N > 1.
 */
#define DDP_SIMPLE_NAME "fair-ddp-underreport"
#define DDP_SIMPLE_NO_ENTRY
#include "ddp_simple.c"

static int underreport_get_counters(dtb_state *s, dtb_counters *out)
{
    if (kit_get_counters(s, out) != 0)
        return -1;
    for (int k = 0; k < DTB_COLL_KIND_COUNT && KIT_HAS(out, dtb_counters, bytes); k++) {
        out->calls[k] /= 2; /* the bug */
        out->bytes[k] /= 2;
    }
    return 0;
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = DDP_SIMPLE_NAME,
        .version = "1.0.0",
        .description = "BROKEN on purpose: DDP reporting half the traffic it issues",
        .caps = KIT_CAPS | DTB_CAP_DDP | DTB_CAP_CHECKPOINT,
        .create = ddp_create,
        .train_step = ddp_train_step,
        .get_params = kit_get_params,
        .get_counters = underreport_get_counters,
        .get_facts = ddp_get_facts,
        .destroy = kit_destroy,
        .get_compute_params = kit_get_compute_params,
        .save_checkpoint = ddp_save_checkpoint,
        .load_checkpoint = ddp_load_checkpoint,
    };
    return &table;
}
