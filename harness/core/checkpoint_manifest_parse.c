/*
 * Checkpoints: reading manifest.json strictly. Every member must be there
 * with its type and range and no other member may be; format and version
 * are checked before anything else; the metadata must pass the checks a
 * writer's did (ckpt_check_meta), and each array's file, shape and size
 * must be the ones n_params implies. The first problem is the refusal,
 * named by its path in the document ("model.tensors[2].shape ...").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_files_internal.h"
#include "json_value.h"

#define MANIFEST_MAX (16 << 20)

/* The manifest's walk: the first problem, as "<where>: <what>". */
typedef struct mctx {
    char *why;
    size_t why_len;
    int failed;
} mctx;

static int bad(mctx *c, const char *where, const char *key, const char *what)
{
    if (!c->failed)
        snprintf(c->why, c->why_len, "%s%s%s %s", where, *where ? "." : "", key, what);
    c->failed = 1;
    return -1;
}

/* obj is an object holding exactly the members keys[0 .. n). */
static int exact_members(mctx *c, const json_value *obj, const char *where, const char *const *keys,
                         size_t n)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return bad(c, "", where[0] ? where : "the top level", "is not an object");
    for (size_t i = 0; i < n; i++)
        if (!json_get(obj, keys[i]))
            return bad(c, where, keys[i], "is missing");
    if (obj->n != n) /* names are distinct (json_parse) and all of keys are there */
        for (size_t i = 0; i < obj->n; i++) {
            size_t k = 0;
            while (k < n && strcmp(obj->keys[i], keys[k]) != 0)
                k++;
            if (k == n)
                return bad(c, where, obj->keys[i], "is not a member of a manifest");
        }
    return 0;
}

static int get_string(mctx *c, const json_value *obj, const char *where, const char *key, char *out,
                      size_t cap)
{
    const json_value *v = json_get(obj, key);
    if (!v || v->kind != JSON_STRING)
        return bad(c, where, key, "is not a string");
    if (v->len >= cap || strlen(v->text) != v->len)
        return bad(c, where, key, "is too long or holds NUL");
    memcpy(out, v->text, v->len + 1);
    return 0;
}

static int get_int(mctx *c, const json_value *v, const char *where, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
    if (json_as_int64(v, out) || *out < lo || *out > hi)
        return bad(c, where, key, "is not an integer in range");
    return 0;
}

static int get_i64(mctx *c, const json_value *obj, const char *where, const char *key, int64_t *out)
{
    return get_int(c, json_get(obj, key), where, key, INT64_MIN, INT64_MAX, out);
}

static int get_i32(mctx *c, const json_value *obj, const char *where, const char *key, int32_t *out)
{
    int64_t v;
    if (get_int(c, json_get(obj, key), where, key, INT32_MIN, INT32_MAX, &v))
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int get_double(mctx *c, const json_value *obj, const char *where, const char *key,
                      double *out)
{
    return json_as_double(json_get(obj, key), out) ? bad(c, where, key, "is not a finite number")
                                                   : 0;
}

static int get_bool(mctx *c, const json_value *obj, const char *where, const char *key, int *out)
{
    const json_value *v = json_get(obj, key);
    if (!v || (v->kind != JSON_TRUE && v->kind != JSON_FALSE))
        return bad(c, where, key, "is not true or false");
    *out = v->kind == JSON_TRUE;
    return 0;
}

static int get_enum(mctx *c, const json_value *obj, const char *where, const char *key,
                    const ckpt_named *table, int32_t *out)
{
    char text[32];
    if (get_string(c, obj, where, key, text, sizeof text))
        return -1;
    return ckpt_value_of(table, text, out) ? bad(c, where, key, "names nothing known") : 0;
}

static int parse_tensor(mctx *c, const json_value *v, const char *where, dtb_tensor_desc *t)
{
    static const char *const keys[] = {"name",  "shape", "offset", "numel",
                                       "layer", "decay", "tied"};
    int decay, tied;
    if (exact_members(c, v, where, keys, 7) ||
        get_string(c, v, where, "name", t->name, sizeof t->name) ||
        get_i64(c, v, where, "offset", &t->offset) || get_i64(c, v, where, "numel", &t->numel) ||
        get_i32(c, v, where, "layer", &t->layer) || get_bool(c, v, where, "decay", &decay) ||
        get_bool(c, v, where, "tied", &tied))
        return -1;
    t->flags = (decay ? DTB_TENSOR_DECAY : 0u) | (tied ? DTB_TENSOR_TIED : 0u);
    const json_value *shape = json_get(v, "shape");
    if (shape->kind != JSON_ARRAY || shape->n < 1 || shape->n > DTB_MAX_DIMS)
        return bad(c, where, "shape", "is not an array of 1 to 4 dimensions");
    t->ndim = (int32_t)shape->n;
    for (size_t d = 0; d < shape->n; d++)
        if (get_int(c, &shape->items[d], where, "shape", 1, INT64_MAX, &t->shape[d]))
            return -1;
    return 0;
}

static int parse_model(mctx *c, const json_value *model, ckpt_meta *m)
{
    static const char *const keys[] = {"name", "kind", "n_params", "tensors"};
    if (exact_members(c, model, "model", keys, 4) ||
        get_string(c, model, "model", "name", m->model, sizeof m->model) ||
        get_enum(c, model, "model", "kind", ckpt_kinds, &m->model_kind) ||
        get_i64(c, model, "model", "n_params", &m->n_params))
        return -1;
    const json_value *tensors = json_get(model, "tensors");
    if (tensors->kind != JSON_ARRAY || tensors->n < 1 || tensors->n > CKPT_MAX_TENSORS)
        return bad(c, "model", "tensors", "is not an array of 1 to 256 tensors");
    m->n_tensors = (int32_t)tensors->n;
    for (size_t i = 0; i < tensors->n; i++) {
        char where[48];
        snprintf(where, sizeof where, "model.tensors[%zu]", i);
        if (parse_tensor(c, &tensors->items[i], where, &m->tensors[i]))
            return -1;
    }
    return 0;
}

static int parse_recipe(mctx *c, const json_value *r, ckpt_meta *m)
{
    static const char *const keys[] = {"optimizer", "lr",           "momentum",      "beta1",
                                       "beta2",     "eps",          "weight_decay",  "clip_norm",
                                       "precision", "global_batch", "micro_batches", "seed"};
    double *const v[7] = {&m->lr,  &m->momentum,     &m->beta1,    &m->beta2,
                          &m->eps, &m->weight_decay, &m->clip_norm};
    if (exact_members(c, r, "recipe", keys, 12) ||
        get_enum(c, r, "recipe", "optimizer", ckpt_optimizers, &m->optimizer))
        return -1;
    for (int i = 0; i < 7; i++)
        if (get_double(c, r, "recipe", keys[1 + i], v[i]))
            return -1;
    if (get_enum(c, r, "recipe", "precision", ckpt_precisions, &m->precision) ||
        get_i64(c, r, "recipe", "global_batch", &m->global_batch) ||
        get_i32(c, r, "recipe", "micro_batches", &m->micro_batches))
        return -1;
    return json_as_uint64(json_get(r, "seed"), &m->seed)
               ? bad(c, "recipe", "seed", "is not a 64-bit unsigned integer")
               : 0;
}

static int parse_writer(mctx *c, const json_value *w, ckpt_meta *m)
{
    static const char *const keys[] = {"impl", "stage", "world_size"};
    return exact_members(c, w, "writer", keys, 3) ||
                   get_string(c, w, "writer", "impl", m->writer_impl, sizeof m->writer_impl) ||
                   get_enum(c, w, "writer", "stage", ckpt_stages, &m->writer_stage) ||
                   get_i32(c, w, "writer", "world_size", &m->writer_world)
               ? -1
               : 0;
}

static int is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

/* arrays.<name>: the file, dtype, shape and size this checkpoint must have; its sha256 into sum. */
static int parse_array(mctx *c, const json_value *v, const char *name, int64_t n, char *sum)
{
    static const char *const keys[] = {"file", "dtype", "shape", "bytes", "sha256"};
    char where[40], file[48], want_file[48], dtype[16], header[NPY_HEADER_CAP];
    size_t hlen = 0;
    int64_t bytes, len;
    snprintf(where, sizeof where, "arrays.%s", name);
    snprintf(want_file, sizeof want_file, "%s.npy", name);
    ckpt_array_header(n, header, &hlen);
    if (exact_members(c, v, where, keys, 5) || get_string(c, v, where, "file", file, sizeof file) ||
        get_string(c, v, where, "dtype", dtype, sizeof dtype) ||
        get_i64(c, v, where, "bytes", &bytes) ||
        get_string(c, v, where, "sha256", sum, SHA256_HEX_LEN))
        return -1;
    const json_value *shape = json_get(v, "shape");
    if (strcmp(file, want_file) != 0)
        return bad(c, where, "file", "is not the array's name with .npy");
    if (strcmp(dtype, "float32") != 0)
        return bad(c, where, "dtype", "is not float32");
    if (shape->kind != JSON_ARRAY || shape->n != 1 || json_as_int64(&shape->items[0], &len) ||
        len != n)
        return bad(c, where, "shape", "is not [n_params]");
    if (bytes != (int64_t)hlen + 4 * n)
        return bad(c, where, "bytes", "is not the .npy header plus 4 bytes per element");
    return is_hex64(sum) ? 0 : bad(c, where, "sha256", "is not 64 lowercase hex digits");
}

static int parse_arrays(mctx *c, const json_value *arrays, const ckpt_meta *m,
                        char sums[][SHA256_HEX_LEN])
{
    int32_t list[DTB_CKPT_ARRAY_COUNT];
    const char *keys[DTB_CKPT_ARRAY_COUNT] = {0};
    const int na = ckpt_arrays_of(m->optimizer, list);
    for (int i = 0; i < na; i++)
        keys[i] = ckpt_array_name(list[i]);
    if (exact_members(c, arrays, "arrays", keys, (size_t)na))
        return -1;
    for (int i = 0; i < na; i++)
        if (parse_array(c, json_get(arrays, keys[i]), keys[i], m->n_params, sums[list[i]]))
            return -1;
    return 0;
}

/* The manifest's top level: format and version first, then the rest. */
static int parse_manifest(mctx *c, const json_value *doc, ckpt_meta *m, char sums[][SHA256_HEX_LEN])
{
    static const char *const keys[] = {"format", "version", "step",  "model",
                                       "recipe", "writer",  "arrays"};
    char format[64];
    int64_t version;
    if (!doc || doc->kind != JSON_OBJECT)
        return bad(c, "", "the top level", "is not an object");
    if (get_string(c, doc, "", "format", format, sizeof format))
        return -1;
    if (strcmp(format, CKPT_FORMAT) != 0)
        return bad(c, "", "format", "is not \"" CKPT_FORMAT "\"");
    if (get_i64(c, doc, "", "version", &version))
        return -1;
    if (version != CKPT_VERSION) {
        snprintf(c->why, c->why_len, "version %" PRId64 " (this dtbench reads version %d)", version,
                 CKPT_VERSION);
        c->failed = 1;
        return -1;
    }
    if (exact_members(c, doc, "", keys, 7) || get_i64(c, doc, "", "step", &m->step) ||
        parse_model(c, json_get(doc, "model"), m) || parse_recipe(c, json_get(doc, "recipe"), m) ||
        parse_writer(c, json_get(doc, "writer"), m))
        return -1;
    if (ckpt_check_meta(m, c->why, c->why_len)) {
        c->failed = 1;
        return -1;
    }
    return parse_arrays(c, json_get(doc, "arrays"), m, sums);
}

int ckpt_load_manifest(const char *dir, ckpt_meta *m, char sums[][SHA256_HEX_LEN], char *err,
                       size_t err_len)
{
    char path[PATH_MAX], why[300];
    size_t len = 0;
    if (ckpt_join(path, sizeof path, dir, CKPT_MANIFEST)) {
        snprintf(err, err_len, "checkpoint %s: path too long", dir);
        return -1;
    }
    char *text = ckpt_slurp(path, MANIFEST_MAX, &len);
    if (!text) {
        if (errno == ENOENT)
            snprintf(err, err_len, "checkpoint %s: no manifest.json (not a committed checkpoint)",
                     dir);
        else
            snprintf(err, err_len, "checkpoint %s: cannot read manifest.json: %s", dir,
                     strerror(errno));
        return -1;
    }
    json_value *doc = strlen(text) == len ? json_parse(text, why, sizeof why) : NULL;
    if (strlen(text) != len)
        snprintf(why, sizeof why, "it holds a NUL byte");
    free(text);
    mctx c = {why, sizeof why, 0};
    const int rc = doc ? parse_manifest(&c, doc, m, sums) : -1;
    json_free(doc);
    if (rc)
        snprintf(err, err_len, "checkpoint %s: manifest.json: %s", dir, why);
    return rc;
}
