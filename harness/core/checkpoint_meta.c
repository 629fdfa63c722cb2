/*
 * Checkpoints: what a checkpoint is, before any file is touched. The
 * arrays of each optimizer and their names, the names the manifest gives
 * the plugin API's enumerations, the .npy header of an array file, the
 * metadata's validity, and the directory of a step.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_files_internal.h"
#include "json_value.h"

static const char *const array_names[DTB_CKPT_ARRAY_COUNT] = {"params", "momentum_buffer",
                                                              "exp_avg", "exp_avg_sq"};

const ckpt_named ckpt_kinds[] = {{DTB_MODEL_MLP, "mlp"}, {DTB_MODEL_GPT, "gpt"}, {0, NULL}};
const ckpt_named ckpt_optimizers[] = {
    {DTB_OPT_SGD_MOMENTUM, "sgd"}, {DTB_OPT_ADAMW, "adamw"}, {0, NULL}};
const ckpt_named ckpt_precisions[] = {
    {DTB_PREC_FP32, "fp32"}, {DTB_PREC_BF16_MIXED, "bf16-mixed"}, {0, NULL}};
const ckpt_named ckpt_stages[] = {{DTB_STAGE_DDP, "ddp"},       {DTB_STAGE_ZERO1, "zero1"},
                                  {DTB_STAGE_ZERO2, "zero2"},   {DTB_STAGE_ZERO3, "zero3"},
                                  {DTB_STAGE_SINGLE, "single"}, {0, NULL}};

const char *ckpt_name_of(const ckpt_named *table, int32_t value)
{
    for (; table->name; table++)
        if (table->value == value)
            return table->name;
    return NULL;
}

int ckpt_value_of(const ckpt_named *table, const char *name, int32_t *value)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0) {
            *value = table->value;
            return 0;
        }
    return -1;
}

const char *ckpt_array_name(int32_t array)
{
    return array >= 0 && array < DTB_CKPT_ARRAY_COUNT ? array_names[array] : NULL;
}

int ckpt_arrays_of(int32_t optimizer, int32_t *out)
{
    if (optimizer == DTB_OPT_SGD_MOMENTUM) {
        out[0] = DTB_CKPT_PARAMS;
        out[1] = DTB_CKPT_MOMENTUM;
        return 2;
    }
    if (optimizer == DTB_OPT_ADAMW) {
        out[0] = DTB_CKPT_PARAMS;
        out[1] = DTB_CKPT_EXP_AVG;
        out[2] = DTB_CKPT_EXP_AVG_SQ;
        return 3;
    }
    return 0;
}

int ckpt_array_header(int64_t n, char *buf, size_t *len)
{
    char why[128];
    return npy_header(NPY_FLOAT32, &n, 1, buf, NPY_HEADER_CAP, len, why, sizeof why);
}

const char *ckpt_range_text(int64_t first, int64_t count, char buf[48])
{
    snprintf(buf, 48, "%" PRId64 "..%" PRId64, first, first + count - 1);
    return buf;
}

int ckpt_dir_of(const char *root, int64_t step, char *out, size_t out_len)
{
    char trimmed[PATH_MAX], name[32];
    snprintf(name, sizeof name, "step-%" PRId64, step);
    if (ckpt_trim_slashes(root, trimmed, sizeof trimmed))
        return -1;
    return ckpt_join(out, out_len, trimmed, name);
}

/* ---- the metadata's validity ------------------------------------------------ */

/* A name field: NUL-terminated inside its buffer, UTF-8, non-empty if required. */
static int check_name(const char *s, int may_be_empty, const char *what, char *why, size_t len)
{
    const size_t n = strnlen(s, DTB_NAME_LEN);
    if (n == DTB_NAME_LEN)
        snprintf(why, len, "%s is not NUL-terminated within %d bytes", what, DTB_NAME_LEN);
    else if (n == 0 && !may_be_empty)
        snprintf(why, len, "%s is empty", what);
    else if (!json_utf8_valid(s, n))
        snprintf(why, len, "%s is not UTF-8", what);
    else
        return 0;
    return -1;
}

/* Tensor t: its shape, numel and flags, starting at element `at`. */
static int check_tensor(const dtb_tensor_desc *t, int i, int64_t at, char *why, size_t len)
{
    char what[32];
    snprintf(what, sizeof what, "tensor %d's name", i);
    if (check_name(t->name, 0, what, why, len))
        return -1;
    if (t->ndim < 1 || t->ndim > DTB_MAX_DIMS) {
        snprintf(why, len, "tensor %s has %d dimensions (1..%d)", t->name, t->ndim, DTB_MAX_DIMS);
        return -1;
    }
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 1 || numel > CKPT_MAX_N / t->shape[d]) {
            snprintf(why, len, "tensor %s: dimension %d is %" PRId64, t->name, d, t->shape[d]);
            return -1;
        }
        numel *= t->shape[d];
    }
    if (t->numel != numel)
        snprintf(why, len,
                 "tensor %s: numel %" PRId64 " is not the product of its shape (%" PRId64 ")",
                 t->name, t->numel, numel);
    else if (t->offset != at)
        snprintf(why, len,
                 "tensor %s starts at %" PRId64 ", not where the one before ends (%" PRId64 ")",
                 t->name, t->offset, at);
    else if (t->layer < -1)
        snprintf(why, len, "tensor %s: layer %d", t->name, t->layer);
    else if (t->flags & ~(uint32_t)(DTB_TENSOR_DECAY | DTB_TENSOR_TIED))
        snprintf(why, len, "tensor %s: unknown flags 0x%x", t->name, (unsigned)t->flags);
    else
        return 0;
    return -1;
}

/* The tensors tile 0..n_params: each starts where the one before ends. */
static int check_tensors(const ckpt_meta *m, char *why, size_t len)
{
    if (m->n_tensors < 1 || m->n_tensors > CKPT_MAX_TENSORS) {
        snprintf(why, len, "%d tensors (1..%d)", m->n_tensors, CKPT_MAX_TENSORS);
        return -1;
    }
    int64_t at = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        if (check_tensor(&m->tensors[i], i, at, why, len))
            return -1;
        if (m->tensors[i].numel > m->n_params - at) {
            snprintf(why, len, "tensor %s ends after n_params (%" PRId64 ")", m->tensors[i].name,
                     m->n_params);
            return -1;
        }
        at += m->tensors[i].numel;
    }
    if (at != m->n_params) {
        snprintf(why, len, "the tensors end at %" PRId64 ", not at n_params (%" PRId64 ")", at,
                 m->n_params);
        return -1;
    }
    return 0;
}

static int check_recipe(const ckpt_meta *m, char *why, size_t len)
{
    const double v[7] = {m->lr,  m->momentum,     m->beta1,    m->beta2,
                         m->eps, m->weight_decay, m->clip_norm};
    static const char *const names[7] = {"lr",  "momentum",     "beta1",    "beta2",
                                         "eps", "weight_decay", "clip_norm"};
    for (int i = 0; i < 7; i++)
        if (!isfinite(v[i])) {
            snprintf(why, len, "recipe %s is not finite", names[i]);
            return -1;
        }
    if (!ckpt_name_of(ckpt_optimizers, m->optimizer))
        snprintf(why, len, "unknown optimizer %d", m->optimizer);
    else if (!ckpt_name_of(ckpt_precisions, m->precision))
        snprintf(why, len, "unknown precision %d", m->precision);
    else if (m->global_batch < 1 || m->micro_batches < 1)
        snprintf(why, len, "global_batch %" PRId64 " and micro_batches %d must be positive",
                 m->global_batch, m->micro_batches);
    else
        return 0;
    return -1;
}

int ckpt_check_meta(const ckpt_meta *m, char *why, size_t len)
{
    if (m->step < 1) {
        snprintf(why, len, "step %" PRId64 " (steps count from 1)", m->step);
        return -1;
    }
    if (check_name(m->model, 0, "the model name", why, len) ||
        check_name(m->writer_impl, 1, "the writer's name", why, len))
        return -1;
    if (!ckpt_name_of(ckpt_kinds, m->model_kind))
        snprintf(why, len, "unknown model kind %d", m->model_kind);
    else if (m->n_params < 1 || m->n_params > CKPT_MAX_N)
        snprintf(why, len, "n_params %" PRId64 " (1..%" PRId64 ")", m->n_params,
                 (int64_t)CKPT_MAX_N);
    else if (!ckpt_name_of(ckpt_stages, m->writer_stage))
        snprintf(why, len, "unknown stage %d", m->writer_stage);
    else if (m->writer_world < 1)
        snprintf(why, len, "world size %d", m->writer_world);
    else
        return check_tensors(m, why, len) || check_recipe(m, why, len) ? -1 : 0;
    return -1;
}

int ckpt_meta_ok(const ckpt_meta *m, char *err, size_t err_len)
{
    char why[256];
    if (ckpt_check_meta(m, why, sizeof why) == 0)
        return 0;
    snprintf(err, err_len, "checkpoint metadata: %s", why);
    return -1;
}
