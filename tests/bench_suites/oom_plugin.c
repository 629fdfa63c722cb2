/*
 * A DDP that the kernel's out-of-memory killer ends above a size: create
 * raises SIGKILL on every rank when the model has more than OOM_PARAMS
 * parameters, as the OOM killer would; below, it accounts exactly DDP's
 * fp32 AdamW model states (params 4, grads 4, optimizer 8 bytes each) and
 * trains nothing. For the memory suite's budget search: a probe killed for
 * memory must count as a miss, never as a failed search.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "dtbench/plugin.h"

#define OOM_PARAMS 10000000

struct dtb_state {
    int64_t n_params;
    dtb_host_api host;
};

static const int64_t BYTES[3][2] = {
    {DTB_MEM_PARAMS, 4}, {DTB_MEM_GRADS, 4}, {DTB_MEM_OPTIM, 8}};

static int create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    if (spec->model->n_params > OOM_PARAMS)
        raise(SIGKILL);
    dtb_state *s = calloc(1, sizeof *s);
    if (!s) {
        host->error(host->ctx, "oom: out of memory");
        return 1;
    }
    s->n_params = spec->model->n_params;
    s->host = *host;
    for (int k = 0; k < 3; k++)
        host->mem_track(host->ctx, (int32_t)BYTES[k][0], BYTES[k][1] * s->n_params);
    *out = s;
    return 0;
}

static int train_step(dtb_state *s, int64_t step, dtb_step_report *r)
{
    (void)s, (void)step;
    r->loss = 1.0;
    r->grad_norm = -1.0;
    r->clip_coef = -1.0;
    return 0;
}

static int get_params(dtb_state *s, float *out, int64_t n)
{
    (void)s;
    memset(out, 0, (size_t)n * sizeof *out);
    return 0;
}

static int get_counters(dtb_state *s, dtb_counters *out)
{
    (void)s;
    memset(out, 0, sizeof *out);
    return 0;
}

static int get_facts(dtb_state *s, dtb_facts *out)
{
    (void)s;
    *out = (dtb_facts){sizeof *out, DTB_STAGE_DDP, DTB_PREC_FP32, DTB_DTYPE_FP32, DTB_DTYPE_FP32,
                       0, -1, 0, 0};
    return 0;
}

static void destroy(dtb_state *s)
{
    for (int k = 0; k < 3; k++)
        s->host.mem_track(s->host.ctx, (int32_t)BYTES[k][0], -BYTES[k][1] * s->n_params);
    free(s);
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = "oom",
        .version = "0",
        .description = "killed by SIGKILL above 10 M parameters (budget search test)",
        .caps = DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_ADAMW | DTB_CAP_GRAD_CLIP |
                DTB_CAP_MODEL_MLP | DTB_CAP_CPU,
        .create = create,
        .train_step = train_step,
        .get_params = get_params,
        .get_counters = get_counters,
        .get_facts = get_facts,
        .destroy = destroy,
    };
    return &table;
}
