/*
 * The reference DDP with one injected numerical fault, for measuring the
 * smallest error the tolerance catches (docs/tolerance.md). Test only: the
 * reference implementations know nothing of it.
 *
 * After every optimizer step the update of one parameter element e is
 * scaled by (1 + 2^-k), on every rank alike (so ranks stay identical):
 *
 *     p_e = fl32(p_before + (p_after - p_before) * (1 + 2^-k))     (in double)
 *
 * and under bf16-mixed its compute parameter is rounded from the new master.
 * Environment (read at every step, inherited by the ranks from dtbench):
 *   DTB_FAULT_K        k (0..60); unset or empty: no fault, the plain DDP
 *   DTB_FAULT_ELEMENT  e, the canonical index (default 0)
 */
#include <math.h>
#include <stdlib.h>

#include "bf16.h"
#include "ddp_state.h"

static int fault_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    return ddp_create(spec, host, "update-fault", DDP_BUG_NONE, out);
}

/* The fault's element and factor from the environment; 0 when none. */
static int fault_of(const dtb_state *s, int64_t *element, double *factor)
{
    const char *k = getenv("DTB_FAULT_K"), *e = getenv("DTB_FAULT_ELEMENT");
    if (k == NULL || *k == '\0')
        return 0;
    const int kk = atoi(k);
    *element = e != NULL && *e != '\0' ? atoll(e) : 0;
    if (kk < 0 || kk > 60 || *element < 0 || *element >= s->r.net.n_params)
        return 0;
    *factor = 1.0 + ldexp(1.0, -kk);
    return 1;
}

static int fault_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    int64_t e = 0;
    double factor = 1.0;
    const int faulty = fault_of(s, &e, &factor);
    const float before = faulty ? s->r.params[e] : 0.0f;
    if (ddp_train_step(s, step, report) != 0)
        return -1;
    if (faulty) {
        const double update = (double)s->r.params[e] - (double)before;
        s->r.params[e] = (float)((double)before + update * factor);
        if (s->r.bf16_mixed)
            s->r.params_bf16[e] = float_to_bf16(s->r.params[e]);
    }
    return 0;
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = "update-fault",
        .version = DDP_VERSION,
        .description = "TEST ONLY: reference DDP, one element's update scaled by 1 + 2^-k "
                       "(DTB_FAULT_K, DTB_FAULT_ELEMENT)",
        .caps = DDP_CAPS,
        .create = fault_create,
        .train_step = fault_train_step,
        .get_params = ddp_get_params,
        .get_counters = ddp_get_counters,
        .get_facts = ddp_get_facts,
        .destroy = ddp_destroy,
        .get_compute_params = ddp_get_compute_params,
    };
    return &table;
}
