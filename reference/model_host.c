#include "model_host.h"

#include <stdio.h>
#include <string.h>

static int host_sample_batch(void *ctx, int64_t step, int64_t first, int64_t count, void *inputs,
                             int32_t *targets)
{
    model_host *h = ctx;
    return net_sample_batch(h->seed, &h->model, step, first, count, inputs, targets);
}

static int host_init_params(void *ctx, int32_t tensor, int64_t first, int64_t count, float *out)
{
    model_host *h = ctx;
    return net_init_values(h->seed, &h->model, tensor, first, count, out);
}

/* An unknown category is counted as OTHER rather than dropped. */
static void host_mem_track(void *ctx, int32_t category, int64_t delta_bytes)
{
    model_host *h = ctx;
    if (category < 0 || category >= DTB_MEM_CATEGORY_COUNT)
        category = DTB_MEM_OTHER;
    h->current[category] += delta_bytes;
    if (h->current[category] > h->peak[category])
        h->peak[category] = h->current[category];
    h->current_total += delta_bytes;
    if (h->current_total > h->peak_total)
        h->peak_total = h->current_total;
}

static void host_error(void *ctx, const char *message)
{
    model_host *h = ctx;
    snprintf(h->error, sizeof h->error, "%s", message ? message : "(no message)");
    h->errors++;
}

int model_host_init(model_host *host, const dtb_run_spec *spec, dtb_host_api *api)
{
    memset(host, 0, sizeof *host);
    memset(api, 0, sizeof *api);
    host->seed = spec->seed;
    if (net_config_from_spec(spec, &host->model, host->error, sizeof host->error) != 0)
        return -1;
    *api = (dtb_host_api){.struct_size = sizeof *api,
                          .ctx = host,
                          .sample_batch = host_sample_batch,
                          .init_params = host_init_params,
                          .mem_track = host_mem_track,
                          .error = host_error};
    return 0;
}
