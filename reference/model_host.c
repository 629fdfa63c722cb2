#include "model_host.h"

#include <stdio.h>
#include <string.h>

static int host_sample_batch(void *ctx, int64_t step, int64_t first, int64_t count, float *x,
                             int32_t *y)
{
    model_host *h = ctx;
    return mlp_sample_batch(h->seed, &h->cfg, step, first, count, x, y);
}

static int host_init_params(void *ctx, int32_t tensor, int64_t first, int64_t count, float *out)
{
    model_host *h = ctx;
    return mlp_init_values(h->seed, &h->cfg, tensor, first, count, out);
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

void model_host_init(model_host *host, const dtb_run_spec *spec, dtb_host_api *api)
{
    memset(host, 0, sizeof *host);
    host->seed = spec->seed;
    mlp_config_from_spec(spec, &host->cfg);
    *api = (dtb_host_api){.ctx = host,
                          .sample_batch = host_sample_batch,
                          .init_params = host_init_params,
                          .mem_track = host_mem_track,
                          .error = host_error};
}
