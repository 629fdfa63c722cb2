#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_desc.h"
#include "gpt_init_data.h"

/* ---- configuration, data, initial values ----------------------------------- */

int net_config_from_spec(const dtb_run_spec *spec, net_config *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const dtb_model_desc *m = spec->model;
    if (m == NULL || m->struct_size < sizeof *m) {
        snprintf(err, err_len, "the run spec has no model description");
        return -1;
    }
    out->kind = m->kind;
    out->desc = m;
    if (m->kind == DTB_MODEL_MLP) {
        if (mlp_config_from_spec(spec, &out->mlp, err, err_len) != 0)
            return -1;
        out->input_bytes = out->mlp.dims[0] * (int64_t)sizeof(float);
        out->positions = 1;
        return 0;
    }
    if (m->kind == DTB_MODEL_GPT) {
        if (gpt_config_from_desc(m, &out->gpt, err, err_len) != 0)
            return -1;
        out->input_bytes = out->gpt.context * (int64_t)sizeof(int32_t);
        out->positions = out->gpt.context;
        return 0;
    }
    snprintf(err, err_len, "model %s is of kind %d, which is neither an MLP (%d) nor a GPT (%d)",
             m->name, (int)m->kind, (int)DTB_MODEL_MLP, (int)DTB_MODEL_GPT);
    return -1;
}

int net_sample_batch(uint64_t seed, const net_config *c, int64_t step, int64_t first,
                     int64_t count, void *inputs, int32_t *targets)
{
    if (c->kind == DTB_MODEL_GPT)
        return gpt_sample_batch(seed, c->gpt.vocab, c->gpt.context, step, first, count, inputs,
                                targets);
    return mlp_sample_batch(seed, &c->mlp, step, first, count, inputs, targets);
}

int net_init_values(uint64_t seed, const net_config *c, int32_t tensor, int64_t first,
                    int64_t count, float *out)
{
    if (c->kind == DTB_MODEL_GPT) {
        if (tensor < 0 || tensor >= c->desc->n_tensors)
            return -1;
        return gpt_init_values(seed, c->gpt.n_layer, tensor, c->desc->tensors[tensor].numel,
                               first, count, out);
    }
    return mlp_init_values(seed, &c->mlp, tensor, first, count, out);
}

/* ---- units ---------------------------------------------------------------- */

void net_model_free(net_model *m)
{
    free(m->unit_offset);
    free(m->unit_tensor);
    free(m->tensor_unit);
    free(m->pass_units);
    memset(m, 0, sizeof *m);
}

int64_t net_unit_numel(const net_model *m, int unit)
{
    return m->unit_offset[unit + 1] - m->unit_offset[unit];
}

/* Units are runs of equal dtb_tensor_desc.layer; the canonical description
 * (checked by net_config_from_spec) makes each kind's units its layers. */
static int build_units(net_model *m, char *err, size_t err_len)
{
    const dtb_tensor_desc *t = m->c.desc->tensors;
    const int nt = m->n_tensors;
    int units = 0;
    for (int k = 0; k < nt; k++)
        units += (k == 0 || t[k].layer != t[k - 1].layer);
    m->n_units = units;
    m->unit_offset = calloc((size_t)units + 1, sizeof *m->unit_offset);
    m->unit_tensor = calloc((size_t)units + 1, sizeof *m->unit_tensor);
    m->tensor_unit = calloc((size_t)nt, sizeof *m->tensor_unit);
    m->pass_units = calloc(2 * (size_t)units, sizeof *m->pass_units);
    if (!m->unit_offset || !m->unit_tensor || !m->tensor_unit || !m->pass_units) {
        snprintf(err, err_len, "out of memory for the units of %s", m->c.desc->name);
        return -1;
    }
    int u = -1;
    for (int k = 0; k < nt; k++) {
        if (k == 0 || t[k].layer != t[k - 1].layer) {
            u++;
            m->unit_offset[u] = t[k].offset;
            m->unit_tensor[u] = k;
        }
        m->tensor_unit[k] = u;
    }
    m->unit_offset[units] = m->n_params;
    m->unit_tensor[units] = nt;
    for (int k = 0; k < units; k++) {
        const int64_t n = net_unit_numel(m, k);
        m->max_unit = n > m->max_unit ? n : m->max_unit;
    }
    /* Forward items, then backward items (unit_hooks.h, gpt.h's pass). */
    int *p = m->pass_units;
    if (m->c.kind == DTB_MODEL_GPT) {
        m->open_unit = 0;
        for (int k = 0; k < units; k++)
            p[k] = k;
        p[units] = 0;
        for (int k = 1; k < units; k++)
            p[units + k] = units - k;
    } else {
        m->open_unit = -1;
        for (int k = 0; k < units; k++)
            p[k] = k, p[2 * units - 1 - k] = k;
    }
    return 0;
}

int net_model_init(const dtb_run_spec *spec, net_model *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (net_config_from_spec(spec, &out->c, err, err_len) != 0)
        return -1;
    out->n_params = out->c.desc->n_params;
    out->n_tensors = out->c.desc->n_tensors;
    return build_units(out, err, err_len);
}

int net_unit_init(const net_model *m, const dtb_host_api *host, int unit, int64_t first,
                  int64_t count, float *out, char *err, size_t err_len)
{
    const dtb_tensor_desc *t = m->c.desc->tensors;
    const int64_t base = m->unit_offset[unit];
    int64_t done = 0;
    for (int k = m->unit_tensor[unit]; k < m->unit_tensor[unit + 1] && done < count; k++) {
        const int64_t begin = t[k].offset - base, end = begin + t[k].numel;
        const int64_t at = first + done;
        if (at >= end)
            continue;
        const int64_t n = count - done < end - at ? count - done : end - at;
        if (host->init_params(host->ctx, k, at - begin, n, out + done) != 0) {
            snprintf(err, err_len, "host refused initial values of tensor %s", t[k].name);
            return -1;
        }
        done += n;
    }
    if (done != count) {
        snprintf(err, err_len, "unit %d has no elements %lld..%lld", unit, (long long)first,
                 (long long)(first + count - 1));
        return -1;
    }
    return 0;
}

int net_optimizer_range(dtb_backend *be, const net_model *m, const dtb_run_spec *spec,
                        int64_t first, int64_t count, float *p, const float *g, float *a,
                        float *b, int64_t t)
{
    const dtb_tensor_desc *td = m->c.desc->tensors;
    const dtb_backend_ops *ops = be->ops;
    int64_t done = 0;
    while (done < count) {
        const int64_t at = first + done;
        /* The tensor holding `at`, then as many following ones with the same flag. */
        int lo = 0, hi = m->n_tensors - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (td[mid].offset <= at)
                lo = mid;
            else
                hi = mid - 1;
        }
        const uint32_t decay = td[lo].flags & DTB_TENSOR_DECAY;
        int k = lo;
        while (k + 1 < m->n_tensors && (td[k + 1].flags & DTB_TENSOR_DECAY) == decay)
            k++;
        const int64_t end = td[k].offset + td[k].numel;
        const int64_t n = count - done < end - at ? count - done : end - at;
        const double wd = decay ? spec->weight_decay : 0.0;
        int rc;
        if (spec->optimizer == DTB_OPT_ADAMW)
            rc = ops->adamw_step(be, p + done, g + done, a + done, b ? b + done : NULL, n, spec->lr,
                                 spec->beta1, spec->beta2, spec->eps, wd, t);
        else
            rc = ops->sgd_momentum_step(be, p + done, g + done, a + done, n, spec->lr,
                                        spec->momentum, wd, t);
        if (rc != 0)
            return -1;
        done += n;
    }
    return 0;
}

/* ---- workspace and pass ---------------------------------------------------- */

int net_workspace_create(dtb_backend *be, const net_model *m, int64_t max_batch,
                         net_workspace **out)
{
    *out = NULL;
    net_workspace *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return backend_error(be, "out of memory for a workspace");
    ws->kind = m->c.kind;
    int rc;
    if (m->c.kind == DTB_MODEL_GPT) {
        rc = gpt_acts_f32_create(be, &m->c.gpt, max_batch, &ws->gpt);
        ws->bytes = rc == 0 ? ws->gpt->bytes : 0;
    } else {
        rc = mlp_workspace_create(be, &m->c.mlp, max_batch, &ws->mlp);
        ws->bytes = rc == 0 ? ws->mlp->bytes : 0;
    }
    if (rc != 0) {
        free(ws);
        return -1;
    }
    *out = ws;
    return 0;
}

void net_workspace_destroy(dtb_backend *be, net_workspace *ws)
{
    if (ws == NULL)
        return;
    if (ws->gpt)
        gpt_acts_f32_destroy(be, ws->gpt);
    if (ws->mlp)
        mlp_workspace_destroy(be, ws->mlp);
    free(ws);
}

/* The MLP's layer hooks over unit hooks: unit l is W_l then b_l. */
typedef struct mlp_adapter {
    const unit_hooks *h;
    const net_model *m;
} mlp_adapter;

static int64_t weight_numel(const mlp_adapter *ad, int layer)
{
    return ad->m->c.desc->tensors[ad->m->unit_tensor[layer]].numel;
}

static int adapt_params(void *ctx, int layer, int backward, const float **W, const float **b)
{
    const mlp_adapter *ad = ctx;
    const float *P = NULL;
    const int rc = ad->h->get_unit_params(ad->h->ctx, layer, backward, &P);
    if (rc == 0)
        *W = P, *b = P + weight_numel(ad, layer);
    return rc;
}

static int adapt_put(void *ctx, int layer, int backward)
{
    const mlp_adapter *ad = ctx;
    return ad->h->put_unit_params(ad->h->ctx, layer, backward);
}

static int adapt_grads(void *ctx, int layer, float **dW, float **db)
{
    const mlp_adapter *ad = ctx;
    float *G = NULL;
    const int rc = ad->h->get_unit_grads(ad->h->ctx, layer, &G);
    if (rc == 0)
        *dW = G, *db = G + weight_numel(ad, layer);
    return rc;
}

static int adapt_ready(void *ctx, int layer)
{
    const mlp_adapter *ad = ctx;
    return ad->h->unit_grads_ready(ad->h->ctx, layer);
}

int net_pass(dtb_backend *be, net_workspace *ws, const net_model *m, const unit_hooks *hooks,
             const void *inputs, const int32_t *targets, int64_t count, float scale,
             double *loss_sum)
{
    if (m->c.kind == DTB_MODEL_GPT)
        return gpt_f32_pass(be, ws->gpt, hooks, inputs, targets, count, scale, loss_sum);
    mlp_adapter ad = {.h = hooks, .m = m};
    const mlp_hooks mh = {.ctx = &ad,
                          .get_layer_params = hooks->get_unit_params ? adapt_params : NULL,
                          .put_layer_params = hooks->put_unit_params ? adapt_put : NULL,
                          .get_layer_grads = hooks->get_unit_grads ? adapt_grads : NULL,
                          .layer_grads_ready = hooks->unit_grads_ready ? adapt_ready : NULL};
    return mlp_forward_backward(be, ws->mlp, &mh, inputs, targets, count, scale, loss_sum);
}
