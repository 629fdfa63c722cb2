/*
 * Checkpoints: writing manifest.json (docs/checkpoint.md gives its
 * members). Every double is written with the fewest digits that read back
 * as exactly that double, and every name as an escaped JSON string, so
 * that checkpoint_manifest_parse.c reads back exactly the ckpt_meta that
 * was written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_files_internal.h"

#define MANIFEST_TMP "manifest.json.tmp"

/* s as a JSON string literal: '"', '\\' and control characters escaped. */
static void sb_string(ckpt_sbuf *b, const char *s)
{
    ckpt_sb_printf(b, "\"");
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ckpt_sb_printf(b, "\\%c", c);
        else if (c < 0x20)
            ckpt_sb_printf(b, "\\u%04x", c);
        else
            ckpt_sb_printf(b, "%c", c);
    }
    ckpt_sb_printf(b, "\"");
}

/* The fewest significant digits that read back as exactly x (finite). */
static void sb_double(ckpt_sbuf *b, double x)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    ckpt_sb_printf(b, "%s", buf);
}

static void manifest_tensor(ckpt_sbuf *b, const dtb_tensor_desc *t, int last)
{
    ckpt_sb_printf(b, "      {\"name\": ");
    sb_string(b, t->name);
    ckpt_sb_printf(b, ", \"shape\": [");
    for (int d = 0; d < t->ndim; d++)
        ckpt_sb_printf(b, "%s%" PRId64, d ? ", " : "", t->shape[d]);
    ckpt_sb_printf(b,
                   "], \"offset\": %" PRId64 ", \"numel\": %" PRId64
                   ", \"layer\": %d, \"decay\": %s, "
                   "\"tied\": %s}%s\n",
                   t->offset, t->numel, t->layer, t->flags & DTB_TENSOR_DECAY ? "true" : "false",
                   t->flags & DTB_TENSOR_TIED ? "true" : "false", last ? "" : ",");
}

static void manifest_model(ckpt_sbuf *b, const ckpt_meta *m)
{
    ckpt_sb_printf(b, "  \"model\": {\n    \"name\": ");
    sb_string(b, m->model);
    ckpt_sb_printf(b,
                   ",\n    \"kind\": \"%s\",\n    \"n_params\": %" PRId64 ",\n    \"tensors\": [\n",
                   ckpt_name_of(ckpt_kinds, m->model_kind), m->n_params);
    for (int i = 0; i < m->n_tensors; i++)
        manifest_tensor(b, &m->tensors[i], i == m->n_tensors - 1);
    ckpt_sb_printf(b, "    ]\n  },\n");
}

static void manifest_recipe(ckpt_sbuf *b, const ckpt_meta *m)
{
    const double v[7] = {m->lr,  m->momentum,     m->beta1,    m->beta2,
                         m->eps, m->weight_decay, m->clip_norm};
    static const char *const names[7] = {"lr",  "momentum",     "beta1",    "beta2",
                                         "eps", "weight_decay", "clip_norm"};
    ckpt_sb_printf(b, "  \"recipe\": {\n    \"optimizer\": \"%s\",\n",
                   ckpt_name_of(ckpt_optimizers, m->optimizer));
    for (int i = 0; i < 7; i++) {
        ckpt_sb_printf(b, "    \"%s\": ", names[i]);
        sb_double(b, v[i]);
        ckpt_sb_printf(b, ",\n");
    }
    ckpt_sb_printf(b,
                   "    \"precision\": \"%s\",\n    \"global_batch\": %" PRId64 ",\n"
                   "    \"micro_batches\": %d,\n    \"seed\": %" PRIu64 "\n  },\n",
                   ckpt_name_of(ckpt_precisions, m->precision), m->global_batch, m->micro_batches,
                   m->seed);
    ckpt_sb_printf(b, "  \"writer\": {\n    \"impl\": ");
    sb_string(b, m->writer_impl);
    ckpt_sb_printf(b, ",\n    \"stage\": \"%s\",\n    \"world_size\": %d\n  },\n",
                   ckpt_name_of(ckpt_stages, m->writer_stage), m->writer_world);
}

static void manifest_arrays(ckpt_sbuf *b, const ckpt_meta *m, char sums[][SHA256_HEX_LEN])
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(m->optimizer, arrays);
    char header[NPY_HEADER_CAP];
    size_t hlen = 0;
    ckpt_array_header(m->n_params, header, &hlen);
    ckpt_sb_printf(b, "  \"arrays\": {\n");
    for (int i = 0; i < na; i++) {
        const char *name = ckpt_array_name(arrays[i]);
        ckpt_sb_printf(
            b,
            "    \"%s\": {\"file\": \"%s.npy\", \"dtype\": \"float32\", \"shape\": [%" PRId64
            "], \"bytes\": %" PRId64 ", \"sha256\": \"%s\"}%s\n",
            name, name, m->n_params, (int64_t)hlen + 4 * m->n_params, sums[arrays[i]],
            i == na - 1 ? "" : ",");
    }
    ckpt_sb_printf(b, "  }\n");
}

int ckpt_write_manifest(const char *stage, const ckpt_meta *m, char sums[][SHA256_HEX_LEN],
                        char *err, size_t err_len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (ckpt_join(path, sizeof path, stage, CKPT_MANIFEST) ||
        ckpt_join(tmp, sizeof tmp, stage, MANIFEST_TMP)) {
        snprintf(err, err_len, "%s/%s: path too long", stage, MANIFEST_TMP);
        return -1;
    }
    ckpt_sbuf b = {0};
    ckpt_sb_printf(&b, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"step\": %" PRId64 ",\n",
                   CKPT_FORMAT, CKPT_VERSION, m->step);
    manifest_model(&b, m);
    manifest_recipe(&b, m);
    manifest_arrays(&b, m, sums);
    ckpt_sb_printf(&b, "}\n");
    int rc = -1;
    if (b.failed)
        snprintf(err, err_len, "out of memory for %s", path);
    else
        rc = ckpt_write_file_atomic(tmp, path, b.p, b.len, err, err_len);
    free(b.p);
    return rc;
}
